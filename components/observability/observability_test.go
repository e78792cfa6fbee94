package observability

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s/k8stest"
	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/internal/crdschema"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/internal/reference"
	"github.com/pulsar-fleet/pulsar-fleet/internal/upstream"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// testWebhook is a secret the tests look for everywhere it must not be.
const testWebhook = model.Secret("https://hooks.example.com/T0/B0/webhook-token")

// args is us-west-2's monitoring: with a global view or not, queried by
// the primary's global querier when exposed.
func args(global bool) Config {
	return Config{Cluster: "us-west-2", Region: "us-west-2", GlobalView: global, Domain: "streaming.example.com", HostedZoneID: "Z0TEST",
		Peers:           []Peer{{Stack: "us-east-1", GlobalView: true}, {Stack: "eu-west-1"}},
		PulsarNamespace: "pulsar", WebhookURL: testWebhook, StorageClass: "gp3-encrypted",
		EndpointCIDRs: []string{"10.20.0.0/16", "10.10.0.0/16", "10.30.0.0/16"}, ControlPlaneCIDRs: []string{"10.20.0.0/16"},
		NodeSelector: map[string]string{"pulsar-fleet.io/pool": "critical"},
		Tolerations:  []Toleration{{Key: "pulsar-fleet.io/pool", Operator: "Equal", Value: "critical", Effect: "NoSchedule"}}}
}

// hidden is args with no peer that has a global view: nothing queries it.
func hidden() Config {
	a := args(false)
	a.Peers = []Peer{{Stack: "eu-west-1"}}
	return a
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

// Every region's Prometheus pair runs the Thanos sidecar on its bucket with
// the replica label, nothing is remote-written, and the global querier and
// Grafana run only where the region has a global view.
func TestThanosWiring(t *testing.T) {
	v, err := ChartValues(args(false))
	require.NoError(t, err)
	ps := v.Prometheus.PrometheusSpec
	assert.Equal(t, map[string]string{"cluster": "us-west-2", "region": "us-west-2"}, ps.ExternalLabels)
	assert.Equal(t, 2, ps.Replicas)
	require.NotNil(t, ps.Thanos)
	assert.Equal(t, SecretKey{Name: ObjstoreSecret, Key: ObjstoreKey}, ps.Thanos.ObjectStorageConfig.ExistingSecret)
	assert.True(t, v.Prometheus.ThanosService.Enabled, "the regional querier discovers the sidecars through it")
	assert.True(t, v.Prometheus.ThanosServiceMonitor.Enabled, "the sidecars' shipper metrics back ThanosSidecarUploadFailing")
	b, _ := json.Marshal(v)
	assert.NotContains(t, string(b), "remoteWrite", "no remote write: each region keeps its own samples")
	assert.NotContains(t, string(b), "enableRemoteWriteReceiver")
	assert.False(t, v.Grafana.Enabled)
	assert.Equal(t, []string{"thanos-query-regional", "thanos-store", "thanos-store", "thanos-compact", "thanos-compact",
		"thanos-query-regional", "thanos-query-regional", "thanos-store", "thanos-query-regional", ThanosMonitorName,
		"fluent-bit", "pulsar-fleet-fluent-bit", "pulsar-fleet-fluent-bit", "fluent-bit", "fluent-bit", "fluent-bit-egress",
		"monitoring-default-deny", "monitoring-internal", "monitoring-egress", "monitoring-operator-webhook", "thanos-endpoint"}, manifestNames(v))

	g, err := ChartValues(args(true))
	require.NoError(t, err)
	assert.True(t, g.Grafana.Enabled)
	assert.Equal(t, GrafanaAdminSecret, g.Grafana.Admin.ExistingSecret)
	require.Len(t, g.Grafana.AdditionalDataSources, 1)
	assert.Equal(t, "http://thanos-query-global.monitoring.svc.cluster.local:10902", g.Grafana.AdditionalDataSources[0].URL, "Grafana reads the global querier")
	assert.True(t, g.Grafana.AdditionalDataSources[0].IsDefault)
	assert.False(t, g.Grafana.Sidecar.Datasources.DefaultDatasourceEnabled, "not the local Prometheus")
	assert.Subset(t, manifestNames(g), []string{GlobalQueryName})
	assert.Equal(t, []string{"thanos-query-regional.monitoring.svc.cluster.local:10901", "thanos.us-east-1.streaming.example.com:443",
		"thanos.eu-west-1.streaming.example.com:443"}, args(true).Thanos().GlobalEndpoints, "its own region in the cluster, the others through their endpoints")
}

func manifestNames(v Values) []string {
	var out []string
	for _, m := range v.ExtraManifests {
		b, _ := json.Marshal(m)
		var o struct {
			Metadata struct{ Name string } `json:"metadata"`
		}
		_ = json.Unmarshal(b, &o)
		out = append(out, o.Metadata.Name)
	}
	return out
}

// The replica label is one name in Prometheus, both queriers and the
// compactor: a querier without it would double every sum.
func TestDedupLabelEverywhere(t *testing.T) {
	v, err := ChartValues(args(true))
	require.NoError(t, err)
	label := v.Prometheus.PrometheusSpec.ReplicaExternalLabelName
	require.Equal(t, "prometheus_replica", label, "the operator's own default, named explicitly")
	for name, a := range map[string][]string{"regional": RegionalQueryArgs(), "global": GlobalQueryArgs(nil, nil)} {
		assert.Contains(t, a, "--query.replica-label="+label, name)
	}
	assert.Contains(t, CompactArgs(DefaultMetricsRetention), "--deduplication.replica-label="+label)
}

// The cross-region path refuses a client without a certificate of the
// fleet CA: the regional querier serves gRPC with a client CA (Thanos then
// requires and verifies client certificates), its NLB passes TLS through
// rather than terminating it, and the global querier dials with TLS and
// its certificate.
func TestCrossRegionPathIsMutualTLS(t *testing.T) {
	r := RegionalQueryArgs()
	for _, f := range []string{"--grpc-server-tls-cert=/etc/thanos/tls/tls.crt", "--grpc-server-tls-key=/etc/thanos/tls/tls.key",
		"--grpc-server-tls-client-ca=/etc/thanos/tls/ca.crt"} {
		assert.Contains(t, r, f)
	}
	g := GlobalQueryArgs([]string{"x:443"}, nil)
	for _, f := range []string{"--grpc-client-tls-secure", "--grpc-client-tls-cert=/etc/thanos/tls/tls.crt",
		"--grpc-client-tls-key=/etc/thanos/tls/tls.key", "--grpc-client-tls-ca=/etc/thanos/tls/ca.crt", "--endpoint=x:443"} {
		assert.Contains(t, g, f)
	}
	rec, err := run(t, args(false))
	require.NoError(t, err)
	svc, err := rec.One("kubernetes:core/v1:Service", "o-thanos-endpoint")
	require.NoError(t, err)
	ann := svc.Input("metadata.annotations").(map[string]any)
	assert.NotContains(t, ann, "service.beta.kubernetes.io/aws-load-balancer-ssl-cert", "the NLB must not end TLS: Thanos checks the client certificate")
	assert.Equal(t, RegionalQueryName, ann[AnnotationMutualTLS])
	assert.Equal(t, "thanos-endpoint-internal", svc.Input("metadata.name"), "a Service of its own: the controller never turns a running NLB internal")
	assert.Equal(t, []any{"10.20.0.0/16", "10.10.0.0/16", "10.30.0.0/16"}, svc.Input("spec.loadBalancerSourceRanges"), "the joined VPCs only")
	assert.Equal(t, "true", ann[model.AnnotationLBInternal], "an internal NLB: the global queriers come through the transit gateways")
	assert.Equal(t, "internal", ann[model.AnnotationLBScheme])
	assert.Equal(t, map[string]any{"app.kubernetes.io/component": RegionalQueryName, "app.kubernetes.io/name": "thanos",
		model.LabelPartOf: model.PartOf}, svc.Input("spec.selector"))
	tlsSecret, err := rec.One("kubernetes:core/v1:Secret", "o-thanos-grpc-tls")
	require.NoError(t, err)
	assert.Equal(t, "[secret]", tlsSecret.Input("stringData"), "the key stays a secret")
	cert, err := rec.One("tls:index/locallySignedCert:LocallySignedCert", "o-thanos")
	require.NoError(t, err)
	assert.ElementsMatch(t, []any{"digital_signature", "key_encipherment", "server_auth", "client_auth"}, cert.Inputs["allowedUses"])
	assert.Equal(t, "[secret]", cert.Inputs["caPrivateKeyPem"], "the fleet CA's key stays a secret")
	csr, err := rec.One("tls:index/certRequest:CertRequest", "o-thanos")
	require.NoError(t, err)
	assert.Equal(t, []any{"thanos.us-west-2.streaming.example.com", "thanos-query-regional.monitoring.svc.cluster.local"}, csr.Inputs["dnsNames"])
}

// The sidecar's image is the chart's default, and the other Thanos
// components run the same version.
func TestThanosImageIsTheChartsSidecar(t *testing.T) {
	b, err := os.ReadFile(reference.Path(t, "kube-prometheus-stack-88.5.3-values.yaml"))
	require.NoError(t, err)
	var v struct {
		Operator struct {
			ThanosImage struct {
				Registry, Repository, Tag string
			} `yaml:"thanosImage"`
		} `yaml:"prometheusOperator"`
	}
	require.NoError(t, yaml.Unmarshal(b, &v))
	i := v.Operator.ThanosImage
	assert.Equal(t, i.Registry+"/"+i.Repository+":"+i.Tag, ThanosImage)
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

// deps are the outputs monitoring needs from the cluster and the bootstrap
// stack.
func deps() Deps {
	return Deps{OIDCProviderARN: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks"), OIDCIssuer: pulumi.String("oidc.eks"),
		FleetCA: CA{CertPEM: pulumi.String(fleetCA), KeyPEM: pulumi.String("ca-key"), TrustPEM: pulumi.String(fleetCA + nextCA)}}
}

const (
	fleetCA = "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n"
	nextCA  = "-----BEGIN CERTIFICATE-----\nnext ca\n-----END CERTIFICATE-----\n"
)

// The region's certificate is signed by the fleet CA, and both ends of
// the hop trust every CA of the bootstrap's bundle (both CAs during a
// rotation), not only the signing one.
func TestRegionCertificateTrustsTheBundle(t *testing.T) {
	rec := recorder.New("us-west-2")
	got := make(chan string, 1)
	require.NoError(t, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		c, err := regionCertificate(ctx, "o", args(false), deps().FleetCA, pulumi.Protect(false))
		if err != nil {
			return err
		}
		c.CACert.ToStringOutput().ApplyT(func(s string) string { got <- s; return s })
		return nil
	}))
	assert.Equal(t, fleetCA+nextCA, <-got, "ca.crt is the bundle")
	signed, err := rec.One("tls:index/locallySignedCert:LocallySignedCert", "o-thanos")
	require.NoError(t, err)
	assert.Equal(t, fleetCA, signed.Inputs["caCertPem"], "the signing CA signs")
}

