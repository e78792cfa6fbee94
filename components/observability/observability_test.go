package observability

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/internal/crdschema"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/internal/reference"
	"github.com/pulsar-fleet/pulsar-fleet/internal/upstream"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// testWebhook is a secret the tests look for everywhere it must not be.
const testWebhook = model.Secret("https://hooks.example.com/T0/B0/webhook-token")

func args(global bool) Config {
	return Config{Cluster: "us-west-2", Region: "us-west-2", Global: global, Domain: "streaming.example.com", HostedZoneID: "Z0TEST",
		PulsarNamespace: "pulsar", WebhookURL: testWebhook, StorageClass: "gp3-encrypted",
		NodeSelector: map[string]string{"pulsar-fleet.io/pool": "critical"},
		Tolerations:  []Toleration{{Key: "pulsar-fleet.io/pool", Operator: "Equal", Value: "critical", Effect: "NoSchedule"}}}
}

func TestEveryExpressionParsesAndUsesKnownMetrics(t *testing.T) {
	names, err := MetricNames(Expressions("pulsar"))
	require.NoError(t, err)
	assert.Contains(t, names, "pulsar_broker_publish_latency")
	assert.Contains(t, names, "karpenter_interruption_received_messages_total")
	for _, n := range names {
		assert.NotEmpty(t, KnownMetrics[n], "%s has a documented source", n)
	}
	_, err = MetricNames([]string{"sum(pulsar_rate_in"})
	assert.Error(t, err, "syntax errors are caught")
	_, err = MetricNames([]string{"pulsar_broker_publish_latency_p99 > 1"})
	assert.ErrorContains(t, err, "not in KnownMetrics", "invented metric names are caught")
	alerts := map[string]bool{}
	for _, g := range AlertGroups("pulsar") {
		for _, r := range g.Rules {
			alerts[r.Alert] = true
		}
	}
	for _, want := range []string{"PulsarBrokerDown", "PulsarPublishLatencyHigh", "SubscriptionBacklogHigh", "BookieDiskUsageHigh", "BookieReadOnly",
		"UnderReplicatedLedgers", "GeoReplicationBacklogGrowing", "SpotInterruptionRateHigh", "ZooKeeperQuorumLost"} {
		assert.True(t, alerts[want], "alert %s", want)
	}
}

func TestDiskWarnThresholdMatchesChart(t *testing.T) {
	b, err := os.ReadFile(reference.Path(t, "pulsar-chart-4.7.0-values.yaml"))
	require.NoError(t, err)
	var v struct {
		BookKeeper struct {
			ConfigData map[string]string `yaml:"configData"`
		} `yaml:"bookkeeper"`
	}
	require.NoError(t, yaml.Unmarshal(b, &v))
	assert.Equal(t, "0.9", v.BookKeeper.ConfigData["diskUsageWarnThreshold"])
	assert.Equal(t, 90, DiskWarnThresholdPercent)
}

func TestExternalLabelsAndRemoteWrite(t *testing.T) {
	peer, err := ChartValues(args(false))
	require.NoError(t, err)
	ps := peer.Prometheus.PrometheusSpec
	assert.Equal(t, map[string]string{"cluster": "us-west-2", "region": "us-west-2"}, ps.ExternalLabels)
	assert.False(t, ps.EnableRemoteWriteReceiver)
	require.Len(t, ps.RemoteWrite, 1)
	rw := ps.RemoteWrite[0]
	assert.Equal(t, "https://metrics.streaming.example.com/api/v1/write", rw.URL)
	keep := regexp.MustCompile("^(?:" + rw.WriteRelabelConfigs[0].Regex + ")$")
	assert.Equal(t, "keep", rw.WriteRelabelConfigs[0].Action)
	assert.True(t, keep.MatchString("pulsar_replication_backlog"))
	assert.True(t, keep.MatchString("bookie_SERVER_STATUS"))
	assert.False(t, keep.MatchString("pulsar_topics_count"), "only what dashboards and alerts use crosses regions")
	assert.False(t, keep.MatchString("node_cpu_seconds_total"))
	assert.False(t, peer.Grafana.Enabled, "Grafana only in the primary")

	global, err := ChartValues(args(true))
	require.NoError(t, err)
	assert.True(t, global.Prometheus.PrometheusSpec.EnableRemoteWriteReceiver)
	assert.Empty(t, global.Prometheus.PrometheusSpec.RemoteWrite)
	assert.True(t, global.Grafana.Enabled)
	assert.Equal(t, GrafanaAdminSecret, global.Grafana.Admin.ExistingSecret)
	assert.True(t, strings.HasPrefix(WriteURL("example.com"), "https://"), "metrics cross regions over the internet: https only")
}

