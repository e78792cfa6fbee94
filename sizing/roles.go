package sizing

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Role is a Pulsar component that runs on its own nodes.
type Role string

// The roles the planner sizes.
const (
	Broker    Role = "broker"
	Bookie    Role = "bookie"
	Proxy     Role = "proxy"
	ZooKeeper Role = "zookeeper"
)

// Limit names, in the order the limiting factor is reported on ties.
const (
	LimitStorage      = "storage"
	LimitMinimum      = "minimum"
	LimitQuorum       = "quorum"
	LimitNetwork      = "network"
	LimitCPU          = "cpu"
	LimitDiskWrite    = "disk-write"
	LimitZoneHeadroom = "zone-headroom"
	// LimitEBSBandwidth is the instance's sustained EBS bandwidth, which
	// both gp3 volumes of a bookie share.
	LimitEBSBandwidth = "ebs-bandwidth"
)

// Limit is the node count one limit requires, with the arithmetic behind it.
type Limit struct {
	Name   string `json:"name"`
	Count  int    `json:"count"`
	Detail string `json:"detail"`
	// Binds is, for the zone-headroom limit, the demand that sets it (the
	// one that runs out first with a zone down).
	Binds string `json:"binds,omitempty"`
}

// Demand is one limited resource of a role: a total load and what one node
// carries at 100%. Counts come from load / (perNode x utilization).
type Demand struct {
	Name    string  `json:"name"`
	Load    float64 `json:"load"`
	PerNode float64 `json:"perNode"`
	// Util is the planned utilization; storage uses 1 because the usable
	// fraction is already in PerNode.
	Util float64 `json:"util"`
	Unit string  `json:"unit"`
}

// RoleSize is the planned fleet of one role in one region.
type RoleSize struct {
	Role           Role     `json:"role"`
	InstanceType   string   `json:"instanceType"`
	Arch           Arch     `json:"arch"`
	Count          int      `json:"count"`
	LimitingFactor string   `json:"limitingFactor"`
	Limits         []Limit  `json:"limits"`
	Demands        []Demand `json:"demands,omitempty"`
	// Alternatives are the instance types (both architectures) that meet
	// every limit at Count nodes; Karpenter may launch any of them.
	Alternatives []string `json:"alternatives"`
	// LocalNVMe is true when bookies keep journal and ledgers on local NVMe.
	LocalNVMe bool `json:"localNVMe,omitempty"`
	// LedgerDiskBytes and JournalDiskBytes are the EBS volumes per bookie,
	// each provisioned with VolumeThroughputBytes and its IOPS (Volumes).
	LedgerDiskBytes       int64   `json:"ledgerDiskBytes,omitempty"`
	JournalDiskBytes      int64   `json:"journalDiskBytes,omitempty"`
	VolumeThroughputBytes float64 `json:"volumeThroughputBytes,omitempty"`
	LedgerIOPS            int     `json:"ledgerIOPS,omitempty"`
	JournalIOPS           int     `json:"journalIOPS,omitempty"`
	// Spot and OnDemand split Count by capacity type.
	Spot     int `json:"spot"`
	OnDemand int `json:"onDemand"`
	// SpotCapped is true when the configured spot share was cut to keep
	// the on-demand base (MinOnDemand).
	SpotCapped bool `json:"spotCapped,omitempty"`
	// MinVCPU and MinMemGiB are the smallest node among Alternatives: pods
	// are sized to fit it.
	MinVCPU   int     `json:"minVCPU"`
	MinMemGiB float64 `json:"minMemGiB"`
	MaxVCPU   int     `json:"maxVCPU"`
	MaxMemGiB float64 `json:"maxMemGiB"`
}

// Utilization is the steady-state utilization of each demand at Count nodes.
func (r RoleSize) Utilization() map[string]float64 {
	out := map[string]float64{}
	for _, d := range r.Demands {
		if r.Count > 0 && d.PerNode > 0 {
			out[d.Name] = d.Load / (float64(r.Count) * d.PerNode)
		}
	}
	return out
}