func run(t *testing.T, a Config) (*recorder.Recorder, error) {
	t.Helper()
	return runWith(t, a, deps())
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

// The metrics bucket is hardened like the offload bucket, with a lifecycle
// and one least-privilege role per Thanos user; the endpoint gets its name
// where another region queries it; dashboards go where Grafana runs.
func TestBucketEndpointAndDashboards(t *testing.T) {
	rec, err := run(t, args(true))
	require.NoError(t, err)
	bucket, err := rec.One("aws:s3/bucketV2:BucketV2", "o-metrics")
	require.NoError(t, err)
	for _, typ := range []string{"aws:s3/bucketVersioningV2:BucketVersioningV2", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "aws:s3/bucketPolicy:BucketPolicy",
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"} {
		_, err := rec.One(typ, "o-metrics")
		assert.NoError(t, err, typ)
	}
	lc, _ := rec.One("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "o-metrics")
	rule := recorder.Resource{Inputs: lc.Inputs["rules"].([]any)[0].(map[string]any)}
	assert.Equal(t, 395.0, rule.Input("expiration.days"), "a month past the year of hourly downsamples")
	assert.Equal(t, 7.0, rule.Input("noncurrentVersionExpiration.noncurrentDays"))
	roles := map[string]string{}
	for _, r := range rec.ByType("aws:iam/rolePolicy:RolePolicy") {
		roles[r.Name] = r.Inputs["policy"].(string)
	}
	require.Len(t, roles, 4)
	assert.Contains(t, roles["o-thanos-compact"], "s3:DeleteObject")
	assert.NotContains(t, roles["o-kps-prometheus"], "s3:DeleteObject", "the sidecar uploads, never deletes")
	assert.NotContains(t, roles["o-thanos-store"], "s3:PutObject", "the store gateway only reads")
	for _, sa := range []string{PrometheusServiceAccount, StoreName, CompactName} {
		role, err := rec.One("aws:iam/role:Role", "o-"+sa)
		require.NoError(t, err)
		assert.Contains(t, role.Inputs["assumeRolePolicy"], "system:serviceaccount:monitoring:"+sa)
	}
	assert.NotEmpty(t, bucket.URN)
	release, err := rec.One("kubernetes:helm.sh/v3:Release", "o")
	require.NoError(t, err)
	ann := release.Input("values.prometheus.serviceAccount.annotations").(map[string]any)
	assert.Equal(t, "arn:aws:iam::123456789012:role/o-kps-prometheus", ann["eks.amazonaws.com/role-arn"], "the sidecar uploads with its role")
	sum := sha256.Sum256([]byte(fleetCA + nextCA))
	queriers := 0
	for _, m := range release.Input("values.extraManifests").([]any) {
		o := recorder.Resource{Inputs: m.(map[string]any)}
		name := o.Input("metadata.name")
		if o.Inputs["kind"] != "Deployment" || (name != RegionalQueryName && name != GlobalQueryName) {
			continue
		}
		queriers++
		assert.Equal(t, hex.EncodeToString(sum[:]), o.Input("spec.template.metadata.annotations").(map[string]any)[model.AnnotationTrustChecksum],
			"%s rolls when the trusted CAs change: Thanos reads its CA file at start only", name)
	}
	assert.Equal(t, 2, queriers, "the regional and the global querier")
	dns, err := rec.One("aws:route53/record:Record", "o-thanos")
	require.NoError(t, err)
	assert.Equal(t, "thanos.us-west-2.streaming.example.com", dns.Inputs["name"])
	var dashboards []string
	for _, r := range rec.ByType("kubernetes:core/v1:ConfigMap") {
		if uid, ok := strings.CutPrefix(r.Name, "o-dashboard-"); ok {
			dashboards = append(dashboards, uid)
			if uid == "pulsar-fleet-overview" {
				body := r.Input("data").(map[string]any)["pulsar-fleet-overview.json"].(string)
				for _, title := range []string{"Message rate", "Throughput", "Backlog", "Publish latency", "Storage size", "Offloaded", "Geo-replication backlog", "Spot interruptions", "End-to-end probe"} {
					assert.Contains(t, body, title)
				}
			}
		}
	}
	assert.ElementsMatch(t, []string{"pulsar-fleet-overview", "pulsar-fleet-backlog", "pulsar-fleet-geo-replication", "pulsar-fleet-bookies",
		"pulsar-fleet-zookeeper", "pulsar-fleet-capacity", "pulsar-fleet-thanos"}, dashboards, "no phase costs given: no cost dashboard")

	rec, err = run(t, hidden())
	require.NoError(t, err)
	assert.Empty(t, rec.ByType("aws:route53/record:Record"), "nobody queries this region: no endpoint")
	for _, r := range rec.ByType("kubernetes:core/v1:Service") {
		t.Errorf("a region nobody queries created service %s", r.Name)
	}
	assert.Empty(t, rec.ByType("kubernetes:core/v1:ConfigMap"), "no Grafana, no dashboards")
}

func TestBadInput(t *testing.T) {
	a := args(false)
	a.HostedZoneID = ""
	_, err := run(t, a)
	assert.ErrorContains(t, err, "hosted zone is not given")
	a = args(false)
	a.EndpointCIDRs = []string{"0.0.0.0/0"}
	_, err = run(t, a)
	assert.ErrorContains(t, err, `endpointCidrs: "0.0.0.0/0": want a VPC block of /8 or narrower`)
	a.EndpointCIDRs = []string{"0.0.0.0/1", "128.0.0.0/1"}
	_, err = run(t, a)
	assert.ErrorContains(t, err, `endpointCidrs: "0.0.0.0/1": want a VPC block of /8 or narrower`, "two halves of the internet are the internet")
	a.EndpointCIDRs = nil
	_, err = run(t, a)
	assert.ErrorContains(t, err, "endpointCidrs: empty, but a global-view peer reads this region's Thanos endpoint")
	a = args(false)
	a.ControlPlaneCIDRs = nil
	_, err = run(t, a)
	assert.ErrorContains(t, err, "controlPlaneCidrs: empty")
	a.ControlPlaneCIDRs = []string{"10.20.0.0/33"}
	_, err = run(t, a)
	assert.ErrorContains(t, err, `controlPlaneCidrs: "10.20.0.0/33" is not an IPv4 network`)
	a = args(false)
	a.Retention = MetricsRetention{RawDays: 30, FiveMinuteDays: 10, OneHourDays: 365}
	_, err = run(t, a)
	assert.ErrorContains(t, err, "want 1 <= raw <= 5m <= 1h days")
}

// A dependency the wiring forgot is refused by name, before anything of the
// component is registered.
func TestMissingDependencyRegistersNothing(t *testing.T) {
	rec := recorder.New("us-west-2")
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "o", args(false), Deps{})
		return err
	})
	require.ErrorContains(t, err, `observability "o": missing dependencies: `)
	assert.Empty(t, rec.Resources())

	for missing, mut := range map[string]func(*Deps){
		"fleetCa.keyPem":   func(d *Deps) { d.FleetCA.KeyPEM = nil },
		"fleetCa.trustPem": func(d *Deps) { d.FleetCA.TrustPEM = nil },
		"oidcProviderArn":  func(d *Deps) { d.OIDCProviderARN = nil },
	} {
		d := deps()
		mut(&d)
		rec, err := runWith(t, args(true), d)
		require.Error(t, err, missing)
		assert.Contains(t, err.Error(), "missing dependencies: "+missing)
		for _, r := range rec.Resources() {
			assert.Equal(t, "pulumi:providers:kubernetes", r.Type, "nothing of the component is registered")
		}
	}
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

	objstore, err := rec.One("kubernetes:core/v1:Secret", "o-thanos-objstore")
	require.NoError(t, err)
	assert.Contains(t, release.Dependencies, objstore.URN)

	// Without a global view there is no Grafana; without a webhook there is
	// no webhook Secret: only Thanos' two.
	a := args(false)
	a.WebhookURL = ""
	rec, err = run(t, a)
	require.NoError(t, err)
	var names []string
	for _, r := range rec.ByType("kubernetes:core/v1:Secret") {
		names = append(names, r.Name)
	}
	assert.ElementsMatch(t, []string{"o-thanos-objstore", "o-thanos-grpc-tls"}, names)
	assert.Empty(t, rec.ByType("random:index/randomPassword:RandomPassword"))
	v, err := ChartValues(a)
	require.NoError(t, err)
	assert.Empty(t, v.Alertmanager.AlertmanagerSpec.Secrets)
}

