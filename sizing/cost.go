package sizing

import "math"

// Cost is a region's (or the fleet's) monthly cost in USD.
type Cost struct {
	// ComputeUSD is every node at its spot/on-demand split.
	ComputeUSD float64 `json:"computeUSD"`
	// EBSUSD is root, journal, ledger and ZooKeeper volumes.
	EBSUSD float64 `json:"ebsUSD"`
	// S3 is the offload bucket (storage, requests, monitoring) and the
	// cross-region replication transfer out of it.
	S3 S3Cost `json:"s3"`
	// PlatformUSD is the EKS control plane, NAT gateways and the system pool.
	PlatformUSD float64 `json:"platformUSD"`
	// TotalUSD = compute + EBS + S3 (replication and RTC included) +
	// platform + transfer: every line the plan prices.
	TotalUSD float64 `json:"totalUSD"`
	// AllOnDemandUSD is the same fleet with every node on-demand.
	AllOnDemandUSD float64 `json:"allOnDemandUSD"`
	SavingsUSD     float64 `json:"savingsUSD"`
	SavingsPct     float64 `json:"savingsPct"`
	// ComputeSavingsPct is the saving on node cost alone.
	ComputeSavingsPct float64 `json:"computeSavingsPct"`
	// TransferUSD is data transfer the platform cannot avoid whatever the
	// capacity type: cross-zone bookie replication and inter-region
	// geo-replication. It is in the total (it is often the largest line)
	// and also shown on its own.
	TransferUSD float64 `json:"transferUSD"`
	// ByRole is the compute cost per role.
	ByRole map[Role]float64 `json:"byRole,omitempty"`
	// PerMillionMessagesUSD is TotalUSD over the messages the region's (or
	// the fleet's) clients publish in a month, per million: what a million
	// messages cost, every line included. Zero for a region that takes no
	// traffic of its own (routing weight 0).
	PerMillionMessagesUSD float64 `json:"perMillionMessagesUSD,omitempty"`
}

// PerMillion is monthlyUSD per million messages published at rate msg/s
// for a month (0 when nothing is published).
func PerMillion(monthlyUSD, rate float64) float64 {
	if !(rate > 0) {
		return 0
	}
	return math.Round(monthlyUSD/(rate*secondsPerMonth/1e6)*1e4) / 1e4
}

// S3Cost details the offload bucket.
type S3Cost struct {
	StoredGB       float64 `json:"storedGB"`
	StorageUSD     float64 `json:"storageUSD"`
	RequestsUSD    float64 `json:"requestsUSD"`
	MonitoringUSD  float64 `json:"monitoringUSD"`
	ReplicationGB  float64 `json:"replicationGB"`
	ReplicationUSD float64 `json:"replicationUSD"`
	// RTCUSD is S3 Replication Time Control on the replicated bytes.
	RTCUSD          float64 `json:"rtcUSD,omitempty"`
	TotalUSD        float64 `json:"totalUSD"`
	FrequentShare   float64 `json:"frequentShare"`
	InfrequentShare float64 `json:"infrequentShare"`
	ArchiveIAShare  float64 `json:"archiveInstantShare"`
	ObjectsPerMonth float64 `json:"objectsPerMonth"`
	PutsPerMonth    float64 `json:"putsPerMonth"`
	ReplicaBuckets  int     `json:"replicaBuckets"`
	// ReplicaStoredGB and ReplicaStorageUSD are the replicas this bucket
	// keeps in its peers' buckets (billed in the peers' regions, counted
	// here): they live until the bucket lifecycle expires them.
	ReplicaStoredGB   float64 `json:"replicaStoredGB"`
	ReplicaStorageUSD float64 `json:"replicaStorageUSD"`
}

func (c Cost) add(o Cost) Cost {
	r := Cost{
		ComputeUSD: c.ComputeUSD + o.ComputeUSD, EBSUSD: c.EBSUSD + o.EBSUSD, PlatformUSD: c.PlatformUSD + o.PlatformUSD,
		TotalUSD: c.TotalUSD + o.TotalUSD, AllOnDemandUSD: c.AllOnDemandUSD + o.AllOnDemandUSD, TransferUSD: c.TransferUSD + o.TransferUSD,
		S3: S3Cost{StoredGB: c.S3.StoredGB + o.S3.StoredGB, StorageUSD: c.S3.StorageUSD + o.S3.StorageUSD,
			RequestsUSD: c.S3.RequestsUSD + o.S3.RequestsUSD, MonitoringUSD: c.S3.MonitoringUSD + o.S3.MonitoringUSD,
			ReplicationGB: c.S3.ReplicationGB + o.S3.ReplicationGB, ReplicationUSD: c.S3.ReplicationUSD + o.S3.ReplicationUSD, RTCUSD: c.S3.RTCUSD + o.S3.RTCUSD,
			ReplicaStoredGB: c.S3.ReplicaStoredGB + o.S3.ReplicaStoredGB, ReplicaStorageUSD: c.S3.ReplicaStorageUSD + o.S3.ReplicaStorageUSD,
			TotalUSD: c.S3.TotalUSD + o.S3.TotalUSD},
	}
	r.SavingsUSD = r.AllOnDemandUSD - r.TotalUSD
	if r.AllOnDemandUSD > 0 {
		r.SavingsPct = round2(100 * r.SavingsUSD / r.AllOnDemandUSD)
	}
	allODCompute := r.ComputeUSD + r.SavingsUSD
	if allODCompute > 0 {
		r.ComputeSavingsPct = round2(100 * r.SavingsUSD / allODCompute)
	}
	return r
}

