package sizing

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCatalog is the embedded instance catalog.
func testCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := DefaultCatalog()
	require.NoError(t, err)
	return c
}

func testPlanner(t testing.TB) *Planner {
	t.Helper()
	p, err := NewPlanner(testCatalog(t), DefaultParams())
	require.NoError(t, err)
	return p
}

// guideWorkload is the DataStax guide's worked example: 1 KB messages,
// 100,000 msg/s, replication factor 3, TTL 3 h, 4 TB disks, 3 zones.
func guideWorkload() Workload {
	return Workload{ProduceRate: 100_000, MessageBytes: 1 * KB, Ensemble: 3, WriteQuorum: 3, AckQuorum: 2,
		TTL: 3 * time.Hour, Zones: 3, BookieDiskBytes: 4 * TB, ConsumerFanout: 1}.WithDefaults()
}

func TestDataStaxWorkedExample(t *testing.T) {
	w := guideWorkload()
	require.NoError(t, w.Validate())
	got := DataStax(w, float64(w.BookieDiskBytes))
	assert.Equal(t, 3_240_000_000_000.0, got.StorageBytes, "3 x 1 KB x 100,000 x 10,800 s")
	assert.Equal(t, 3_240_000_000.0, got.StorageBytes/float64(KB), "the guide's 3,240,000,000 KB")
	assert.Equal(t, 3, got.BookiesForStorage)
	assert.Equal(t, 3, got.BrokersForStorage)
}

func TestDataStaxRounding(t *testing.T) {
	for _, tc := range []struct {
		name             string
		rate             float64
		zones, ensemble  int
		bookies, brokers int
	}{
		{"raw 1 -> min 3", 100_000, 3, 3, 3, 3},
		{"raw 4 -> 6 (multiple of 3 zones)", 400_000, 3, 3, 6, 3},
		{"raw 10 -> 12 bookies, 4 -> 6 brokers", 1_000_000, 3, 3, 12, 6},
		{"two zones: min 3 -> 4", 100_000, 2, 3, 4, 4},
		{"ensemble 5 raises the floor", 100_000, 3, 5, 6, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := guideWorkload()
			w.ProduceRate, w.Zones, w.Ensemble = tc.rate, tc.zones, tc.ensemble
			got := DataStax(w, float64(w.BookieDiskBytes))
			assert.Equal(t, tc.bookies, got.BookiesForStorage)
			assert.Equal(t, tc.brokers, got.BrokersForStorage)
		})
	}
}

func TestSizeWorkloadAppliesEveryLimit(t *testing.T) {
	p := testPlanner(t)
	storage, brokers, bookies, err := p.SizeWorkload(guideWorkload(), "", "")
	require.NoError(t, err)
	assert.Equal(t, 3, storage.BookiesForStorage)
	// The instance's EBS bandwidth binds first: journal and ledger writes,
	// 2 x 300 MB/s, over m6g.2xlarge's sustained 296.9 MB/s (its 2,375
	// Mbps baseline, not the 4,750 Mbps burst) at 60% -> 4 -> 6. Zone
	// headroom asks the same: after losing one of 3 zones, an ensemble of
	// 3 must still form, so 3 bookies (the guide's answer) are not enough.
	assert.Equal(t, "m6g.2xlarge", bookies.InstanceType)
	assert.Equal(t, 6, bookies.Count)
	assert.Equal(t, LimitEBSBandwidth, bookies.LimitingFactor)
	assert.GreaterOrEqual(t, brokers.Count, 3)
	names := map[string]bool{}
	for _, l := range bookies.Limits {
		names[l.Name] = true
		assert.NotEmpty(t, l.Detail)
	}
	for _, want := range []string{LimitStorage, LimitNetwork, LimitDiskWrite, LimitEBSBandwidth, LimitZoneHeadroom} {
		assert.True(t, names[want], "bookie limit %s reported", want)
	}
}

