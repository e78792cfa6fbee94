package stacks

import (
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/transition"
)

// Guard is asked before a stack's preview or `up` with the stack's deployed
// outputs (none for a stack never deployed); an error stops that stack.
type Guard func(stack string, deployed map[string]any) error

// TransitionGuard refuses a phase change that one `up` cannot make safely
// (transition.Check): the deployed phase comes from the stack's `phase`
// output, the desired one from its config.
func TransitionGuard(f Fleet, cat *sizing.Catalog) Guard {
	return func(stack string, deployed map[string]any) error {
		from, _ := deployed[regions.OutputPhase].(string)
		c, ok := f.Get(stack)
		if from == "" || !ok || from == c.Phase {
			return nil
		}
		was, err := DesignFor(f, stack, from, cat)
		if err != nil {
			return err
		}
		now, err := DesignFor(f, stack, c.Phase, cat)
		if err != nil {
			return err
		}
		return transition.Check(was, now)
	}
}
