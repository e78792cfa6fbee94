package sizing

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// RegionSpec is what the planner needs to know about one region of the
// fleet; it comes from the validated stack config and the region profiles.
type RegionSpec struct {
	Name string           `json:"name"`
	Role model.RegionRole `json:"role"`
	// Weight is the routing weight; the region publishes Weight/sum(weights)
	// of the phase's global rate.
	Weight float64 `json:"weight"`
	Zones  int     `json:"zones"`
	// ReplicatesTo names the regions this region's topics are geo-replicated to.
	ReplicatesTo []string `json:"replicatesTo,omitempty"`
	// BucketReplicas is how many other regions' buckets this region's
	// offload bucket replicates to (S3 cross-region replication).
	BucketReplicas int `json:"bucketReplicas,omitempty"`
	// BucketRetentionDays is how long the offload bucket keeps objects (the
	// lifecycle expiry): at least the longest namespace TTL + retention.
	// Zero takes MinBucketDays + BucketSafetyDays of the workload.
	BucketRetentionDays int `json:"bucketRetentionDays,omitempty"`
	// ReplicationTimeControl is S3 RTC on the bucket replication (priced
	// per replicated GB).
	ReplicationTimeControl bool `json:"replicationTimeControl,omitempty"`
	// NATGateways is how many NAT gateways the region runs (0: one per zone).
	NATGateways int `json:"natGateways,omitempty"`
	// BookieVolumes, when set, are the EBS bookies' volumes instead of the
	// planner's choice (the volumes a running stack has at this phase).
	BookieVolumes *Volumes `json:"bookieVolumes,omitempty"`
	// PriceFactor scales us-east-1 prices to this region.
	PriceFactor float64 `json:"priceFactor"`
	// BrokerSpotShare and BookieSpotShare are the planned fraction of spot
	// nodes in the broker and bookie pools.
	BrokerSpotShare float64 `json:"brokerSpotShare"`
	BookieSpotShare float64 `json:"bookieSpotShare"`
	// Arches are the CPU architectures the data pools may use.
	Arches []Arch `json:"arches"`
	// Families restricts instance choice to these families (empty: any in
	// the catalog). Region profiles list current-generation families.
	Families []string `json:"families,omitempty"`
	// Quorums.
	Ensemble    int `json:"ensemble"`
	WriteQuorum int `json:"writeQuorum"`
	AckQuorum   int `json:"ackQuorum"`
	// TargetUtilization overrides DefaultTargetUtilization when set.
	TargetUtilization float64 `json:"targetUtilization,omitempty"`
}

// ArchOption is the cheapest fleet of a role on one architecture.
type ArchOption struct {
	Arch         Arch    `json:"arch"`
	InstanceType string  `json:"instanceType"`
	Count        int     `json:"count"`
	MonthlyUSD   float64 `json:"monthlyUSD"`
}

// PodResources are the requests (and equal limits) of one pod, and its JVM.
type PodResources struct {
	CPUMillis int64 `json:"cpuMillis"`
	MemoryMiB int64 `json:"memoryMiB"`
	HeapMiB   int64 `json:"heapMiB"`
	DirectMiB int64 `json:"directMiB"`
}

// Autoscaling bounds the broker and proxy HorizontalPodAutoscalers.
type Autoscaling struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// PoolLimit is the Karpenter NodePool limit of a pool.
type PoolLimit struct {
	CPU       int `json:"cpu"`
	MemoryGiB int `json:"memoryGiB"`
}

// WorkloadSummary is the JSON view of a region's workload.
type WorkloadSummary struct {
	ProduceRate       float64 `json:"produceRate"`
	ReplicatedInRate  float64 `json:"replicatedInRate"`
	StoredRate        float64 `json:"storedRate"`
	IngressBytes      float64 `json:"ingressBytesPerSec"`
	BookieHoldSeconds float64 `json:"bookieHoldSeconds"`
	GeoTargets        int     `json:"geoReplicationTargets"`
}

