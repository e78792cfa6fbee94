package transition

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// Commands the steps name, run in the region's toolset pod.
const (
	toolset            = "kubectl -n pulsar exec pulsar-toolset-0 -- "
	underReplicatedCmd = toolset + "bin/bookkeeper shell listunderreplicated"
	listBookiesCmd     = toolset + "bin/bookkeeper shell listbookies -rw"
)

type builder struct {
	from, to regions.RegionDesign
	c        Change
	rate     float64
	basis    string
	steps    []Step
	// final are the changes the last `up`, of the new phase, makes.
	final []string
	// zookeeper, bookiesLeft and sets are the state the steps so far declare.
	zookeeper, bookiesLeft int
	sets                   []model.BookieStorage
}

// add appends a step that declares the state so far.
func (b *builder) add(s Step) {
	s.N = len(b.steps) + 1
	s.Declares = &Declared{ZooKeeper: b.zookeeper, Bookies: b.bookiesLeft, BookieSets: slices.Clone(b.sets)}
	b.steps = append(b.steps, s)
}

// perBookie is the data one bookie of the old set holds at the old phase's
// planned fill.
func (b *builder) perBookie() float64 {
	return b.from.Plan.Storage.StorageBytes / float64(max(1, b.c.BookiesFrom))
}

func (b *builder) estimate(bookies int) *Estimate {
	bytes := b.perBookie() * float64(bookies)
	return &Estimate{Bytes: bytes, Hours: bytes / b.rate / 3600, Basis: fmt.Sprintf(
		"%d bookie(s) x %s each (the %s plan's storage / %d bookies), one at a time, at %s/s: %s",
		bookies, sizing.FormatSI(b.perBookie()), b.from.Phase, b.c.BookiesFrom, sizing.FormatSI(b.rate), b.basis)}
}

// zookeeperSteps change the ensemble one server per `up`: each is a
// rolling restart under the PDB (maxUnavailable 1), so a quorum stays up.
func (b *builder) zookeeperSteps() {
	from, to := b.c.ZooKeeperFrom, b.c.ZooKeeperTo
	for n := from; n != to; {
		next := n + 1
		if to < n {
			next = n - 1
		}
		change := fmt.Sprintf("zookeeper replicas %d -> %d; every server restarts in turn with the new server list (PDB maxUnavailable 1), so a quorum stays up", n, next)
		if next == to {
			b.final = append(b.final, change)
			return
		}
		b.zookeeper = next
		b.add(Step{Title: fmt.Sprintf("ZooKeeper %d -> %d servers", n, next),
			Up:   []string{change},
			Gate: fmt.Sprintf("%d ZooKeeper pods Ready and `%s` on each shows one leader and %d followers", next, pulsar.ZooKeeperModeCommand, next-1)})
		n = next
	}
}

// brokers roll onto a new instance family, or scale, under their PDB.
func (b *builder) brokers() {
	if b.c.BrokerTypeFrom == b.c.BrokerTypeTo && b.from.Plan.Brokers.Count == b.to.Plan.Brokers.Count {
		return
	}
	b.final = append(b.final, fmt.Sprintf("broker HPA %d..%d -> %d..%d; broker NodePool types %s -> %s (Karpenter replaces drifted nodes within the pool's disruption budget; each broker drains under its PDB, and its topics move to the others)",
		b.from.Plan.BrokerHPA.Min, b.from.Plan.BrokerHPA.Max, b.to.Plan.BrokerHPA.Min, b.to.Plan.BrokerHPA.Max, b.c.BrokerTypeFrom, b.c.BrokerTypeTo))
}

