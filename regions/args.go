package regions

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/pulsar-fleet/pulsar-fleet/components/capacity"
	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/components/network"
	"github.com/pulsar-fleet/pulsar-fleet/components/observability"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/components/region"
	"github.com/pulsar-fleet/pulsar-fleet/components/routing"
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
	Certificate   routing.CertificateArgs
	Pulsar        pulsar.Args
	Routing       routing.Args
	Observability observability.Args
	// MetricsCertificate is set in the region that hosts the global store.
	MetricsCertificate *routing.CertificateArgs
}

// Validate validates every component's plain arguments, all at once.
func (a Args) Validate() error {
	return errors.Join(
		wrap("region", a.Region.Validate()),
		wrap("network", a.Network.Validate()),
		wrap("cluster", a.Cluster.Validate()),
		wrap("capacity", a.Capacity.Validate()),
		wrap("tieredstorage", a.TieredStorage.Validate()),
		wrap("certificate", a.Certificate.Validate()),
		wrap("pulsar", a.Pulsar.Validate()),
		wrap("routing", a.Routing.Validate()),
		wrap("observability", a.Observability.Validate()),
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
		Name: name, KubernetesVersion: spec.KubernetesVersion, PublicAccessCIDRs: spec.PublicAccessCIDRs, Access: spec.Access, Protect: spec.ProtectData, Tags: tags,
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
	gCPU, gMem := lim(sizing.PoolGeneral)
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
				Consolidation: "WhenEmpty", ConsolidateAfter: "1h", ExpireAfter: bookieExpire, TerminationGracePeriod: "2h", DisruptionBudgetNodes: "1",
				DoNotDisrupt: true},
			{Name: PoolGeneral, InstanceTypes: union(sysTypes, plan.Proxies.Alternatives), Arches: arches(union(sysTypes, plan.Proxies.Alternatives)),
				Nodes: sizing.GeneralNodes(), OnDemandNodes: sizing.GeneralNodes(), RequireOnDemandBase: true,
				LimitCPU: gCPU, LimitMemoryGiB: gMem, Consolidation: "WhenEmptyOrUnderutilized", ConsolidateAfter: "10m",
				ExpireAfter: criticalExpire, TerminationGracePeriod: "30m", DisruptionBudgetNodes: "1", Untainted: true},
		},
	}
	a.TieredStorage = tieredstorage.Args{
		Region: spec.Region, ArchiveTiers: plan.ArchiveTiers, AccessLogging: spec.AccessLogging, ExpireDays: plan.BucketExpireDays,
		ReplicationTimeControl: spec.ReplicationTimeControl, Protect: spec.ProtectData, Tags: tags,
		BrokerNamespace: PulsarNamespace, BrokerServiceAccount: BrokerServiceAccount,
	}
	for _, d := range spec.BucketReplicas {
		a.TieredStorage.Destinations = append(a.TieredStorage.Destinations, tieredstorage.Destination{Stack: d.Stack, Region: d.Region})
	}
	a.Certificate = routing.RegionCertificate(spec.Stack, spec.Routing.Domain, spec.Routing.HostedZoneID, tags)
	a.Pulsar = pulsarArgs(spec, plan, a.Capacity)
	if plan.Bookies.LocalNVMe {
		it, err := cat.Lookup(plan.Bookies.InstanceType)
		if err != nil {
			return Args{}, err
		}
		// What the plan fills of the planned type's instance store.
		a.Pulsar.BookieLocalDiskGiB = int(it.NVMeGB * 1e9 * plan.WorkloadInput().DiskUsableFraction / float64(sizing.GiB))
	}
	a.Routing = routing.Args{
		Region: spec.Stack, Domain: spec.Routing.Domain, HostedZoneID: spec.Routing.HostedZoneID, Weight: spec.Routing.Weight,
		Scheme: spec.Routing.ProxyScheme, Namespace: PulsarNamespace, Tags: tags,
		GlobalAccelerator: spec.Routing.GlobalAccelerator && spec.Role == "primary",
		Regions:           []routing.RegionEndpoint{{Region: spec.Stack, Weight: spec.Routing.Weight}},
	}
	for _, p := range spec.AllPeers {
		a.Routing.Regions = append(a.Routing.Regions, routing.RegionEndpoint{Region: p.Stack, Weight: p.Weight})
	}
	crit := capacity.PlacementFor(a.Capacity.Pools[0])
	a.Observability = observability.Args{
		Cluster: spec.Stack, Region: spec.Region, Global: spec.Role == "primary", Domain: spec.Routing.Domain,
		HostedZoneID: spec.Routing.HostedZoneID, PulsarNamespace: PulsarNamespace, WebhookURL: spec.AlertWebhookURL,
		ReceiverCIDRs: spec.MetricsSourceCIDRs, StorageClass: StorageClassDefault, NodeSelector: crit.NodeSelector, Tags: tags,
	}
	for _, t := range crit.Tolerations {
		a.Observability.Tolerations = append(a.Observability.Tolerations, observability.Toleration(t))
	}
	if a.Observability.Global {
		a.MetricsCertificate = &routing.CertificateArgs{Names: []string{observability.MetricsName(spec.Routing.Domain)},
			HostedZoneID: spec.Routing.HostedZoneID, Tags: tags}
	}
	b, err := json.Marshal(plan.Client)
	if err != nil {
		return Args{}, err
	}
	if err := json.Unmarshal(b, &a.Routing.Client); err != nil {
		return Args{}, err
	}
	return a, nil
}