// The probe's result lines become two metrics on the region's log group,
// and the alarm on successes, which Route53 watches, treats silence as
// failure.
func TestProbeSignal(t *testing.T) {
	rec, err := run(t, args(false))
	require.NoError(t, err)
	filters := rec.ByType("aws:cloudwatch/logMetricFilter:LogMetricFilter")
	require.Len(t, filters, 2)
	byMetric := map[string]map[string]any{}
	for _, f := range filters {
		assert.Equal(t, LogGroupName("us-west-2"), f.Inputs["logGroupName"], "the pod log group the probe's lines reach")
		mt := f.Inputs["metricTransformation"].(map[string]any)
		assert.Equal(t, model.ProbeMetricNamespace, mt["namespace"])
		byMetric[mt["name"].(string)] = map[string]any{"pattern": f.Inputs["pattern"], "value": mt["value"]}
	}
	assert.Equal(t, map[string]any{"pattern": model.ProbeSuccessPattern("pulsar"), "value": "1"}, byMetric[model.ProbeMetricSuccess])
	assert.Equal(t, map[string]any{"pattern": model.ProbeLatencyPattern("pulsar"), "value": "$.latencyMs"}, byMetric[model.ProbeMetricLatency])
	alarm, err := rec.One("aws:cloudwatch/metricAlarm:MetricAlarm", "o-probe")
	require.NoError(t, err)
	assert.Equal(t, model.ProbeAlarmName("us-west-2"), alarm.Inputs["name"])
	assert.Equal(t, model.ProbeMetricSuccess, alarm.Inputs["metricName"])
	assert.Equal(t, "LessThanThreshold", alarm.Inputs["comparisonOperator"])
	assert.EqualValues(t, 1, alarm.Inputs["threshold"])
	assert.Equal(t, "breaching", alarm.Inputs["treatMissingData"], "no probe result is a failure")
	assert.EqualValues(t, 5, alarm.Inputs["evaluationPeriods"])
	assert.EqualValues(t, 3, alarm.Inputs["datapointsToAlarm"])
}

