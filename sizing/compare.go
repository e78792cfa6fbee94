package sizing

import (
	"fmt"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Alternative is one what-if over a fleet: the same phase and stacks with
// one lever moved.
type Alternative struct {
	Name string
	// apply moves the lever on copies of the phase and the regions.
	apply func(ph *Phase, regions []RegionSpec)
}

// Comparison is the fleet planned under one alternative.
type Comparison struct {
	Name string `json:"name"`
	// Total is the fleet's cost, every line included.
	Total Cost `json:"total"`
	// ByRegion is each region's monthly total.
	ByRegion map[string]float64 `json:"byRegion"`
	// DeltaUSD and DeltaPct are against the first alternative (the fleet
	// as configured).
	DeltaUSD float64 `json:"deltaUSD"`
	DeltaPct float64 `json:"deltaPct"`
}

// Alternatives are the levers `plan --compare` moves, one at a time, after
// the fleet as configured: where the primary's offload bucket replicates,
// S3 RTC, the spot shares, and producer compression.
func Alternatives() []Alternative {
	alts := []Alternative{{Name: "as configured", apply: func(*Phase, []RegionSpec) {}}}
	for _, b := range []struct {
		name string
		n    func(regions []RegionSpec) int
	}{
		{"bucket replication from the primary: both peers", func(r []RegionSpec) int { return len(r) - 1 }},
		{"bucket replication from the primary: DR only", drOnly},
		{"bucket replication from the primary: none", func([]RegionSpec) int { return 0 }},
	} {
		alts = append(alts, Alternative{Name: b.name, apply: func(_ *Phase, r []RegionSpec) {
			for i := range r {
				if r[i].Role == model.RolePrimary {
					r[i].BucketReplicas = b.n(r)
				}
			}
		}})
	}
	for _, on := range []bool{true, false} {
		alts = append(alts, Alternative{Name: fmt.Sprintf("S3 RTC %s wherever buckets replicate", map[bool]string{true: "on", false: "off"}[on]),
			apply: func(_ *Phase, r []RegionSpec) {
				for i := range r {
					r[i].ReplicationTimeControl = on && r[i].BucketReplicas > 0
				}
			}})
	}
	for _, s := range []struct {
		name  string
		share float64
	}{{"spot: none (every node on-demand)", 0}, {"spot: 90% of brokers and bookies (the on-demand base kept)", 0.9}} {
		alts = append(alts, Alternative{Name: s.name, apply: func(_ *Phase, r []RegionSpec) {
			for i := range r {
				r[i].BrokerSpotShare, r[i].BookieSpotShare = s.share, s.share
			}
		}})
	}
	for _, ratio := range []float64{1, 2, 4} {
		alts = append(alts, Alternative{Name: fmt.Sprintf("producer compression %gx", ratio), apply: func(ph *Phase, _ []RegionSpec) {
			ph.CompressionRatio = ratio
		}})
	}
	return alts
}

// drOnly is how many buckets a bucket replicating to the DR region only
// replicates to: one, or none in a fleet without a DR region.
func drOnly(regions []RegionSpec) int {
	for _, r := range regions {
		if r.Role == model.RoleDR {
			return 1
		}
	}
	return 0
}

// Compare plans the fleet under each alternative, the first being the
// baseline the deltas are measured against.
func (p *Planner) Compare(ph Phase, regions []RegionSpec, alts []Alternative) ([]Comparison, error) {
	var out []Comparison
	for _, a := range alts {
		aph, ar := ph, append([]RegionSpec(nil), regions...)
		a.apply(&aph, ar)
		fp, err := p.PlanFleet(aph, ar)
		if err != nil {
			return nil, fmt.Errorf("alternative %q: %w", a.Name, err)
		}
		c := Comparison{Name: a.Name, Total: fp.Total, ByRegion: map[string]float64{}}
		for _, r := range fp.Regions {
			c.ByRegion[r.Region] = r.Cost.TotalUSD
		}
		if len(out) > 0 && out[0].Total.TotalUSD > 0 {
			c.DeltaUSD = round2(c.Total.TotalUSD - out[0].Total.TotalUSD)
			c.DeltaPct = round2(100 * c.DeltaUSD / out[0].Total.TotalUSD)
		}
		out = append(out, c)
	}
	return out, nil
}

// Sensitivity is the fleet planned with one assumption scaled.
type Sensitivity struct {
	// Param is the assumption (Params' field, as documented).
	Param  string  `json:"param"`
	Factor float64 `json:"factor"`
	Value  float64 `json:"value"`
	// Display is Value with its unit.
	Display string `json:"display"`
	// Brokers and Bookies are the fleet's counts.
	Brokers int `json:"brokers"`
	Bookies int `json:"bookies"`
	// BrokerVCPUs are the brokers' vCPUs: the count alone can fall when
	// the planner picks larger types.
	BrokerVCPUs int `json:"brokerVCPUs"`
	// TotalUSD is the fleet's monthly cost; DeltaPct is against the
	// planned assumptions (factor 1).
	TotalUSD float64 `json:"totalUSD"`
	DeltaPct float64 `json:"deltaPct"`
}

// sensitive are the assumptions with no benchmark behind their exact
// value, which decide the broker and NVMe bookie counts, and how to scale
// each one.
var sensitive = []struct {
	name    string
	value   func(*Params) *float64
	display func(float64) string
}{
	{"brokerMsgPerVCPU", func(p *Params) *float64 { return &p.BrokerMsgPerVCPU },
		func(v float64) string { return fmt.Sprintf("%.0f msg/s per vCPU", v) }},
	{"brokerWriteBytesPerVCPU", func(p *Params) *float64 { return &p.BrokerWriteBytesPerVCPU },
		func(v float64) string { return FormatSI(v) + "/s per vCPU" }},
	{"nvmeWriteBytesPerGB", func(p *Params) *float64 { return &p.NVMeWriteBytesPerGB },
		func(v float64) string { return FormatSI(v) + "/s per GB of NVMe" }},
}

// Sensitivities plans the fleet with each sensitive assumption at its
// value, halved and doubled.
func (p *Planner) Sensitivities(ph Phase, regions []RegionSpec) ([]Sensitivity, error) {
	var out []Sensitivity
	var base float64
	for _, s := range sensitive {
		for _, f := range []float64{1, 0.5, 2} {
			params := p.Params
			v := s.value(&params)
			*v *= f
			scaled, err := NewPlanner(p.Catalog, params)
			if err != nil {
				return nil, err
			}
			fp, err := scaled.PlanFleet(ph, regions)
			if err != nil {
				return nil, fmt.Errorf("%s x%g: %w", s.name, f, err)
			}
			r := Sensitivity{Param: s.name, Factor: f, Value: *v, Display: s.display(*v), TotalUSD: fp.Total.TotalUSD}
			for _, rp := range fp.Regions {
				r.Brokers += rp.Brokers.Count
				r.Bookies += rp.Bookies.Count
				if t, err := p.Catalog.Lookup(rp.Brokers.InstanceType); err == nil {
					r.BrokerVCPUs += rp.Brokers.Count * t.VCPU
				}
			}
			if f == 1 {
				base = r.TotalUSD
			}
			if base > 0 {
				r.DeltaPct = round2(100 * (r.TotalUSD - base) / base)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// Advice is a setting of one stack that costs more than the plan's own
// recommendation (docs/capacity-plan.md, "Cross-region replication of the
// offload bucket"), with what it costs a month.
type Advice struct {
	Region      string  `json:"region"`
	Setting     string  `json:"setting"`
	Recommended string  `json:"recommended"`
	ExtraUSD    float64 `json:"extraUSD"`
}

// AdviceFromRate is the phase rate from which bucket replication to more
// than the DR region is advised against (10M msg/s).
const AdviceFromRate = 10e6

// Advise lists the stacks' settings that cost more than the plan
// recommends: S3 RTC at any phase (only for its 15-minute SLA), and from
// 10M msg/s a bucket replicated beyond the DR region (geo-replicated
// namespaces already have their copies in the peers).
func (p *Planner) Advise(ph Phase, regions []RegionSpec, fp FleetPlan) ([]Advice, error) {
	var out []Advice
	for i, r := range regions {
		if r.ReplicationTimeControl && r.BucketReplicas > 0 {
			out = append(out, Advice{Region: r.Name, Setting: "tieredStorage.replicationTimeControl: true",
				Recommended: "off, unless you need S3's 15-minute replication SLA", ExtraUSD: regionCost(fp, r.Name).S3.RTCUSD})
		}
		dr := drOnly(regions)
		if ph.Rate < AdviceFromRate || r.BucketReplicas <= dr {
			continue
		}
		alt := append([]RegionSpec(nil), regions...)
		alt[i].BucketReplicas = dr
		afp, err := p.PlanFleet(ph, alt)
		if err != nil {
			return nil, err
		}
		out = append(out, Advice{Region: r.Name, Setting: fmt.Sprintf("tieredStorage.replicateTo: %d peers", r.BucketReplicas),
			Recommended: "the DR region only, or none: geo-replicated namespaces already have their copies in the peers",
			ExtraUSD:    round2(fp.Total.TotalUSD - afp.Total.TotalUSD)})
	}
	return out, nil
}

// regionCost is one region's cost in a fleet plan.
func regionCost(fp FleetPlan, region string) Cost {
	for _, r := range fp.Regions {
		if r.Region == region {
			return r.Cost
		}
	}
	return Cost{}
}
