package stacks

import (
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/transition"
)

// Guard is asked before a stack's preview or `up` with the stack's deployed
// outputs (none for a stack never deployed); an error stops that stack.
type Guard func(stack string, deployed map[string]any) error

// TransitionGuard refuses a change that one `up` cannot make safely
// (transition.Allow): what the stack runs comes from its outputs (phase,
// transition step, bookie sets), what it declares from its config. A
// config edit at the same phase that moves the bookies to other storage
// (a spot share, say) is refused too, and so are a transition's steps out
// of order.
func TransitionGuard(f Fleet, cat *sizing.Catalog) Guard {
	return func(stack string, deployed map[string]any) error {
		if _, ok := f.Get(stack); !ok {
			return nil
		}
		was := DeployedState(deployed)
		if was.Phase == "" {
			return nil
		}
		now, err := DesignFor(f, stack, "", cat)
		if err != nil {
			return err
		}
		at := func(phase string) (regions.RegionDesign, error) { return DesignFor(f, stack, phase, cat) }
		return transition.Allow(was, now, at, cat)
	}
}

// DeployedState reads what a stack runs from its outputs.
func DeployedState(out map[string]any) transition.Deployed {
	str := func(k string) string { s, _ := out[k].(string); return s }
	d := transition.Deployed{Phase: str(regions.OutputPhase), BookieSets: str(regions.OutputBookieSets),
		LegacyStorage: str(regions.OutputLegacyBookieStorage)}
	if t, ok := out[regions.OutputTransition].(map[string]any); ok {
		from, _ := t["from"].(string)
		step, _ := t["step"].(float64)
		if n, ok := t["step"].(int); ok {
			step = float64(n)
		}
		d.Between = &regions.Between{From: from, Step: int(step)}
	}
	return d
}
