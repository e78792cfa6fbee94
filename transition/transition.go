// Package transition plans how a running region moves from one phase to
// another without losing a message, from two designs of the same region
// (regions.Design), and refuses a direct `pulumi up` that would replace or
// drop data-bearing objects. It is pure: no Pulumi, no cluster.
package transition

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// RecoveryShare is the share of a bookie's sustained bandwidth the
// estimates give to re-replication; the rest keeps serving traffic.
const RecoveryShare = 0.5

// Transition is the ordered plan from one phase to another.
type Transition struct {
	Stack string `json:"stack"`
	From  string `json:"from"`
	To    string `json:"to"`
	// Direct is true when one `pulumi up` of the new phase is safe.
	Direct bool   `json:"direct"`
	Steps  []Step `json:"steps"`
	// DataBytes and Hours total the steps' estimates.
	DataBytes float64 `json:"dataBytes"`
	Hours     float64 `json:"hours"`
}

// Step is one stage: an `up` of a declared state, or work in the cluster
// between two `up`s, and the check that gates the next step.
type Step struct {
	N     int    `json:"step"`
	Title string `json:"title"`
	// Up is what the step's `pulumi up` changes (empty: no up).
	Up []string `json:"up,omitempty"`
	// Between is what must happen in the cluster before the next step.
	Between []string `json:"between,omitempty"`
	// Gate is the check that must pass before the next step.
	Gate string `json:"gate"`
	// Estimate is the data this step re-replicates and how long it takes.
	Estimate *Estimate `json:"estimate,omitempty"`
	// Leave is the cluster work of a drain or decommission step, which
	// `pulsar-fleet decommission` runs.
	Leave *Leave `json:"leave,omitempty"`
	// Resize is the cluster work of a volume step.
	Resize *Resize `json:"resize,omitempty"`
	// Declares is the state the stack declares at this step, with
	// `transition: {from, step}` in its config (every step but the last,
	// which is the new phase itself). A step of cluster work only declares
	// the state before it: its `up` changes nothing but the marker the
	// next step's guard reads.
	Declares *Declared `json:"declares,omitempty"`
}

// Leave is bookies leaving one set: its StatefulSet down to To bookies,
// one at a time, each decommissioned (transition.Decommission).
type Leave struct {
	StatefulSet   string `json:"statefulSet"`
	To            int    `json:"to"`
	ReadOnlyFirst bool   `json:"readOnlyFirst,omitempty"`
}

// Command is the `pulsar-fleet decommission` command line that does it.
func (l Leave) Command(stack string) string {
	c := fmt.Sprintf("`pulsar-fleet decommission --stack %s --statefulset %s --to %d", stack, l.StatefulSet, l.To)
	if l.ReadOnlyFirst {
		c += " --read-only-first"
	}
	return c + " --context <the region's cluster>`"
}

// Resize is the EBS bookies' volumes changed in place: each claim of the
// StatefulSet given its new size and, where throughput or IOPS change, its
// new VolumeAttributesClass in one patch, then the StatefulSet deleted
// with its pods left running, so that the next `up` re-creates it with the
// new claim templates and adopts them.
type Resize struct {
	StatefulSet string         `json:"statefulSet"`
	From        sizing.Volumes `json:"from"`
	To          sizing.Volumes `json:"to"`
}

// Declared is a state between two phases: the ZooKeeper servers and the
// bookie sets, the old phase's design for everything else.
type Declared struct {
	ZooKeeper  int                   `json:"zookeeper"`
	BookieSets []model.BookieStorage `json:"bookieSets"`
	// Bookies is the old set's count: lower than the old phase's once a
	// decommission step took bookies out, so no later `up` puts them back.
	Bookies int `json:"bookies"`
}

// Declarable are the step numbers a stack config can declare; none when
// one `up` of the new phase is safe.
func (t Transition) Declarable() []int {
	var out []int
	for _, s := range t.Steps {
		if s.Declares != nil {
			out = append(out, s.N)
		}
	}
	return out
}

// Estimate is data moved at a bandwidth.
type Estimate struct {
	Bytes float64 `json:"bytes"`
	Hours float64 `json:"hours"`
	Basis string  `json:"basis"`
}