func TestFixedInstanceTypeUnknown(t *testing.T) {
	p := testPlanner(t)
	_, _, _, err := p.SizeWorkload(guideWorkload(), "m5.huge", "")
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "broker-instance", fe.Field)
	assert.Contains(t, err.Error(), "m5.2xlarge", "the error lists the catalog")
}

// Property: counts never decrease when rate, message size or TTL grow, are
// multiples of the zone count and at least the ensemble.
func TestCountsMonotonicAndAligned(t *testing.T) {
	p := testPlanner(t)
	grow := map[string]func(w *Workload, f float64){
		"rate": func(w *Workload, f float64) { w.ProduceRate *= f },
		"size": func(w *Workload, f float64) { w.MessageBytes = int64(float64(w.MessageBytes) * f) },
		"ttl":  func(w *Workload, f float64) { w.TTL = time.Duration(float64(w.TTL) * f) },
	}
	for name, g := range grow {
		for _, zones := range []int{2, 3, 4} {
			for _, fixed := range []struct{ broker, bookie string }{{"m6g.4xlarge", "r6g.4xlarge"}, {"c6gn.8xlarge", "i4i.4xlarge"}} {
				prevBk, prevBr := 0, 0
				for _, f := range []float64{1, 1.7, 3, 10, 31, 100, 400} {
					w := guideWorkload()
					w.Zones, w.Ensemble = zones, 3
					g(&w, f)
					_, br, bk, err := p.SizeWorkload(w, fixed.broker, fixed.bookie)
					require.NoError(t, err)
					assert.GreaterOrEqual(t, bk.Count, prevBk, "%s x%v zones=%d bookies", name, f, zones)
					assert.GreaterOrEqual(t, br.Count, prevBr, "%s x%v zones=%d brokers", name, f, zones)
					assert.Zero(t, bk.Count%zones, "bookies %d multiple of %d zones", bk.Count, zones)
					assert.Zero(t, br.Count%zones, "brokers %d multiple of %d zones", br.Count, zones)
					assert.GreaterOrEqual(t, bk.Count, w.Ensemble)
					prevBk, prevBr = bk.Count, br.Count
				}
			}
		}
	}
}

func TestEveryPhaseAndRegionPassesFailureChecks(t *testing.T) {
	p := testPlanner(t)
	for _, ph := range Phases() {
		fp, err := p.PlanFleet(ph, testFleet())
		require.NoError(t, err, ph.Name)
		for _, r := range fp.Regions {
			for _, fc := range r.Failures {
				assert.True(t, fc.Pass, "%s %s %q: %v", ph.Name, r.Region, fc.Scenario, fc.Notes)
				assert.False(t, fc.DataLoss)
			}
			assert.Zero(t, r.Bookies.Count%3)
			assert.Zero(t, r.Brokers.Count%3)
			assert.GreaterOrEqual(t, r.Brokers.OnDemand, 1)
			assert.GreaterOrEqual(t, r.Bookies.OnDemand, 1)
			assert.Equal(t, r.Proxies.Count, r.Proxies.OnDemand, "proxies on-demand only")
			assert.Equal(t, r.ZooKeeper.Count, r.ZooKeeper.OnDemand, "ZooKeeper on-demand only")
			if r.Bookies.LocalNVMe {
				assert.Zero(t, r.Bookies.Spot, "instance-store bookies never run on spot")
			}
			assert.GreaterOrEqual(t, len(r.Brokers.Alternatives), 3, "%s %s broker pool diversified", ph.Name, r.Region)
		}
	}
}

