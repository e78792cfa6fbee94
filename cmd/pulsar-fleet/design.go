package main

import (
	"fmt"
	"io"

	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// runDesign prints one region's design: the plan's fleet and every
// component's configuration, computed without Pulumi.
func runDesign(args []string, stdout io.Writer) error {
	fs := newFlags("design", stdout)
	stack := fs.String("stack", "", "the stack (required)")
	phase := fs.String("phase", "", "the phase (default: the stack's configured phase): "+sizing.PhaseNamesHelp)
	asJSON := fs.Bool("json", false, "print the design only, as JSON (the goldens' form)")
	dir := fs.String("dir", ".", "project directory with Pulumi.<stack>.yaml files")
	catalog := catalogFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *stack == "" {
		return usagef("--stack is required")
	}
	fleet, cat, err := projectFleet(*dir, *catalog)
	if err != nil {
		return err
	}
	d, err := stacks.DesignFor(fleet, *stack, *phase, cat)
	if err != nil {
		return usagef("%v", err)
	}
	b, err := d.JSON()
	if err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "design of %s (%s, %s) at phase %s: monthly $%.0f\n", d.Stack, d.Role, d.Region, d.Phase, d.MonthlyUSD)
		for _, r := range d.SortedRoles() {
			f := d.Fleet[r]
			fmt.Fprintf(stdout, "  %-10s %4d = %d spot / %d on-demand  %s (%s)\n", r, f.Count, f.Spot, f.OnDemand, f.InstanceType, f.LimitingFactor)
		}
		fmt.Fprintln(stdout)
	}
	_, err = stdout.Write(b)
	return err
}

// projectFleet reads a project's stack files, checked against Pulumi.yaml,
// and the instance catalog: what the design-based commands start from.
func projectFleet(dir, catalog string) (stacks.Fleet, *sizing.Catalog, error) {
	if err := stacks.CheckProjectFile(dir); err != nil {
		return stacks.Fleet{}, nil, usagef("%v", err)
	}
	fleet, _, err := stacks.LoadFleet(dir)
	if err != nil {
		return stacks.Fleet{}, nil, usagef("%v", err)
	}
	cat, err := sizing.OpenCatalog(catalog)
	return fleet, cat, err
}
