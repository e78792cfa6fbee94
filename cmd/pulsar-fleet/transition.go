package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
	"github.com/pulsar-fleet/pulsar-fleet/transition"
)

// runTransition prints the ordered steps that move one region from one
// phase to another without losing a message.
func runTransition(args []string, stdout io.Writer) error {
	fs := newFlags("transition", stdout)
	stack := fs.String("stack", "", "the stack (required)")
	from := fs.String("from", "", "the deployed phase (required): "+sizing.PhaseNamesHelp)
	to := fs.String("to", "", "the phase to move to (required): "+sizing.PhaseNamesHelp)
	asJSON := fs.Bool("json", false, "print the steps as JSON")
	dir := fs.String("dir", ".", "project directory with Pulumi.<stack>.yaml files")
	catalog := catalogFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for flag, v := range map[string]string{"--stack": *stack, "--from": *from, "--to": *to} {
		if v == "" {
			return usagef("%s is required", flag)
		}
	}
	if *from == *to {
		return usagef("--from and --to are both %s: nothing to move", *from)
	}
	fleet, cat, err := projectFleet(*dir, *catalog)
	if err != nil {
		return err
	}
	a, err := stacks.DesignFor(fleet, *stack, *from, cat)
	if err != nil {
		return usagef("--from: %v", err)
	}
	b, err := stacks.DesignFor(fleet, *stack, *to, cat)
	if err != nil {
		return usagef("--to: %v", err)
	}
	t, err := transition.Plan(a, b, cat)
	if err != nil {
		return err
	}
	if *asJSON {
		out, err := json.MarshalIndent(t, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", out)
		return err
	}
	printTransition(stdout, t)
	return nil
}

func printTransition(w io.Writer, t transition.Transition) {
	how := "needs the steps below: a direct `up` would lose data or quorum"
	if t.Direct {
		how = "is safe as one `up`"
	}
	fmt.Fprintf(w, "%s: phase %s -> %s %s\n", t.Stack, t.From, t.To, how)
	for _, s := range t.Steps {
		fmt.Fprintf(w, "\n%d. %s\n", s.N, s.Title)
		for _, u := range s.Up {
			fmt.Fprintf(w, "   up:      %s\n", u)
		}
		for _, b := range s.Between {
			fmt.Fprintf(w, "   then:    %s\n", b)
		}
		fmt.Fprintf(w, "   gate:    %s\n", s.Gate)
		if e := s.Estimate; e != nil {
			fmt.Fprintf(w, "   data:    %s in %.1f h (%s)\n", sizing.FormatSI(e.Bytes), e.Hours, e.Basis)
		}
	}
	if t.DataBytes > 0 {
		fmt.Fprintf(w, "\ntotal: %s re-replicated, about %.1f h of bookie time (%d steps)\n", sizing.FormatSI(t.DataBytes), t.Hours, len(t.Steps))
	}
}