func TestFailureCheckFailsWithoutHeadroom(t *testing.T) {
	params := DefaultParams()
	params.ZoneHeadroom = false
	p, err := NewPlanner(testCatalog(t), params)
	require.NoError(t, err)
	fleet := testFleet()
	for i := range fleet {
		fleet[i].TargetUtilization = 1 // no slack either
	}
	fp, err := p.PlanFleet(Phases()[3], fleet) // 10m: network and CPU bound
	require.NoError(t, err)
	failed := false
	for _, r := range fp.Regions {
		for _, fc := range r.Failures {
			if fc.Scenario == ScenarioZoneLoss && !fc.Pass {
				failed = true
				assert.False(t, fc.CarriesLoad || fc.WritesContinue && fc.CarriesLoad)
			}
		}
	}
	assert.True(t, failed, "without zone headroom a zone loss must overload something")
}

func TestFailureCheckFlagsSingleAckCopy(t *testing.T) {
	p := testPlanner(t)
	fleet := testFleet()
	for i := range fleet {
		fleet[i].AckQuorum = 1
	}
	fp, err := p.PlanFleet(Phases()[0], fleet)
	require.NoError(t, err)
	fc := fp.Regions[0].Failures[0]
	assert.True(t, fc.DataLoss, "ack quorum 1: the only acknowledged copy can sit in the lost zone")
	assert.False(t, fc.Pass)
}

func TestWorkloadValidation(t *testing.T) {
	for _, tc := range []struct {
		field string
		mut   func(*Workload)
	}{
		{"rate", func(w *Workload) { w.ProduceRate = 0 }},
		{"rate", func(w *Workload) { w.ProduceRate = -5 }},
		{"rate", func(w *Workload) { w.ProduceRate = 1e18 }},
		{"rate", func(w *Workload) { w.ProduceRate = math.NaN() }},
		{"replicatedInRate", func(w *Workload) { w.ReplicatedInRate = 1e12 }},
		{"messageSize", func(w *Workload) { w.MessageBytes = 6 * MiB }},
		{"messageSize", func(w *Workload) { w.MessageBytes = 0 }},
		{"ackQuorum", func(w *Workload) { w.AckQuorum = 4 }},
		{"ackQuorum", func(w *Workload) { w.AckQuorum = 0 }},
		{"ensemble", func(w *Workload) { w.Ensemble = 2 }},
		{"ensemble", func(w *Workload) { w.Ensemble = MaxEnsemble + 1 }},
		{"ensemble", func(w *Workload) { w.Ensemble, w.WriteQuorum = 1_000_000, 1_000_000 }},
		{"writeQuorum", func(w *Workload) { w.WriteQuorum = 0 }},
		{"ttl", func(w *Workload) { w.TTL = 0 }},
		{"zones", func(w *Workload) { w.Zones = 0 }},
		{"targetUtilization", func(w *Workload) { w.TargetUtilization = 1.5 }},
		{"bookieDisk", func(w *Workload) { w.BookieDiskBytes = -1 }},
		{"diskUsableFraction", func(w *Workload) { w.DiskUsableFraction = 2 }},
		{"compressionRatio", func(w *Workload) { w.CompressionRatio = 0.5 }},
		{"compressionRatio", func(w *Workload) { w.CompressionRatio = 21 }},
		{"geoReplicatedShare", func(w *Workload) { w.GeoReplicatedShare = 1.01 }},
		{"offload.threshold", func(w *Workload) {
			w.Offload = OffloadPolicy{Enabled: true, MaxBlockBytes: 64 * MB, ThresholdBytes: 10 * MB, LedgerRollover: time.Hour}
		}},
		{"offload.maxBlockSize", func(w *Workload) {
			w.Offload = OffloadPolicy{Enabled: true, MaxBlockBytes: 1 * MB, ThresholdBytes: 10 * GB, LedgerRollover: time.Hour}
		}},
	} {
		t.Run(tc.field, func(t *testing.T) {
			w := guideWorkload()
			tc.mut(&w)
			err := w.Validate()
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "want a FieldError, got %v", err)
			assert.Equal(t, tc.field, fe.Field)
			assert.Contains(t, err.Error(), "want ")
		})
	}
}