// pulsarArgs turns the plan into the Pulsar release's arguments: replicas,
// resources and JVM memory per component, the pools' placements, quorum,
// storage, tuning, tiered storage and geo-replication peers.
func pulsarArgs(spec Spec, plan sizing.RegionPlan, capArgs capacity.Args) pulsar.Args {
	placement := map[string]pulsar.Placement{}
	for _, p := range capArgs.Pools {
		placement[p.Name] = capacity.PlacementFor(p)
	}
	pod := func(role sizing.Role, replicas int, pool string) pulsar.Pod {
		r := plan.Pods[role]
		return pulsar.Pod{Replicas: replicas, CPUMillis: r.CPUMillis, MemoryMiB: r.MemoryMiB, HeapMiB: r.HeapMiB, DirectMiB: r.DirectMiB, Placement: placement[pool]}
	}
	ph := spec.Phase
	a := pulsar.Args{
		Cluster: spec.Stack, Namespace: PulsarNamespace, Zones: spec.Zones,
		Quorum: pulsar.Quorum{Ensemble: plan.Quorum.Ensemble, WriteQuorum: plan.Quorum.WriteQuorum, AckQuorum: plan.Quorum.AckQuorum,
			MinRacksPerWriteQuorum: plan.Quorum.MinRacksPerWriteQuorum},
		ZooKeeper: pod(sizing.ZooKeeper, plan.ZooKeeper.Count, PoolCritical),
		Bookies:   pod(sizing.Bookie, plan.Bookies.Count, PoolBookie),
		Brokers:   pod(sizing.Broker, plan.Brokers.Count, PoolBroker),
		Proxies:   pod(sizing.Proxy, plan.Proxies.Count, PoolCritical),
		Autorecovery: pulsar.Pod{Replicas: plan.Autorecovery, CPUMillis: 500, MemoryMiB: 1024, HeapMiB: 512, DirectMiB: 256,
			Placement: placement[PoolCritical]},
		BrokerMax: plan.BrokerHPA.Max, ProxyMax: plan.ProxyHPA.Max,
		BookieLocalNVMe: plan.Bookies.LocalNVMe,
		JournalGiB:      int(plan.Bookies.JournalDiskBytes / sizing.GiB), LedgersGiB: int(plan.Bookies.LedgerDiskBytes / sizing.GiB),
		JournalClass: StorageClassJournal, LedgersClass: StorageClassLedgers,
		ZooKeeperGiB: 50, ZooKeeperClass: StorageClassDefault,
		TTLSeconds: int64(ph.TTL.Seconds()), RetentionMinutes: int64(ph.Retention.Minutes()),
		Tuning: pulsar.Tuning{
			DefaultNumPartitions: ph.Tuning.DefaultNumPartitions, MaxConcurrentLookupRequest: ph.Tuning.MaxConcurrentLookupRequest,
			MaxConcurrentTopicLoadRequest: ph.Tuning.MaxConcurrentTopicLoadRequest, ExtensibleLoadManager: ph.Tuning.ExtensibleLoadManager,
			ReplicationProducerQueueSize: ph.Tuning.ReplicationProducerQueueSize, ReplicationConnectionsPerBroker: ph.Tuning.ReplicationConnectionsPerBroker,
			DispatcherMaxReadBatchSize: ph.Tuning.DispatcherMaxReadBatchSize, MaxUnackedMessagesPerConsumer: ph.Tuning.MaxUnackedMessagesPerConsumer,
			MaxUnackedMessagesPerSub: ph.Tuning.MaxUnackedMessagesPerSub, DeduplicationEntriesInterval: ph.Tuning.DeduplicationEntriesInterval,
		},
		Offload: pulsar.Offload{Region: spec.Region, MaxBlockBytes: ph.Offload.MaxBlockBytes, ReadBufferBytes: ph.Offload.ReadBufferBytes,
			ThresholdBytes: ph.Offload.ThresholdBytes, AfterSeconds: int64(ph.Offload.After.Seconds()),
			DeletionLagMs: ph.Offload.DeletionLag.Milliseconds(), RolloverMinutes: int(ph.Offload.LedgerRollover.Minutes()),
			MaxThreads: ph.Tuning.OffloadMaxThreads, PrefetchRounds: ph.Tuning.OffloadPrefetchRounds, TieredReadsFirst: ph.Tuning.TieredStorageFirst},
		Tenant: spec.Tenant, Namespaces: spec.Namespaces,
		CriticalPlacement: placement[PoolCritical],
	}
	replicate := map[string]bool{}
	for _, p := range spec.GeoReplicationTo {
		replicate[p.Stack] = true
	}
	for _, p := range spec.AllPeers {
		name := routing.RegionalName(p.Stack, spec.Routing.Domain)
		a.Peers = append(a.Peers, pulsar.GeoPeer{Cluster: p.Stack, ReplicateTo: replicate[p.Stack],
			WebURL: "https://" + name, BrokerURL: fmt.Sprintf("pulsar+ssl://%s:%d", name, routing.PortPulsarTLS)})
	}
	return a
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
	PoolGeneral  = sizing.PoolGeneral
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