// The component is split in two: the in-cluster half (every Kubernetes
// object) keeps the URNs it had directly under the component; the AWS
// resources (bucket, roles, certificate, DNS record) and the Grafana
// password stay in the outer half.
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
		want := []string{MonitoringTypeToken, "aws:route53/record:Record", "aws:kms/key:Key", "aws:s3/bucketV2:BucketV2",
			"aws:s3/bucketVersioningV2:BucketVersioningV2", "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
			"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
			"aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
			"aws:iam/role:Role", "aws:iam/role:Role", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicy:RolePolicy",
			"aws:iam/rolePolicy:RolePolicy", "aws:cloudwatch/logGroup:LogGroup", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy",
			"aws:cloudwatch/logMetricFilter:LogMetricFilter", "aws:cloudwatch/logMetricFilter:LogMetricFilter", "aws:cloudwatch/metricAlarm:MetricAlarm",
			"tls:index/privateKey:PrivateKey", "tls:index/certRequest:CertRequest",
			"tls:index/locallySignedCert:LocallySignedCert"}
		if global {
			want = append(want, "random:index/randomPassword:RandomPassword")
		}
		assert.ElementsMatch(t, want, kept, "global %v: what stays in the outer half", global)
	}
}

// The in-cluster half builds alone, with literal values standing in for the
// AWS half's outputs, and registers nothing but Kubernetes objects; without
// the password the global view is refused by name.
func TestMonitoringAlone(t *testing.T) {
	build := func(pw pulumi.StringInput) (*recorder.Recorder, error) {
		rec := recorder.New("us-east-1")
		return rec, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
			p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
			if err != nil {
				return err
			}
			_, err = NewMonitoring(ctx, "o", args(true), MonitoringDeps{Provider: p, GrafanaAdminPassword: pw,
				FluentBitRoleARN: pulumi.String("arn:fluent-bit"),
				Thanos: ThanosDeps{BucketName: pulumi.String("metrics"), SidecarRoleARN: pulumi.String("arn:sidecar"),
					StoreRoleARN: pulumi.String("arn:store"), CompactRoleARN: pulumi.String("arn:compact"),
					TLS: GRPCCertificate{CACert: pulumi.String("ca"), Cert: pulumi.String("cert"), Key: pulumi.String("key")}}})
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

// Every alert links its runbook, a section of docs/operations.md that
// exists; a link to a missing section is caught.
// With a base URL, every alert links its runbook absolutely, to the same
// section; a base that is not https is refused before anything is made.
func TestRunbookBase(t *testing.T) {
	base := "https://github.com/acme/pulsar-fleet/blob/main/"
	for _, g := range RuleSpec("pulsar", base).Groups {
		for _, r := range g.Rules {
			assert.Equal(t, "https://github.com/acme/pulsar-fleet/blob/main/"+RunbookURL(r.Alert), r.Annotations["runbook_url"], r.Alert)
		}
	}
	for _, g := range RuleSpec("pulsar", "").Groups {
		for _, r := range g.Rules {
			assert.Equal(t, RunbookURL(r.Alert), r.Annotations["runbook_url"], "no base: relative")
		}
	}
	a := args(false)
	a.RunbookBase = "http://example.com/repo"
	require.ErrorContains(t, a.Validate(), "runbookBase")
}

func TestEveryAlertHasARunbook(t *testing.T) {
	b, err := os.ReadFile("../../" + RunbookDoc)
	require.NoError(t, err)
	anchors := headingAnchors(string(b))
	for _, g := range AlertGroups("pulsar") {
		for _, r := range g.Rules {
			url := r.Annotations["runbook_url"]
			require.Equal(t, RunbookURL(r.Alert), url, r.Alert)
			_, anchor, _ := strings.Cut(url, "#")
			assert.True(t, anchors[anchor], "%s: %s has no section #%s", r.Alert, RunbookDoc, anchor)
		}
	}
	_, anchor, _ := strings.Cut(RunbookURL("AlertNobodyWrote"), "#")
	assert.False(t, anchors[anchor], "a missing section is caught")
}

// headingAnchors are the GitHub anchors of a Markdown document's headings
// (lower case, spaces to hyphens, punctuation dropped).
func headingAnchors(doc string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range title {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		out[b.String()] = true
	}
	return out
}

// Inhibitions name real alerts, mute only others, never mute data loss
// or the quorum, compare within one cluster, and reach Alertmanager.
func TestInhibitions(t *testing.T) {
	alerts := map[string]bool{}
	for _, g := range AlertGroups("pulsar") {
		for _, r := range g.Rules {
			alerts[r.Alert] = true
		}
	}
	for _, in := range Inhibitions {
		assert.True(t, alerts[in.Source], "source %s is an alert", in.Source)
		for _, target := range in.Targets {
			assert.True(t, alerts[target], "target %s is an alert", target)
			assert.NotEqual(t, in.Source, target, "an alert does not mute itself")
			assert.NotContains(t, NeverInhibited, target, "%s must always page", target)
		}
	}
	v, err := ChartValues(args(false))
	require.NoError(t, err)
	rules := v.Alertmanager.Config.InhibitRules
	require.Len(t, rules, len(Inhibitions))
	assert.Equal(t, InhibitRule{SourceMatchers: []string{`alertname = "ZoneUnavailable"`},
		TargetMatchers: []string{`alertname =~ "PulsarBrokerDown|BookieReadOnly|UnderReplicatedLedgers|PulsarPublishLatencyHigh|SubscriptionBacklogHigh|ThanosQueryStoreLost"`},
		Equal:          []string{"cluster"}}, rules[0])
	assert.Equal(t, []string{"nodes=[topology.kubernetes.io/zone]"}, v.KubeStateMetrics.MetricLabelsAllowlist,
		"ZoneUnavailable joins on the node's zone label")
}

// The Alertmanager configuration the chart receives is one Alertmanager
// itself loads: routes, receivers and inhibition matchers all parse.
func TestAlertmanagerConfigLoads(t *testing.T) {
	for _, hook := range []model.Secret{testWebhook, ""} {
		a := args(false)
		a.WebhookURL = hook
		v, err := ChartValues(a)
		require.NoError(t, err)
		b, err := json.Marshal(v.Alertmanager.Config)
		require.NoError(t, err)
		cfg, err := amconfig.Load(string(b))
		require.NoError(t, err, "webhook %v", hook != "")
		assert.Len(t, cfg.InhibitRules, len(Inhibitions))
	}
	_, err := amconfig.Load(`{"route":{"receiver":"nowhere"},"receivers":[{"name":"null"}]}`)
	assert.Error(t, err, "a route to an undefined receiver is refused")
}

// The dashboards the issue asks for, each with its panels; the cost
// dashboard is the plan's figures, the current phase marked.
func TestDashboardsCoverTheFleet(t *testing.T) {
	panels := map[string][]string{}
	for _, d := range Dashboards() {
		for _, p := range d.Panels {
			panels[d.UID] = append(panels[d.UID], p.Title)
			require.NotEmpty(t, p.Targets, "%s %s", d.UID, p.Title)
		}
	}
	assert.Subset(t, panels["pulsar-fleet-backlog"], []string{"Backlog by topic (top 20)", "Backlog by subscription (top 20)"})
	assert.Subset(t, panels["pulsar-fleet-geo-replication"], []string{"Replication backlog", "Replication rate", "Replication lag (worst topic)"})
	assert.Subset(t, panels["pulsar-fleet-bookies"], []string{"Ledger disk use", "Journal add latency p99", "Journal fsync latency p99",
		"Add-entry request latency p99", "Ledger storage flush latency p99", "Under-replicated ledgers"})
	assert.Subset(t, panels["pulsar-fleet-zookeeper"], []string{"Servers up", "Outstanding requests", "Update latency p99"})
	assert.Subset(t, panels["pulsar-fleet-capacity"], []string{"Spot interruptions by type (1h)", "Nodes by capacity type and pool", "Pending pods"})

	a := args(true)
	a.PhaseCosts = []PhaseCost{
		{Phase: "35k", MsgPerSec: 35000, Current: true, Regions: []RegionCost{{"us-east-1", 12345.6}, {"us-west-2", 1000}}},
		{Phase: "100k", MsgPerSec: 100000, Regions: []RegionCost{{"us-east-1", 23456}, {"us-west-2", 2000}}},
		{Phase: "1m", MsgPerSec: 1000000, Error: "us-east-1: no instance type fits"}}
	rec, err := run(t, a)
	require.NoError(t, err)
	cm, err := rec.One("kubernetes:core/v1:ConfigMap", "o-dashboard-pulsar-fleet-cost")
	require.NoError(t, err)
	var d GrafanaDashboard
	require.NoError(t, json.Unmarshal([]byte(cm.Input("data").(map[string]any)["pulsar-fleet-cost.json"].(string)), &d))
	require.Len(t, d.Panels, 1)
	assert.Equal(t, "text", d.Panels[0].Type)
	content := d.Panels[0].Options.Content
	assert.Contains(t, content, "| Phase | fleet msg/s | us-east-1 | us-west-2 | total |")
	assert.Contains(t, content, "| **35k (now)** | 35000 | 12346 | 1000 | 13346 |")
	assert.Contains(t, content, "| 100k | 100000 | 23456 | 2000 | 25456 |")
	assert.Contains(t, content, "| 1m | 1000000 | not plannable: us-east-1: no instance type fits |")
}

// Every pod's logs go to the region's log group: the group has the
// configured retention, Fluent Bit's role writes to it only, its service
// account carries the role, and the DaemonSet runs on every node.
func TestPodLogsToCloudWatch(t *testing.T) {
	a := args(false)
	a.LogRetentionDays = 90
	rec, err := run(t, a)
	require.NoError(t, err)
	group, err := rec.One("aws:cloudwatch/logGroup:LogGroup", "o-pods")
	require.NoError(t, err)
	assert.Equal(t, "/pulsar-fleet/us-west-2/pods", group.Inputs["name"])
	assert.Equal(t, 90.0, group.Inputs["retentionInDays"])
	policy, err := rec.One("aws:iam/rolePolicy:RolePolicy", "o-fluent-bit")
	require.NoError(t, err)
	assert.Contains(t, policy.Inputs["policy"], `"logs:CreateLogStream","logs:DescribeLogStreams","logs:PutLogEvents"`)
	assert.NotContains(t, policy.Inputs["policy"], "logs:CreateLogGroup", "the group is the program's")
	role, err := rec.One("aws:iam/role:Role", "o-fluent-bit")
	require.NoError(t, err)
	assert.Contains(t, role.Inputs["assumeRolePolicy"], "system:serviceaccount:kube-system:fluent-bit")
	sa, err := rec.One("kubernetes:core/v1:ServiceAccount", "o-fluent-bit")
	require.NoError(t, err)
	assert.Equal(t, "kube-system", sa.Input("metadata.namespace"))
	assert.Equal(t, "arn:aws:iam::123456789012:role/o-fluent-bit", sa.Input("metadata.annotations").(map[string]any)[model.AnnotationIRSARole])

	v, err := ChartValues(a)
	require.NoError(t, err)
	var ds k8s.Workload
	var cm k8s.ConfigMap
	for _, m := range v.ExtraManifests {
		switch o := m.(type) {
		case k8s.Workload:
			if o.Kind == "DaemonSet" {
				ds = o
			}
		case k8s.ConfigMap:
			cm = o
		}
	}
	require.Equal(t, FluentBitName, ds.Metadata.Name)
	assert.Equal(t, "kube-system", ds.Metadata.Namespace)
	assert.Equal(t, []k8s.Toleration{{Operator: "Exists"}}, ds.Spec.Template.Spec.Tolerations, "every node, whatever its taints")
	assert.Zero(t, ds.Spec.Replicas, "a DaemonSet has no replicas")
	conf := cm.Data["fluent-bit.yaml"]
	for _, want := range []string{"name: cloudwatch_logs", "region: us-west-2", "log_group_name: /pulsar-fleet/us-west-2/pods", "auto_create_group: off"} {
		assert.Contains(t, conf, want)
	}
	var parsed map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(conf), &parsed), "the configuration is YAML")

	a.LogRetentionDays = 45
	_, err = run(t, a)
	assert.ErrorContains(t, err, "logRetentionDays: 45 is not a retention CloudWatch Logs accepts")
}