func TestSplitSpot(t *testing.T) {
	for _, tc := range []struct {
		count    int
		share    float64
		min      int
		spot, od int
		capped   bool
	}{
		{10, 0.7, 1, 7, 3, false},
		{3, 0.9, 1, 2, 1, false},
		{6, 0.7, 3, 3, 3, true}, // the on-demand base wins over the share
		{3, 1.0, 3, 0, 3, true},
		{6, 0, 3, 0, 6, false},
		{2, 0.5, 3, 0, 2, true}, // never more on-demand than nodes
	} {
		s, od, capped := SplitSpot(tc.count, tc.share, tc.min)
		assert.Equal(t, []int{tc.spot, tc.od}, []int{s, od}, "%+v", tc)
		assert.Equal(t, tc.capped, capped, "%+v", tc)
	}
}

func TestMinOnDemand(t *testing.T) {
	w := Workload{Zones: 3, Ensemble: 3}
	assert.Equal(t, 3, MinOnDemand(Bookie, w))
	assert.Equal(t, 3, MinOnDemand(Broker, w))
	w = Workload{Zones: 2, Ensemble: 3}
	assert.Equal(t, 4, MinOnDemand(Bookie, w), "the ensemble, rounded up to whole zones")
	assert.Equal(t, 0, MinOnDemand(Proxy, w), "proxies and ZooKeeper are all on-demand anyway")
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1KB": 1000, "1KiB": 1024, "1kb": 1000, "4TB": 4_000_000_000_000, "1.5GiB": 1610612736, "500Gi": 500 * GiB, "64 MB": 64_000_000, "7B": 7,
	} {
		got, err := ParseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "1000", "12XB", "KB", "1..2KB", "-1KB"} {
		_, err := ParseSize(bad)
		assert.Error(t, err, bad)
	}
	_, err := ParseSize("12XB")
	assert.Contains(t, err.Error(), "KiB")
}

func TestParseDuration(t *testing.T) {
	d, err := ParseDuration("7d")
	require.NoError(t, err)
	assert.Equal(t, 7*24*time.Hour, d)
	d, err = ParseDuration("3h")
	require.NoError(t, err)
	assert.Equal(t, 3*time.Hour, d)
	_, err = ParseDuration("three hours")
	assert.Error(t, err)
}

func TestCatalogParsing(t *testing.T) {
	c := testCatalog(t)
	m, err := c.Lookup("m7g.2xlarge")
	require.NoError(t, err)
	assert.Equal(t, ARM64, m.Arch)
	assert.Equal(t, "m7g", m.Family)
	assert.Equal(t, 3750.0, m.NetMbps)
	_, err = ParseCatalog(strings.NewReader(""))
	assert.Error(t, err)
	bad := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("instance_type,arch\nx.large,arm64\n"), 0o600))
	_, err = LoadCatalog(bad)
	assert.ErrorContains(t, err, "vcpu")
}

func TestPhaseByName(t *testing.T) {
	_, err := PhaseByName("2m")
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, err.Error(), "35k, 100k, 1m, 10m, 100m")
	for _, ph := range Phases() {
		w := Workload{ProduceRate: ph.Rate, MessageBytes: ph.MessageBytes, WriteQuorum: 3, TTL: ph.TTL, Zones: 3,
			BookieDiskBytes: ph.BookieDiskBytes, Offload: ph.Offload}.WithDefaults()
		require.NoError(t, w.Validate(), "phase %s policies are valid", ph.Name)
	}
}

func testFleet() []RegionSpec {
	both := []Arch{ARM64, AMD64}
	return []RegionSpec{
		{Name: "us-east-1", Role: "primary", Weight: 50, Zones: 3, ReplicatesTo: []string{"us-west-2"}, PriceFactor: 1,
			BrokerSpotShare: .7, BookieSpotShare: .7, Arches: both, Ensemble: 3, WriteQuorum: 3, AckQuorum: 2, BucketReplicas: 2},
		{Name: "us-west-2", Role: "secondary", Weight: 40, Zones: 3, ReplicatesTo: []string{"us-east-1"}, PriceFactor: 1,
			BrokerSpotShare: .9, BookieSpotShare: .9, Arches: both, Ensemble: 3, WriteQuorum: 3, AckQuorum: 2},
		{Name: "eu-west-1", Role: "dr", Weight: 10, Zones: 3, ReplicatesTo: []string{"us-east-1"}, PriceFactor: 1.07,
			BrokerSpotShare: .5, BookieSpotShare: .5, Arches: both, Ensemble: 3, WriteQuorum: 3, AckQuorum: 2},
	}
}