func TestAlertmanagerReadsWebhookFromSecret(t *testing.T) {
	v, err := ChartValues(args(false))
	require.NoError(t, err)
	b, _ := json.Marshal(v.Alertmanager)
	assert.Contains(t, string(b), `"url_file":"/etc/alertmanager/secrets/alert-webhook/url"`)
	assert.Equal(t, []string{"alert-webhook"}, v.Alertmanager.AlertmanagerSpec.Secrets)
	assert.NotContains(t, string(b), "https://hooks", "no webhook URL in values")
}

// The value paths the program sets are the committed list for chart
// 88.5.3 (internal/upstream checks that list against the released chart).
func TestValuesExistInChart(t *testing.T) {
	var all []string
	for _, g := range []bool{false, true} {
		v, err := ChartValues(args(g))
		require.NoError(t, err)
		paths, err := kit.Paths(v, upstream.KubePrometheusStackChart.FreeFormKey)
		require.NoError(t, err)
		all = append(all, paths...)
	}
	upstream.AssertUsedPaths(t, upstream.KubePrometheusStackChart, all)
}

// globalDeps are the outputs the global store needs.
func globalDeps() Deps {
	return Deps{ReceiverCertificateARN: pulumi.String("arn:aws:acm:us-east-1:1:certificate/metrics"),
		PeerNATIPs: pulumi.ToStringArray([]string{"198.51.100.7", "198.51.100.8"})}
}

func run(t *testing.T, a Config) (*recorder.Recorder, error) {
	t.Helper()
	var deps Deps
	if a.Global {
		deps = globalDeps()
	}
	return runWith(t, a, deps)
}

// runWith registers monitoring with deps and a Kubernetes provider.
func runWith(t *testing.T, a Config, deps Deps) (*recorder.Recorder, error) {
	t.Helper()
	rec := recorder.New(a.Region)
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		deps.Provider = p
		_, err = New(ctx, "o", a, deps)
		return err
	})
	return rec, err
}

func TestCustomResourcesMatchCRDs(t *testing.T) {
	rules, err := crdschema.Load(reference.Path(t, "crds/monitoring.coreos.com_prometheusrules.yaml"), "v1")
	require.NoError(t, err)
	pods, err := crdschema.Load(reference.Path(t, "crds/monitoring.coreos.com_podmonitors.yaml"), "v1")
	require.NoError(t, err)
	rec, err := run(t, args(true))
	require.NoError(t, err)
	pr, err := rec.One("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "o-alerts")
	require.NoError(t, err)
	require.NoError(t, rules.Validate(pr.Inputs))
	pm, err := rec.One("kubernetes:monitoring.coreos.com/v1:PodMonitor", "o-karpenter")
	require.NoError(t, err)
	require.NoError(t, pods.Validate(pm.Inputs))
	bad := map[string]any{"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": map[string]any{"name": "x"},
		"spec": map[string]any{"groups": []any{map[string]any{"name": "g", "rules": "not-a-list"}}}}
	assert.Error(t, rules.Validate(bad))
}

func TestGlobalStoreOnlyInThePrimary(t *testing.T) {
	rec, err := run(t, args(true))
	require.NoError(t, err)
	svc, err := rec.One("kubernetes:core/v1:Service", "o-receiver")
	require.NoError(t, err)
	assert.Equal(t, []any{"198.51.100.7/32", "198.51.100.8/32"}, svc.Input("spec.loadBalancerSourceRanges"), "only the peers' NATs")
	dns, err := rec.One("aws:route53/record:Record", "o-metrics")
	require.NoError(t, err)
	assert.Equal(t, "metrics.streaming.example.com", dns.Inputs["name"])
	var dashboards int
	for _, r := range rec.ByType("kubernetes:core/v1:ConfigMap") {
		if strings.HasPrefix(r.Name, "o-dashboard-") {
			dashboards++
			body := r.Input("data").(map[string]any)["pulsar-fleet-overview.json"].(string)
			for _, title := range []string{"Message rate", "Throughput", "Backlog", "Publish latency", "Storage size", "Offloaded", "Geo-replication backlog", "Spot interruptions"} {
				assert.Contains(t, body, title)
			}
		}
	}
	assert.Equal(t, 1, dashboards)

	rec, err = run(t, args(false))
	require.NoError(t, err)
	assert.Empty(t, rec.ByType("aws:route53/record:Record"), "peers have no receiver")
	for _, r := range rec.ByType("kubernetes:core/v1:Service") {
		t.Errorf("peer created service %s", r.Name)
	}
}

func TestBadInput(t *testing.T) {
	a := args(false)
	a.HostedZoneID = ""
	_, err := run(t, a)
	assert.ErrorContains(t, err, "hosted zone is not given")
	a = args(true)
	rec := recorder.New("us-east-1")
	err = rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		p, _ := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		_, err := New(ctx, "o", a, Deps{Provider: p})
		return err
	})
	assert.ErrorContains(t, err, "global store")
}