// RegionPlan is the planned fleet of one region in one phase.
type RegionPlan struct {
	Phase    string           `json:"phase"`
	Region   string           `json:"region"`
	Role     model.RegionRole `json:"role"`
	Workload WorkloadSummary  `json:"workload"`
	// Storage is the DataStax method on the chosen bookie disk.
	Storage      StorageMethod         `json:"storage"`
	Bookies      RoleSize              `json:"bookies"`
	Brokers      RoleSize              `json:"brokers"`
	Proxies      RoleSize              `json:"proxies"`
	ZooKeeper    RoleSize              `json:"zookeeper"`
	Autorecovery int                   `json:"autorecovery"`
	BrokerHPA    Autoscaling           `json:"brokerAutoscaling"`
	ProxyHPA     Autoscaling           `json:"proxyAutoscaling"`
	Pods         map[Role]PodResources `json:"pods"`
	PoolLimits   map[string]PoolLimit  `json:"poolLimits"`
	ArchOptions  map[Role][]ArchOption `json:"archOptions"`
	Quorum       Quorum                `json:"quorum"`
	Offload      OffloadPolicy         `json:"offload"`
	Tuning       BrokerTuning          `json:"tuning"`
	Client       ClientSettings        `json:"client"`
	ArchiveTiers bool                  `json:"archiveTiers"`
	// BucketExpireDays is the offload buckets' lifecycle expiry. Pulsar
	// deletes its own offloaded ledgers when retention ends; replicas in
	// peer buckets are never deleted by Pulsar (deletes do not replicate),
	// so this expiry is what bounds them.
	BucketExpireDays int            `json:"bucketExpireDays"`
	Cost             Cost           `json:"cost"`
	Failures         []FailureCheck `json:"failures"`
	workload         Workload
	params           Params
	priceFactor      float64
}

// Quorum is the BookKeeper quorum of the plan.
type Quorum struct {
	Ensemble    int `json:"ensemble"`
	WriteQuorum int `json:"writeQuorum"`
	AckQuorum   int `json:"ackQuorum"`
	// MinRacksPerWriteQuorum is the enforced number of zones per write set.
	MinRacksPerWriteQuorum int `json:"minRacksPerWriteQuorum"`
}

// Workload returns the workload the region was planned for.
func (r RegionPlan) WorkloadInput() Workload { return r.workload }

// Params returns the planner parameters the region was planned with.
func (r RegionPlan) Params() Params { return r.params }

// FleetPlan is every region of the fleet in one phase.
type FleetPlan struct {
	Phase   Phase        `json:"phase"`
	Regions []RegionPlan `json:"regions"`
	Total   Cost         `json:"total"`
}

// Pool names the planner computes limits for; the capacity component
// creates one Karpenter NodePool per name.
const (
	PoolCritical = "critical"
	PoolBroker   = "broker"
	PoolBookie   = "bookie"
	PoolGeneral  = "general"
)

// Planner plans fleets from a catalog and parameters.
type Planner struct {
	Catalog *Catalog
	Params  Params
}

// NewPlanner validates the parameters.
func NewPlanner(cat *Catalog, p Params) (*Planner, error) {
	if cat == nil {
		return nil, fmt.Errorf("planner: no instance catalog")
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("planner parameters: %w", err)
	}
	return &Planner{Catalog: cat, Params: p}, nil
}

