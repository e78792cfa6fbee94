package transition

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
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
	// Modify sets a claim's requested size (unless bytes is 0) and its
	// VolumeAttributesClass (unless class is empty), in one patch.
	Modify(ctx context.Context, name string, bytes int64, class string) error
	// AttributesClassExists says whether the cluster has that
	// VolumeAttributesClass (false too where it serves none).
	AttributesClassExists(ctx context.Context, name string) (bool, error)
	// Orphan deletes the StatefulSet and leaves its pods and claims.
	Orphan(ctx context.Context, statefulSet string) error
}

// Claim is a bookie volume's claim: the size it requests and the size its
// volume has; the VolumeAttributesClass it asks for, the one its volume
// has, and the modification under way (status.modifyVolumeStatus: its
// state and the class it moves to; empty when none is).
type Claim struct {
	RequestBytes, CapacityBytes int64
	Class, CurrentClass         string
	Modify                      ModifyStatus
	ModifyTarget                string
}

// ModifyStatus is the state of a claim's volume modification, as
// Kubernetes reports it.
type ModifyStatus string

// The states of status.modifyVolumeStatus.status.
const (
	ModifyPending    ModifyStatus = "Pending"
	ModifyInProgress ModifyStatus = "InProgress"
	ModifyInfeasible ModifyStatus = "Infeasible"
)

// Valid says whether s is a state Kubernetes reports (or none).
func (s ModifyStatus) Valid() bool {
	switch s {
	case "", ModifyPending, ModifyInProgress, ModifyInfeasible:
		return true
	}
	return false
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
	// Namespace is the bookies' namespace, for the commands the run names.
	Namespace string
	Log       io.Writer
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
		for _, v := range r.changes() {
			out = append(out, claimTarget{name: ClaimName(r.StatefulSet, v.volume, i), bytes: v.toBytes, class: v.class})
		}
	}
	return out
}

// volumeChange is how one kind of bookie volume changes: its size, and
// the attributes class it moves to (empty: its attributes stay).
type volumeChange struct {
	volume             string
	fromBytes, toBytes int64
	class              string
}

// changes are the ledger and the journal volumes' changes.
func (r Resize) changes() []volumeChange {
	var out []volumeChange
	for _, v := range []struct {
		volume   string
		from, to int64
		attrs    func(sizing.Volumes) cluster.VolumeAttributes
	}{{VolumeLedgers, r.From.LedgerBytes, r.To.LedgerBytes, regions.LedgerAttributes}, {VolumeJournal, r.From.JournalBytes, r.To.JournalBytes, regions.JournalAttributes}} {
		c := volumeChange{volume: v.volume, fromBytes: v.from, toBytes: v.to}
		if v.attrs(r.From) != v.attrs(r.To) {
			c.class = cluster.AttributesClassName(v.attrs(r.To))
		}
		out = append(out, c)
	}
	return out
}

// Run performs what is left of the step.
func (r ResizeRun) Run(ctx context.Context, c VolumeCluster) error {
	n, err := c.Replicas(ctx, r.StatefulSet)
	if err != nil {
		return err
	}
	targets := r.targets(n)
	if err := r.classesExist(ctx, c, targets); err != nil {
		return err
	}
	var pending []string
	for _, t := range targets {
		done, err := r.move(ctx, c, t)
		if err != nil {
			return err
		}
		if !done {
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

// classesExist refuses to patch a claim toward a class the cluster lacks:
// the resize step's `up` declares them, on Kubernetes 1.34 and later.
func (r ResizeRun) classesExist(ctx context.Context, c VolumeCluster, targets []claimTarget) error {
	seen := map[string]bool{}
	for _, t := range targets {
		if t.class == "" || seen[t.class] {
			continue
		}
		seen[t.class] = true
		ok, err := c.AttributesClassExists(ctx, t.class)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("the cluster has no VolumeAttributesClass %s: run the resize step's `up` first (it declares it), on Kubernetes %s or later; no claim was changed", t.class, cluster.VolumeAttributesSince)
		}
	}
	return nil
}

// move patches one claim toward its target where it is not there yet,
// and says whether its volume has reached it.
func (r ResizeRun) move(ctx context.Context, c VolumeCluster, t claimTarget) (bool, error) {
	cl, err := c.Claim(ctx, t.name)
	if err != nil {
		return false, err
	}
	grow, class := int64(0), ""
	if cl.RequestBytes < t.bytes {
		grow = t.bytes
	}
	if t.class != "" && cl.Class != t.class {
		class = t.class
	}
	if grow > 0 || class != "" {
		if err := c.Modify(ctx, t.name, grow, class); err != nil {
			return false, err
		}
		fmt.Fprintf(r.Log, "%s: %s -> %s%s\n", t.name, gib(cl.RequestBytes), gib(max(cl.RequestBytes, t.bytes)), classChange(cl.Class, class))
		if cl, err = c.Claim(ctx, t.name); err != nil {
			return false, err
		}
	}
	if t.class != "" && cl.Modify == ModifyInfeasible && cl.ModifyTarget == t.class {
		return false, fmt.Errorf("claim %s: the EBS CSI driver finds its modification to %s infeasible (`kubectl -n %s describe pvc %s`); the StatefulSet is left as it is",
			t.name, t.class, r.Namespace, t.name)
	}
	return cl.CapacityBytes >= t.bytes && (t.class == "" || cl.CurrentClass == t.class), nil
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

// performanceChanges says whether throughput or IOPS change: whether any
// volume moves to another attributes class.
func (r Resize) performanceChanges() bool {
	return slices.ContainsFunc(r.changes(), func(c volumeChange) bool { return c.class != "" })
}

// attributesClassNames are the classes of the bookies' volumes.
func attributesClassNames(v sizing.Volumes) []string {
	var out []string
	for _, a := range regions.BookieAttributes(v) {
		out = append(out, cluster.AttributesClassName(a))
	}
	return out
}
