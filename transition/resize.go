package transition

import (
	"context"
	"fmt"
	"io"

	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// VolumeCluster is what a resize step reads and changes in a region's
// cluster: the bookies' claims and the StatefulSet that owns them.
type VolumeCluster interface {
	// Replicas is the StatefulSet's replica count.
	Replicas(ctx context.Context, statefulSet string) (int, error)
	// Claim reads one PersistentVolumeClaim.
	Claim(ctx context.Context, name string) (Claim, error)
	// Modify sets a claim's requested size and, when class is not empty,
	// its VolumeAttributesClass, in one patch.
	Modify(ctx context.Context, name string, bytes int64, class string) error
	// Orphan deletes the StatefulSet and leaves its pods and claims.
	Orphan(ctx context.Context, statefulSet string) error
}

// Claim is a bookie volume's claim: the size it requests and the size its
// volume has; the VolumeAttributesClass it asks for, the one its volume
// has, and the state of a modification under way (status.modifyVolumeStatus:
// "Pending", "InProgress", "Infeasible"; empty when none is).
type Claim struct {
	RequestBytes, CapacityBytes int64
	Class, CurrentClass         string
	ModifyStatus                string
}

// Volume names of the chart's bookie claim templates
// (bookkeeper.volumes.journal.name and ledgers.name).
const (
	VolumeJournal = "journal"
	VolumeLedgers = "ledgers"
)

// ClaimTemplate is the chart's claim template of a bookie volume:
// <fullname>-<component>-<volume name>, the StatefulSet's name and the
// volume's.
func ClaimTemplate(statefulSet, volume string) string { return statefulSet + "-" + volume }

// ClaimName is the claim of one bookie's volume: its claim template and
// the pod's name.
func ClaimName(statefulSet, volume string, ordinal int) string {
	return fmt.Sprintf("%s-%s-%d", ClaimTemplate(statefulSet, volume), statefulSet, ordinal)
}

// ResizeRun is a resize step as `pulsar-fleet resize` does it, one gate at
// a time, and again from the top on every run (it only does what is left):
// every claim gets its new size and, where throughput or IOPS change, its
// new VolumeAttributesClass in one patch (EBS does not shrink, so a
// smaller size keeps the claim's); once every volume reports both, the
// StatefulSet is deleted with its bookies left running, for the next `up`
// to re-create it with the new claim templates.
type ResizeRun struct {
	Resize
	Log io.Writer
}

// NotYetError is a gate that is not open yet: run again once it is.
type NotYetError struct{ Reason string }

func (e *NotYetError) Error() string { return "resize not finished: " + e.Reason }

// claimTarget is what one claim is moved to.
type claimTarget struct {
	name  string
	bytes int64
	class string
}

// targets are every claim's size and class (empty: the class stays).
func (r ResizeRun) targets(n int) []claimTarget {
	var out []claimTarget
	for i := 0; i < n; i++ {
		for _, v := range []struct {
			name  string
			bytes int64
			attrs func(sizing.Volumes) cluster.VolumeAttributes
		}{{VolumeLedgers, r.To.LedgerBytes, regions.LedgerAttributes}, {VolumeJournal, r.To.JournalBytes, regions.JournalAttributes}} {
			t := claimTarget{name: ClaimName(r.StatefulSet, v.name, i), bytes: v.bytes}
			if v.attrs(r.From) != v.attrs(r.To) {
				t.class = cluster.AttributesClassName(v.attrs(r.To))
			}
			out = append(out, t)
		}
	}
	return out
}

// Run performs what is left of the step.
func (r ResizeRun) Run(ctx context.Context, c VolumeCluster) error {
	n, err := c.Replicas(ctx, r.StatefulSet)
	if err != nil {
		return err
	}
	var pending []string
	for _, t := range r.targets(n) {
		cl, err := c.Claim(ctx, t.name)
		if err != nil {
			return err
		}
		grow, move := cl.RequestBytes < t.bytes, t.class != "" && cl.Class != t.class
		if grow || move {
			want := max(cl.RequestBytes, t.bytes)
			if err := c.Modify(ctx, t.name, want, t.class); err != nil {
				return err
			}
			fmt.Fprintf(r.Log, "%s: %s -> %s%s\n", t.name, gib(cl.RequestBytes), gib(want), classChange(cl.Class, t.class))
			if cl, err = c.Claim(ctx, t.name); err != nil {
				return err
			}
		}
		if cl.ModifyStatus == "Infeasible" {
			return fmt.Errorf("claim %s: the EBS CSI driver finds its modification to %s infeasible (`kubectl -n %s describe pvc %s`); the StatefulSet is left as it is",
				t.name, cl.Class, pulsar.DefaultNamespace, t.name)
		}
		if cl.CapacityBytes < t.bytes || (t.class != "" && cl.CurrentClass != t.class) {
			pending = append(pending, t.name)
		}
	}
	if len(pending) > 0 {
		return &NotYetError{fmt.Sprintf("%d claims still being modified (first: %s); run again once each reports its new capacity and class", len(pending), pending[0])}
	}
	if err := c.Orphan(ctx, r.StatefulSet); err != nil {
		return err
	}
	fmt.Fprintf(r.Log, "%s deleted, its bookies left running: the next `up` re-creates it with the new claim templates\n", r.StatefulSet)
	return nil
}

func classChange(from, to string) string {
	if to == "" || from == to {
		return ""
	}
	if from == "" {
		from = "the storage class's"
	}
	return fmt.Sprintf(", attributes %s -> %s", from, to)
}

// performanceChanges says whether throughput or IOPS change.
func (r Resize) performanceChanges() bool {
	return regions.LedgerAttributes(r.From) != regions.LedgerAttributes(r.To) || regions.JournalAttributes(r.From) != regions.JournalAttributes(r.To)
}

// attributesClassNames are the classes of the bookies' volumes.
func attributesClassNames(v sizing.Volumes) []string {
	var out []string
	for _, a := range regions.BookieAttributes(v) {
		out = append(out, cluster.AttributesClassName(a))
	}
	return out
}