// bookies grow in place, leave one at a time, or move to a new set.
func (b *builder) bookies() {
	from, to := b.c.BookiesFrom, b.c.BookiesTo
	switch {
	case b.c.StorageFlip:
		b.newBookieSet()
	case to > from:
		b.final = append(b.final, fmt.Sprintf("bookie replicas %d -> %d (new bookies join empty; new ledgers use them at once)", from, to))
	case to < from:
		dec := Leave{StatefulSet: b.fromSet(), To: to}
		b.add(Step{Title: fmt.Sprintf("decommission bookies %d..%d, one at a time", to, from-1),
			Between: []string{
				"optional, faster when the deletion lag is short: offload closed ledgers first (`pulsar-admin topics offload`) and wait out the deletion lag, so less data is left to copy",
				dec.Command(b.to.Stack) + ": from " + dec.StatefulSet + "-" + fmt.Sprint(from-1) + " down, for each bookie: " + leaveRule,
			},
			Gate:     fmt.Sprintf("`%s` is empty and %s runs %d bookies", underReplicatedCmd, dec.StatefulSet, to),
			Estimate: b.estimate(from - to), Leave: &dec})
		b.bookiesLeft = to
		b.final = append(b.final, fmt.Sprintf("bookie replicas %d: the count the decommissioning left, so no bookie goes in this `up`", to))
	}
}

// leaveRule is what `pulsar-fleet decommission` does for each bookie.
const leaveRule = "it refuses unless `listunderreplicated` is empty and an ensemble of writable bookies stays, stops the bookie (its StatefulSet down by one: the highest ordinal), runs `decommissionbookie`, which re-replicates the bookie's ledgers and returns when they have their copies, and checks under-replication is zero again before the next"

// fromSet is the StatefulSet of the old phase's bookies.
func (b *builder) fromSet() string {
	return pulsar.BookieSet{Storage: model.StorageOf(b.from.Plan.Bookies.LocalNVMe)}.StatefulSet()
}

// newBookieSet moves every bookie to the other storage: a second set
// beside the old one, the old one drained one bookie at a time, then
// removed.
func (b *builder) newBookieSet() {
	kind := func(nvme bool) string {
		if nvme {
			return "instance-storage (NVMe)"
		}
		return "EBS"
	}
	old, nw := kind(b.from.Plan.Bookies.LocalNVMe), kind(b.to.Plan.Bookies.LocalNVMe)
	from, to := b.c.BookiesFrom, b.c.BookiesTo
	incoming := model.StorageOf(b.to.Plan.Bookies.LocalNVMe)
	b.sets = append(b.sets, incoming)
	b.add(Step{Title: fmt.Sprintf("add the %s bookie set beside the %s one", nw, old),
		Up: []string{fmt.Sprintf("a second bookie StatefulSet of %d %s bookies (%s, StatefulSet %s) on its own NodePool %s, in the same cluster and metadata store; the %d %s bookies stay",
			to, nw, b.to.Plan.Bookies.InstanceType, (pulsar.BookieSet{Storage: incoming}).StatefulSet(), regions.BookiePool(incoming), from, old),
			rollNote(incoming)},
		Gate: fmt.Sprintf("`%s` lists %d writable bookies (both sets)", listBookiesCmd, from+to)})
	drain := Leave{StatefulSet: b.fromSet(), To: 0, ReadOnlyFirst: true}
	b.add(Step{Title: fmt.Sprintf("drain the %d %s bookies, one at a time", from, old),
		Between: []string{
			drain.Command(b.to.Stack) + ": makes every old bookie read-only (its admin API, `PUT /api/v1/bookie/state/readonly`), so new ledgers and re-replicated copies go to the new set; then, from " +
				drain.StatefulSet + "-" + fmt.Sprint(from-1) + " down, for each bookie: " + leaveRule,
		},
		Gate:     fmt.Sprintf("`%s` is empty and %s runs 0 bookies", underReplicatedCmd, drain.StatefulSet),
		Estimate: b.estimate(from), Leave: &drain})
	gone := "its EBS volumes are kept: reclaim policy Retain"
	if b.from.Plan.Bookies.LocalNVMe {
		gone = "its instance storage goes with its nodes, and holds nothing after the drain"
	}
	b.final = append(b.final, fmt.Sprintf("the drained %s bookie StatefulSet and its NodePool are deleted (%s)", old, gone))
}

// rollNote is what else the `up` adding a set changes: the brokers wait for
// the main release's bookie set by name, so they roll when that name moves.
func rollNote(incoming model.BookieStorage) string {
	if incoming == model.StorageEBS {
		return "the main release gets its EBS bookies back, and the brokers, which wait for that set by name, roll one at a time under their PDB"
	}
	return "the instance-storage set is its own Helm release (" + pulsar.NVMeRelease + "); the main release and its pods do not change"
}