// sizeFromDemands turns a base limit and demands into a count: the maximum of
// the base, each demand at its planned utilization, and (when headroom is on)
// each demand after losing one of zones zones.
func sizeFromDemands(role Role, t InstanceType, zones int, base Limit, demands []Demand, headroom bool) RoleSize {
	limits := []Limit{base}
	for _, d := range demands {
		if d.Name == base.Name {
			continue // the base limit already covers it (the DataStax storage step)
		}
		limits = append(limits, Limit{
			Name:  d.Name,
			Count: demandCount(d, zones),
			Detail: fmt.Sprintf("%s / (%s per node x %.0f%%) -> %d, rounded to a multiple of %d zones",
				formatUnit(d.Load, d.Unit), formatUnit(d.PerNode, d.Unit), d.Util*100, ceilCount(d.Load/(d.PerNode*d.Util)), zones),
		})
	}
	if headroom {
		limits = append(limits, zoneHeadroomLimit(zones, demands))
	}
	best := limits[0]
	for _, l := range limits[1:] {
		if l.Count > best.Count {
			best = l
		}
	}
	return RoleSize{
		Role: role, InstanceType: t.Name, Arch: t.Arch, Count: best.Count,
		LimitingFactor: best.Name, Limits: limits, Demands: demands,
	}
}

// zoneHeadroomLimit is the smallest multiple of zones such that, after one
// zone is lost, the remaining (zones-1)/zones of the nodes still carry every
// demand below 100% (storage: within the usable fraction).
func zoneHeadroomLimit(zones int, demands []Demand) Limit {
	if zones < 2 {
		return Limit{Name: LimitZoneHeadroom, Count: 0, Detail: "single zone: losing it loses the cluster; no headroom is possible"}
	}
	n, why, binds := 0, "no load", ""
	for _, d := range demands {
		if c := headroomCount(d, zones); c > n {
			n, binds = c, d.Name
			why = fmt.Sprintf("after losing 1 of %d zones, %d of %d nodes must carry %s (%s each)",
				zones, c*(zones-1)/zones, c, formatUnit(d.Load, d.Unit), formatUnit(d.PerNode, d.Unit))
		}
	}
	return Limit{Name: LimitZoneHeadroom, Count: n, Detail: why, Binds: binds}
}

// demandCount is the nodes one demand needs at its planned utilization,
// rounded to a multiple of zones.
func demandCount(d Demand, zones int) int {
	return RoundUp(ceilCount(d.Load/(d.PerNode*d.Util)), zones)
}

// headroomCount is the nodes one demand needs so that, after one of zones
// zones is lost, the rest carry it below 100% (storage: within the usable
// fraction), rounded to a multiple of zones.
func headroomCount(d Demand, zones int) int {
	x := d.Load / (float64(zones-1) / float64(zones) * d.PerNode)
	if d.Name == LimitStorage {
		return RoundUp(ceilCount(x), zones)
	}
	return RoundUp(int(math.Floor(x+1e-9))+1, zones) // strictly below 100%
}

func formatUnit(v float64, unit string) string {
	switch unit {
	case "B/s":
		return FormatSI(v) + "/s"
	case "B":
		return FormatSI(v)
	case "msg/s":
		return fmt.Sprintf("%.0f msg/s", v)
	case "vCPU":
		return fmt.Sprintf("%.1f vCPU", v)
	default:
		return fmt.Sprintf("%.3g %s", v, unit)
	}
}

// brokerDemands: producer ingress in; egress = write-quorum fan-out to
// bookies + consumer fan-out + geo-replication of locally produced traffic.
// The NIC is full duplex, so the larger direction binds.
func brokerDemands(w Workload, t InstanceType, p Params) []Demand {
	in := w.IngressBytes()
	out := float64(w.WriteQuorum)*in + w.ConsumerFanout*in + w.GeoReplicatedBytes()
	return []Demand{
		{Name: LimitNetwork, Load: math.Max(in, out), PerNode: t.NetBytesPerSec(), Util: w.TargetUtilization, Unit: "B/s"},
		{Name: LimitCPU, Load: BrokerVCPUs(w, p), PerNode: float64(t.VCPU), Util: w.TargetUtilization, Unit: "vCPU"},
	}
}

