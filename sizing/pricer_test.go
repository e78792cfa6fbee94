package sizing

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The chooser prices a fleet as SplitSpot splits it, the on-demand base
// included; a blend of the share over every node would price the pools
// whose base binds as mostly spot.
func TestFleetPricerSplitsAsThePlan(t *testing.T) {
	p := testPlanner(t)
	ebs, err := p.Catalog.Lookup("m7g.2xlarge")
	require.NoError(t, err)
	nvme, err := p.Catalog.Lookup("i4g.2xlarge")
	require.NoError(t, err)
	w := Workload{Zones: 3, Ensemble: 3, WriteQuorum: 3, AckQuorum: 2}
	node := func(it InstanceType) float64 { return it.USDPerHr * p.Params.Prices.HoursPerMonth }
	root := gp3Monthly(p.Params.Prices, float64(p.Params.Prices.RootVolumeBytes), 0, 0)
	spotFactor := 1 - p.Params.SpotDiscount
	for _, tc := range []struct {
		name      string
		role      Role
		it        InstanceType
		count     int
		share     float64
		spotNodes int
	}{
		{"the bookies' base binds: 3 of 3 on-demand", Bookie, ebs, 3, 0.9, 0},
		{"bookies above the base: 12 x 0.7 = 8 spot", Bookie, ebs, 12, 0.7, 8},
		{"the base caps the share: 6 x 0.9 leaves 3 on-demand", Bookie, ebs, 6, 0.9, 3},
		{"NVMe bookies are on-demand only", Bookie, nvme, 12, 0.9, 0},
		{"brokers keep one per zone", Broker, ebs, 4, 0.9, 1},
		{"proxies are on-demand", Proxy, ebs, 3, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Every row carries volumes; only EBS bookies pay for them.
			v := NewVolumes(1024*GiB, 250*float64(MiB), p.Params)
			r := RoleSize{Role: tc.role, Count: tc.count}.withVolumes(v)
			want := node(tc.it)*(float64(tc.spotNodes)*spotFactor+float64(tc.count-tc.spotNodes)) + float64(tc.count)*root
			if tc.role == Bookie && !tc.it.HasNVMe() {
				want += float64(tc.count) * v.Monthly(p.Params.Prices)
			}
			assert.InDelta(t, want, p.fleetPricer(tc.role, 1, tc.share, w)(tc.it, r), 1e-6)
		})
	}
}

// What the chooser minimized is what the plan reports: for every region at
// every phase, the chosen brokers' and bookies' price is their compute
// line plus their EBS.
func TestChooserPricesWhatThePlanReports(t *testing.T) {
	p := testPlanner(t)
	root := gp3Monthly(p.Params.Prices, float64(p.Params.Prices.RootVolumeBytes), 0, 0)
	for _, ph := range Phases() {
		fp, err := p.PlanFleet(ph, testFleet())
		require.NoError(t, err)
		for _, rp := range fp.Regions {
			spec := specNamed(t, rp.Region)
			f := p.priceFactor(&rp)
			for _, c := range []struct {
				r     RoleSize
				share float64
			}{{rp.Brokers, spec.BrokerSpotShare}, {rp.Bookies, spec.BookieSpotShare}} {
				it, err := p.Catalog.Lookup(c.r.InstanceType)
				require.NoError(t, err)
				reported := rp.Cost.ByRole[c.r.Role] + float64(c.r.Count)*root*f
				if c.r.Role == Bookie && !c.r.LocalNVMe {
					reported += float64(c.r.Count) * c.r.Volumes().Monthly(p.Params.Prices) * f
				}
				assert.InDelta(t, reported, p.fleetPricer(c.r.Role, f, c.share, rp.workload)(it, c.r), 0.02,
					"%s %s %s", ph.Name, rp.Region, c.r.Role)
				// The chooser's own price of its choice (the architecture
				// option it kept) is the reported one too.
				i := slices.IndexFunc(rp.ArchOptions[c.r.Role], func(o ArchOption) bool { return o.InstanceType == c.r.InstanceType })
				require.GreaterOrEqual(t, i, 0, "%s %s %s", ph.Name, rp.Region, c.r.Role)
				assert.InDelta(t, reported, rp.ArchOptions[c.r.Role][i].MonthlyUSD, 0.02, "%s %s %s: what the chooser priced", ph.Name, rp.Region, c.r.Role)
			}
		}
	}
}