// A dependency the wiring forgot is refused by name, before anything of the
// component is registered: the provider always, the receiver's certificate
// and the peers' NAT addresses for the global store.
func TestMissingDependencyRegistersNothing(t *testing.T) {
	rec := recorder.New("us-west-2")
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "o", args(false), Deps{})
		return err
	})
	require.ErrorContains(t, err, `observability "o": missing dependencies: provider`)
	assert.Empty(t, rec.Resources())

	for missing, mut := range map[string]func(*Deps){
		"peerNatIps":             func(d *Deps) { d.PeerNATIPs = nil },
		"receiverCertificateArn": func(d *Deps) { d.ReceiverCertificateARN = nil },
	} {
		deps := globalDeps()
		mut(&deps)
		rec, err := runWith(t, args(true), deps)
		require.Error(t, err, missing)
		assert.Contains(t, err.Error(), "global store", missing)
		assert.Contains(t, err.Error(), "missing dependencies: "+missing)
		for _, r := range rec.Resources() {
			assert.Equal(t, "pulumi:providers:kubernetes", r.Type, "nothing of the component is registered")
		}
	}
	// A peer needs neither.
	_, err = runWith(t, args(false), Deps{})
	require.NoError(t, err)
}

// The program creates the Secrets the charts read, so nothing is created by
// hand before the first up: the webhook URL from secret config, and in the
// primary the Grafana admin from a generated password. Neither value is
// recorded in plain text, and the release waits for both.
func TestSecretsCreatedByTheProgram(t *testing.T) {
	rec, err := run(t, args(true))
	require.NoError(t, err)
	hook, err := rec.One("kubernetes:core/v1:Secret", "o-alert-webhook")
	require.NoError(t, err)
	assert.Equal(t, AlertWebhookSecret, hook.Input("metadata.name"))
	assert.Equal(t, Namespace, hook.Input("metadata.namespace"))
	assert.Equal(t, "[secret]", hook.Input("stringData"), "the Kubernetes SDK keeps a Secret's data secret")
	pw, err := rec.One("random:index/randomPassword:RandomPassword", "o-grafana-admin")
	require.NoError(t, err)
	assert.Equal(t, 32.0, pw.Inputs["length"])
	admin, err := rec.One("kubernetes:core/v1:Secret", "o-grafana-admin")
	require.NoError(t, err)
	assert.Equal(t, GrafanaAdminSecret, admin.Input("metadata.name"))
	assert.Equal(t, "[secret]", admin.Input("stringData"))
	release, err := rec.One("kubernetes:helm.sh/v3:Release", "o")
	require.NoError(t, err)
	assert.Contains(t, release.Dependencies, hook.URN)
	assert.Contains(t, release.Dependencies, admin.URN)
	assert.Equal(t, GrafanaAdminSecret, release.Input("values.grafana.admin.existingSecret"))
	assert.Equal(t, GrafanaUserKey, release.Input("values.grafana.admin.userKey"), "the chart reads the keys the Secret has")
	assert.Equal(t, GrafanaPasswordKey, release.Input("values.grafana.admin.passwordKey"))
	for _, r := range rec.Resources() {
		b, _ := json.Marshal(r.Inputs)
		assert.NotContains(t, string(b), "webhook-token", "%s %s carries the webhook URL in plain text", r.Type, r.Name)
	}

	// A peer has no Grafana; without a webhook there is no webhook Secret.
	a := args(false)
	a.WebhookURL = ""
	rec, err = run(t, a)
	require.NoError(t, err)
	assert.Empty(t, rec.ByType("kubernetes:core/v1:Secret"))
	assert.Empty(t, rec.ByType("random:index/randomPassword:RandomPassword"))
	v, err := ChartValues(a)
	require.NoError(t, err)
	assert.Empty(t, v.Alertmanager.AlertmanagerSpec.Secrets)
}