// validateFleet checks the region specs as a whole.
func validateFleet(regions []RegionSpec) error {
	if len(regions) == 0 {
		return &FieldError{"regions", 0, "at least one region"}
	}
	names := map[string]bool{}
	total := 0.0
	for _, r := range regions {
		if names[r.Name] {
			return &FieldError{"regions", r.Name, "distinct region names"}
		}
		names[r.Name] = true
		if r.Weight < 0 || math.IsNaN(r.Weight) {
			return &FieldError{r.Name + ".weight", r.Weight, "zero or a positive routing weight"}
		}
		total += r.Weight
		for _, s := range []struct {
			f string
			v float64
		}{{"brokerSpotShare", r.BrokerSpotShare}, {"bookieSpotShare", r.BookieSpotShare}} {
			if !(s.v >= 0 && s.v <= 1) {
				return &FieldError{r.Name + "." + s.f, s.v, "a fraction in [0, 1]"}
			}
		}
		if !(r.PriceFactor > 0) {
			return &FieldError{r.Name + ".priceFactor", r.PriceFactor, "a positive factor (1.0 = us-east-1 prices)"}
		}
		if len(r.Arches) == 0 {
			return &FieldError{r.Name + ".arches", "[]", "at least one of arm64, amd64"}
		}
	}
	if !(total > 0) {
		return &FieldError{"weights", total, "routing weights whose sum is positive"}
	}
	for _, r := range regions {
		for _, t := range r.ReplicatesTo {
			if !names[t] {
				return &FieldError{r.Name + ".replicatesTo", t, fmt.Sprintf("a region of the fleet (%v)", sortedKeys(names))}
			}
			if t == r.Name {
				return &FieldError{r.Name + ".replicatesTo", t, "another region (not itself)"}
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// RegionWorkload derives one region's workload from the phase and the fleet:
// its share of the global rate by routing weight, plus what its peers
// geo-replicate into it.
func RegionWorkload(ph Phase, regions []RegionSpec, region string) (Workload, error) {
	if err := validateFleet(regions); err != nil {
		return Workload{}, err
	}
	total := 0.0
	for _, r := range regions {
		total += r.Weight
	}
	var self *RegionSpec
	in := 0.0
	for i, r := range regions {
		produce := ph.Rate * r.Weight / total
		if r.Name == region {
			self = &regions[i]
		}
		for _, t := range r.ReplicatesTo {
			if t == region {
				in += produce * geoShare(ph)
			}
		}
	}
	if self == nil {
		return Workload{}, &FieldError{"region", region, fmt.Sprintf("a region of the fleet (%d regions)", len(regions))}
	}
	w := Workload{
		ProduceRate: ph.Rate * self.Weight / total, ReplicatedInRate: in, MessageBytes: ph.MessageBytes,
		Ensemble: self.Ensemble, WriteQuorum: self.WriteQuorum, AckQuorum: self.AckQuorum,
		TTL: ph.TTL, Retention: ph.Retention, Offload: ph.Offload, ConsumerFanout: ph.ConsumerFanout,
		GeoReplicationTargets: len(self.ReplicatesTo), Zones: self.Zones, TargetUtilization: self.TargetUtilization,
		BookieDiskBytes: ph.BookieDiskBytes, CompressionRatio: ph.CompressionRatio, GeoReplicatedShare: ph.GeoReplicatedShare,
	}.WithDefaults()
	return w, nil
}

// geoShare is the share of produced traffic that is geo-replicated.
func geoShare(ph Phase) float64 {
	if ph.GeoReplicatedShare == 0 {
		return 1
	}
	return ph.GeoReplicatedShare
}

// PlanFleet plans every region for a phase.
func (p *Planner) PlanFleet(ph Phase, regions []RegionSpec) (FleetPlan, error) {
	fp := FleetPlan{Phase: ph}
	for _, r := range regions {
		rp, err := p.PlanRegion(ph, regions, r.Name)
		if err != nil {
			return FleetPlan{}, fmt.Errorf("phase %s, region %s: %w", ph.Name, r.Name, err)
		}
		fp.Regions = append(fp.Regions, rp)
		fp.Total = fp.Total.add(rp.Cost)
	}
	fp.Total.PerMillionMessagesUSD = PerMillion(fp.Total.TotalUSD, ph.Rate)
	return fp, nil
}

// PlanRegion plans one region of the fleet for a phase.
func (p *Planner) PlanRegion(ph Phase, regions []RegionSpec, region string) (RegionPlan, error) {
	w, err := RegionWorkload(ph, regions, region)
	if err != nil {
		return RegionPlan{}, err
	}
	published := w.ProduceRate
	if w.ProduceRate == 0 && w.ReplicatedInRate == 0 {
		// A region with zero weight still runs a minimal cluster (it must
		// be ready to take traffic): plan it for a token rate.
		w.ProduceRate = 1
	}
	if err := w.Validate(); err != nil {
		return RegionPlan{}, err
	}
	var spec RegionSpec
	for _, r := range regions {
		if r.Name == region {
			spec = r
		}
	}
	rp, err := p.planWorkload(ph, spec, w)
	rp.Cost.PerMillionMessagesUSD = PerMillion(rp.Cost.TotalUSD, published)
	return rp, err
}

// SizeWorkload applies the limits to a single workload without a fleet: the
// `size` command. Instance types may be fixed; empty means the planner picks.
func (p *Planner) SizeWorkload(w Workload, brokerType, bookieType string) (StorageMethod, RoleSize, RoleSize, error) {
	w = w.WithDefaults()
	if err := w.Validate(); err != nil {
		return StorageMethod{}, RoleSize{}, RoleSize{}, err
	}
	arches := []Arch{ARM64, AMD64}
	// The guide's method sizes bookies on the given disk, so the planner
	// picks among EBS-backed types unless a local-NVMe type is named.
	ebs := p.familiesWhere(func(t InstanceType) bool { return !t.HasNVMe() })
	bookies, err := p.pickOrFix(Bookie, bookieType, "bookie-instance", arches, ebs, func(t InstanceType) RoleSize { return SizeBookies(w, t, p.Params) }, 1, w)
	if err != nil {
		return StorageMethod{}, RoleSize{}, RoleSize{}, err
	}
	storage := DataStax(w, float64(w.BookieDiskBytes))
	brokers, err := p.pickOrFix(Broker, brokerType, "broker-instance", arches, nil, func(t InstanceType) RoleSize {
		return SizeBrokers(w, t, p.Params, storage.BookiesForStorage)
	}, 1, w)
	if err != nil {
		return StorageMethod{}, RoleSize{}, RoleSize{}, err
	}
	return storage, brokers, bookies, nil
}

// pickOrFix sizes a role on a fixed instance type, or chooses one.
func (p *Planner) pickOrFix(role Role, fixed, field string, arches []Arch, families []string, size sizer, priceFactor float64, w Workload) (RoleSize, error) {
	if fixed == "" {
		return chooseInstance(p.Catalog, role, arches, families, size, p.fleetPricer(role, priceFactor, 0, w), p.Params)
	}
	t, err := p.Catalog.Lookup(fixed)
	if err != nil {
		return RoleSize{}, &FieldError{Field: field, Value: fixed, Allowed: "an instance type from the catalog: " + joinNames(p.Catalog.Names())}
	}
	r := size(t)
	r.Alternatives = []string{t.Name}
	r.MinVCPU, r.MaxVCPU, r.MinMemGiB, r.MaxMemGiB = t.VCPU, t.VCPU, t.MemGiB, t.MemGiB
	return r, nil
}

// familiesWhere lists the catalog families whose types all satisfy keep.
func (p *Planner) familiesWhere(keep func(InstanceType) bool) []string {
	ok := map[string]bool{}
	for _, t := range p.Catalog.Types() {
		if v, seen := ok[t.Family]; !seen || v {
			ok[t.Family] = keep(t)
		}
	}
	var out []string
	for f, v := range ok {
		if v {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

// fleetPricer prices a role's whole fleet on t as the plan runs it: the
// count split into spot and on-demand exactly as SplitSpot splits it, the
// on-demand base included, with its volumes (fleetMonthly). The instance
// choice and the volume choice minimize it, so they are judged by the cost
// the plan reports. (A blend of the spot share over every node, which this
// replaces, overstated a small pool's spot share: at 1m on us-east-1 it
// picked EBS bookies $94 a month dearer than NVMe.)
func (p *Planner) fleetPricer(role Role, priceFactor, spotShare float64, w Workload) func(InstanceType, RoleSize) float64 {
	return func(t InstanceType, r RoleSize) float64 {
		spot, _, _ := SplitSpot(r.Count, EffectiveSpotShare(role, t, spotShare), MinOnDemand(role, w))
		var v Volumes
		if role == Bookie && !t.HasNVMe() {
			v = r.Volumes()
		}
		return p.fleetMonthly(t, r.Count, spot, priceFactor, v)
	}
}

func (p *Planner) planWorkload(ph Phase, spec RegionSpec, w Workload) (RegionPlan, error) {
	rp := RegionPlan{Phase: ph.Name, Region: spec.Name, Role: spec.Role, workload: w, params: p.Params, priceFactor: spec.PriceFactor,
		Offload: ph.Offload, Tuning: ph.Tuning, Client: ph.Client,
		Pods: map[Role]PodResources{}, PoolLimits: map[string]PoolLimit{}, ArchOptions: map[Role][]ArchOption{}}
	days, err := BucketExpireDays(w, spec.BucketRetentionDays)
	if err != nil {
		return rp, err
	}
	rp.BucketExpireDays = days
	// The archive tiers only pay when objects live past Deep Archive Access.
	rp.ArchiveTiers = ph.ArchiveTiers && days > ArchiveTierMinDays
	rp.Workload = WorkloadSummary{ProduceRate: w.ProduceRate, ReplicatedInRate: w.ReplicatedInRate, StoredRate: w.StoredRate(),
		IngressBytes: w.IngressBytes(), BookieHoldSeconds: w.BookieHold().Seconds(), GeoTargets: w.GeoReplicationTargets}
	rp.Quorum = Quorum{Ensemble: w.Ensemble, WriteQuorum: w.WriteQuorum, AckQuorum: w.AckQuorum, MinRacksPerWriteQuorum: min(2, w.Zones, w.WriteQuorum)}

	choose := func(role Role, spot float64, size sizer) (RoleSize, error) {
		price := p.fleetPricer(role, spec.PriceFactor, spot, w)
		r, err := chooseInstance(p.Catalog, role, spec.Arches, spec.Families, size, price, p.Params)
		if err != nil {
			return RoleSize{}, err
		}
		for _, a := range []Arch{ARM64, AMD64} {
			if !slices.Contains(spec.Arches, a) {
				continue
			}
			o, err := chooseInstance(p.Catalog, role, []Arch{a}, spec.Families, size, price, p.Params)
			if err != nil {
				continue
			}
			t, _ := p.Catalog.Lookup(o.InstanceType)
			rp.ArchOptions[role] = append(rp.ArchOptions[role], ArchOption{Arch: a, InstanceType: o.InstanceType, Count: o.Count,
				MonthlyUSD: round2(price(t, o))})
		}
		return r, nil
	}
	bookieFleet := p.fleetPricer(Bookie, spec.PriceFactor, spec.BookieSpotShare, w)
	if rp.Bookies, err = choose(Bookie, spec.BookieSpotShare, func(t InstanceType) RoleSize {
		if t.HasNVMe() {
			return SizeBookiesOn(w, t, p.Params, Volumes{})
		}
		if spec.BookieVolumes != nil {
			return SizeBookiesOn(w, t, p.Params, *spec.BookieVolumes)
		}
		return SizeBookiesOn(w, t, p.Params, cheapestVolumes(w, t, p.Params, bookieFleet))
	}); err != nil {
		return RegionPlan{}, err
	}
	bt, _ := p.Catalog.Lookup(rp.Bookies.InstanceType)
	rp.Storage = DataStax(w, bookieDisk(bt, rp.Bookies.Volumes()))
	if rp.Brokers, err = choose(Broker, spec.BrokerSpotShare, func(t InstanceType) RoleSize {
		return SizeBrokers(w, t, p.Params, rp.Storage.BookiesForStorage)
	}); err != nil {
		return RegionPlan{}, err
	}
	if rp.Proxies, err = choose(Proxy, 0, func(t InstanceType) RoleSize { return SizeProxies(w, t, p.Params) }); err != nil {
		return RegionPlan{}, err
	}
	if rp.ZooKeeper, err = choose(ZooKeeper, 0, func(t InstanceType) RoleSize { return SizeZooKeeper(w, t) }); err != nil {
		return RegionPlan{}, err
	}
	rp.Autorecovery = max(1, w.Zones)

	rp.Brokers.Spot, rp.Brokers.OnDemand, rp.Brokers.SpotCapped = SplitSpot(rp.Brokers.Count, spec.BrokerSpotShare, MinOnDemand(Broker, w))
	bookieShare := EffectiveSpotShare(Bookie, bt, spec.BookieSpotShare)
	rp.Bookies.Spot, rp.Bookies.OnDemand, rp.Bookies.SpotCapped = SplitSpot(rp.Bookies.Count, bookieShare, MinOnDemand(Bookie, w))
	rp.Proxies.OnDemand, rp.ZooKeeper.OnDemand = rp.Proxies.Count, rp.ZooKeeper.Count

	rp.BrokerHPA = Autoscaling{Min: rp.Brokers.Count, Max: RoundUp(ceilCount(float64(rp.Brokers.Count)*1.5), w.Zones)}
	rp.ProxyHPA = Autoscaling{Min: rp.Proxies.Count, Max: RoundUp(ceilCount(float64(rp.Proxies.Count)*1.5), w.Zones)}

	rp.Pods[Broker] = podFor(Broker, rp.Brokers)
	rp.Pods[Bookie] = podFor(Bookie, rp.Bookies)
	rp.Pods[Proxy] = podFor(Proxy, rp.Proxies)
	rp.Pods[ZooKeeper] = podFor(ZooKeeper, rp.ZooKeeper)

	// Pool limits: every node the pool may hold at once (HPA maximum plus one
	// replacement per zone during drift or expiry) on its largest alternative,
	// plus 25%.
	limit := func(nodes, zones int, r ...RoleSize) PoolLimit {
		maxCPU, maxMem := 0, 0.0
		for _, x := range r {
			maxCPU, maxMem = max(maxCPU, x.MaxVCPU), math.Max(maxMem, x.MaxMemGiB)
		}
		n := float64(nodes+zones) * 1.25
		return PoolLimit{CPU: int(math.Ceil(n * float64(maxCPU))), MemoryGiB: int(math.Ceil(n * maxMem))}
	}
	rp.PoolLimits[PoolBroker] = limit(rp.BrokerHPA.Max, w.Zones, rp.Brokers)
	rp.PoolLimits[PoolBookie] = limit(rp.Bookies.Count, w.Zones, rp.Bookies)
	rp.PoolLimits[PoolCritical] = limit(rp.ProxyHPA.Max+rp.ZooKeeper.Count, w.Zones, rp.Proxies, rp.ZooKeeper)
	// The general pool holds monitoring; it grows with the fleet's series.
	rp.PoolLimits[PoolGeneral] = PoolLimit{CPU: 64 + 8*(rp.Brokers.Count+rp.Bookies.Count)/10, MemoryGiB: 256 + 32*(rp.Brokers.Count+rp.Bookies.Count)/10}

	rp.Cost = p.cost(rp, spec, w)
	rp.Failures = FailureChecks(rp, w)
	return rp, nil
}

// EffectiveSpotShare is the spot share a role really gets on t. Bookies on
// local NVMe are on-demand only: instance storage dies with a reclaimed spot
// node, while an EBS volume re-attaches to its replacement. Keeping spot
// bookies on EBS is what lets a spot reclaim never cost a journal.
func EffectiveSpotShare(role Role, t InstanceType, share float64) float64 {
	if role == Bookie && t.HasNVMe() {
		return 0
	}
	return share
}

// SplitSpot splits count nodes into spot and on-demand by share, keeping at
// least minOnDemand on-demand nodes; capped reports a share cut to keep
// them (plan prints it as a warning).
func SplitSpot(count int, share float64, minOnDemand int) (spot, onDemand int, capped bool) {
	spot = int(math.Floor(float64(count)*share + 1e-9))
	if floor := min(count, minOnDemand); count-spot < floor {
		spot, capped = count-floor, true
	}
	return spot, count - spot, capped
}

// MinOnDemand is the on-demand base of a data pool, so that losing every
// spot node of the region at once never takes a write quorum or a zone:
// one broker per zone, and for bookies at least the ensemble, at least one
// per zone, rounded up to whole zones.
func MinOnDemand(role Role, w Workload) int {
	switch role {
	case Bookie:
		return RoundUp(max(w.Ensemble, w.Zones), w.Zones)
	case Broker:
		return w.Zones
	}
	return 0
}

// podFor sizes one pod per node on the smallest node the pool may launch:
// leave one vCPU and 10% + 2 GiB of memory for the kubelet, system
// reservations and DaemonSets. ZooKeeper takes half a node so it can share
// the critical pool with proxies.
func podFor(role Role, r RoleSize) PodResources {
	cpu := int64(r.MinVCPU-1) * 1000
	mem := int64(r.MinMemGiB*1024*0.9) - 2048
	if role == ZooKeeper {
		cpu, mem = int64(r.MinVCPU)*1000/2, int64(r.MinMemGiB*1024)/2
	}
	cpu, mem = max(cpu, 500), max(mem, 1024)
	pr := PodResources{CPUMillis: cpu, MemoryMiB: mem}
	switch role {
	case Broker, Proxy:
		pr.HeapMiB, pr.DirectMiB = min(mem*30/100, 32*1024), min(mem*50/100, 64*1024)
	case Bookie:
		pr.HeapMiB, pr.DirectMiB = min(mem*20/100, 32*1024), min(mem*40/100, MaxBookieDirectMiB)
	case ZooKeeper:
		pr.HeapMiB = min(mem*60/100, 16*1024)
	}
	return pr
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
