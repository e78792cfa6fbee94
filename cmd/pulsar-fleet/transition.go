package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/model"
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
	if err := requireFlags([2]string{"--stack", *stack}, [2]string{"--from", *from}, [2]string{"--to", *to}); err != nil {
		return err
	}
	if *from == *to {
		return usagef("--from and --to are both %s: nothing to move", *from)
	}
	fleet, cat, err := projectFleet(*dir, *catalog)
	if err != nil {
		return err
	}
	if _, ok := fleet.Get(*stack); !ok {
		return usagef("--stack: unknown stack %q: want one of %s", *stack, strings.Join(fleet.Names(), ", "))
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
		if d := s.Declares; d != nil {
			fmt.Fprintf(w, "   declare: phase: %s, transition: {from: %s, step: %d} (ZooKeeper %d, bookie sets %s, %d old bookies)\n",
				t.To, t.From, s.N, d.ZooKeeper, strings.Join(model.Strings(d.BookieSets), " + "), d.Bookies)
		} else {
			fmt.Fprintf(w, "   declare: phase: %s, without transition\n", t.To)
		}
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

// readOutputs reads one JSON object, `pulumi stack output --json`'s form:
// `{}` is a stack never deployed. Nothing at all, null, another JSON
// value or more than one is refused: a `pulumi stack output` that failed
// prints nothing, and taking that for a stack never deployed would pass
// every change.
func readOutputs(r io.Reader) (map[string]any, error) {
	dec := json.NewDecoder(r)
	var deployed map[string]any
	if err := dec.Decode(&deployed); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty: want the JSON object of `pulumi stack output --json` ({} for a stack never deployed)")
		}
		return nil, fmt.Errorf("not the JSON object of `pulumi stack output --json`: %v", err)
	}
	if deployed == nil {
		return nil, errors.New("null: want the JSON object of `pulumi stack output --json` ({} for a stack never deployed)")
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		return nil, errors.New("more after the JSON object: want the one object of `pulumi stack output --json`")
	}
	return deployed, nil
}

// runGuard runs the transition guard of `preview` and `up` on its own: the
// deployed outputs (`pulumi stack output --json`, from a file or stdin)
// against what the stack file declares. It is for pipelines that call
// `pulumi` directly, such as the pull-request preview.
func runGuard(args []string, stdout io.Writer) error {
	fs := newFlags("guard", stdout)
	one := oneStackFlags(fs)
	outputs := fs.String("outputs", "-", "the stack's outputs as JSON (`pulumi stack output --json`; {} for a stack not created yet); - reads stdin")
	fleetKey := fs.String("fleet-key", "", "the bootstrap stack's fleet key fingerprint (`pulumi stack output "+model.OutputFleetTokenKeyFingerprint+
		"` of "+model.BootstrapProject+"/"+model.BootstrapStack+"); empty: not compared")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fleet, cat, err := one.load()
	if err != nil {
		return err
	}
	stack := one.stack
	var r io.Reader = stdin
	if *outputs != "-" {
		f, err := os.Open(*outputs)
		if err != nil {
			return usagef("--outputs: %v", err)
		}
		defer f.Close()
		r = f
	}
	deployed, err := readOutputs(r)
	if err != nil {
		return usagef("--outputs: %v", err)
	}
	var key stacks.FleetKey
	if *fleetKey != "" {
		if err := stacks.CheckKeyFingerprint(*fleetKey); err != nil {
			return usagef("--fleet-key: %v", err)
		}
		key = func() (string, error) { return *fleetKey, nil }
	}
	if err := stacks.TransitionGuard(fleet, cat, key)(*stack, deployed); err != nil {
		return err
	}
	was := stacks.DeployedState(deployed)
	switch {
	case len(deployed) == 0:
		fmt.Fprintf(stdout, "%s: never deployed (no outputs): nothing to guard\n", *stack)
	case was.Phase == "":
		fmt.Fprintf(stdout, "%s: no Pulsar release applied yet (no phase output): its network and Kubernetes version are safe as one `up`\n", *stack)
	default:
		fmt.Fprintf(stdout, "%s: the declared config is safe as one `up` over what runs (phase %s)\n", *stack, was.Phase)
	}
	return nil
}