// bookieDemands: each entry is written write-quorum times; every replica is
// written twice (journal, then ledger). On EBS the journal and the ledger are
// separate gp3 volumes, each receiving one write per replica at its
// provisioned throughput, and both share the instance's sustained EBS
// bandwidth; on local NVMe both writes share one RAID0 array.
func bookieDemands(w Workload, t InstanceType, p Params, v Volumes, storageBytes float64) []Demand {
	replicaBytes := float64(w.WriteQuorum) * w.IngressBytes()
	ds := []Demand{
		{Name: LimitStorage, Load: storageBytes, PerNode: bookieDisk(t, v) * w.DiskUsableFraction, Util: 1, Unit: "B"},
		{Name: LimitNetwork, Load: replicaBytes, PerNode: t.NetBytesPerSec(), Util: w.TargetUtilization, Unit: "B/s"},
	}
	if t.HasNVMe() {
		return append(ds, Demand{Name: LimitDiskWrite, Load: 2 * replicaBytes, PerNode: t.NVMeGB * p.NVMeWriteBytesPerGB, Util: w.TargetUtilization, Unit: "B/s"})
	}
	ds = append(ds, Demand{Name: LimitDiskWrite, Load: replicaBytes, PerNode: v.ThroughputBytes, Util: w.TargetUtilization, Unit: "B/s"})
	if ebs := t.EBSBytesPerSec(); ebs > 0 {
		ds = append(ds, Demand{Name: LimitEBSBandwidth, Load: 2 * replicaBytes, PerNode: ebs, Util: w.TargetUtilization, Unit: "B/s"})
	}
	return ds
}

// BrokerVCPUs are the broker vCPUs a workload keeps busy: the larger of its
// messages over BrokerMsgPerVCPU and its bytes to persist over
// BrokerWriteBytesPerVCPU.
func BrokerVCPUs(w Workload, p Params) float64 {
	return math.Max(w.StoredRate()/p.BrokerMsgPerVCPU, w.IngressBytes()/p.BrokerWriteBytesPerVCPU)
}

// proxyDemands: proxies relay producer traffic in and consumer traffic out,
// both ways, for local clients and for replication arriving from peers.
func proxyDemands(w Workload, t InstanceType) []Demand {
	return []Demand{{Name: LimitNetwork, Load: (1 + w.ConsumerFanout) * w.IngressBytes(), PerNode: t.NetBytesPerSec(), Util: w.TargetUtilization, Unit: "B/s"}}
}

// bookieDisk is the ledger capacity of one bookie on t with volumes v.
func bookieDisk(t InstanceType, v Volumes) float64 {
	if t.HasNVMe() {
		return t.NVMeGB * 1e9
	}
	return float64(v.LedgerBytes)
}

// SizeBookies sizes bookies on instance type t with the workload's ledger
// disk and Params' journal and throughput (`size`, the seed comparison).
func SizeBookies(w Workload, t InstanceType, p Params) RoleSize {
	return SizeBookiesOn(w, t, p, defaultVolumes(w, p))
}