// volumes changes the EBS bookies' volumes in place, between the last
// `up` of the old design and the `up` of the new phase. The step's `up`
// declares the VolumeAttributesClasses of the new throughput and IOPS;
// each claim then gets its new size and, where they change, its new class
// in one patch, which the EBS CSI driver makes one EC2 modification (a
// second one within six hours would wait out EBS' cooldown). The
// StatefulSet, whose claim templates cannot change, is deleted with its
// pods left running for the `up` of the new phase to re-create.
func (b *builder) volumes() {
	if b.c.VolumesTo == nil {
		return
	}
	from, to := *b.c.VolumesFrom, *b.c.VolumesTo
	r := Resize{StatefulSet: b.fromSet(), From: from, To: to}
	var patches []string
	for _, v := range r.changes() {
		var set []string
		if v.fromBytes != v.toBytes {
			set = append(set, "size "+gib(v.toBytes))
		}
		if v.class != "" {
			set = append(set, "volumeAttributesClassName "+v.class)
		}
		if len(set) > 0 {
			patches = append(patches, fmt.Sprintf("each claim `%s-%s-<n>` to %s", ClaimTemplate(r.StatefulSet, v.volume), r.StatefulSet, strings.Join(set, " and ")))
		}
	}
	var up []string
	if r.performanceChanges() {
		up = append(up, fmt.Sprintf("VolumeAttributesClasses %s declared beside the running ones (Kubernetes %s or later)",
			strings.Join(attributesClassNames(to), " and "), cluster.VolumeAttributesSince))
	}
	between := []string{"`pulsar-fleet resize` (with this transition's --stack, --from and --to) does what follows, stopping at each gate until it opens: run it again until it deletes the StatefulSet"}
	if len(patches) > 0 {
		between = append(between, fmt.Sprintf("set %s, in one `kubectl -n %s patch pvc` each, so that EBS modifies each volume once; gp3 changes online, and a claim already at least its size keeps it (EBS volumes do not shrink; the bookie then has more room than planned)",
			strings.Join(patches, ", and "), pulsar.DefaultNamespace))
	}
	gate := fmt.Sprintf("every claim of %s reports its new capacity and, where it changes, its new class as current (`kubectl -n %s get pvc`: CAPACITY and VOLUMEATTRIBUTESCLASS)", r.StatefulSet, pulsar.DefaultNamespace)
	classes := ""
	if r.performanceChanges() {
		classes = "; the gp3 classes replaced with the new throughput and IOPS (the provider deletes and re-creates a StorageClass whose parameters change), so new bookies' volumes get them; the old VolumeAttributesClasses leave the stack but stay in the cluster (retained volumes may name them)"
	}
	between = append(between, fmt.Sprintf("`kubectl -n %s delete statefulset %s --cascade=orphan`: the bookies keep running, and the next `up` re-creates the StatefulSet with the new claim templates and adopts them", pulsar.DefaultNamespace, r.StatefulSet))
	b.add(Step{Title: "resize the EBS bookies' volumes in place (" + VolumeChange(from, to) + ")", Up: up, Between: between, Resize: &r,
		Gate: fmt.Sprintf("%s, and StatefulSet %s is gone while its %d bookies run (a repeated `up` of this step re-creates it with the old templates: delete it again)", gate, r.StatefulSet, b.bookiesLeft)})
	b.final = append(b.final, fmt.Sprintf("StatefulSet %s re-created with the new claim templates%s", r.StatefulSet, classes))
}

// finish ends with the `up` of the new phase.
func (b *builder) finish() {
	up := append(b.final, "with everything else the new design changes (pools, tuning, limits)")
	b.add(Step{Title: fmt.Sprintf("`pulumi up` of phase %s", b.to.Phase), Up: up,
		Gate: fmt.Sprintf("`pulumi preview` shows no changes, every Pulsar pod is Ready, `%s` lists %d writable bookies and `%s` is empty",
			listBookiesCmd, b.c.BookiesTo, underReplicatedCmd)})
	b.steps[len(b.steps)-1].Declares = nil
}