// The bucket readers run as nobody and write to their volumes, which the
// kubelet gives the pod's group; every Thanos container waits for
// /-/ready before it takes traffic.
func TestThanosPodsWriteTheirVolumes(t *testing.T) {
	for _, m := range args(true).Thanos().Manifests() {
		w, ok := m.(k8s.Workload)
		if !ok {
			continue
		}
		c := w.Spec.Template.Spec.Containers[0]
		require.NotNil(t, c.ReadinessProbe, w.Metadata.Name)
		assert.Equal(t, "/-/ready", c.ReadinessProbe.HTTPGet.Path)
		if w.Kind != "StatefulSet" {
			assert.Nil(t, w.Spec.Template.Spec.SecurityContext, w.Metadata.Name)
			continue
		}
		require.Len(t, w.Spec.VolumeClaimTemplates, 1, w.Metadata.Name)
		require.NotNil(t, w.Spec.Template.Spec.SecurityContext, w.Metadata.Name)
		assert.Equal(t, c.SecurityContext.RunAsUser, w.Spec.Template.Spec.SecurityContext.FSGroup, "%s writes its volume", w.Metadata.Name)
	}
}

// The Thanos alerts read what is scraped: the PodMonitor selects every
// Thanos pod the program runs on a port it has, and the alerts' job
// matcher is that PodMonitor's job.
func TestThanosIsScraped(t *testing.T) {
	v, err := ChartValues(args(true))
	require.NoError(t, err)
	mon := podMonitor()
	require.Len(t, mon.Spec.PodMetricsEndpoints, 1)
	port := mon.Spec.PodMetricsEndpoints[0].Port
	var scraped []string
	for _, m := range v.ExtraManifests {
		w, ok := m.(k8s.Workload)
		if !ok || w.Metadata.Labels["app.kubernetes.io/name"] != "thanos" {
			continue
		}
		for k, want := range mon.Spec.Selector.MatchLabels {
			assert.Equal(t, want, w.Spec.Template.Metadata.Labels[k], "%s: selected by the PodMonitor", w.Metadata.Name)
		}
		var ports []string
		for _, p := range w.Spec.Template.Spec.Containers[0].Ports {
			ports = append(ports, p.Name)
		}
		assert.Contains(t, ports, port, w.Metadata.Name)
		scraped = append(scraped, w.Metadata.Name)
	}
	assert.ElementsMatch(t, []string{StoreName, CompactName, RegionalQueryName, GlobalQueryName}, scraped)
	job := `job="` + Namespace + "/" + ThanosMonitorName + `"`
	for _, r := range thanosGroup(nil, nil, func(string, string) map[string]string { return nil }).Rules {
		if strings.Contains(r.Expr, "thanos_compact") || strings.Contains(r.Expr, "grpc_connections") || strings.Contains(r.Expr, "last_successful_upload") {
			assert.Contains(t, r.Expr, job, r.Alert)
		}
	}
}

