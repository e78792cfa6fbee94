package regions

import (
	"errors"
	"fmt"
	"sort"

	"github.com/pulsar-fleet/pulsar-fleet/components/capacity"
	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/components/network"
	"github.com/pulsar-fleet/pulsar-fleet/components/region"
	"github.com/pulsar-fleet/pulsar-fleet/components/tieredstorage"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// Args are every component's arguments for one region, computed from the
// spec and the plan before anything is registered. Wiring fields (outputs of
// other components) are filled in by Build as the components are created.
type Args struct {
	Region        region.Args
	Network       network.Args
	Cluster       cluster.Args
	Capacity      capacity.Args
	TieredStorage tieredstorage.Args
}

// Validate validates every component's plain arguments, all at once.
func (a Args) Validate() error {
	return errors.Join(
		wrap("region", a.Region.Validate()),
		wrap("network", a.Network.Validate()),
		wrap("cluster", a.Cluster.Validate()),
		wrap("capacity", a.Capacity.Validate()),
		wrap("tieredstorage", a.TieredStorage.Validate()),
	)
}

func wrap(component string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", component, err)
}

// Disruption settings per pool. Bookies are never consolidated to save
// money (only empty bookie nodes go), and instance-store bookies never
// expire: their data dies with the node.
const (
	criticalExpire  = "720h"
	brokerExpire    = "720h"
	ebsBookieExpire = "2160h"
)

// ComponentArgs computes every component's arguments for a region.
func ComponentArgs(spec Spec, plan sizing.RegionPlan, cat *sizing.Catalog) (Args, error) {
	name := ClusterName(spec.Stack)
	root := region.Args{Stack: spec.Stack, Region: spec.Region, Role: spec.Role, Phase: spec.Phase.Name}
	tags := root.DefaultTags()
	a := Args{Region: root}
	a.Network = network.Args{Region: spec.Region, CIDR: spec.VPCCIDR, Zones: spec.Zones, NATGateways: spec.NATGateways, ClusterName: name, Tags: tags}

	sysTypes, sysArch, err := systemPoolTypes(cat, spec.Arches)
	if err != nil {
		return Args{}, err
	}
	planner, err := sizing.NewPlanner(cat, sizing.DefaultParams())
	if err != nil {
		return Args{}, err
	}
	ebsMiB := int(planner.Params.EBSThroughputBytes / float64(sizing.MiB))
	a.Cluster = cluster.Args{
		Name: name, KubernetesVersion: spec.KubernetesVersion, PublicAccessCIDRs: spec.PublicAccessCIDRs, Tags: tags,
		SystemPool: cluster.SystemPool{InstanceTypes: sysTypes, Arch: sysArch, Min: sizing.SystemNodes(), Desired: sizing.SystemNodes(), Max: sizing.SystemNodes() + 2},
		StorageClasses: []cluster.StorageClass{
			{Name: StorageClassDefault, ThroughputMiB: 125, IOPS: 3000, Default: true},
			{Name: StorageClassJournal, ThroughputMiB: ebsMiB, IOPS: 6000},
			{Name: StorageClassLedgers, ThroughputMiB: ebsMiB, IOPS: 3000},
		},
	}

	arches := func(types []string) []string {
		seen := map[string]bool{}
		var out []string
		for _, t := range types {
			it, err := cat.Lookup(t)
			if err == nil && !seen[string(it.Arch)] {
				seen[string(it.Arch)] = true
				out = append(out, string(it.Arch))
			}
		}
		sort.Strings(out)
		return out
	}
	critical := union(plan.Proxies.Alternatives, plan.ZooKeeper.Alternatives)
	bookieShare := spec.BookieSpotShare
	if plan.Bookies.LocalNVMe {
		bookieShare = 0
	}
	bookieExpire := ebsBookieExpire
	if plan.Bookies.LocalNVMe {
		bookieExpire = "Never"
	}
	lim := func(pool string) (int, int) { l := plan.PoolLimits[pool]; return l.CPU, l.MemoryGiB }
	cCPU, cMem := lim(sizing.PoolCritical)
	brCPU, brMem := lim(sizing.PoolBroker)
	bkCPU, bkMem := lim(sizing.PoolBookie)
	a.Capacity = capacity.Args{
		ClusterName: name, Region: spec.Region, Zones: spec.Zones, Tags: tags, RootVolumeGiB: 80,
		ControllerNodeSelector: map[string]string{cluster.SystemPoolLabel: "system"},
		Pools: []capacity.Pool{
			{Name: PoolCritical, InstanceTypes: critical, Arches: arches(critical), SpotShare: 0,
				Nodes: plan.Proxies.Count + plan.ZooKeeper.Count, OnDemandNodes: plan.Proxies.Count + plan.ZooKeeper.Count,
				RequireOnDemandBase: true, LimitCPU: cCPU, LimitMemoryGiB: cMem,
				Consolidation: "WhenEmptyOrUnderutilized", ConsolidateAfter: "10m", ExpireAfter: criticalExpire,
				TerminationGracePeriod: "1h", DisruptionBudgetNodes: "1", CapacityReservationIDs: spec.CapacityReservationIDs},
			{Name: PoolBroker, InstanceTypes: plan.Brokers.Alternatives, Arches: arches(plan.Brokers.Alternatives), SpotShare: spec.BrokerSpotShare,
				Nodes: plan.Brokers.Count, OnDemandNodes: plan.Brokers.OnDemand, RequireOnDemandBase: true, RequireDiversification: true,
				LimitCPU: brCPU, LimitMemoryGiB: brMem, Consolidation: "WhenEmptyOrUnderutilized", ConsolidateAfter: "15m",
				ExpireAfter: brokerExpire, TerminationGracePeriod: "30m", DisruptionBudgetNodes: "10%"},
			{Name: PoolBookie, InstanceTypes: plan.Bookies.Alternatives, Arches: arches(plan.Bookies.Alternatives), SpotShare: bookieShare,
				Nodes: plan.Bookies.Count, OnDemandNodes: plan.Bookies.OnDemand, LocalNVMe: plan.Bookies.LocalNVMe,
				RequireOnDemandBase: true, RequireDiversification: true, LimitCPU: bkCPU, LimitMemoryGiB: bkMem,
				Consolidation: "WhenEmpty", ConsolidateAfter: "1h", ExpireAfter: bookieExpire, TerminationGracePeriod: "2h", DisruptionBudgetNodes: "1"},
		},
	}
	a.TieredStorage = tieredstorage.Args{
		Region: spec.Region, ArchiveTiers: plan.ArchiveTiers, AccessLogging: spec.AccessLogging,
		ReplicationTimeControl: spec.ReplicationTimeControl, Tags: tags,
		BrokerNamespace: PulsarNamespace, BrokerServiceAccount: BrokerServiceAccount,
	}
	for _, d := range spec.BucketReplicas {
		a.TieredStorage.Destinations = append(a.TieredStorage.Destinations, tieredstorage.Destination{Stack: d.Stack, Region: d.Region})
	}
	return a, nil
}

// The Pulsar release's namespace and names (the chart's fullname is pinned
// with fullnameOverride, so the broker's service account is stable).
const (
	PulsarNamespace      = "pulsar"
	PulsarFullname       = "pulsar"
	BrokerServiceAccount = PulsarFullname + "-broker-acct"
)

// Pool names.
const (
	PoolCritical = sizing.PoolCritical
	PoolBroker   = sizing.PoolBroker
	PoolBookie   = sizing.PoolBookie
)

// Storage classes the cluster creates for Pulsar.
const (
	StorageClassDefault = "gp3-encrypted"
	StorageClassJournal = "pulsar-journal"
	StorageClassLedgers = "pulsar-ledgers"
)

// systemPoolTypes picks the system node group's types: the three cheapest
// preferred on-demand types with 16 GiB on one architecture (Graviton when
// allowed), so a shortage of one type does not stop add-ons.
func systemPoolTypes(cat *sizing.Catalog, allowed []sizing.Arch) ([]string, string, error) {
	arch := sizing.AMD64
	for _, a := range allowed {
		if a == sizing.ARM64 {
			arch = sizing.ARM64
		}
	}
	fam := map[string]bool{}
	for _, f := range PreferredFamilies[arch] {
		fam[f] = true
	}
	var cands []sizing.InstanceType
	for _, t := range cat.Types() {
		if t.Arch == arch && fam[t.Family] && !t.HasNVMe() && t.MemGiB >= 16 && t.VCPU <= 8 {
			cands = append(cands, t)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].USDPerHr < cands[j].USDPerHr })
	if len(cands) == 0 {
		return nil, "", fmt.Errorf("no %s instance type in the catalog fits the system node group", arch)
	}
	var out []string
	for _, t := range cands[:min(3, len(cands))] {
		out = append(out, t.Name)
	}
	return out, string(arch), nil
}

func union(lists ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, x := range l {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	return out
}