// The component is split in two: the in-cluster half (every Kubernetes
// object) keeps the URNs it had directly under the component, and only
// the Grafana password and the global store's DNS record stay in the
// outer half.
func TestInClusterHalfKeepsItsURNs(t *testing.T) {
	for _, global := range []bool{true, false} {
		rec, err := run(t, args(global))
		require.NoError(t, err)
		moved, err := rec.CheckMoved(TypeToken, MonitoringTypeToken)
		require.NoError(t, err, "global %v", global)
		for _, r := range moved {
			assert.True(t, strings.HasPrefix(r.Type, "kubernetes:"), "%s %s: only Kubernetes resources moved", r.Type, r.Name)
		}
		outer, err := rec.Component(TypeToken)
		require.NoError(t, err)
		var kept []string
		for _, r := range rec.DirectChildren(outer.URN) {
			kept = append(kept, r.Type)
		}
		want := []string{MonitoringTypeToken}
		if global {
			want = []string{"random:index/randomPassword:RandomPassword", MonitoringTypeToken, "aws:route53/record:Record"}
		}
		assert.ElementsMatch(t, want, kept, "global %v: what stays in the outer half", global)
	}
}

// The in-cluster half builds alone, with a literal password standing in for
// the generated one, and registers nothing but Kubernetes objects; without
// the password the global store is refused by name.
func TestMonitoringAlone(t *testing.T) {
	build := func(pw pulumi.StringInput) (*recorder.Recorder, error) {
		rec := recorder.New("us-east-1")
		return rec, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
			p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
			if err != nil {
				return err
			}
			d := globalDeps()
			_, err = NewMonitoring(ctx, "o", args(true), MonitoringDeps{Provider: p, PeerNATIPs: d.PeerNATIPs,
				ReceiverCertificateARN: d.ReceiverCertificateARN, GrafanaAdminPassword: pw})
			return err
		})
	}
	rec, err := build(pulumi.String("literal-password"))
	require.NoError(t, err)
	for _, r := range rec.Resources() {
		assert.True(t, r.Type == MonitoringTypeToken || strings.HasPrefix(r.Type, "kubernetes:") || r.Type == "pulumi:providers:kubernetes",
			"%s %s: the in-cluster half registers only Kubernetes objects", r.Type, r.Name)
		assert.Empty(t, r.FormerURNs, "%s %s: built alone, nothing moved", r.Type, r.Name)
	}
	admin, err := rec.One("kubernetes:core/v1:Secret", "o-grafana-admin")
	require.NoError(t, err)
	assert.Equal(t, "[secret]", admin.Input("stringData"), "the password given stays secret")

	rec, err = build(nil)
	assert.ErrorContains(t, err, "missing dependencies: grafanaAdminPassword")
	assert.Len(t, rec.Resources(), 1, "only the test's provider")
}

// The overview shows publish latency at p50, p95 and p99 (quantiles the
// broker's summary exports), backlog per subscription and under-replicated
// ledgers.
func TestOverviewPanels(t *testing.T) {
	panels := map[string][]Target{}
	for _, p := range Dashboards()[0].Panels {
		panels[p.Title] = p.Targets
	}
	latency := panels["Publish latency p50 / p95 / p99"]
	require.Len(t, latency, 3)
	for i, q := range []string{`quantile="0.5"`, `quantile="0.95"`, `quantile="0.99"`} {
		assert.Contains(t, latency[i].Expr, q)
	}
	assert.Equal(t, "{{cluster}} p95", latency[1].Legend)
	require.Len(t, panels["Backlog by subscription (top 20)"], 1)
	assert.Contains(t, panels["Backlog by subscription (top 20)"][0].Expr, "subscription")
	assert.Contains(t, panels["Under-replicated ledgers"][0].Expr, "auditor_NUM_UNDER_REPLICATED_LEDGERS")
}