// SizeBookiesOn sizes bookies on instance type t; on EBS, with volumes v.
func SizeBookiesOn(w Workload, t InstanceType, p Params, v Volumes) RoleSize {
	disk := bookieDisk(t, v)
	ds := DataStax(w, disk)
	raw := ceilCount(ds.StorageBytes / (disk * w.DiskUsableFraction))
	base := Limit{Name: LimitStorage, Count: ds.BookiesForStorage, Detail: fmt.Sprintf(
		"%d x %s x %.0f msg/s x %.0f s = %s / (%s x %.2f) -> %d, rounded to a multiple of %d zones, at least max(3, ensemble %d)",
		w.WriteQuorum, FormatSI(float64(w.MessageBytes)), w.StoredRate(), w.BookieHold().Seconds(), FormatSI(ds.StorageBytes),
		FormatSI(disk), w.DiskUsableFraction, raw, w.Zones, w.Ensemble)}
	r := sizeFromDemands(Bookie, t, w.Zones, base, bookieDemands(w, t, p, v, ds.StorageBytes), p.ZoneHeadroom)
	if n := ensembleAfterZoneLoss(w, p); n > 0 {
		for i := range r.Limits {
			if l := &r.Limits[i]; l.Name == LimitZoneHeadroom && n > l.Count {
				l.Count = n
				l.Detail = fmt.Sprintf("after losing 1 of %d zones, %d of %d bookies must still form an ensemble of %d", w.Zones, n*(w.Zones-1)/w.Zones, n, w.Ensemble)
			}
		}
		if n > r.Count {
			r.Count, r.LimitingFactor = n, LimitZoneHeadroom
		}
	}
	r.LocalNVMe = t.HasNVMe()
	if !r.LocalNVMe {
		r = r.withVolumes(v)
	}
	return r
}

// ensembleAfterZoneLoss is the fewest bookies, a multiple of the zones,
// that still form an ensemble after losing a zone, or every new ledger
// (and so every write) fails; 0 when zone headroom is off or there is one
// zone.
func ensembleAfterZoneLoss(w Workload, p Params) int {
	if !p.ZoneHeadroom || w.Zones < 2 {
		return 0
	}
	return RoundUp(ceilCount(float64(w.Ensemble)*float64(w.Zones)/float64(w.Zones-1)), w.Zones)
}

// bookieCount is SizeBookiesOn's count without its report: what the
// volume search compares (a test keeps the two equal).
func bookieCount(w Workload, t InstanceType, p Params, v Volumes, storageBytes float64) int {
	n := max(storageBookies(w, storageBytes, bookieDisk(t, v)), ensembleAfterZoneLoss(w, p))
	for _, d := range bookieDemands(w, t, p, v, storageBytes) {
		if d.Name != LimitStorage {
			n = max(n, demandCount(d, w.Zones))
		}
		if p.ZoneHeadroom && w.Zones > 1 {
			n = max(n, headroomCount(d, w.Zones))
		}
	}
	return n
}

// SizeBrokers sizes brokers on t; bookiesForStorage feeds the DataStax
// broker-to-bookie ratio of 1:3.
func SizeBrokers(w Workload, t InstanceType, p Params, bookiesForStorage int) RoleSize {
	n := RoundUp(max(ceilDiv(bookiesForStorage, 3), 3), w.Zones)
	base := Limit{Name: LimitStorage, Count: n, Detail: fmt.Sprintf(
		"ceil(%d bookies / 3) rounded to a multiple of %d zones, at least 3 -> %d", bookiesForStorage, w.Zones, n)}
	return sizeFromDemands(Broker, t, w.Zones, base, brokerDemands(w, t, p), p.ZoneHeadroom)
}

// SizeProxies sizes proxies on t: one per zone at least.
func SizeProxies(w Workload, t InstanceType, p Params) RoleSize {
	n := RoundUp(max(w.Zones, 2), w.Zones)
	base := Limit{Name: LimitMinimum, Count: n, Detail: fmt.Sprintf("one proxy per zone (%d zones), at least 2", w.Zones)}
	return sizeFromDemands(Proxy, t, w.Zones, base, proxyDemands(w, t), p.ZoneHeadroom)
}

// ZooKeeperCount is the ensemble size: 3 servers, 5 once the cluster stores
// a million messages per second (more metadata writes, and an ensemble of 5
// survives two server losses).
func ZooKeeperCount(w Workload) int {
	if w.StoredRate() >= 1e6 {
		return 5
	}
	return 3
}

