package transition

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/components/capacity"
	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// StepError is a `transition: {from, step}` that names no declarable step.
type StepError struct {
	From, To string
	Step     int
	Allowed  []int
}

func (e *StepError) Error() string {
	if len(e.Allowed) == 0 {
		return fmt.Sprintf("transition from %s to %s, step %d: one `up` of phase %s is safe, so there is no step to declare; remove `transition`", e.From, e.To, e.Step, e.To)
	}
	var want []string
	for _, n := range e.Allowed {
		want = append(want, fmt.Sprint(n))
	}
	return fmt.Sprintf("transition from %s to %s, step %d: want one of %s (`pulsar-fleet transition --from %s --to %s` lists them; the last step is phase %s itself, without `transition`)",
		e.From, e.To, e.Step, strings.Join(want, ", "), e.From, e.To, e.To)
}

// Interim is the design a stack declares at a step of the transition from
// one design to another: the old phase's design, with the step's ZooKeeper
// ensemble, the old set's bookies that a decommission step left, and, once
// the step adds it, the new phase's bookie set on its own pool beside the
// old one. The critical pool is the larger design's,
// so an ensemble between the two always has room. Pure: it is what the
// program builds for `phase: P2` with `transition: {from: P1, step: N}`.
func Interim(from, to regions.RegionDesign, step int, cat *sizing.Catalog) (regions.RegionDesign, error) {
	t, err := Plan(from, to, cat)
	if err != nil {
		return regions.RegionDesign{}, err
	}
	if !slices.Contains(t.Declarable(), step) {
		return regions.RegionDesign{}, &StepError{From: from.Phase, To: to.Phase, Step: step, Allowed: t.Declarable()}
	}
	state := t.Steps[step-1].Declares
	d := from
	d.Phase, d.Between = to.Phase, &regions.Between{From: from.Phase, Step: step}
	c := from.Components
	c.Capacity.Pools = slices.Clone(c.Capacity.Pools)
	c.Pulsar.BookieSets = slices.Clone(c.Pulsar.BookieSets)
	c.Pulsar.ZooKeeper.Replicas, c.Pulsar.Interim = state.ZooKeeper, true
	c.Pulsar.BookieSets[0].Pod.Replicas = state.Bookies
	if to.Plan.ZooKeeper.Count > from.Plan.ZooKeeper.Count {
		replacePool(c.Capacity.Pools, to.Components.Capacity.Pools, regions.PoolCritical)
	}
	if len(state.BookieSets) > 1 {
		incoming := to.Components.Pulsar.BookieSets[0]
		c.Pulsar.BookieSets = append(c.Pulsar.BookieSets, incoming)
		pool, ok := findPool(to.Components.Capacity.Pools, regions.BookiePool(incoming.Storage))
		if !ok {
			return regions.RegionDesign{}, fmt.Errorf("transition from %s to %s: phase %s has no %s pool", from.Phase, to.Phase, to.Phase, regions.BookiePool(incoming.Storage))
		}
		c.Capacity.Pools = append(c.Capacity.Pools, pool)
		if incoming.Storage == model.StorageEBS {
			// The incoming EBS set's volumes come from its classes: the
			// new phase's throughput and IOPS (the old set uses none).
			c.Cluster.StorageClasses = to.Components.Cluster.StorageClasses
		}
	}
	for _, s := range t.Steps[:step] {
		if r := s.Resize; r != nil {
			// The volumes move to the new attributes' classes, declared
			// from the resize step on beside the running ones.
			c.Cluster.VolumeAttributes = unionAttributes(c.Cluster.VolumeAttributes, regions.BookieAttributes(r.To))
		}
	}
	if err := c.Validate(); err != nil {
		return regions.RegionDesign{}, fmt.Errorf("region %s, transition from %s to %s, step %d: %w", to.Stack, from.Phase, to.Phase, step, err)
	}
	d.Components = c
	return d, nil
}

func findPool(pools []capacity.Pool, name string) (capacity.Pool, bool) {
	i := slices.IndexFunc(pools, func(p capacity.Pool) bool { return p.Name == name })
	if i < 0 {
		return capacity.Pool{}, false
	}
	return pools[i], true
}

// replacePool puts the pool of that name from src in place in dst.
func replacePool(dst, src []capacity.Pool, name string) {
	p, ok := findPool(src, name)
	if i := slices.IndexFunc(dst, func(q capacity.Pool) bool { return q.Name == name }); ok && i >= 0 {
		dst[i] = p
	}
}

// unionAttributes is a followed by what of b it lacks.
func unionAttributes(a, b []cluster.VolumeAttributes) []cluster.VolumeAttributes {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
