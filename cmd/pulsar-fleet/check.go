package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pulsar-fleet/pulsar-fleet/security"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// errCheckFailed makes `check` exit 1 after printing its findings.
var errCheckFailed = errors.New("the security baseline failed")

// runCheck runs the security baseline over the offline preview of the
// chosen stacks at every phase (or the chosen ones).
func runCheck(args []string, stdout io.Writer) error {
	fs := newFlags("check", stdout)
	stack := fs.String("stack", "", "comma-separated stacks (default: all)")
	phase := fs.String("phase", "all", "comma-separated phases, \"all\", or \"current\" (each stack's configured phase): "+sizing.PhaseNamesHelp)
	asJSON := fs.Bool("json", false, "print the rules, what was checked and the findings as JSON")
	dir := fs.String("dir", ".", "project directory with Pulumi.<stack>.yaml files")
	catalog := catalogFlag(fs)
	on := fs.String("on", "", "check as on this day, YYYY-MM-DD (default: today): the rules about support windows read it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	day := time.Now().UTC()
	if *on != "" {
		d, err := time.Parse(time.DateOnly, *on)
		if err != nil {
			return usagef("--on %q: want a day such as 2026-12-03", *on)
		}
		day = d
	}
	var phases []string
	switch *phase {
	case "all":
		for _, p := range sizing.Phases() {
			phases = append(phases, p.Name)
		}
	case "current":
	case "":
		return usagef("--phase \"\": want all, current, or phases such as 100k,1m")
	default:
		var err error
		if phases, err = listFlag("phase", *phase); err != nil {
			return err
		}
		for _, p := range phases {
			if _, err := sizing.PhaseByName(p); err != nil {
				return usagef("--phase: %v", err)
			}
		}
	}
	cat, err := openCatalog(*catalog)
	if err != nil {
		return err
	}
	only, err := listFlag("stack", *stack)
	if err != nil {
		return err
	}
	rep, err := security.CheckFleet(stacks.OfflineOptions{Dir: *dir, Stacks: only, Catalog: cat}, phases, day)
	if err != nil {
		return usagef("%v", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "%d rules over %d stack/phase previews (%v)\n", len(rep.Rules), len(rep.Checked), rep.Checked)
		for _, r := range rep.Rules {
			fmt.Fprintf(stdout, "  %-26s %s\n", r.ID, r.Title)
		}
		for _, f := range rep.Findings {
			fmt.Fprintln(stdout, f)
		}
		if rep.Passed() {
			waived := len(rep.Findings) - len(security.Failed(rep.Findings))
			fmt.Fprintf(stdout, "PASS: no failing finding (%d waived)\n", waived)
		}
	}
	if !rep.Passed() {
		return fmt.Errorf("%w: %d findings", errCheckFailed, len(security.Failed(rep.Findings)))
	}
	return nil
}
