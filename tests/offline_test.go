// Package tests holds cross-package tests: the offline preview of every
// stack at every phase, golden summaries, and the engine and API-server tiers.
package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/golden"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

const root = ".."

func catalog(t testing.TB) *sizing.Catalog {
	t.Helper()
	c, err := sizing.DefaultCatalog()
	require.NoError(t, err)
	return c
}

func TestOfflinePreviewGoldenSummaries(t *testing.T) {
	res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: catalog(t)})
	require.NoError(t, err)
	require.Len(t, res.Stacks, 3)
	// The goldens are what `pulsar-fleet preview --offline` prints.
	for _, st := range res.Stacks {
		var b strings.Builder
		stacks.OfflineResult{Note: res.Note, Stacks: []stacks.OfflineStack{st}}.WriteText(&b)
		golden.Assert(t, "offline-"+st.Stack+".txt", []byte(b.String()))
	}
}

// Every stack at every phase previews offline.
func TestOfflinePreviewEveryPhase(t *testing.T) {
	cat := catalog(t)
	for _, ph := range sizing.PhaseNames {
		t.Run(ph, func(t *testing.T) {
			res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: cat, Phase: ph})
			require.NoError(t, err)
			require.Len(t, res.Stacks, 3)
			for _, st := range res.Stacks {
				require.Equal(t, ph, st.Phase)
			}
		})
	}
}

func TestFleetShapeAcrossStacks(t *testing.T) {
	res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: catalog(t)})
	require.NoError(t, err)
	byStack := map[string]stacks.OfflineStack{}
	for _, st := range res.Stacks {
		byStack[st.Stack] = st
	}
	globals, grafanas := 0, 0
	for name, st := range byStack {
		counts := st.CountByType()
		for _, typ := range []string{"pulsar-fleet:network:Network", "pulsar-fleet:cluster:Cluster", "pulsar-fleet:capacity:Capacity",
			"pulsar-fleet:tieredstorage:TieredStorage", "pulsar-fleet:pulsar:Pulsar", "pulsar-fleet:observability:Observability",
			"pulsar-fleet:routing:Routing", "kubernetes:karpenter.sh/v1:NodePool", "aws:route53/healthCheck:HealthCheck"} {
			require.Positive(t, counts[typ], "%s has %s", name, typ)
		}
		for _, r := range st.Recorder.ByType("kubernetes:helm.sh/v3:Release") {
			if r.Inputs["chart"] != "kube-prometheus-stack" {
				continue
			}
			if r.Input("values.prometheus.prometheusSpec.enableRemoteWriteReceiver") == true {
				globals++
				require.Equal(t, "primary", st.Role, "the global store lives in the primary")
			}
			if r.Input("values.grafana.enabled") == true {
				grafanas++
				require.Equal(t, "primary", st.Role, "Grafana lives in the primary")
			}
		}
	}
	require.Equal(t, 1, globals, "exactly one global store")
	require.Equal(t, 1, grafanas, "exactly one Grafana")

	primary, secondary, dr := byStack["us-east-1"].Plan, byStack["us-west-2"].Plan, byStack["eu-west-1"].Plan
	require.NotNil(t, primary)
	// Spot share of the data pools (brokers and bookies together): small
	// pools round to the same split, the fleet does not.
	share := func(p *sizing.RegionPlan) float64 {
		return float64(p.Brokers.Spot+p.Bookies.Spot) / float64(p.Brokers.Count+p.Bookies.Count)
	}
	// At 35k both small fleets sit on the on-demand base (one broker per
	// zone, the ensemble of bookies), so the shares may be equal there.
	require.GreaterOrEqual(t, share(secondary), share(primary), "the secondary runs at least the primary's spot share")
	// The DR region carries the least traffic; at 35k every region sits at
	// the zone-loss minimum, from 1M on the DR fleet is strictly smallest.
	for _, other := range []*sizing.RegionPlan{primary, secondary} {
		require.Less(t, dr.Workload.StoredRate, other.Workload.StoredRate)
		require.LessOrEqual(t, dr.Brokers.Count+dr.Bookies.Count, other.Brokers.Count+other.Bookies.Count)
	}
	big, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: catalog(t), Phase: "10m"})
	require.NoError(t, err)
	nodes := map[string]int{}
	plans := map[string]*sizing.RegionPlan{}
	for _, st := range big.Stacks {
		nodes[st.Role] = st.Plan.Brokers.Count + st.Plan.Bookies.Count + st.Plan.Proxies.Count
		plans[st.Role] = st.Plan
	}
	require.Greater(t, share(plans["secondary"]), share(plans["primary"]), "above the base, the secondary runs a higher spot share")
	require.Less(t, nodes["dr"], nodes["primary"])
	require.Less(t, nodes["dr"], nodes["secondary"])
}

// The offload buckets expire objects after the planned lifetime (TTL +
// retention + margin), which is what bounds the replicas in peer buckets.
func TestBucketLifecycleFollowsPlan(t *testing.T) {
	res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: catalog(t)})
	require.NoError(t, err)
	for _, st := range res.Stacks {
		lc, err := st.Recorder.One("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", st.Stack+"-offload")
		require.NoError(t, err)
		var expire any
		for _, r := range lc.Inputs["rules"].([]any) {
			if r.(map[string]any)["id"] == "expire-after-retention" {
				expire = r.(map[string]any)["expiration"].(map[string]any)["days"]
			}
		}
		require.NotNil(t, st.Plan)
		assert.Equal(t, float64(st.Plan.BucketExpireDays), expire, st.Stack)
		assert.Less(t, st.Plan.BucketExpireDays, 30, "%s: a bucket lifetime beyond TTL + retention keeps replicas for nothing", st.Stack)
	}
}