func TestBucketExpireDays(t *testing.T) {
	w := Workload{TTL: 24 * time.Hour, Retention: 2 * time.Hour}
	assert.Equal(t, 3, w.MinBucketDays(), "26 h round up to 2 days, plus one")
	for _, tc := range []struct {
		configured, want int
		err              string
	}{
		{0, 3 + BucketSafetyDays, ""},
		{3, 3, ""},
		{400, 400, ""},
		{2, 0, "needs at least 3 days"},
	} {
		got, err := BucketExpireDays(w, tc.configured)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
}

// Replicas in peer buckets live as long as the bucket lifecycle allows
// (deletes do not replicate): their storage grows with the lifetime and
// the number of peers, and archive tiers only turn on past Deep Archive.
func TestReplicaStorageFollowsBucketLifetime(t *testing.T) {
	planner := testPlanner(t)
	ph, err := PhaseByName("1m")
	require.NoError(t, err)
	plan := func(days, replicas int) RegionPlan {
		specs := testFleet()
		specs[0].BucketRetentionDays, specs[0].BucketReplicas = days, replicas
		fp, err := planner.PlanFleet(ph, specs)
		require.NoError(t, err)
		return fp.Regions[0]
	}
	short, long, none := plan(10, 2), plan(400, 2), plan(400, 0)
	assert.Equal(t, 10, short.BucketExpireDays)
	assert.InEpsilon(t, 40.0, long.Cost.S3.ReplicaStoredGB/short.Cost.S3.ReplicaStoredGB, 0.01)
	assert.Greater(t, long.Cost.S3.ReplicaStorageUSD, 10*short.Cost.S3.ReplicaStorageUSD)
	assert.Zero(t, none.Cost.S3.ReplicaStoredGB)
	assert.Equal(t, short.Cost.S3.StoredGB, long.Cost.S3.StoredGB, "the source bucket holds TTL + retention either way: Pulsar deletes its own ledgers")
	assert.False(t, short.ArchiveTiers)

	big, err := PhaseByName("100m")
	require.NoError(t, err)
	specs := testFleet()
	fp, err := planner.PlanFleet(big, specs)
	require.NoError(t, err)
	assert.False(t, fp.Regions[0].ArchiveTiers, "a 10-day bucket never reaches the archive tiers")
	specs[0].BucketRetentionDays = 365
	fp, err = planner.PlanFleet(big, specs)
	require.NoError(t, err)
	assert.True(t, fp.Regions[0].ArchiveTiers)
}

// A region-wide spot reclaim with fewer on-demand bookies than the
// ensemble, or fewer on-demand brokers than zones, fails its check.
func TestRegionSpotLossNeedsTheOnDemandBase(t *testing.T) {
	w := Workload{Zones: 3, Ensemble: 3, WriteQuorum: 3, AckQuorum: 2}
	rp := RegionPlan{Quorum: Quorum{Ensemble: 3, WriteQuorum: 3, AckQuorum: 2, MinRacksPerWriteQuorum: 2},
		Bookies:   RoleSize{Role: Bookie, Count: 6, Spot: 3, OnDemand: 3},
		Brokers:   RoleSize{Role: Broker, Count: 6, Spot: 3, OnDemand: 3},
		ZooKeeper: RoleSize{Role: ZooKeeper, Count: 3, OnDemand: 3}}
	assert.True(t, regionSpotLoss(rp, w).Pass)
	rp.Bookies.Spot, rp.Bookies.OnDemand = 4, 2
	f := regionSpotLoss(rp, w)
	assert.False(t, f.Pass)
	assert.Contains(t, strings.Join(f.Notes, "\n"), "2 on-demand bookies")
	rp.Bookies.Spot, rp.Bookies.OnDemand = 3, 3
	rp.Brokers.Spot, rp.Brokers.OnDemand = 4, 2
	assert.False(t, regionSpotLoss(rp, w).Pass, "a zone without an on-demand broker")
}

// Every priced line is in the total: transfer, bucket replication and RTC
// among them; a single NAT gateway costs less than one per zone.
func TestEveryCostLineIsInTheTotal(t *testing.T) {
	p := testPlanner(t)
	ph, err := PhaseByName("10m")
	require.NoError(t, err)
	plan := func(edit func(*RegionSpec)) RegionPlan {
		fleet := testFleet()
		edit(&fleet[0])
		rp, err := p.PlanRegion(ph, fleet, "us-east-1")
		require.NoError(t, err)
		return rp
	}
	off := plan(func(*RegionSpec) {})
	on := plan(func(s *RegionSpec) { s.ReplicationTimeControl = true })
	c := on.Cost
	assert.Positive(t, c.TransferUSD)
	assert.InDelta(t, c.ComputeUSD+c.EBSUSD+c.S3.TotalUSD+c.PlatformUSD+c.TransferUSD, c.TotalUSD, 0.05, "transfer is in the total")
	assert.Zero(t, off.Cost.S3.RTCUSD)
	assert.InDelta(t, c.S3.ReplicationGB*0.015, c.S3.RTCUSD, 0.01, "RTC at $0.015 per replicated GB")
	assert.InDelta(t, off.Cost.TotalUSD+c.S3.RTCUSD, c.TotalUSD, 0.05, "RTC is in the total")
	single := plan(func(s *RegionSpec) { s.NATGateways = 1 })
	assert.Less(t, single.Cost.PlatformUSD, off.Cost.PlatformUSD, "one NAT gateway, priced as one")
}

// A million messages' cost is the month's bill over the month's messages;
// nothing published, no figure.
func TestPerMillion(t *testing.T) {
	for _, tc := range []struct{ usd, rate, want float64 }{
		{2628, 1000, 1},       // 1,000 msg/s for 730 h is 2,628 million messages
		{26280, 1000, 10},     // ten times the bill
		{2628, 10_000, 0.1},   // ten times the messages
		{1e6, 0, 0},           // nothing published
		{1e6, math.NaN(), 0},  // nor an undefined rate
		{0.0001, 1e9, 0.0000}, // rounded to a hundredth of a cent
	} {
		assert.Equal(t, tc.want, PerMillion(tc.usd, tc.rate), "%v over %v msg/s", tc.usd, tc.rate)
	}
}

// Property: compression divides what is stored and sent, not the messages:
// at 2x the storage and the ingress halve, the CPU demand stays.
func TestCompressionHalvesBytesNotMessages(t *testing.T) {
	w := guideWorkload()
	c := w
	c.CompressionRatio = 2
	require.NoError(t, c.Validate())
	assert.InDelta(t, DataStax(w, 4e12).StorageBytes/2, DataStax(c, 4e12).StorageBytes, 1)
	assert.InDelta(t, w.IngressBytes()/2, c.IngressBytes(), 1e-6)
	assert.Equal(t, w.StoredRate(), c.StoredRate())
	typ, err := testCatalog(t).Lookup("m6g.4xlarge")
	require.NoError(t, err)
	for i, d := range brokerDemands(c, typ, DefaultParams()) {
		full := brokerDemands(w, typ, DefaultParams())[i]
		if d.Name == LimitCPU {
			p := DefaultParams()
			assert.Equal(t, math.Max(w.StoredRate()/p.BrokerMsgPerVCPU, w.IngressBytes()/2/p.BrokerWriteBytesPerVCPU), d.Load,
				"the messages' CPU does not change; the bytes' halves")
		} else {
			assert.InDelta(t, full.Load/2, d.Load, 1e-6, d.Name)
		}
	}
}

// The fleet's figure is its bill over the phase's messages, and it falls as
// the fleet grows (fixed costs spread over more messages).
func TestFleetCostPerMillionMessages(t *testing.T) {
	p := testPlanner(t)
	prev := math.Inf(1)
	for _, ph := range Phases() {
		fp, err := p.PlanFleet(ph, testFleet())
		require.NoError(t, err)
		want := fp.Total.TotalUSD / (ph.Rate * 730 * 3600 / 1e6)
		assert.InDelta(t, want, fp.Total.PerMillionMessagesUSD, 1e-4, ph.Name)
		assert.Less(t, fp.Total.PerMillionMessagesUSD, prev, "%s: cheaper per message than the phase before", ph.Name)
		prev = fp.Total.PerMillionMessagesUSD
	}
}

// Each alternative moves one lever: RTC off saves exactly the RTC line,
// no bucket replication saves replication, RTC and replica storage, and
// compression cuts the bill; the baseline is first, with no delta.
func TestCompareMovesOneLeverAtATime(t *testing.T) {
	p := testPlanner(t)
	ph, err := PhaseByName("10m")
	require.NoError(t, err)
	fleet := testFleet()
	fleet[0].ReplicationTimeControl = true
	cs, err := p.Compare(ph, fleet, Alternatives())
	require.NoError(t, err)
	by := map[string]Comparison{}
	for _, c := range cs {
		by[c.Name] = c
	}
	base := cs[0]
	require.Equal(t, "as configured", base.Name)
	assert.Zero(t, base.DeltaUSD)
	assert.Positive(t, base.Total.S3.RTCUSD)
	assert.InDelta(t, -base.Total.S3.RTCUSD, by["S3 RTC off wherever buckets replicate"].DeltaUSD, 0.05, "RTC off saves the RTC line")
	none := by["bucket replication from the primary: none"]
	assert.InDelta(t, -(base.Total.S3.ReplicationUSD + base.Total.S3.RTCUSD + base.Total.S3.ReplicaStorageUSD), none.DeltaUSD, 0.05)
	assert.Zero(t, none.Total.S3.ReplicationGB)
	dr := by["bucket replication from the primary: DR only"]
	assert.Less(t, none.Total.TotalUSD, dr.Total.TotalUSD)
	assert.Less(t, dr.Total.TotalUSD, by["bucket replication from the primary: both peers"].Total.TotalUSD)
	assert.Less(t, by["producer compression 4x"].Total.TotalUSD, by["producer compression 2x"].Total.TotalUSD)
	assert.Less(t, by["producer compression 2x"].Total.TotalUSD, by["producer compression 1x"].Total.TotalUSD)
	assert.Greater(t, by["spot: none (every node on-demand)"].Total.TotalUSD, base.Total.TotalUSD)
	for _, c := range cs {
		assert.InDelta(t, c.Total.TotalUSD-base.Total.TotalUSD, c.DeltaUSD, 0.05, c.Name)
	}
}

// Each calibration point is planned at its value, halved and doubled;
// the factor-1 rows are the plan itself, and fewer messages per vCPU never
// make the 100m fleet cheaper.
func TestSensitivities(t *testing.T) {
	p := testPlanner(t)
	ph, err := PhaseByName("100m")
	require.NoError(t, err)
	fp, err := p.PlanFleet(ph, testFleet())
	require.NoError(t, err)
	ss, err := p.Sensitivities(ph, testFleet())
	require.NoError(t, err)
	require.Len(t, ss, 9)
	rows := map[string]Sensitivity{}
	for _, s := range ss {
		rows[fmt.Sprintf("%s x%g", s.Param, s.Factor)] = s
		if s.Factor == 1 {
			assert.Equal(t, fp.Total.TotalUSD, s.TotalUSD, s.Param)
			assert.Zero(t, s.DeltaPct)
		}
	}
	assert.Equal(t, DefaultParams().BrokerMsgPerVCPU/2, rows["brokerMsgPerVCPU x0.5"].Value)
	assert.Equal(t, DefaultParams().NVMeWriteBytesPerGB*2, rows["nvmeWriteBytesPerGB x2"].Value)
	assert.GreaterOrEqual(t, rows["brokerMsgPerVCPU x0.5"].TotalUSD, rows["brokerMsgPerVCPU x1"].TotalUSD)
	assert.GreaterOrEqual(t, rows["nvmeWriteBytesPerGB x0.5"].TotalUSD, rows["nvmeWriteBytesPerGB x1"].TotalUSD)
	assert.Equal(t, "12500 msg/s per vCPU", rows["brokerMsgPerVCPU x0.5"].Display)
	// At 1 KB the bytes bind the brokers' CPU: half the sourced 12.5 MB/s
	// per vCPU needs more brokers, half the messages per vCPU none.
	assert.Greater(t, rows["brokerWriteBytesPerVCPU x0.5"].BrokerVCPUs, rows["brokerWriteBytesPerVCPU x1"].BrokerVCPUs)
	assert.Equal(t, "6.25 MB/s per vCPU", rows["brokerWriteBytesPerVCPU x0.5"].Display)
}

// Halving the messages per vCPU never lowers the brokers' vCPUs.
func TestSensitivityBrokerVCPUs(t *testing.T) {
	p := testPlanner(t)
	for _, name := range []string{"1m", "10m", "100m"} {
		ph, err := PhaseByName(name)
		require.NoError(t, err)
		ss, err := p.Sensitivities(ph, testFleet())
		require.NoError(t, err)
		assert.GreaterOrEqual(t, ss[1].BrokerVCPUs, ss[0].BrokerVCPUs, "%s: half the rate per vCPU, at least as many vCPUs", name)
		assert.LessOrEqual(t, ss[2].BrokerVCPUs, ss[0].BrokerVCPUs, "%s: twice the rate per vCPU, at most as many vCPUs", name)
	}
}

// The plan advises against RTC at any phase and, from 10m, against
// replicating a bucket beyond the DR region, each with what it costs; a
// fleet that follows the advice gets none.
func TestAdvice(t *testing.T) {
	p := testPlanner(t)
	fleet := testFleet()
	fleet[0].ReplicationTimeControl = true
	for _, tc := range []struct {
		phase string
		want  []string
	}{
		{"1m", []string{"tieredStorage.replicationTimeControl: true"}},
		{"10m", []string{"tieredStorage.replicationTimeControl: true", "tieredStorage.replicateTo: 2 peers"}},
	} {
		ph, err := PhaseByName(tc.phase)
		require.NoError(t, err)
		fp, err := p.PlanFleet(ph, fleet)
		require.NoError(t, err)
		advice, err := p.Advise(ph, fleet, fp)
		require.NoError(t, err)
		var got []string
		for _, a := range advice {
			got = append(got, a.Setting)
			assert.Equal(t, "us-east-1", a.Region)
			assert.Positive(t, a.ExtraUSD, a.Setting)
		}
		assert.Equal(t, tc.want, got, tc.phase)
		assert.Equal(t, fp.Regions[0].Cost.S3.RTCUSD, advice[0].ExtraUSD, "RTC costs its line")
	}
	follows := testFleet()
	follows[0].BucketReplicas = 1
	ph, err := PhaseByName("100m")
	require.NoError(t, err)
	fp, err := p.PlanFleet(ph, follows)
	require.NoError(t, err)
	advice, err := p.Advise(ph, follows, fp)
	require.NoError(t, err)
	assert.Empty(t, advice, "DR-only replication without RTC follows the advice")
}
