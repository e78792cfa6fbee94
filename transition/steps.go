package transition

import (
	"fmt"

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
}

func (b *builder) add(s Step) {
	s.N = len(b.steps) + 1
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

// zookeeper changes the ensemble one server per `up`: each is a rolling
// restart under the PDB (maxUnavailable 1), so a quorum stays up.
func (b *builder) zookeeper() {
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
		b.add(Step{Title: fmt.Sprintf("ZooKeeper %d -> %d servers", n, next),
			Up:   []string{change, inBetween(b.to.Phase, b.from.Phase, len(b.steps)+1)},
			Gate: fmt.Sprintf("%d ZooKeeper pods Ready and `echo srvr | nc localhost 2181` on each shows one leader and %d followers", next, next-1)})
		n = next
	}
}

// inBetween is the note on an `up` of a state between two phases.
func inBetween(to, from string, step int) string {
	return fmt.Sprintf("an in-between state (`phase: %s` with `transition: {from: %s, step: %d}`), which the stack config cannot declare yet: see docs/operations.md, \"Moving between phases\"", to, from, step)
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
		b.add(Step{Title: fmt.Sprintf("decommission bookies %d..%d, one at a time", to, from-1),
			Between: []string{
				"optional, faster when the deletion lag is short: offload closed ledgers first (`pulsar-admin topics offload`) and wait out the deletion lag, so less data is left to copy",
				fmt.Sprintf("for each bookie from pulsar-bookie-%d down to pulsar-bookie-%d: `%sbin/bookkeeper shell decommissionbookie -bookieid <its id>`, which copies its ledgers to the others and waits", from-1, to, toolset),
				"the next bookie only after the previous one is gone from `listbookies` and under-replication is zero",
			},
			Gate:     fmt.Sprintf("`%s` is empty and bookies %d..%d are decommissioned", underReplicatedCmd, to, from-1),
			Estimate: b.estimate(from - to)})
		b.final = append(b.final, fmt.Sprintf("bookie replicas %d -> %d: removes only the decommissioned pods (the highest ordinals)", from, to))
	}
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
	b.add(Step{Title: fmt.Sprintf("add the %s bookie set beside the %s one", nw, old),
		Up: []string{fmt.Sprintf("a second bookie StatefulSet of %d %s bookies (%s) with its own NodePool, in the same cluster and metadata store; the %d %s bookies stay", to, nw, b.to.Plan.Bookies.InstanceType, from, old),
			inBetween(b.to.Phase, b.from.Phase, len(b.steps)+1)},
		Gate: fmt.Sprintf("`%s` lists %d writable bookies (both sets)", listBookiesCmd, from+to)})
	b.add(Step{Title: fmt.Sprintf("drain the %d %s bookies, one at a time", from, old),
		Between: []string{
			"set every old bookie read-only through its admin API (`PUT /api/v1/bookie/state/readonly`), so new ledgers go to the new set",
			fmt.Sprintf("for each old bookie in turn: `%sbin/bookkeeper shell decommissionbookie -bookieid <its id>`; it returns when its ledgers have their copies on other bookies", toolset),
			"the next one only after under-replication is zero again",
		},
		Gate:     fmt.Sprintf("`%s` is empty and no old bookie is in `listbookies`", underReplicatedCmd),
		Estimate: b.estimate(from)})
	b.final = append(b.final, fmt.Sprintf("the drained %s bookie StatefulSet and its NodePool are deleted (EBS volumes are kept: reclaim policy Retain)", old))
}

// finish ends with the `up` of the new phase.
func (b *builder) finish() {
	up := append(b.final, "with everything else the new design changes (pools, tuning, limits)")
	b.add(Step{Title: fmt.Sprintf("`pulumi up` of phase %s", b.to.Phase), Up: up,
		Gate: fmt.Sprintf("`pulumi preview` shows no changes, every Pulsar pod is Ready, `%s` lists %d writable bookies and `%s` is empty",
			listBookiesCmd, b.c.BookiesTo, underReplicatedCmd)})
}
