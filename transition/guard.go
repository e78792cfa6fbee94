package transition

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// Deployed is what a stack's outputs say it runs.
type Deployed struct {
	Phase string
	// Between is the transition step it stands at (nil: at Phase).
	Between *regions.Between
	// BookieSets are its bookie sets ("ebs", "nvme", "ebs,nvme"); empty
	// for a stack deployed before bookie sets were exported.
	BookieSets string
	// LegacyStorage is what such a stack exported instead ("ebs" or
	// "nvme"); empty when unknown (the offline preview's simulation).
	LegacyStorage string
	// Network is the VPC layout it runs; nil for a stack deployed before
	// the layout was exported.
	Network *DeployedNetwork
	// Volumes are its EBS bookies' volumes; nil for a stack deployed
	// before they were exported (it runs sizing.LegacyVolumes) or without
	// EBS bookies.
	Volumes *sizing.Volumes
}

// DesignAt is the stack's design at a phase.
type DesignAt func(phase string) (regions.RegionDesign, error)

// Allow decides whether one `up` may take a stack from what it runs to
// the design it declares: the same state; the next step of a transition
// (its first from the old phase, then each in turn, never back); the new
// phase after the last step; or a phase change that one `up` makes safely
// (Check). Anything else is refused, with the way forward named.
func Allow(was Deployed, now regions.RegionDesign, designAt DesignAt, cat *sizing.Catalog) error {
	if was.Phase == "" {
		return nil
	}
	if was.BookieSets == "" && was.LegacyStorage == string(model.StorageNVMe) {
		return &RefusedError{Stack: now.Stack, From: was.Phase, To: now.Phase, Legacy: true, Reasons: []string{
			"the stack was deployed before bookie sets: its instance-storage bookies are the main release's StatefulSet pulsar-bookie, and this version keeps them in their own release (pulsar-nvme-bookie); one `up` would delete them and start the new set empty"}}
	}
	if was.BookieSets == "" && was.LegacyStorage != "" {
		was.BookieSets = was.LegacyStorage
	}
	switch {
	case now.Between != nil:
		return allowStep(was, now, designAt, cat)
	case was.Between != nil:
		return allowLast(was, now, designAt, cat)
	case was.Phase != now.Phase:
		from, err := designAt(was.Phase)
		if err != nil {
			return err
		}
		if err := keepsVolumes(was, from, now.Phase); err != nil {
			return err
		}
		return Check(from, now)
	}
	if sets := regions.BookieSets(now.Components.Pulsar); was.BookieSets != "" && was.BookieSets != sets {
		return StorageFlip(now.Stack, was.Phase, now.Phase, was.BookieSets, sets)
	}
	return keepsVolumes(was, now, now.Phase)
}

// keepsVolumes refuses a design of the deployed phase whose EBS bookies'
// volumes differ from the running ones (a stack deployed before the
// planner chose volumes, or a workload edit): one `up` cannot change them,
// and a transition from that phase would start from the wrong ones. The
// remedy pins the running volumes at that phase.
func keepsVolumes(was Deployed, at regions.RegionDesign, to string) error {
	want, ok := regions.EBSVolumes(at.Components)
	if !ok || !slices.Contains(strings.Split(was.BookieSets, ","), string(model.StorageEBS)) {
		return nil
	}
	running := was.Volumes
	if running == nil {
		legacy, err := sizing.LegacyVolumes(was.Phase)
		if err != nil {
			return err
		}
		running = &legacy
	}
	if *running == want {
		return nil
	}
	return &RefusedError{Stack: at.Stack, From: was.Phase, To: to, Reasons: []string{fmt.Sprintf(
		"the EBS bookies run other volumes than the plan for phase %s gives them (%s): %s", was.Phase, VolumeChange(*running, want), volumesReason)},
		Remedy: fmt.Sprintf("pin the running volumes in Pulumi.%s.yaml, so the plan sizes the bookies on them: `pulsar-fleet:bookieVolumes: {phase: %s, ledgerGiB: %d, journalGiB: %d, throughputMiB: %.0f}`; they then change only in a phase transition's resize step (docs/operations.md, \"Bookie volumes\")",
			at.Stack, was.Phase, running.LedgerBytes/sizing.GiB, running.JournalBytes/sizing.GiB, running.ThroughputBytes/float64(sizing.MiB))}
}

