package stacks

import (
	"fmt"

	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// DesignFor is one stack's region design, at phase (every stack moved to
// it) or at the configured phase when phase is empty. No Pulumi runs.
func DesignFor(f Fleet, stack, phase string, cat *sizing.Catalog) (regions.RegionDesign, error) {
	if phase != "" {
		if _, err := sizing.PhaseByName(phase); err != nil {
			return regions.RegionDesign{}, err
		}
		at := Fleet{}
		for _, s := range f.Stacks {
			s.Phase = phase
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
	return regions.Design(spec, cat)
}
