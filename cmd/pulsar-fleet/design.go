package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// runDesign prints one region's design: the plan's fleet and every
// component's configuration, computed without Pulumi.
func runDesign(args []string, stdout io.Writer) error {
	fs := newFlags("design", stdout)
	one := oneStackFlags(fs)
	phase := fs.String("phase", "", "the phase (default: the stack's configured phase): "+sizing.PhaseNamesHelp)
	asJSON := fs.Bool("json", false, "print the design only, as JSON (the goldens' form)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fleet, cat, err := one.load()
	if err != nil {
		return err
	}
	d, err := stacks.DesignFor(fleet, *one.stack, *phase, cat)
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

// oneStack are the flags of the commands about one stack of a project.
type oneStack struct{ stack, dir, catalog *string }

func oneStackFlags(fs *flag.FlagSet) oneStack {
	return oneStack{stack: fs.String("stack", "", "the stack (required)"),
		dir: fs.String("dir", ".", "project directory with Pulumi.<stack>.yaml files"), catalog: catalogFlag(fs)}
}

// load is the project's fleet and catalog; the stack must be named and be
// one of the fleet's.
func (o oneStack) load() (stacks.Fleet, *sizing.Catalog, error) {
	if *o.stack == "" {
		return stacks.Fleet{}, nil, usagef("--stack is required")
	}
	fleet, cat, err := projectFleet(*o.dir, *o.catalog)
	if err != nil {
		return fleet, cat, err
	}
	if _, ok := fleet.Get(*o.stack); !ok {
		return fleet, cat, usagef("unknown stack %q: the fleet has %v", *o.stack, fleet.Names())
	}
	return fleet, cat, nil
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
	cat, err := openCatalog(catalog)
	return fleet, cat, err
}