// Change is what differs between two designs of one region, in the terms
// that decide whether one `up` is safe.
type Change struct {
	StorageFlip        bool // bookies move between EBS and instance storage
	BookiesFrom        int
	BookiesTo          int
	ZooKeeperFrom      int
	ZooKeeperTo        int
	BrokerTypeFrom     string
	BrokerTypeTo       string
	SubnetsReplaced    bool // zones or VPC CIDR differ
	SubnetsReplacedWhy string
	ZonesAdded         int // zones appended to addedZones
	// VolumesFrom and VolumesTo are the EBS bookies' volumes, when both
	// designs keep EBS bookies and the planner chose other volumes.
	VolumesFrom, VolumesTo *sizing.Volumes
}

// Diff compares two designs of the same region.
func Diff(from, to regions.RegionDesign) Change {
	c := Change{
		StorageFlip: from.Plan.Bookies.LocalNVMe != to.Plan.Bookies.LocalNVMe,
		BookiesFrom: from.Plan.Bookies.Count, BookiesTo: to.Plan.Bookies.Count,
		ZooKeeperFrom: from.Plan.ZooKeeper.Count, ZooKeeperTo: to.Plan.ZooKeeper.Count,
		BrokerTypeFrom: from.Plan.Brokers.InstanceType, BrokerTypeTo: to.Plan.Brokers.InstanceType,
	}
	if fb, tb := from.Plan.Bookies, to.Plan.Bookies; !fb.LocalNVMe && !tb.LocalNVMe && fb.Volumes() != tb.Volumes() {
		fv, tv := fb.Volumes(), tb.Volumes()
		c.VolumesFrom, c.VolumesTo = &fv, &tv
	}
	fn, tn := from.Components.Network, to.Components.Network
	switch {
	case fn.CIDR != tn.CIDR:
		c.SubnetsReplaced, c.SubnetsReplacedWhy = true, fmt.Sprintf("vpcCidr %s -> %s", fn.CIDR, tn.CIDR)
	case !slices.Equal(fn.Zones, tn.Zones):
		c.SubnetsReplaced, c.SubnetsReplacedWhy = true, fmt.Sprintf("zones %v -> %v", fn.Zones, tn.Zones)
	default:
		added, ok := appended(fn.AddedZones, tn.AddedZones)
		if !ok {
			c.SubnetsReplaced, c.SubnetsReplacedWhy = true, fmt.Sprintf("addedZones %v -> %v: added zones are only appended", fn.AddedZones, tn.AddedZones)
		}
		c.ZonesAdded = len(added)
	}
	return c
}

// Unsafe lists why one `pulumi up` from one design to the other would
// lose data or quorum; empty when it is safe.
func (c Change) Unsafe() []string {
	var out []string
	if c.SubnetsReplaced {
		out = append(out, "the VPC's subnets would be replaced ("+c.SubnetsReplacedWhy+"), and with them every node and volume")
	}
	if c.StorageFlip {
		out = append(out, "the bookies would move between EBS volumes and instance storage: "+flipReason)
	}
	if c.BookiesTo < c.BookiesFrom && !c.StorageFlip {
		leaving := fmt.Sprintf("%d bookies would", c.BookiesFrom-c.BookiesTo)
		if c.BookiesFrom-c.BookiesTo == 1 {
			leaving = "1 bookie would"
		}
		out = append(out, fmt.Sprintf("%s leave at once (%d -> %d): a replica reduction is not covered by the PodDisruptionBudget, and ledgers with copies on the leaving bookies would be lost", leaving, c.BookiesFrom, c.BookiesTo))
	}
	if c.VolumesTo != nil {
		out = append(out, "the EBS bookies' volumes would change ("+VolumeChange(*c.VolumesFrom, *c.VolumesTo)+"): "+volumesReason)
	}
	if d := c.ZooKeeperTo - c.ZooKeeperFrom; d > 1 || d < -1 {
		out = append(out, fmt.Sprintf("ZooKeeper would change by %d servers at once (%d -> %d); it must change one server at a time to keep its quorum", d, c.ZooKeeperFrom, c.ZooKeeperTo))
	}
	return out
}

