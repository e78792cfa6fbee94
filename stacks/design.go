package stacks

import (
	"errors"
	"fmt"

	"github.com/pulsar-fleet/pulsar-fleet/components/capacity"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/transition"
)

// DesignFor is one stack's region design, at phase (every stack moved to
// it, transitions left out) or, when phase is empty, the design its config
// declares: its phase's, or with `transition` the state between two
// phases at that step. No Pulumi runs.
func DesignFor(f Fleet, stack, phase string, cat *sizing.Catalog) (regions.RegionDesign, error) {
	if phase != "" {
		if _, err := sizing.PhaseByName(phase); err != nil {
			return regions.RegionDesign{}, err
		}
		at := Fleet{}
		for _, s := range f.Stacks {
			s.Phase, s.Transition = phase, nil
			at.Stacks = append(at.Stacks, s)
		}
		f = at
	}
	if err := ValidateFleet(f); err != nil {
		return regions.RegionDesign{}, err
	}
	c, ok := f.Get(stack)
	if !ok {
		return regions.RegionDesign{}, fmt.Errorf("unknown stack %q: the fleet has %v", stack, f.Names())
	}
	spec, err := c.RegionSpec(f, "organization")
	if err != nil {
		return regions.RegionDesign{}, err
	}
	d, err := regions.Design(spec, cat)
	if err != nil {
		return regions.RegionDesign{}, explainDesign(stack, err)
	}
	return Declared(f, c, d, cat)
}

// Declared is the design a stack's config declares, given its phase's
// design: that one, or with `transition` the state at that step.
func Declared(f Fleet, c StackConfig, atPhase regions.RegionDesign, cat *sizing.Catalog) (regions.RegionDesign, error) {
	t := c.Transition
	if t == nil {
		return atPhase, nil
	}
	from, err := DesignFor(f, c.Stack, t.From, cat)
	if err != nil {
		return regions.RegionDesign{}, err
	}
	d, err := transition.Interim(from, atPhase, t.Step, cat)
	if se, ok := err.(*transition.StepError); ok {
		return regions.RegionDesign{}, &ConfigError{Stack: c.Stack, Key: Key("transition.step"), Value: t.Step, Allowed: se.Error()}
	}
	return d, err
}

// explainDesign names the stack key that fixes a design error the stack's
// configuration caused, where the error says which: a spot pool the plan
// cannot diversify is fixed by spot.<pool>: 0.
func explainDesign(stack string, err error) error {
	var div *capacity.DiversificationError
	if errors.As(err, &div) {
		return fmt.Errorf("%w\nstack %s: set %s: 0 in its stack file to run the %s pool on-demand only",
			err, stack, Key("spot."+div.Pool), div.Pool)
	}
	return err
}