// EKS control-plane prices per cluster-hour (every commercial region): in
// standard support, which the plan prices, and in extended support.
const (
	EKSControlPlanePerHour         = 0.10
	EKSControlPlaneExtendedPerHour = 0.60
)

// Platform constants (us-east-1 list prices).
const (
	natGatewayPerHour  = 0.045
	systemNodes        = 2
	generalNodes       = 2
	zookeeperDiskBytes = 50 * GiB
	crossAZPerGB       = 0.02 // $0.01 out + $0.01 in
	interRegionPerGB   = 0.02
	secondsPerMonth    = 730 * 3600
)

// SystemNodes is the size of the on-demand system node group.
func SystemNodes() int { return systemNodes }

// GeneralNodes is the planned size of the untainted on-demand pool that
// runs platform workloads (monitoring, Grafana, kube-state-metrics).
func GeneralNodes() int { return generalNodes }

func (p *Planner) cost(rp RegionPlan, spec RegionSpec, w Workload) Cost {
	pr := p.Params.Prices
	f := spec.PriceFactor
	hourly := func(name string) float64 {
		t, err := p.Catalog.Lookup(name)
		if err != nil {
			return 0
		}
		return t.USDPerHr * pr.HoursPerMonth * f
	}
	spotFactor := 1 - p.Params.SpotDiscount
	c := Cost{ByRole: map[Role]float64{}}
	allOD := 0.0
	for _, r := range []RoleSize{rp.Bookies, rp.Brokers, rp.Proxies, rp.ZooKeeper} {
		node := hourly(r.InstanceType)
		v := float64(r.Spot)*node*spotFactor + float64(r.Count-r.Spot)*node
		c.ByRole[r.Role] = round2(v)
		c.ComputeUSD += v
		allOD += float64(r.Count) * node
		c.EBSUSD += float64(r.Count) * gp3Monthly(pr, float64(pr.RootVolumeBytes), 0, 0) * f
	}
	if !rp.Bookies.LocalNVMe {
		c.EBSUSD += float64(rp.Bookies.Count) * rp.Bookies.Volumes().Monthly(pr) * f
	}
	c.EBSUSD += float64(rp.ZooKeeper.Count) * gp3Monthly(pr, float64(zookeeperDiskBytes), 0, 0) * f

	// Platform: EKS control plane, one NAT gateway per zone, the system node group.
	sys := p.systemNodeType()
	nats := w.Zones
	if spec.NATGateways > 0 {
		nats = spec.NATGateways
	}
	c.PlatformUSD = (EKSControlPlanePerHour+natGatewayPerHour*float64(nats))*pr.HoursPerMonth*f +
		float64(systemNodes)*(hourly(sys)+gp3Monthly(pr, float64(pr.RootVolumeBytes), 0, 0)*f)

	c.S3 = p.s3Cost(rp, spec, w)

	// Transfer: of the write-quorum copies, all but the one in the broker's
	// own zone cross zones (on average (W-1) x (Z-1)/Z copies when Z >= W);
	// geo-replication sends each locally produced byte to every target region.
	ingress := w.IngressBytes() * secondsPerMonth / 1e9
	crossCopies := 0.0
	if w.Zones > 1 {
		crossCopies = float64(w.WriteQuorum) * float64(w.Zones-1) / float64(w.Zones)
	}
	c.TransferUSD = round2(ingress*crossCopies*crossAZPerGB*f +
		w.GeoReplicatedBytes()*secondsPerMonth/1e9*interRegionPerGB)

	c.ComputeUSD, c.EBSUSD, c.PlatformUSD = round2(c.ComputeUSD), round2(c.EBSUSD), round2(c.PlatformUSD)
	c.TotalUSD = round2(c.ComputeUSD + c.EBSUSD + c.S3.TotalUSD + c.PlatformUSD + c.TransferUSD)
	c.AllOnDemandUSD = round2(allOD + c.EBSUSD + c.S3.TotalUSD + c.PlatformUSD + c.TransferUSD)
	c.SavingsUSD = round2(c.AllOnDemandUSD - c.TotalUSD)
	if c.AllOnDemandUSD > 0 {
		c.SavingsPct = round2(100 * c.SavingsUSD / c.AllOnDemandUSD)
	}
	if allOD > 0 {
		c.ComputeSavingsPct = round2(100 * (allOD - c.ComputeUSD) / allOD)
	}
	return c
}

