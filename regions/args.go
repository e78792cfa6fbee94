package regions

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/components/capacity"
	"github.com/pulsar-fleet/pulsar-fleet/components/certmanager"
	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/components/interconnect"
	"github.com/pulsar-fleet/pulsar-fleet/components/network"
	"github.com/pulsar-fleet/pulsar-fleet/components/observability"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/components/region"
	"github.com/pulsar-fleet/pulsar-fleet/components/routing"
	"github.com/pulsar-fleet/pulsar-fleet/components/tieredstorage"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// Configs are every component's plain configuration for one region,
// computed from the spec and the plan before anything is registered. The
// outputs one component takes from another are its Deps, given by Build.
type Configs struct {
	Region        region.Config
	Network       network.Config
	Cluster       cluster.Config
	Capacity      capacity.Config
	TieredStorage tieredstorage.Config
	Certificate   routing.CertificateConfig
	// PrivateCertificate covers the private listener's name.
	PrivateCertificate routing.CertificateConfig
	Interconnect       interconnect.Config
	Pulsar             pulsar.Config
	CertManager        certmanager.Config
	Routing            routing.Config
	Observability      observability.Config
}

// Validate validates every component's config, all at once.
func (a Configs) Validate() error {
	errs := []error{
		wrap("region", a.Region.Validate()),
		wrap("network", a.Network.Validate()),
		wrap("cluster", a.Cluster.Validate()),
		wrap("capacity", a.Capacity.Validate()),
		wrap("tieredstorage", a.TieredStorage.Validate()),
		wrap("certificate", a.Certificate.Validate()),
		wrap("private certificate", a.PrivateCertificate.Validate()),
		wrap("interconnect", a.Interconnect.Validate()),
		wrap("pulsar", a.Pulsar.Validate()),
		wrap("certmanager", a.CertManager.Validate()),
		wrap("routing", a.Routing.Validate()),
		wrap("observability", a.Observability.Validate()),
	}
	return errors.Join(errs...)
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

// ComponentConfigs computes every component's config for a region from its
// spec and its plan.
func ComponentConfigs(spec Spec, plan sizing.RegionPlan, cat *sizing.Catalog) (Configs, error) {
	root := region.Config{Stack: spec.Stack, Region: spec.Region, Role: spec.Role, Phase: spec.Phase.Name}
	tags := root.DefaultTags()
	a := Configs{Region: root}
	a.Network = network.Config{Region: spec.Region, CIDR: spec.VPCCIDR, Zones: spec.Zones, AddedZones: spec.AddedZones, NATGateways: spec.NATGateways,
		ClusterName: ClusterName(spec.Stack), PeerCIDRs: spec.JoinedCIDRs(), Tags: tags}
	a.Interconnect = interconnectConfig(spec, tags)
	sysTypes, sysArch, err := systemPoolTypes(cat, spec.Arches)
	if err != nil {
		return Configs{}, err
	}
	a.Cluster = clusterConfig(spec, plan, sysTypes, sysArch, tags)
	a.Capacity = capacityConfig(spec, plan, cat, sysTypes, tags)
	a.TieredStorage = storageConfig(spec, plan, tags)
	a.Certificate = routing.RegionCertificate(spec.Stack, spec.Routing.Domain, spec.Routing.HostedZoneID, tags)
	a.PrivateCertificate = routing.PrivateCertificate(spec.Stack, spec.Routing.Domain, spec.Routing.HostedZoneID, tags)
	if a.Pulsar, err = pulsarConfig(spec, plan, cat, a.Capacity); err != nil {
		return Configs{}, err
	}
	a.CertManager = certmanager.Config{Charts: spec.ChartSource, Placement: a.Pulsar.CriticalPlacement, ControlPlaneCIDRs: spec.CIDRs()}
	a.Routing = routingConfig(spec, plan, tags)
	if a.Observability, err = observabilityConfig(spec, a.Capacity, tags); err != nil {
		return Configs{}, err
	}
	return a, nil
}

// interconnectConfig joins the region to the stacks it reads.
func interconnectConfig(spec Spec, tags map[string]string) interconnect.Config {
	c := interconnect.Config{Stack: spec.Stack, Region: spec.Region, CIDRs: spec.CIDRs(), Tags: tags}
	for _, p := range spec.Reads {
		c.Peers = append(c.Peers, interconnect.Peer{Stack: p.Stack, Region: p.Region, CIDRs: p.CIDRs})
	}
	return c
}

// clusterConfig is the EKS cluster: the system node group and the gp3
// classes, the bookies' provisioned as the plan chose their volumes (with
// instance-storage bookies, the classes keep Params' throughput and stay
// unused).
func clusterConfig(spec Spec, plan sizing.RegionPlan, sysTypes []string, sysArch model.Arch, tags map[string]string) cluster.Config {
	v := plan.Bookies.Volumes()
	if plan.Bookies.LocalNVMe {
		v = sizing.NewVolumes(0, plan.Params().EBSThroughputBytes, plan.Params())
	}
	journal, ledgers := JournalAttributes(v), LedgerAttributes(v)
	var attrs []cluster.VolumeAttributes
	if !plan.Bookies.LocalNVMe {
		attrs = BookieAttributes(v)
	}
	return cluster.Config{
		Name: ClusterName(spec.Stack), KubernetesVersion: spec.KubernetesVersion, AddonVersions: spec.AddonVersions, PublicAccessCIDRs: spec.PublicAccessCIDRs,
		Access: spec.Access, Protect: spec.ProtectData, Tags: tags,
		SystemPool: cluster.SystemPool{InstanceTypes: sysTypes, Arch: sysArch, Min: sizing.SystemNodes(), Desired: sizing.SystemNodes(), Max: sizing.SystemNodes() + 2},
		StorageClasses: []cluster.StorageClass{
			{Name: StorageClassDefault, ThroughputMiB: 125, IOPS: 3000, Default: true},
			{Name: StorageClassJournal, ThroughputMiB: journal.ThroughputMiB, IOPS: journal.IOPS},
			{Name: StorageClassLedgers, ThroughputMiB: ledgers.ThroughputMiB, IOPS: ledgers.IOPS},
		},
		VolumeAttributes: attrs,
	}
}

// LedgerAttributes and JournalAttributes are the gp3 attributes of the
// EBS bookies' ledger and journal volumes.
func LedgerAttributes(v sizing.Volumes) cluster.VolumeAttributes {
	return cluster.VolumeAttributes{ThroughputMiB: int(v.ThroughputBytes / float64(sizing.MiB)), IOPS: v.LedgerIOPS}
}

func JournalAttributes(v sizing.Volumes) cluster.VolumeAttributes {
	return cluster.VolumeAttributes{ThroughputMiB: int(v.ThroughputBytes / float64(sizing.MiB)), IOPS: v.JournalIOPS}
}

// BookieAttributes are the EBS bookies' volume attributes, journal then
// ledgers (one, when they provision alike).
func BookieAttributes(v sizing.Volumes) []cluster.VolumeAttributes {
	journal, ledgers := JournalAttributes(v), LedgerAttributes(v)
	if journal == ledgers {
		return []cluster.VolumeAttributes{journal}
	}
	return []cluster.VolumeAttributes{journal, ledgers}
}

// capacityConfig is Karpenter's pools: the planned types, counts, on-demand
// bases and limits of each, and how each is disrupted.
func capacityConfig(spec Spec, plan sizing.RegionPlan, cat *sizing.Catalog, sysTypes []string, tags map[string]string) capacity.Config {
	arches := func(types []string) []model.Arch { return typeArches(cat, types) }
	critical := union(plan.Proxies.Alternatives, plan.ZooKeeper.Alternatives)
	general := union(sysTypes, plan.Proxies.Alternatives)
	bookieShare, bookieExpire := spec.BookieSpotShare, ebsBookieExpire
	if plan.Bookies.LocalNVMe {
		bookieShare, bookieExpire = 0, "Never"
	}
	lim := func(pool string) (int, int) { l := plan.PoolLimits[pool]; return l.CPU, l.MemoryGiB }
	cCPU, cMem := lim(sizing.PoolCritical)
	brCPU, brMem := lim(sizing.PoolBroker)
	bkCPU, bkMem := lim(sizing.PoolBookie)
	gCPU, gMem := lim(sizing.PoolGeneral)
	critNodes := plan.Proxies.Count + plan.ZooKeeper.Count
	return capacity.Config{
		ClusterName: ClusterName(spec.Stack), Region: spec.Region, Zones: spec.AllZones(), Tags: tags, RootVolumeGiB: 80, Charts: spec.ChartSource,
		ControllerNodeSelector: map[string]string{cluster.SystemPoolLabel: "system"},
		Pools: []capacity.Pool{
			{Name: PoolCritical, InstanceTypes: critical, Arches: arches(critical), SpotShare: 0,
				Nodes: critNodes, OnDemandNodes: critNodes, RequireOnDemandBase: true, LimitCPU: cCPU, LimitMemoryGiB: cMem,
				Consolidation: "WhenEmptyOrUnderutilized", ConsolidateAfter: "10m", ExpireAfter: criticalExpire,
				TerminationGracePeriod: "1h", DisruptionBudgetNodes: "1", CapacityReservationIDs: spec.CapacityReservationIDs},
			{Name: PoolBroker, InstanceTypes: plan.Brokers.Alternatives, Arches: arches(plan.Brokers.Alternatives), SpotShare: spec.BrokerSpotShare,
				Nodes: plan.Brokers.Count, OnDemandNodes: plan.Brokers.OnDemand, RequireOnDemandBase: true, RequireDiversification: true,
				LimitCPU: brCPU, LimitMemoryGiB: brMem, Consolidation: "WhenEmptyOrUnderutilized", ConsolidateAfter: "15m",
				ExpireAfter: brokerExpire, TerminationGracePeriod: "30m", DisruptionBudgetNodes: "10%"},
			{Name: BookiePool(model.StorageOf(plan.Bookies.LocalNVMe)), InstanceTypes: plan.Bookies.Alternatives, Arches: arches(plan.Bookies.Alternatives), SpotShare: bookieShare,
				Nodes: plan.Bookies.Count, OnDemandNodes: plan.Bookies.OnDemand, LocalNVMe: plan.Bookies.LocalNVMe,
				RequireOnDemandBase: true, RequireDiversification: true, LimitCPU: bkCPU, LimitMemoryGiB: bkMem,
				Consolidation: "WhenEmpty", ConsolidateAfter: "1h", ExpireAfter: bookieExpire, TerminationGracePeriod: "2h", DisruptionBudgetNodes: "1",
				DoNotDisrupt: true},
			{Name: PoolGeneral, InstanceTypes: general, Arches: arches(general),
				Nodes: sizing.GeneralNodes(), OnDemandNodes: sizing.GeneralNodes(), RequireOnDemandBase: true,
				LimitCPU: gCPU, LimitMemoryGiB: gMem, Consolidation: "WhenEmptyOrUnderutilized", ConsolidateAfter: "10m",
				ExpireAfter: criticalExpire, TerminationGracePeriod: "30m", DisruptionBudgetNodes: "1", Untainted: true},
		},
	}
}

// typeArches are the architectures of instance types, sorted.
func typeArches(cat *sizing.Catalog, types []string) []model.Arch {
	var out []model.Arch
	for _, t := range types {
		if it, err := cat.Lookup(t); err == nil && !slices.Contains(out, it.Arch) {
			out = append(out, it.Arch)
		}
	}
	slices.Sort(out)
	return out
}

// storageConfig is the offload bucket: its lifecycle from the plan, and
// its replicas in the peers' buckets.
func storageConfig(spec Spec, plan sizing.RegionPlan, tags map[string]string) tieredstorage.Config {
	c := tieredstorage.Config{
		Region: spec.Region, ArchiveTiers: plan.ArchiveTiers, AccessLogging: spec.AccessLogging, ExpireDays: plan.BucketExpireDays,
		ReplicationTimeControl: spec.ReplicationTimeControl, Protect: spec.ProtectData, Tags: tags,
		BrokerNamespace: PulsarNamespace, BrokerServiceAccount: BrokerServiceAccount,
	}
	for _, d := range spec.BucketReplicas {
		c.Destinations = append(c.Destinations, tieredstorage.Destination{Stack: d.Stack, Region: d.Region})
	}
	return c
}

// routingConfig is the region's names, weights and client settings.
func routingConfig(spec Spec, plan sizing.RegionPlan, tags map[string]string) routing.Config {
	c := routing.Config{
		Stack: spec.Stack, Domain: spec.Routing.Domain, HostedZoneID: spec.Routing.HostedZoneID, Weight: spec.Routing.Weight,
		Scheme: spec.Routing.ProxyScheme, Namespace: PulsarNamespace, Tags: tags,
		GlobalAccelerator: spec.Routing.GlobalAccelerator && spec.Role == model.RolePrimary,
		Regions:           []routing.RegionEndpoint{{Stack: spec.Stack, Region: spec.Region, Weight: spec.Routing.Weight}},
	}
	for _, p := range spec.AllPeers {
		c.Regions = append(c.Regions, routing.RegionEndpoint{Stack: p.Stack, Region: p.Region, Weight: p.Weight})
	}
	c.Client = plan.Client
	return c
}

// observabilityConfig is the region's monitoring, on the critical pool,
// with the global view where the role profile runs one.
func observabilityConfig(spec Spec, capa capacity.Config, tags map[string]string) (observability.Config, error) {
	crit := capacity.PlacementFor(capa.Pools[0])
	global, err := GlobalView(spec.Role)
	if err != nil {
		return observability.Config{}, err
	}
	c := observability.Config{
		Charts: spec.ChartSource, Cluster: spec.Stack, Region: spec.Region, GlobalView: global, Domain: spec.Routing.Domain,
		HostedZoneID: spec.Routing.HostedZoneID, PulsarNamespace: PulsarNamespace, WebhookURL: spec.AlertWebhookURL,
		EndpointCIDRs: spec.PrivateCIDRs(), ControlPlaneCIDRs: spec.CIDRs(), StorageClass: StorageClassDefault, NodeSelector: crit.NodeSelector, Tags: tags,
		Protect: spec.ProtectData, LogRetentionDays: spec.LogRetentionDays, RunbookBase: spec.RunbookBaseURL,
	}
	if spec.Role == model.RolePrimary {
		c.Local = PrimaryLocalStore
	}
	for _, p := range spec.AllPeers {
		g, err := GlobalView(p.Role)
		if err != nil {
			return observability.Config{}, err
		}
		c.Peers = append(c.Peers, observability.Peer{Stack: p.Stack, GlobalView: g})
		if global && slices.Contains(p.Reads, spec.Stack) {
			c.Mirrors = append(c.Mirrors, p.Stack)
		}
	}
	for _, p := range spec.Reads {
		g, err := GlobalView(p.Role)
		if err != nil {
			return observability.Config{}, err
		}
		if g {
			c.MirrorTo = append(c.MirrorTo, observability.Site{Stack: p.Stack, Region: p.Region})
		}
		if global {
			c.PeerBuckets = append(c.PeerBuckets, observability.Site{Stack: p.Stack, Region: p.Region})
		}
	}
	for _, t := range crit.Tolerations {
		c.Tolerations = append(c.Tolerations, observability.Toleration(t))
	}
	return c, nil
}

// PhaseCosts are the fleet's planned monthly cost, region by region, at
// every phase of spec.Phases; a phase the planner refuses carries its
// reason.
func PhaseCosts(spec Spec, cat *sizing.Catalog) []observability.PhaseCost {
	var out []observability.PhaseCost
	for _, pf := range spec.Phases {
		c := observability.PhaseCost{Phase: pf.Phase.Name, MsgPerSec: int(pf.Phase.Rate), Current: pf.Phase.Name == spec.Phase.Name, Error: pf.Err}
		for _, rs := range pf.Fleet {
			if c.Error != "" {
				break
			}
			s := spec
			s.Phase, s.Fleet, s.Stack = pf.Phase, pf.Fleet, rs.Name
			plan, err := PlanFor(s, cat)
			if err != nil {
				c.Error = rs.Name + ": " + firstLine(err.Error())
				break
			}
			c.Regions = append(c.Regions, observability.RegionCost{Stack: rs.Name, MonthlyUSD: plan.Cost.TotalUSD})
		}
		out = append(out, c)
	}
	return out
}

// WithPhaseCosts adds the fleet's cost per phase to a design whose region
// runs the global view (its Grafana shows them); planning every region at
// every phase is left out of designs that do not show it.
func WithPhaseCosts(d RegionDesign, spec Spec, cat *sizing.Catalog) RegionDesign {
	if d.Components.Observability.GlobalView {
		d.Components.Observability.PhaseCosts = PhaseCosts(spec, cat)
	}
	return d
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// PrimaryLocalStore keeps the primary's Prometheus volumes as they were
// when it held the fleet's remote-written series: the operator's
// StatefulSet cannot shrink its claims, and a month of local data costs
// the disk it already has.
var PrimaryLocalStore = observability.LocalStore{Retention: "30d", RetentionSize: "450GB", Disk: "500Gi"}

// GlobalView says whether a role runs the global query layer (its role
// profile); an unknown role is an error.
func GlobalView(role model.RegionRole) (bool, error) {
	p, err := Profile(role)
	return p.GlobalView, err
}

// pulsarConfig is the Pulsar release: pulsarArgs, with the proxies'
// exposure and the plan's bookie set.
func pulsarConfig(spec Spec, plan sizing.RegionPlan, cat *sizing.Catalog, capa capacity.Config) (pulsar.Config, error) {
	c := pulsarArgs(spec, plan, capa)
	c.Charts = spec.ChartSource
	c.Exposure = pulsar.Exposure{Scheme: spec.Routing.ProxyScheme, ClientCIDRs: spec.Routing.ClientCIDRs,
		PrivateCIDRs: spec.PrivateCIDRs()}
	// The probe goes the clients' way, through the client listener.
	c.ProbeHost = routing.RegionalName(spec.Stack, spec.Routing.Domain)
	set, err := bookieSet(plan, cat, capa)
	if err != nil {
		return pulsar.Config{}, err
	}
	c.BookieSets = []pulsar.BookieSet{set}
	return c, nil
}

// bookieSet is the plan's bookies: on EBS volumes of the plan's sizes, or
// on the instance store, filling the plan's usable share of it.
func bookieSet(plan sizing.RegionPlan, cat *sizing.Catalog, capa capacity.Config) (pulsar.BookieSet, error) {
	storage := model.StorageOf(plan.Bookies.LocalNVMe)
	r := plan.Pods[sizing.Bookie]
	set := pulsar.BookieSet{Storage: storage, Pod: pulsar.Pod{Replicas: plan.Bookies.Count, CPUMillis: r.CPUMillis, MemoryMiB: r.MemoryMiB,
		HeapMiB: r.HeapMiB, DirectMiB: r.DirectMiB}}
	for _, p := range capa.Pools {
		if p.Name == BookiePool(storage) {
			set.Pod.Placement = capacity.PlacementFor(p)
		}
	}
	if storage == model.StorageEBS {
		set.JournalGiB, set.LedgersGiB = int(plan.Bookies.JournalDiskBytes/sizing.GiB), int(plan.Bookies.LedgerDiskBytes/sizing.GiB)
		set.JournalClass, set.LedgersClass = StorageClassJournal, StorageClassLedgers
		return set, nil
	}
	it, err := cat.Lookup(plan.Bookies.InstanceType)
	if err != nil {
		return pulsar.BookieSet{}, err
	}
	set.LocalDiskGiB = int(it.NVMeGB * 1e9 * plan.WorkloadInput().DiskUsableFraction / float64(sizing.GiB))
	return set, nil
}

// pulsarArgs turns the plan into the Pulsar release's arguments: replicas,
// resources and JVM memory per component, the pools' placements, quorum,
// storage, tuning, tiered storage and geo-replication peers.
func pulsarArgs(spec Spec, plan sizing.RegionPlan, capArgs capacity.Config) pulsar.Config {
	placement := map[string]pulsar.Placement{}
	for _, p := range capArgs.Pools {
		placement[p.Name] = capacity.PlacementFor(p)
	}
	pod := func(role sizing.Role, replicas int, pool string) pulsar.Pod {
		r := plan.Pods[role]
		return pulsar.Pod{Replicas: replicas, CPUMillis: r.CPUMillis, MemoryMiB: r.MemoryMiB, HeapMiB: r.HeapMiB, DirectMiB: r.DirectMiB, Placement: placement[pool]}
	}
	ph := spec.Phase
	a := pulsar.Config{
		Cluster: spec.Stack, Namespace: PulsarNamespace, Zones: spec.AllZones(),
		Quorum: pulsar.Quorum{Ensemble: plan.Quorum.Ensemble, WriteQuorum: plan.Quorum.WriteQuorum, AckQuorum: plan.Quorum.AckQuorum,
			MinRacksPerWriteQuorum: plan.Quorum.MinRacksPerWriteQuorum},
		ZooKeeper: pod(sizing.ZooKeeper, plan.ZooKeeper.Count, PoolCritical),
		Brokers:   pod(sizing.Broker, plan.Brokers.Count, PoolBroker),
		Proxies:   pod(sizing.Proxy, plan.Proxies.Count, PoolCritical),
		Autorecovery: pulsar.Pod{Replicas: plan.Autorecovery, CPUMillis: 500, MemoryMiB: 1024, HeapMiB: 512, DirectMiB: 256,
			Placement: placement[PoolCritical]},
		BrokerMax: plan.BrokerHPA.Max, ProxyMax: plan.ProxyHPA.Max,
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
		Tenant: spec.Tenant, Namespaces: spec.Namespaces, SigningKey: spec.SigningKey, QuorumTLS: spec.QuorumTLS,
		CriticalPlacement: placement[PoolCritical],
	}
	replicate := map[string]bool{}
	for _, p := range spec.GeoReplicationTo {
		replicate[p.Stack] = true
	}
	// Peers are reached at their private listener, through the transit
	// gateways: replication and the brokers' admin calls never cross the
	// internet.
	for _, p := range spec.AllPeers {
		name := routing.PrivateName(p.Stack, spec.Routing.Domain)
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
	// PoolBookieNVMe is the pool of the instance-storage bookies.
	PoolBookieNVMe = sizing.PoolBookie + "-nvme"
	PoolGeneral    = sizing.PoolGeneral
)

// BookiePool is a bookie set's node pool. Like the set's StatefulSet, it
// is fixed by the set's storage, so two sets can run side by side while a
// transition moves the data from one to the other.
func BookiePool(storage model.BookieStorage) string {
	if storage == model.StorageNVMe {
		return PoolBookieNVMe
	}
	return PoolBookie
}

// Storage classes the cluster creates for Pulsar.
const (
	StorageClassDefault = "gp3-encrypted"
	StorageClassJournal = "pulsar-journal"
	StorageClassLedgers = "pulsar-ledgers"
)

// systemPoolTypes picks the system node group's types: the three cheapest
// preferred on-demand types with 16 GiB on one architecture (Graviton when
// allowed), so a shortage of one type does not stop add-ons.
func systemPoolTypes(cat *sizing.Catalog, allowed []sizing.Arch) ([]string, model.Arch, error) {
	arch := sizing.AMD64
	if slices.Contains(allowed, sizing.ARM64) {
		arch = sizing.ARM64
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
	return out, arch, nil
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