// RefusedError is a direct `up` that would replace or drop data-bearing
// objects. It names the transition command to run instead.
type RefusedError struct {
	Stack, From, To string
	Reasons         []string
	// Subnets is true when the refusal is a subnet replacement, which no
	// phase transition performs.
	Subnets bool
	// Step is true when a transition's steps are taken out of order.
	Step bool
	// Legacy is true for a stack deployed before bookie sets.
	Legacy bool
	// Zones is true when zones are added in the same `up` as another
	// change, or re-plan the region unsafely.
	Zones bool
	// Remedy, when set, is the way forward instead of the one the kind
	// of refusal names.
	Remedy string
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	switch {
	case e.Step:
		fmt.Fprintf(&b, "stack %s: this step of the transition from phase %s to %s is refused:", e.Stack, e.From, e.To)
	case e.From == e.To:
		fmt.Fprintf(&b, "stack %s: a change at phase %s is refused:", e.Stack, e.From)
	default:
		fmt.Fprintf(&b, "stack %s: a direct change from phase %s to %s is refused:", e.Stack, e.From, e.To)
	}
	for _, r := range e.Reasons {
		b.WriteString("\n  - " + r)
	}
	switch {
	case e.Remedy != "":
		b.WriteString("\n" + e.Remedy)
	case e.Zones:
		b.WriteString("\nadd a zone at a steady phase, in an `up` that changes nothing else (docs/operations.md, \"Adding a zone\")")
	case e.Legacy:
		b.WriteString("\nkeep the program version that deployed it for this stack, or rebuild the region from its geo-replicated peers (docs/operations.md, \"Bookie sets\")")
	case e.Step:
		fmt.Fprintf(&b, "\n`pulsar-fleet transition --stack %s --from %s --to %s` lists the steps; declare each with `transition: {from: %s, step: N}` after the previous step's gate passed (docs/operations.md, \"Moving between phases\")", e.Stack, e.From, e.To, e.From)
	case e.From == e.To && !e.Subnets:
		b.WriteString("\nrevert the edit that moves the bookies (a spot share, say), or make it part of a phase change with `pulsar-fleet transition` (docs/operations.md, \"Moving between phases\")")
	case e.Subnets:
		b.WriteString("\nzones and vpcCidr of a running stack do not change; a zone is added by appending it to addedZones with a CIDR of its own (docs/operations.md, \"Adding a zone\")")
	default:
		fmt.Fprintf(&b, "\nrun `pulsar-fleet transition --stack %s --from %s --to %s` and apply its steps (docs/operations.md, \"Moving between phases\")", e.Stack, e.From, e.To)
	}
	return b.String()
}

// StorageFlip is the refusal of a change that moves the deployed bookies
// (storage "ebs" or "nvme") to the other storage.
func StorageFlip(stack, from, to, deployed, desired string) error {
	return &RefusedError{Stack: stack, From: from, To: to, Reasons: []string{fmt.Sprintf(
		"the bookies would move from %s to %s storage: %s", deployed, desired, flipReason)}}
}

const flipReason = "one `up` would delete the old set's StatefulSet while it creates the new one empty, so every ledger not yet offloaded would be lost (a set's storage is its identity: docs/operations.md, \"Bookie sets\")"

const volumesReason = "a StatefulSet's volumeClaimTemplates cannot change, so the `up` would fail on the bookie StatefulSet, and a gp3 class's new throughput reaches only volumes created after it"

// VolumeChange says what differs between two bookies' volumes.
func VolumeChange(from, to sizing.Volumes) string {
	mib := func(b float64) string { return fmt.Sprintf("%.0fMiB/s", b/float64(sizing.MiB)) }
	var out []string
	for _, d := range []struct{ name, from, to string }{
		{"ledgers", gib(from.LedgerBytes), gib(to.LedgerBytes)}, {"journal", gib(from.JournalBytes), gib(to.JournalBytes)},
		{"throughput", mib(from.ThroughputBytes), mib(to.ThroughputBytes)},
		{"ledgers IOPS", fmt.Sprint(from.LedgerIOPS), fmt.Sprint(to.LedgerIOPS)}, {"journal IOPS", fmt.Sprint(from.JournalIOPS), fmt.Sprint(to.JournalIOPS)},
	} {
		if d.from != d.to {
			out = append(out, d.name+" "+d.from+" -> "+d.to)
		}
	}
	return strings.Join(out, ", ")
}