// Only the monitoring namespace reaches its pods, except the regional
// querier's gRPC port, which the cross-region NLB forwards to (and which
// demands a fleet certificate), and the operator's webhook, which the
// control plane calls from the VPC. Fluent Bit takes nothing, and sends
// DNS and TLS on 443 only.
func TestMonitoringNetworkPolicies(t *testing.T) {
	ps := NetworkPolicies(Blocks{VPC: []string{"10.20.0.0/16"}, Endpoint: []string{"10.20.0.0/16", "10.30.0.0/16"}})
	for _, o := range LogManifests("us-east-1", "us-east-1") {
		if np, ok := o.(k8s.NetworkPolicy); ok {
			ps = append(ps, np)
		}
	}
	labels := func(name string) map[string]string {
		switch name {
		case "grafana", "prometheus", "alertmanager":
			return map[string]string{model.LabelAppName: name}
		case "operator":
			return map[string]string{model.LabelAppInstance: ChartName, model.LabelAppComponent: "prometheus-operator"}
		case "webhook":
			return map[string]string{model.LabelAppInstance: ChartName, model.LabelAppComponent: OperatorWebhookComponent}
		}
		return ThanosLabels(name)
	}
	pod := func(name string) k8s.Endpoint { return k8s.Endpoint{Namespace: Namespace, Labels: labels(name)} }
	grafana, prometheus := pod("grafana"), pod("prometheus")
	outsider := k8s.Endpoint{Namespace: "pulsar", Labels: map[string]string{"app": "pulsar"}, IP: "10.20.4.4"}
	peerQuerier := k8s.Endpoint{IP: "10.30.4.4"}
	internet := k8s.Endpoint{IP: "198.51.100.9"}
	controlPlane := k8s.Endpoint{IP: "10.20.9.9"}
	fluentBit := k8s.Endpoint{Namespace: model.NamespaceNodeAgents, Labels: map[string]string{model.LabelAppName: FluentBitName, model.LabelPartOf: model.PartOf}}
	for _, tc := range []struct {
		name string
		src  k8s.Endpoint
		dst  k8s.Endpoint
		port int
		want bool
	}{
		{"Grafana queries the global querier", grafana, pod(GlobalQueryName), HTTPPort, true},
		{"Prometheus scrapes the store gateway", prometheus, pod(StoreName), HTTPPort, true},
		{"Prometheus alerts Alertmanager", prometheus, pod("alertmanager"), 9093, true},
		{"the global querier dials the regional one", pod(GlobalQueryName), pod(RegionalQueryName), GRPCPort, true},
		{"the regional querier dials a sidecar", pod(RegionalQueryName), prometheus, GRPCPort, true},
		{"another namespace reads the global querier's HTTP API", outsider, pod(GlobalQueryName), HTTPPort, false},
		{"another namespace reads the regional querier's HTTP API", outsider, pod(RegionalQueryName), HTTPPort, false},
		{"another namespace dials the store gateway", outsider, pod(StoreName), GRPCPort, false},
		{"another namespace reaches the compactor", outsider, pod(CompactName), HTTPPort, false},
		{"another namespace reaches Prometheus", outsider, prometheus, 9090, false},
		{"another namespace reaches Grafana", outsider, grafana, 3000, false},
		{"another namespace reaches Alertmanager", outsider, pod("alertmanager"), 9093, false},
		{"a joined region's querier reaches the regional querier's gRPC (mutual TLS)", peerQuerier, pod(RegionalQueryName), GRPCPort, true},
		{"a pod of this VPC reaches the regional querier's gRPC", outsider, pod(RegionalQueryName), GRPCPort, true},
		{"the internet reaches the regional querier's gRPC", internet, pod(RegionalQueryName), GRPCPort, false},
		{"the control plane calls the webhook", controlPlane, pod("webhook"), OperatorWebhookPort, true},
		{"a pod of this VPC reaches the webhook (a documented limit)", outsider, pod("webhook"), OperatorWebhookPort, true},
		{"the control plane reaches the operator (pprof on its TLS port)", controlPlane, pod("operator"), OperatorWebhookPort, false},
		{"another namespace reaches the operator", outsider, pod("operator"), OperatorWebhookPort, false},
		{"the control plane reaches Prometheus", controlPlane, prometheus, 9090, false},
		{"the control plane reaches the webhook's other ports", controlPlane, pod("webhook"), 8080, false},
		{"Prometheus reaches Fluent Bit", prometheus, fluentBit, 2020, false},
	} {
		assert.Equal(t, tc.want, k8s.Admits(ps, tc.src, tc.dst, tc.port), tc.name)
	}
	// Without blocks no door opens: a rule without peers would admit
	// anyone.
	closed := NetworkPolicies(Blocks{})
	assert.False(t, k8s.Admits(closed, internet, pod(RegionalQueryName), GRPCPort), "no endpoint, no door")
	assert.False(t, k8s.Admits(closed, controlPlane, pod("webhook"), OperatorWebhookPort), "no control plane blocks, no door")
	assert.True(t, k8s.Admits(closed, prometheus, pod("webhook"), OperatorWebhookPort), "its own namespace still does")
	k8stest.AssertTLSOnlyEgress(t, ps, fluentBit)
}

// What the monitoring namespace's pods send: anything to any pod and to
// this VPC's and the joined regions' blocks (scrapes, the global
// querier's dials), DNS to the cluster's resolver, and TLS on 443
// elsewhere (S3, STS, the alert
// webhook); no plaintext to the internet, no instance metadata service.
func TestMonitoringEgress(t *testing.T) {
	ps := NetworkPolicies(Blocks{VPC: []string{"10.20.0.0/16"}, Endpoint: []string{"10.20.0.0/16", "10.30.0.0/16"}})
	node := k8s.Endpoint{IP: "10.20.3.3"}
	peer := k8s.Endpoint{IP: "10.30.4.4"}
	broker := k8s.Endpoint{Namespace: "pulsar", Labels: map[string]string{"component": "broker"}, IP: "10.20.4.4"}
	internet := k8s.Endpoint{IP: "198.51.100.9"}
	otherVPC := k8s.Endpoint{IP: "10.99.0.1"}
	metadata := k8s.Endpoint{IP: "169.254.169.254"}
	for _, src := range []string{"prometheus", "grafana", "alertmanager", GlobalQueryName, StoreName} {
		pod := k8s.Endpoint{Namespace: Namespace, Labels: map[string]string{model.LabelAppName: src}}
		k8stest.AssertEgress(t, ps, pod, []k8stest.EgressCase{
			k8stest.To("a broker's metrics", broker, "TCP", 8080, true),
			k8stest.To("a node's kubelet", node, "TCP", 10250, true),
			k8stest.To("a node exporter", node, "TCP", 9100, true),
			k8stest.To("a joined region's Thanos endpoint", peer, "TCP", EndpointPort, true),
			k8stest.To("a joined region's node exporter", peer, "TCP", 9100, false),
			k8stest.To("S3 or the alert webhook", internet, "TCP", model.PortHTTPS, true),
			k8stest.To("the kube-dns Service", k8s.Endpoint{IP: "172.20.0.10"}, "UDP", model.PortDNS, true),
			k8stest.To("another resolver", internet, "UDP", model.PortDNS, false),
			k8stest.To("the internet in plaintext", internet, "TCP", 80, false),
			k8stest.To("the internet on SMTP", internet, "TCP", 587, false),
			k8stest.To("a VPC not joined", otherVPC, "TCP", 9100, false),
			k8stest.To("the instance metadata service", metadata, "TCP", 80, false),
		})
	}
	// Without the VPC's blocks, pods are still reached, nodes are not.
	closed := NetworkPolicies(Blocks{})
	prometheus := k8s.Endpoint{Namespace: Namespace, Labels: map[string]string{model.LabelAppName: "prometheus"}}
	assert.True(t, k8s.Sends(closed, prometheus, broker, "TCP", 8080))
	assert.False(t, k8s.Sends(closed, prometheus, node, "TCP", 10250))
}