// SizeZooKeeper sizes the ZooKeeper ensemble on t.
func SizeZooKeeper(w Workload, t InstanceType) RoleSize {
	n := ZooKeeperCount(w)
	return RoleSize{Role: ZooKeeper, InstanceType: t.Name, Arch: t.Arch, Count: n, LimitingFactor: LimitQuorum,
		Limits: []Limit{{Name: LimitQuorum, Count: n, Detail: fmt.Sprintf("odd ensemble of %d for %.0f msg/s (5 from 1M msg/s)", n, w.StoredRate())}}}
}

// candidate filters per role: brokers and proxies need no local disk;
// bookies need memory for the page cache and may use local NVMe.
var roleFilter = map[Role]func(InstanceType) bool{
	Broker:    func(t InstanceType) bool { return !t.HasNVMe() && t.MemGiB >= 16 },
	Proxy:     func(t InstanceType) bool { return !t.HasNVMe() && t.MemGiB >= 16 },
	ZooKeeper: func(t InstanceType) bool { return !t.HasNVMe() && t.MemGiB >= 16 },
	Bookie:    func(t InstanceType) bool { return t.MemGiB >= 32 },
}

// sizer sizes a role on one instance type.
type sizer func(t InstanceType) RoleSize

// choice is one priced candidate.
type choice struct {
	size    RoleSize
	monthly float64
	t       InstanceType
}

// chooseInstance sizes the role on every candidate of the wanted
// architectures and keeps the cheapest fleet (cost per unit of the binding
// resource, summed over the fleet); ties go to fewer nodes, then the name.
// It then lists the alternatives: other types that meet every limit at the
// chosen count, within the price ratio, cheapest first.
func chooseInstance(cat *Catalog, role Role, arches []Arch, families []string, size sizer, price func(InstanceType, RoleSize) float64, p Params) (RoleSize, error) {
	var all []choice
	for _, t := range cat.Types() {
		if !roleFilter[role](t) || !slices.Contains(arches, t.Arch) || (len(families) > 0 && !slices.Contains(families, t.Family)) {
			continue
		}
		s := size(t)
		all = append(all, choice{size: s, monthly: price(t, s), t: t})
	}
	if len(all) == 0 {
		return RoleSize{}, fmt.Errorf("no instance type in the catalog fits role %s for architectures %v and families %v", role, arches, families)
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if math.Abs(a.monthly-b.monthly) > 1e-6 {
			return a.monthly < b.monthly
		}
		if a.size.Count != b.size.Count {
			return a.size.Count < b.size.Count
		}
		return a.t.Name < b.t.Name
	})
	best := all[0]
	out := best.size
	out.Alternatives, out.MinVCPU, out.MinMemGiB, out.MaxVCPU, out.MaxMemGiB = nil, best.t.VCPU, best.t.MemGiB, best.t.VCPU, best.t.MemGiB
	var alts []choice
	for _, c := range all {
		// Same storage kind (the EC2NodeClass differs), meets every limit at
		// the planned count, not far pricier per node.
		if c.t.HasNVMe() != best.t.HasNVMe() || c.size.Count > best.size.Count ||
			c.t.USDPerHr > best.t.USDPerHr*p.AlternativePriceRatio {
			continue
		}
		alts = append(alts, c)
	}
	// The planned type first, then the others cheapest first.
	sort.SliceStable(alts, func(i, j int) bool {
		if (alts[i].t.Name == best.t.Name) != (alts[j].t.Name == best.t.Name) {
			return alts[i].t.Name == best.t.Name
		}
		return alts[i].t.USDPerHr < alts[j].t.USDPerHr
	})
	for _, c := range alts {
		if len(out.Alternatives) == p.MaxAlternatives {
			break
		}
		out.Alternatives = append(out.Alternatives, c.t.Name)
		out.MinVCPU = min(out.MinVCPU, c.t.VCPU)
		out.MinMemGiB = math.Min(out.MinMemGiB, c.t.MemGiB)
		out.MaxVCPU = max(out.MaxVCPU, c.t.VCPU)
		out.MaxMemGiB = math.Max(out.MaxMemGiB, c.t.MemGiB)
	}
	return out, nil
}