// systemNodeType is the cheapest on-demand type with 16 GiB that the system
// node group (add-ons, Karpenter controller) runs on.
func (p *Planner) systemNodeType() string {
	best, price := "", math.Inf(1)
	for _, t := range p.Catalog.Types() {
		if !t.HasNVMe() && t.MemGiB >= 16 && t.USDPerHr < price {
			best, price = t.Name, t.USDPerHr
		}
	}
	return best
}

// SystemNodeType is the instance type of the system node group.
func (p *Planner) SystemNodeType() string { return p.systemNodeType() }

// s3Cost prices the offload bucket. Data older than the bookie hold lives in
// S3 until TTL plus retention expire; Intelligent-Tiering moves objects not
// read for 30 days to its infrequent tier and, after 90 days, to Archive
// Instant Access (the opt-in archive tiers of the largest phase apply only
// to namespaces whose retention exceeds 90 days).
func (p *Planner) s3Cost(rp RegionPlan, spec RegionSpec, w Workload) S3Cost {
	pr := p.Params.Prices
	f := spec.PriceFactor
	var s S3Cost
	if !w.Offload.Enabled {
		return s
	}
	life := (w.TTL + w.Retention - w.BookieHold()).Seconds()
	if life <= 0 {
		return s
	}
	rate := w.IngressBytes() // bytes per second offloaded
	days := life / 86400
	// Shares of the steady-state bytes by age band.
	band := func(from, to float64) float64 {
		lo, hi := math.Min(from, days), math.Min(to, days)
		return (hi - lo) / days
	}
	s.FrequentShare = round2(band(0, 30))
	s.InfrequentShare = round2(band(30, 90))
	s.ArchiveIAShare = round2(band(90, math.Inf(1)))
	stored := rate * life / 1e9
	s.StoredGB = math.Round(stored)
	s.StorageUSD = round2(stored * (band(0, 30)*pr.S3FrequentPerGBMonth + band(30, 90)*pr.S3InfrequentPerGBMonth +
		band(90, math.Inf(1))*pr.S3ArchiveIAPerGBMonth) * f)
	monthlyBytes := rate * secondsPerMonth
	s.PutsPerMonth = math.Round(monthlyBytes / float64(w.Offload.MaxBlockBytes))
	s.ObjectsPerMonth = math.Round(monthlyBytes / float64(pr.OffloadObjectBytes))
	storedObjects := rate * life / float64(pr.OffloadObjectBytes)
	s.RequestsUSD = round2((s.PutsPerMonth*pr.S3PutPer1000/1000 + s.ObjectsPerMonth*pr.S3TransitionPer1000/1000) * f)
	s.MonitoringUSD = round2(storedObjects * pr.S3MonitoringPer1000 / 1000 * f)
	s.ReplicaBuckets = spec.BucketReplicas
	s.ReplicationGB = math.Round(monthlyBytes / 1e9 * float64(s.ReplicaBuckets))
	s.ReplicationUSD = round2(s.ReplicationGB * pr.S3ReplicationPerGB)
	if spec.ReplicationTimeControl {
		s.RTCUSD = round2(s.ReplicationGB * pr.S3RTCPerGB)
	}
	// Replicas are written once and never deleted by Pulsar: each peer
	// bucket holds rate x bucket lifetime, aged across the same tiers.
	if s.ReplicaBuckets > 0 {
		rdays := float64(rp.BucketExpireDays)
		rband := func(from, to float64) float64 {
			lo, hi := math.Min(from, rdays), math.Min(to, rdays)
			return (hi - lo) / rdays
		}
		replica := rate * rdays * 86400 / 1e9 * float64(s.ReplicaBuckets)
		s.ReplicaStoredGB = math.Round(replica)
		s.ReplicaStorageUSD = round2(replica * (rband(0, 30)*pr.S3FrequentPerGBMonth + rband(30, 90)*pr.S3InfrequentPerGBMonth +
			rband(90, math.Inf(1))*pr.S3ArchiveIAPerGBMonth) * f)
	}
	s.TotalUSD = round2(s.StorageUSD + s.RequestsUSD + s.MonitoringUSD + s.ReplicationUSD + s.RTCUSD + s.ReplicaStorageUSD)
	return s
}