// mirrorOf is us-west-2 with a global view keeping a mirror of the
// primary's metrics and reading the DR region's bucket; mirrored is the
// primary, which replicates into it.
func mirrorOf() Config {
	a := args(true)
	a.Mirrors, a.PeerBuckets, a.Protect = []string{"us-east-1"}, []Site{{Stack: "eu-west-1", Region: "eu-west-1"}}, true
	return a
}

func mirrorOfDeps() Deps {
	d := deps()
	d.PeerBuckets = map[string]PeerBucket{"eu-west-1": {Name: pulumi.String("eu-west-1-metrics-x"), ARN: pulumi.String("arn:aws:s3:::eu-west-1-metrics-x"),
		KMSKeyARN: pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/dr")}}
	return d
}

var (
	mirrorStore = HistoryStore{Stack: "us-east-1", Region: "us-west-2", Mirror: true}
	peerStore   = HistoryStore{Stack: "eu-west-1", Region: "eu-west-1"}
)

func mirrored() Config {
	a := args(true)
	a.Cluster, a.Region, a.Peers = "us-east-1", "us-east-1", []Peer{{Stack: "us-west-2", GlobalView: true}, {Stack: "eu-west-1"}}
	a.MirrorTo = []Site{{Stack: "us-west-2", Region: "us-west-2"}}
	return a
}

func mirroredDeps() Deps {
	d := deps()
	d.Mirrors = map[string]MirrorBucket{"us-west-2": {BucketARN: pulumi.String("arn:aws:s3:::us-west-2-metrics-mirror-us-east-1-x"),
		KMSKeyARN: pulumi.String("arn:aws:kms:us-west-2:123456789012:key/mirror")}}
	return d
}

// A global-view region keeps a mirror of each region that reads it: a
// bucket hardened and protected like its own, which only the mirror's
// store gateway reads, served to the global querier in plaintext inside
// the namespace while every other endpoint keeps TLS; the stack exports
// the bucket and its key for the mirrored region.
func TestMetricsMirrorIsServedToTheGlobalQuerier(t *testing.T) {
	var exported map[string]any
	rec := recorder.New("us-west-2")
	require.NoError(t, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		d := mirrorOfDeps()
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		d.Provider = p
		o, err := New(ctx, "o", mirrorOf(), d)
		if err != nil {
			return err
		}
		o.MetricsMirrors.ToMapOutput().ApplyT(func(m map[string]any) map[string]any { exported = m; return m })
		return nil
	}))
	name := "o-metrics-mirror-us-east-1"
	bucketARN, keyARN := "arn:aws:s3:::"+name, "arn:aws:kms:us-west-2:123456789012:key/"+name
	bucket, err := rec.One("aws:s3/bucketV2:BucketV2", name)
	require.NoError(t, err)
	key, err := rec.One("aws:kms/key:Key", name)
	require.NoError(t, err)
	assert.True(t, bucket.Protect && key.Protect, "the mirror and its key are protected like the region's bucket")
	for _, typ := range []string{"aws:s3/bucketVersioningV2:BucketVersioningV2", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "aws:s3/bucketPolicy:BucketPolicy",
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"} {
		_, err := rec.One(typ, name)
		assert.NoError(t, err, typ)
	}
	store := mirrorStore.Name()
	role, err := rec.One("aws:iam/role:Role", "o-"+store)
	require.NoError(t, err)
	assert.Contains(t, role.Inputs["assumeRolePolicy"], "system:serviceaccount:monitoring:"+store)
	pol, err := rec.One("aws:iam/rolePolicy:RolePolicy", "o-"+store)
	require.NoError(t, err)
	assert.Contains(t, pol.Inputs["policy"], bucketARN)
	assert.Contains(t, pol.Inputs["policy"], keyARN)
	for _, write := range []string{"s3:PutObject", "s3:DeleteObject", "kms:GenerateDataKey"} {
		assert.NotContains(t, pol.Inputs["policy"], write, "the mirror's store gateway only reads")
	}
	sa, err := rec.One("kubernetes:core/v1:ServiceAccount", "o-"+store)
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::123456789012:role/o-"+store, sa.Input("metadata.annotations").(map[string]any)[model.AnnotationIRSARole])
	secret, err := rec.One("kubernetes:core/v1:Secret", "o-thanos-objstore-mirror-us-east-1")
	require.NoError(t, err)
	assert.Equal(t, mirrorStore.ObjstoreSecret(), secret.Input("metadata.name"))
	assert.Equal(t, map[string]any{"us-east-1": map[string]any{"bucketArn": bucketARN, "kmsKeyArn": keyARN}}, exported, "the mirror only: a peer's bucket is its own")
	peer, err := rec.One("aws:iam/rolePolicy:RolePolicy", "o-"+peerStore.Name())
	require.NoError(t, err)
	for _, want := range []string{"arn:aws:s3:::eu-west-1-metrics-x", "arn:aws:kms:eu-west-1:123456789012:key/dr", "s3:GetObject", "kms:Decrypt"} {
		assert.Contains(t, peer.Inputs["policy"], want)
	}
	for _, write := range []string{"s3:PutObject", "s3:DeleteObject", "kms:GenerateDataKey"} {
		assert.NotContains(t, peer.Inputs["policy"], write, "the peer's bucket is read, never written")
	}
	peerSecret, err := rec.One("kubernetes:core/v1:Secret", "o-"+peerStore.ObjstoreSecret())
	require.NoError(t, err)
	assert.Equal(t, "[secret]", peerSecret.Input("stringData"), "the Kubernetes SDK keeps a Secret's data secret")
	assert.Equal(t, []HistoryStore{mirrorStore, peerStore}, mirrorOf().History(), "each bucket is read in its own AWS region")
	assert.Len(t, rec.ByType("aws:s3/bucketV2:BucketV2"), 2, "the region's bucket and the mirror: the peer's bucket is not made here")
	assert.Empty(t, rec.ByType("aws:s3/bucketReplicationConfig:BucketReplicationConfig"), "the mirror is written by the mirrored region")

	v, err := ChartValues(mirrorOf())
	require.NoError(t, err)
	var global, mirror k8s.Workload
	for _, m := range v.ExtraManifests {
		if w, ok := m.(k8s.Workload); ok && w.Metadata.Name == GlobalQueryName {
			global = w
		} else if ok && w.Metadata.Name == store {
			mirror = w
		}
	}
	require.Equal(t, "StatefulSet", mirror.Kind)
	assert.Equal(t, 2, mirror.Spec.Replicas)
	assert.Equal(t, append([]string{"/bin/thanos"}, mirrorStore.Args()...), mirror.Spec.Template.Spec.Containers[0].Command)
	assert.Contains(t, mirrorStore.Args(), "--consistency-delay=30m")
	assert.NotContains(t, peerStore.Args(), "--consistency-delay=30m", "the peer's own bucket: the sidecar uploads a block's meta.json last")
	assert.Equal(t, mirrorStore.ObjstoreSecret(), mirror.Spec.Template.Spec.Volumes[0].Secret.SecretName)
	assert.Equal(t, store, mirror.Spec.Template.Spec.ServiceAccountName)
	cmd := global.Spec.Template.Spec.Containers[0].Command
	assert.Contains(t, cmd, "--grpc-client-tls-secure", "every other endpoint keeps TLS")
	assert.Contains(t, cmd, `--endpoint.sd-config={"endpoints":[{"address":"thanos-store-mirror-us-east-1.monitoring.svc.cluster.local:10901","client_config":{"tls_config":{"enabled":false}}},`+
		`{"address":"thanos-store-peer-eu-west-1.monitoring.svc.cluster.local:10901","client_config":{"tls_config":{"enabled":false}}}]}`)
	assert.Subset(t, manifestNames(v), []string{store, store, store, peerStore.Name(), peerStore.Name(), peerStore.Name()}, "each store's StatefulSet, Service and PDB")

	v, err = ChartValues(args(true))
	require.NoError(t, err)
	for _, m := range v.ExtraManifests {
		if w, ok := m.(k8s.Workload); ok && w.Metadata.Name == GlobalQueryName {
			for _, a := range w.Spec.Template.Spec.Containers[0].Command {
				assert.NotContains(t, a, "--endpoint.sd-config", "no mirror, no endpoint configuration")
			}
		}
	}
}