// gib is a volume size as a claim states it.
func gib(b int64) string { return fmt.Sprintf("%dGi", b/sizing.GiB) }

// Check refuses a direct change from the deployed design to the desired
// one when one `up` would lose data or quorum.
func Check(deployed, desired regions.RegionDesign) error {
	c := Diff(deployed, desired)
	if r := c.Unsafe(); len(r) > 0 {
		return &RefusedError{Stack: desired.Stack, From: deployed.Phase, To: desired.Phase, Reasons: r, Subnets: c.SubnetsReplaced}
	}
	return nil
}

// Plan orders the steps from one design to another. Going up: ZooKeeper
// grows first, one server per step, then brokers roll, then bookies grow or
// move to a new storage set. Going down: bookies leave first, one at a
// time, then brokers, then ZooKeeper.
func Plan(from, to regions.RegionDesign, cat *sizing.Catalog) (Transition, error) {
	if from.Stack != to.Stack {
		return Transition{}, fmt.Errorf("a transition is within one stack: %s and %s", from.Stack, to.Stack)
	}
	c := Diff(from, to)
	unsafe := c.Unsafe()
	t := Transition{Stack: to.Stack, From: from.Phase, To: to.Phase, Direct: len(unsafe) == 0}
	if c.SubnetsReplaced {
		return t, &RefusedError{Stack: to.Stack, From: from.Phase, To: to.Phase, Reasons: unsafe, Subnets: true}
	}
	if c.ZonesAdded > 0 {
		return t, &RefusedError{Stack: to.Stack, From: from.Phase, To: to.Phase, Zones: true,
			Reasons: []string{fmt.Sprintf("%d zones are added in the transition; a phase transition keeps the zones", c.ZonesAdded)}}
	}
	rate, basis, err := recoveryRate(from, cat)
	if err != nil {
		return t, err
	}
	b := &builder{from: from, to: to, c: c, rate: rate, basis: basis,
		zookeeper: c.ZooKeeperFrom, bookiesLeft: c.BookiesFrom, sets: []model.BookieStorage{model.StorageOf(from.Plan.Bookies.LocalNVMe)}}
	if c.BookiesTo >= c.BookiesFrom || c.StorageFlip {
		b.zookeeperSteps()
		b.brokers()
		b.bookies()
	} else {
		b.bookies()
		b.brokers()
		b.zookeeperSteps()
	}
	b.volumes()
	b.finish()
	t.Steps = b.steps
	for _, s := range t.Steps {
		if s.Estimate != nil {
			t.DataBytes += s.Estimate.Bytes
			t.Hours += s.Estimate.Hours
		}
	}
	return t, nil
}

// recoveryRate is the bytes per second one bookie's data is re-replicated
// at: RecoveryShare of the bookie's sustained network, capped by its ledger
// disk (a gp3 volume's provisioned throughput; instance storage is faster
// than the network).
func recoveryRate(d regions.RegionDesign, cat *sizing.Catalog) (float64, string, error) {
	it, err := cat.Lookup(d.Plan.Bookies.InstanceType)
	if err != nil {
		return 0, "", err
	}
	net := it.NetBytesPerSec() * RecoveryShare
	if disk := d.Plan.Bookies.VolumeThroughputBytes; !d.Plan.Bookies.LocalNVMe && disk < net {
		return disk, fmt.Sprintf("a gp3 ledger volume's %s/s provisioned throughput (%s)", sizing.FormatSI(disk), it.Name), nil
	}
	return net, fmt.Sprintf("%.0f%% of %s's %s/s sustained network", RecoveryShare*100, it.Name, sizing.FormatSI(it.NetBytesPerSec())), nil
}