// plan is the transition a declared step belongs to.
func plan(from string, now regions.RegionDesign, designAt DesignAt, cat *sizing.Catalog) (Transition, error) {
	a, err := designAt(from)
	if err != nil {
		return Transition{}, err
	}
	b, err := designAt(now.Phase)
	if err != nil {
		return Transition{}, err
	}
	return Plan(a, b, cat)
}

// allowStep lets a stack declare a transition's first step from the old
// phase, stay at its step, or go to the next one.
func allowStep(was Deployed, now regions.RegionDesign, designAt DesignAt, cat *sizing.Catalog) error {
	at := now.Between
	t, err := plan(at.From, now, designAt, cat)
	if err != nil {
		return err
	}
	steps := t.Declarable()
	i := slices.Index(steps, at.Step)
	refuse := func(why string) error {
		return &RefusedError{Stack: now.Stack, From: at.From, To: now.Phase, Reasons: []string{why}, Step: true}
	}
	switch {
	case was.Between == nil && was.Phase != at.From:
		return refuse(fmt.Sprintf("the stack runs phase %s, and a transition from %s starts at %s", was.Phase, at.From, at.From))
	case was.Between == nil && i != 0:
		return refuse(fmt.Sprintf("step %d is declared, but the transition starts with step %d", at.Step, steps[0]))
	case was.Between == nil:
		// The first step starts from the old phase's design: its volumes
		// must be the running ones.
		from, err := designAt(at.From)
		if err != nil {
			return err
		}
		if err := keepsVolumes(was, from, now.Phase); err != nil {
			return err
		}
	case was.Between != nil && (was.Phase != now.Phase || was.Between.From != at.From):
		return refuse(fmt.Sprintf("the stack stands at step %d of the transition from %s to %s; finish it first", was.Between.Step, was.Between.From, was.Phase))
	case was.Between != nil:
		k := slices.Index(steps, was.Between.Step)
		if i != k && i != k+1 {
			return refuse(fmt.Sprintf("the stack stands at step %d; steps go forward one at a time, each after its gate passed (next: step %s)", was.Between.Step, next(steps, k)))
		}
	}
	return keepsSets(was, now, refuse)
}

// keepsSets refuses a step that drops a bookie set the stack runs: within
// a transition, sets are only added (a config edit that moves the new
// phase's bookies to other storage would drop one).
func keepsSets(was Deployed, now regions.RegionDesign, refuse func(string) error) error {
	declared := strings.Split(regions.BookieSets(now.Components.Pulsar), ",")
	for _, set := range strings.Split(was.BookieSets, ",") {
		if set != "" && !slices.Contains(declared, set) {
			return refuse(fmt.Sprintf("the stack runs %s bookies and the declared step has none (bookie sets %s): one `up` would delete them before any ledger is copied", set, strings.Join(declared, ",")))
		}
	}
	return nil
}

// allowLast lets a stack at a transition's last declared step take the new
// phase itself.
func allowLast(was Deployed, now regions.RegionDesign, designAt DesignAt, cat *sizing.Catalog) error {
	refuse := func(why string) error {
		return &RefusedError{Stack: now.Stack, From: was.Between.From, To: was.Phase, Reasons: []string{why}, Step: true}
	}
	if now.Phase != was.Phase {
		return refuse(fmt.Sprintf("the stack stands at step %d of the transition from %s to %s, and phase %s is declared; finish the transition first", was.Between.Step, was.Between.From, was.Phase, now.Phase))
	}
	t, err := plan(was.Between.From, now, designAt, cat)
	if err != nil {
		return err
	}
	steps := t.Declarable()
	if k := slices.Index(steps, was.Between.Step); k != len(steps)-1 {
		return refuse(fmt.Sprintf("the stack stands at step %d; phase %s is the last step, after step %d (next: step %s)", was.Between.Step, was.Phase, steps[len(steps)-1], next(steps, k)))
	}
	return nil
}

func next(steps []int, k int) string {
	if k+1 < len(steps) {
		return fmt.Sprint(steps[k+1])
	}
	return "the phase itself"
}