// A region read by a global-view region replicates its metrics bucket
// into that region's mirror: every object and every delete, re-encrypted
// with the mirror's key, by a role only S3 may assume for this bucket.
func TestMetricsBucketReplicatesIntoTheMirrors(t *testing.T) {
	rec, err := runWith(t, mirrored(), mirroredDeps())
	require.NoError(t, err)
	repl, err := rec.One("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "o-metrics")
	require.NoError(t, err)
	bucket, err := rec.One("aws:s3/bucketV2:BucketV2", "o-metrics")
	require.NoError(t, err)
	assert.Equal(t, bucket.ID, repl.Inputs["bucket"])
	rules := repl.Inputs["rules"].([]any)
	require.Len(t, rules, 1)
	rule := recorder.Resource{Inputs: rules[0].(map[string]any)}
	assert.Equal(t, "to-us-west-2", rule.Input("id"))
	assert.Equal(t, "arn:aws:s3:::us-west-2-metrics-mirror-us-east-1-x", rule.Input("destination.bucket"))
	assert.Equal(t, "arn:aws:kms:us-west-2:123456789012:key/mirror", rule.Input("destination.encryptionConfiguration.replicaKmsKeyId"))
	assert.Equal(t, "STANDARD", rule.Input("destination.storageClass"))
	assert.Equal(t, "Enabled", rule.Input("destination.replicationTime.status"), "blocks land within RTC's 15 minutes, inside the consistency delay")
	assert.Equal(t, "Enabled", rule.Input("deleteMarkerReplication.status"), "the compactor's deletes reach the mirror")
	assert.Equal(t, "Enabled", rule.Input("sourceSelectionCriteria.sseKmsEncryptedObjects.status"))
	role, err := rec.One("aws:iam/role:Role", "o-metrics-replication")
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::123456789012:role/o-metrics-replication", repl.Inputs["role"])
	trust := role.Inputs["assumeRolePolicy"].(string)
	assert.Contains(t, trust, `"aws:SourceAccount":["123456789012"]`)
	assert.Contains(t, trust, "arn:aws:s3:::o-metrics", "only S3 replicating this bucket")
	pol, err := rec.One("aws:iam/rolePolicy:RolePolicy", "o-metrics-replication")
	require.NoError(t, err)
	for _, want := range []string{"s3:ReplicateDelete", "arn:aws:s3:::us-west-2-metrics-mirror-us-east-1-x/*", "s3.us-west-2.amazonaws.com", "s3.us-east-1.amazonaws.com"} {
		assert.Contains(t, pol.Inputs["policy"], want)
	}
	_, err = rec.One("aws:s3/bucketV2:BucketV2", "o-metrics-mirror-us-west-2")
	assert.Error(t, err, "the mirrored region keeps no mirror of its own")
}

func TestMirrorsBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		mut  func(*Config)
		want string
	}{
		"a mirror without a global view": {func(c *Config) { c.GlobalView = false }, "only a region with a global view reads other regions' history"},
		"a stack mirrored and read":      {func(c *Config) { c.PeerBuckets = []Site{{Stack: "us-east-1", Region: "us-east-1"}} }, `peerBuckets: "us-east-1": listed twice`},
		"a peer bucket without a region": {func(c *Config) { c.PeerBuckets = []Site{{Stack: "eu-west-1"}} }, `peerBuckets: "eu-west-1": its AWS region is required`},
		"names no IAM role can carry": {func(c *Config) { c.Cluster, c.Mirrors = "us-west-2-production", []string{"us-east-1-production"} },
			`mirrors: "us-east-1-production": with this region's "us-west-2-production", 40 characters: at most 35 fit its store's IAM role name`},
		"a mirror of itself":          {func(c *Config) { c.Mirrors = []string{"us-west-2"} }, `mirrors: "us-west-2": listed twice, or this region itself`},
		"a mirror twice":              {func(c *Config) { c.Mirrors = []string{"us-east-1", "us-east-1"} }, `mirrors: "us-east-1": listed twice`},
		"a name no object can carry":  {func(c *Config) { c.Mirrors = []string{"US_East"} }, `mirrors: "US_East": want a stack name of at most 32 lowercase letters`},
		"a name too long":             {func(c *Config) { c.Mirrors = []string{strings.Repeat("a", 33)} }, "want a stack name of at most 32"},
		"a target without its region": {func(c *Config) { c.MirrorTo = []Site{{Stack: "eu-west-1"}} }, `mirrorTo: "eu-west-1": its AWS region is required`},
	} {
		c := mirrorOf()
		tc.mut(&c)
		_, err := runWith(t, c, mirrorOfDeps())
		assert.ErrorContains(t, err, tc.want, name)
	}
	_, err := run(t, mirrorOf())
	require.ErrorContains(t, err, "metrics bucket of eu-west-1: its name, ARN and key ARN are required (its stack's outputs)")
	rec, err := runWith(t, mirrored(), deps())
	require.ErrorContains(t, err, "mirror in us-west-2: bucket and key ARNs are required (its stack's output metricsMirrors)")
	for _, r := range rec.Resources() {
		assert.Equal(t, "pulumi:providers:kubernetes", r.Type, "nothing of the component is registered")
	}
}
