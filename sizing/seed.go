package sizing

import (
	"fmt"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// SeedFleet is one row of the seed's hand-written milestone table
// (the design notes, multi-region-pulsar-on-eks.md, "Multi-Region
// Cost-Optimized Scaling Milestones"). It is kept only to compare against:
// nothing is sized from it.
type SeedFleet struct {
	Phase                  string
	Role                   model.RegionRole
	Brokers, BrokersSpot   int
	Bookies, BookiesSpot   int
	BrokerType, BookieType string
	BookieDiskBytes        int64 // EBS per bookie in the seed; 0 for instance-store types
	Note                   string
}

// SeedTable is the seed's milestone table. The seed names no instance type
// per row; its Provisioners use m5/r5 2xlarge up to 1M msg/s and Graviton
// r6g.4xlarge with i3/i4 storage types from 10M, so those price its rows.
// Its disaster-recovery region appears only at 100M (50 brokers, 50
// bookies, no spot split given: priced at the DR profile's 50%).
var SeedTable = []SeedFleet{
	{"35k", "primary", 3, 2, 3, 2, "m5.2xlarge", "m5.2xlarge", 500 * GiB, ""},
	{"35k", "secondary", 3, 3, 3, 3, "m5.2xlarge", "m5.2xlarge", 500 * GiB, ""},
	{"100k", "primary", 8, 6, 8, 6, "m5.2xlarge", "m5.2xlarge", 500 * GiB, ""},
	{"100k", "secondary", 6, 5, 6, 6, "m5.2xlarge", "m5.2xlarge", 500 * GiB, ""},
	{"1m", "primary", 20, 15, 25, 20, "m5.2xlarge", "r5.2xlarge", 500 * GiB, ""},
	{"1m", "secondary", 15, 13, 15, 14, "m5.2xlarge", "r5.2xlarge", 500 * GiB, ""},
	{"10m", "primary", 75, 55, 100, 75, "r6g.4xlarge", "i3.4xlarge", 0, ""},
	{"10m", "secondary", 50, 45, 75, 70, "r6g.4xlarge", "i3.4xlarge", 0, ""},
	{"100m", "primary", 300, 225, 350, 275, "r6g.4xlarge", "i3.4xlarge", 0, "the seed's phase-4 text says 250 brokers / 300 bookies; its table says 300 / 350"},
	{"100m", "secondary", 200, 180, 250, 230, "r6g.4xlarge", "i3.4xlarge", 0, "the seed's phase-4 text says 200 / 250"},
	{"100m", "dr", 50, 25, 50, 25, "r6g.4xlarge", "i3.4xlarge", 0, "no split in the seed: 50% spot assumed"},
}

// SeedComparison sets a seed row beside the planner's fleet for the same
// region and phase, priced with the same catalog, spot discount and region
// factor. Costs cover brokers and bookies (the rows the seed lists) plus
// bookie EBS.
type SeedComparison struct {
	Phase  string           `json:"phase"`
	Region string           `json:"region"`
	Role   model.RegionRole `json:"role"`

	SeedBrokers     int     `json:"seedBrokers"`
	SeedBrokersSpot int     `json:"seedBrokersSpot"`
	SeedBookies     int     `json:"seedBookies"`
	SeedBookiesSpot int     `json:"seedBookiesSpot"`
	SeedTypes       string  `json:"seedTypes"`
	SeedMonthlyUSD  float64 `json:"seedMonthlyUSD"`
	// SeedBrokersNeeded and SeedBookiesNeeded are what the planner's limits
	// require on the seed's instance types for this workload.
	SeedBrokersNeeded int `json:"seedBrokersNeeded"`
	SeedBookiesNeeded int `json:"seedBookiesNeeded"`
	// SeedBookieLimit is the limit that sets SeedBookiesNeeded.
	SeedBookieLimit string `json:"seedBookieLimit"`

	PlanBrokers     int     `json:"planBrokers"`
	PlanBrokersSpot int     `json:"planBrokersSpot"`
	PlanBookies     int     `json:"planBookies"`
	PlanBookiesSpot int     `json:"planBookiesSpot"`
	PlanTypes       string  `json:"planTypes"`
	PlanMonthlyUSD  float64 `json:"planMonthlyUSD"`
	// SeedPerMillionUSD and PlanPerMillionUSD are those brokers and
	// bookies per million messages the region's clients publish: the
	// seed's implied figure beside the plan's, like for like (the plan's
	// all-in figure is Cost.PerMillionMessagesUSD).
	SeedPerMillionUSD float64 `json:"seedPerMillionUSD"`
	PlanPerMillionUSD float64 `json:"planPerMillionUSD"`
	Note              string  `json:"note,omitempty"`
}

// CompareSeed compares the seed's rows of a phase with a fleet plan.
func (p *Planner) CompareSeed(fp FleetPlan) ([]SeedComparison, error) {
	var out []SeedComparison
	for _, s := range SeedTable {
		if s.Phase != fp.Phase.Name {
			continue
		}
		var rp *RegionPlan
		for i := range fp.Regions {
			if fp.Regions[i].Role == s.Role {
				rp = &fp.Regions[i]
			}
		}
		if rp == nil {
			continue
		}
		bt, err := p.Catalog.Lookup(s.BrokerType)
		if err != nil {
			return nil, fmt.Errorf("seed row %s/%s: %w", s.Phase, s.Role, err)
		}
		kt, err := p.Catalog.Lookup(s.BookieType)
		if err != nil {
			return nil, fmt.Errorf("seed row %s/%s: %w", s.Phase, s.Role, err)
		}
		f := p.priceFactor(rp)
		w := rp.workload
		seedW := w
		if s.BookieDiskBytes > 0 {
			seedW.BookieDiskBytes = s.BookieDiskBytes
		}
		needBookies := SizeBookies(seedW, kt, p.Params)
		needBrokers := SizeBrokers(seedW, bt, p.Params, DataStax(seedW, bookieDisk(kt, defaultVolumes(seedW, p.Params))).BookiesForStorage)
		c := SeedComparison{
			Phase: s.Phase, Region: rp.Region, Role: s.Role,
			SeedBrokers: s.Brokers, SeedBrokersSpot: s.BrokersSpot, SeedBookies: s.Bookies, SeedBookiesSpot: s.BookiesSpot,
			SeedTypes:         s.BrokerType + " / " + s.BookieType,
			SeedBrokersNeeded: needBrokers.Count, SeedBookiesNeeded: needBookies.Count, SeedBookieLimit: bindingLimit(needBookies),
			PlanBrokers: rp.Brokers.Count, PlanBrokersSpot: rp.Brokers.Spot, PlanBookies: rp.Bookies.Count, PlanBookiesSpot: rp.Bookies.Spot,
			PlanTypes: rp.Brokers.InstanceType + " / " + rp.Bookies.InstanceType, Note: s.Note,
		}
		seedVolumes := Volumes{}
		if s.BookieDiskBytes > 0 {
			seedVolumes = defaultVolumes(seedW, p.Params)
		}
		c.SeedMonthlyUSD = round2(p.fleetMonthly(bt, s.Brokers, s.BrokersSpot, f, Volumes{}) + p.fleetMonthly(kt, s.Bookies, s.BookiesSpot, f, seedVolumes))
		pbt, _ := p.Catalog.Lookup(rp.Brokers.InstanceType)
		pkt, _ := p.Catalog.Lookup(rp.Bookies.InstanceType)
		c.PlanMonthlyUSD = round2(p.fleetMonthly(pbt, rp.Brokers.Count, rp.Brokers.Spot, f, Volumes{}) +
			p.fleetMonthly(pkt, rp.Bookies.Count, rp.Bookies.Spot, f, rp.Bookies.Volumes()))
		c.SeedPerMillionUSD = PerMillion(c.SeedMonthlyUSD, rp.Workload.ProduceRate)
		c.PlanPerMillionUSD = PerMillion(c.PlanMonthlyUSD, rp.Workload.ProduceRate)
		out = append(out, c)
	}
	return out, nil
}

func (p *Planner) priceFactor(rp *RegionPlan) float64 {
	if rp.priceFactor == 0 {
		return 1
	}
	return rp.priceFactor
}

// fleetMonthly prices count nodes of t with spot of them on spot, plus a
// root volume each and, for EBS bookies, their ledger and journal volumes
// (zero Volumes for none).
func (p *Planner) fleetMonthly(t InstanceType, count, spot int, factor float64, v Volumes) float64 {
	pr := p.Params.Prices
	node := t.USDPerHr * pr.HoursPerMonth * factor
	c := float64(spot)*node*(1-p.Params.SpotDiscount) + float64(count-spot)*node
	c += float64(count) * gp3Monthly(pr, float64(pr.RootVolumeBytes), 0, 0) * factor
	if v.LedgerBytes > 0 {
		c += float64(count) * v.Monthly(pr) * factor
	}
	return c
}

// bindingLimit names what sets a role's count: the limit, and for zone
// headroom the demand that runs out first with a zone down.
func bindingLimit(r RoleSize) string {
	for _, l := range r.Limits {
		if l.Name == r.LimitingFactor && l.Binds != "" {
			return l.Name + ": " + l.Binds
		}
	}
	return r.LimitingFactor
}
