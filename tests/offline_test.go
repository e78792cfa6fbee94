// Package tests holds cross-package tests: the offline preview of every
// stack at every phase, golden summaries, and the engine and API-server tiers.
package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/observability"
	"github.com/pulsar-fleet/pulsar-fleet/internal/golden"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
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
	for name, st := range byStack {
		counts := st.CountByType()
		for _, typ := range []string{"pulsar-fleet:network:Network", "pulsar-fleet:cluster:Cluster", "pulsar-fleet:capacity:Capacity",
			"pulsar-fleet:tieredstorage:TieredStorage", "pulsar-fleet:pulsar:Pulsar", "pulsar-fleet:observability:Observability",
			"pulsar-fleet:routing:Routing", "kubernetes:karpenter.sh/v1:NodePool", "aws:route53/healthCheck:HealthCheck"} {
			require.Positive(t, counts[typ], "%s has %s", name, typ)
		}
	}
	assertThanosWiring(t, byStack)

	primary, secondary, dr := byStack["us-east-1"].Plan, byStack["us-west-2"].Plan, byStack["eu-west-1"].Plan
	require.NotNil(t, primary)
	// Spot share of the data pools' capacity (brokers' and bookies' vCPUs
	// together; a count would weigh a fleet of many small brokers over one
	// of few large ones): small pools round to the same split, the fleet
	// does not.
	vcpus := func(r sizing.RoleSize) int {
		it, err := catalog(t).Lookup(r.InstanceType)
		require.NoError(t, err)
		return it.VCPU
	}
	share := func(p *sizing.RegionPlan) float64 {
		br, bk := vcpus(p.Brokers), vcpus(p.Bookies)
		return float64(p.Brokers.Spot*br+p.Bookies.Spot*bk) / float64(p.Brokers.Count*br+p.Bookies.Count*bk)
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

// assertThanosWiring checks the global metrics view in the three stacks:
// every region's Prometheus pair runs the sidecar on the region's bucket
// with the replica label; every region serves a mutual-TLS endpoint under
// its name to the global-view regions' addresses; the primary and the
// secondary run the global querier over the other two and Grafana on it;
// the DR region runs neither.
func assertThanosWiring(t *testing.T, byStack map[string]stacks.OfflineStack) {
	t.Helper()
	// Every region is joined to every other (the secondary's global view
	// reads the DR region, the primary reads both): each endpoint is an
	// internal NLB admitting the three VPCs, its own first.
	wantRanges := map[string][]any{
		"us-east-1": {"10.10.0.0/16", "10.30.0.0/16", "10.20.0.0/16"},
		"us-west-2": {"10.20.0.0/16", "10.30.0.0/16", "10.10.0.0/16"},
		"eu-west-1": {"10.30.0.0/16", "10.10.0.0/16", "10.20.0.0/16"},
	}
	for name, st := range byStack {
		rec := st.Recorder
		kps := monitoringRelease(t, st)
		assert.Equal(t, observability.ReplicaLabel, kps.Input("values.prometheus.prometheusSpec.replicaExternalLabelName"), name)
		assert.Equal(t, observability.ObjstoreSecret, kps.Input("values.prometheus.prometheusSpec.thanos.objectStorageConfig.existingSecret.name"), name)
		assert.Nil(t, kps.Input("values.prometheus.prometheusSpec.remoteWrite"), "%s writes to no other region", name)
		_, err := rec.One("aws:s3/bucketV2:BucketV2", name+"-metrics")
		assert.NoError(t, err, name)
		_, err = rec.One("tls:index/locallySignedCert:LocallySignedCert", name+"-thanos")
		assert.NoError(t, err, name)
		dns, err := rec.One("aws:route53/record:Record", name+"-thanos")
		require.NoError(t, err, name)
		assert.Equal(t, "thanos."+name+".streaming.example.com", dns.Inputs["name"])
		svc, err := rec.One("kubernetes:core/v1:Service", name+"-thanos-endpoint")
		require.NoError(t, err, name)
		assert.Equal(t, wantRanges[name], svc.Input("spec.loadBalancerSourceRanges"), name)
		assert.Equal(t, "true", svc.Input("metadata.annotations").(map[string]any)[model.AnnotationLBInternal], "%s: the endpoint is internal", name)
		global := st.Role != "dr"
		assert.Equal(t, global, kps.Input("values.grafana.enabled"), "%s: Grafana where the view is global", name)
		var endpoints []string
		for _, m := range kps.Input("values.extraManifests").([]any) {
			o := m.(map[string]any)
			if o["kind"] != "Deployment" || o["metadata"].(map[string]any)["name"] != observability.GlobalQueryName {
				continue
			}
			c := recorder.Resource{Inputs: o}.Input("spec.template.spec.containers").([]any)[0].(map[string]any)
			for _, a := range c["command"].([]any) {
				if e, ok := strings.CutPrefix(a.(string), "--endpoint="); ok {
					endpoints = append(endpoints, e)
				}
			}
		}
		if !global {
			assert.Empty(t, endpoints, "%s runs no global querier", name)
			_, err := rec.One("kubernetes:core/v1:ConfigMap", name+"-dashboard-pulsar-fleet-cost")
			assert.Error(t, err, "%s has no Grafana, so no cost dashboard", name)
			continue
		}
		assertCostDashboard(t, byStack, name)
		var others []string
		for o := range byStack {
			if o != name {
				others = append(others, "thanos."+o+".streaming.example.com:443")
			}
		}
		assert.Equal(t, "thanos-query-regional.monitoring.svc.cluster.local:10901", endpoints[0], name)
		assert.ElementsMatch(t, others, endpoints[1:], "%s: the global querier reads every other region", name)
	}
}

// monitoringRelease is a stack's kube-prometheus-stack release.
func monitoringRelease(t *testing.T, st stacks.OfflineStack) recorder.Resource {
	t.Helper()
	for _, r := range st.Recorder.ByType("kubernetes:helm.sh/v3:Release") {
		if r.Inputs["chart"] == observability.ChartName {
			return r
		}
	}
	t.Fatalf("%s has no monitoring release", st.Stack)
	return recorder.Resource{}
}

// assertCostDashboard checks the cost dashboard of a global-view stack:
// every phase, every region, and at the current phase each region's cost
// as its own plan prices it.
func assertCostDashboard(t *testing.T, byStack map[string]stacks.OfflineStack, name string) {
	t.Helper()
	cm, err := byStack[name].Recorder.One("kubernetes:core/v1:ConfigMap", name+"-dashboard-pulsar-fleet-cost")
	require.NoError(t, err, name)
	body := cm.Input("data").(map[string]any)["pulsar-fleet-cost.json"].(string)
	rows := map[string][]string{}
	var header []string
	for _, line := range strings.Split(body, `\n`) {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		first := strings.Trim(strings.TrimSpace(cells[1]), "*")
		if first == "Phase" {
			header = cells
		}
		rows[strings.TrimSuffix(first, " (now)")] = cells
		if strings.HasSuffix(first, " (now)") {
			rows["now"] = cells
		}
	}
	for _, ph := range []string{"35k", "100k", "1m", "10m", "100m"} {
		assert.NotNil(t, rows[ph], "%s: phase %s", name, ph)
	}
	assert.NotContains(t, body, "not plannable", name)
	require.NotNil(t, rows["now"], "%s: the current phase is marked", name)
	require.NotNil(t, header, name)
	seen := 0
	for i, col := range header {
		st := strings.TrimSpace(col)
		if _, ok := byStack[st]; ok {
			seen++
			want := fmt.Sprintf("%.0f", byStack[st].Plan.Cost.TotalUSD)
			assert.Equal(t, want, strings.TrimSpace(rows["now"][i]), "%s: %s's cost at the current phase is its plan's", name, st)
		}
	}
	assert.Equal(t, len(byStack), seen, "%s: a column per region", name)
}
