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
// (transition.Check): the deployed phase and bookie storage come from the
// stack's outputs, the desired ones from its config. A config edit at the
// same phase that flips the bookies' storage (a spot share, say) is
// refused too.
func TransitionGuard(f Fleet, cat *sizing.Catalog) Guard {
	return func(stack string, deployed map[string]any) error {
		from, _ := deployed[regions.OutputPhase].(string)
		c, ok := f.Get(stack)
		if from == "" || !ok {
			return nil
		}
		now, err := DesignFor(f, stack, c.Phase, cat)
		if err != nil {
			return err
		}
		storage, _ := deployed[regions.OutputBookieStorage].(string)
		if want := regions.BookieStorage(now.Plan.Bookies.LocalNVMe); storage != "" && storage != want {
			return transition.StorageFlip(stack, from, c.Phase, storage, want)
		}
		if from == c.Phase {
			return nil
		}
		was, err := DesignFor(f, stack, from, cat)
		if err != nil {
			return err
		}
		return transition.Check(was, now)
	}
}
