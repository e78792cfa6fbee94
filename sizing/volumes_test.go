package sizing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every volume the planner may choose is within gp3's limits; IOPS follow
// the throughput (0.25 MiB/s per IOPS), and the journal holds its files.
func TestVolumeChoicesWithinGP3(t *testing.T) {
	p := DefaultParams()
	choices := VolumeChoices(p)
	require.Len(t, choices, len(ledgerLadderGiB)*len(throughputLadderMiB))
	for _, v := range choices {
		require.NoError(t, v.Validate(), "%+v", v)
	}
	v := NewVolumes(1024*GiB, 2000*float64(MiB), p)
	assert.Equal(t, Volumes{LedgerBytes: 1024 * GiB, JournalBytes: 24 * GiB, ThroughputBytes: 2000 * float64(MiB), LedgerIOPS: 8000, JournalIOPS: 8000}, v)
	v = NewVolumes(1024*GiB, 125*float64(MiB), p)
	assert.Equal(t, 3000, v.LedgerIOPS)
	assert.Equal(t, 6000, v.JournalIOPS, "the journal keeps its fsync IOPS")
	assert.Equal(t, int64(24*GiB), v.JournalBytes, "the current journal file of 2 GiB (the chart keeps no backups) and the largest write cache, 16 GiB, unflushed: 18 GiB in 8 GiB steps")

	for name, tc := range map[string]struct {
		v    Volumes
		want string
	}{
		"ledger too large":           {Volumes{LedgerBytes: 65 * 1024 * GiB, JournalBytes: 16 * GiB, ThroughputBytes: 125 * float64(MiB), LedgerIOPS: 3000, JournalIOPS: 3000}, "ledgerVolume"},
		"throughput beyond gp3":      {NewVolumes(1024*GiB, 2100*float64(MiB), p), "volumeThroughput"},
		"throughput beyond its IOPS": {Volumes{LedgerBytes: 1024 * GiB, JournalBytes: 16 * GiB, ThroughputBytes: 1000 * float64(MiB), LedgerIOPS: 3000, JournalIOPS: 4000}, "ledgerThroughput"},
		"IOPS beyond 500 per GiB":    {Volumes{LedgerBytes: 1024 * GiB, JournalBytes: 8 * GiB, ThroughputBytes: 125 * float64(MiB), LedgerIOPS: 3000, JournalIOPS: 6000}, "journalIOPS"},
		"throughput below gp3's":     {Volumes{LedgerBytes: 1024 * GiB, JournalBytes: 16 * GiB, ThroughputBytes: 100 * float64(MiB), LedgerIOPS: 3000, JournalIOPS: 3000}, "volumeThroughput"},
	} {
		err := tc.v.Validate()
		var fe *FieldError
		require.ErrorAs(t, err, &fe, name)
		assert.Contains(t, fe.Field, tc.want, name)
	}
}

// gp3 is priced by size, throughput above 125 MiB/s and IOPS above 3,000.
func TestGP3Price(t *testing.T) {
	pr := DefaultParams().Prices
	assert.InDelta(t, 16*0.08+3000*0.005, gp3Monthly(pr, 16*float64(GiB), 125*float64(MiB), 6000), 1e-9)
	assert.InDelta(t, 1024*0.08+375*0.04, gp3Monthly(pr, 1024*float64(GiB), 500*float64(MiB), 3000), 1e-9)
}

// The volume search counts bookies exactly as SizeBookiesOn does.
func TestBookieCountMatchesSizing(t *testing.T) {
	p := DefaultParams()
	cat := testCatalog(t)
	for _, rate := range []float64{35e3, 1e6, 20e6} {
		w := guideWorkload()
		w.ProduceRate = rate
		storage := DataStax(w, 1).StorageBytes
		for _, name := range []string{"m6g.2xlarge", "r6g.4xlarge", "c6gn.4xlarge", "m7i.8xlarge"} {
			it, err := cat.Lookup(name)
			require.NoError(t, err)
			for _, v := range VolumeChoices(p) {
				require.Equal(t, SizeBookiesOn(w, it, p, v).Count, bookieCount(w, it, p, v, storage), "%s at %.0f msg/s on %+v", name, rate, v)
			}
		}
	}
}

// At every phase, the volumes chosen for EBS bookies are within gp3's
// limits, what the plan's EBS line prices, and make a bookie fleet no
// dearer than the volumes `size` uses (the old fixed 2-4 TB at 250 MiB/s).
func TestVolumesAreDecisionVariables(t *testing.T) {
	p := testPlanner(t)
	ebsPhases := 0
	for _, ph := range Phases() {
		fp, err := p.PlanFleet(ph, testFleet())
		require.NoError(t, err)
		for _, rp := range fp.Regions {
			b := rp.Bookies
			if b.LocalNVMe {
				assert.Zero(t, b.LedgerDiskBytes, "%s %s", ph.Name, rp.Region)
				continue
			}
			ebsPhases++
			v := b.Volumes()
			require.NoError(t, v.Validate(), "%s %s", ph.Name, rp.Region)
			it, err := p.Catalog.Lookup(b.InstanceType)
			require.NoError(t, err)
			spec := specNamed(t, rp.Region)
			fleet := p.fleetPricer(Bookie, spec.PriceFactor, spec.BookieSpotShare, rp.workload)
			fixed := SizeBookiesOn(rp.workload, it, p.Params, defaultVolumes(rp.workload, p.Params))
			assert.LessOrEqual(t, fleet(it, b), fleet(it, fixed)+1e-6, "%s %s", ph.Name, rp.Region)
		}
	}
	assert.Positive(t, ebsPhases)
}

func specNamed(t *testing.T, name string) RegionSpec {
	for _, s := range testFleet() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no region %s", name)
	return RegionSpec{}
}
