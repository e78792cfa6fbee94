// Package observability runs kube-prometheus-stack (chart 88.5.3) in every
// region with external labels naming the cluster and region, alert rules on
// the failures that lose messages, and a Karpenter pod monitor, and the
// fleet's global metrics view on Thanos (thanos.go): each region's
// Prometheus pair uploads to the region's metrics bucket through the
// Thanos sidecar, a regional querier serves the region to the others over
// mutual TLS, and the regions with a global view (the primary and the
// secondary) run a global querier over every region and Grafana on it.
//
// Why not remote write to one store (what this package did before): each
// peer wrote through a Service over both Prometheus replicas, so each
// replica held part of the samples; nothing deduplicated; and the view
// died with the primary. Why not Amazon Managed Service for Prometheus: its
// write URL holds the workspace id, an output of the stack that hosts it,
// which the peers would read while the primary reads the peers (a cycle in
// the stack graph). Thanos needs no such output: every region publishes
// its endpoint under a stable name, and the fleet CA from the bootstrap
// stack authenticates both ends.
package observability

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi-tls/sdk/v5/go/tls"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// TypeToken is the component's type.
var TypeToken = kit.Type("observability", "Observability")

// Chart coordinates and names.
const (
	ChartRepo    = "https://prometheus-community.github.io/helm-charts"
	ChartName    = "kube-prometheus-stack"
	ChartVersion = "88.5.3"
	Namespace    = model.NamespaceMonitoring
	Fullname     = "kps"
	// GrafanaAdminSecret holds the Grafana admin user and password. The
	// program creates it (global view only) from a generated password that
	// Pulumi keeps encrypted as a secret: no manual step, nothing in git.
	GrafanaAdminSecret = "grafana-admin"
	// GrafanaAdminUser is the Grafana admin's name; GrafanaUserKey and
	// GrafanaPasswordKey are the Secret's keys, set in the chart's values
	// too, so nothing depends on the chart's defaults.
	GrafanaAdminUser   = "admin"
	GrafanaUserKey     = "admin-user"
	GrafanaPasswordKey = "admin-password"
	// AlertWebhookSecret holds the alert webhook URL (key "url"); the
	// program creates it from the secret stack config alertWebhookUrl.
	AlertWebhookSecret = "alert-webhook"
	// CertificateValidityHours is the regional certificate's life (a year);
	// CertificateRenewalHours before its end, any `up` replaces it.
	CertificateValidityHours = 365 * 24
	CertificateRenewalHours  = 30 * 24
)

// MinEndpointPrefix is the widest network the Thanos endpoint admits.
const MinEndpointPrefix = 8

// Peer is another stack of the fleet; those with a global view query this
// region's endpoint.
type Peer struct {
	Stack      string
	GlobalView bool
}

// Site is a stack and its AWS region.
type Site struct {
	Stack, Region string
}

// LocalStore is how much the region's Prometheus keeps on its own volume.
type LocalStore struct {
	Retention, RetentionSize, Disk string
}

// Config configures one region's monitoring.
type Config struct {
	// Charts is where the monitoring chart comes from (empty: the public
	// repository).
	Charts model.ChartSource
	// Cluster is the Pulsar cluster name (external label cluster), the
	// stack's name.
	Cluster string
	// Region is the AWS region (external label region).
	Region string
	// GlobalView runs the global querier and Grafana in this region.
	GlobalView bool
	// Peers are the fleet's other stacks.
	Peers []Peer
	// Mirrors are the stacks whose metrics this region keeps a mirror of
	// (global view only): each replicates its metrics bucket into a bucket
	// this region owns, which a store gateway of this region serves to the
	// global querier, so that stack's history stays in the view while it is
	// down. They are the stacks that read this one in the stack graph (this
	// one cannot read their outputs).
	Mirrors []string
	// MirrorTo are the global-view stacks that keep a mirror of this
	// region's metrics: the metrics bucket replicates into their mirror
	// buckets.
	MirrorTo []Site
	// PeerBuckets are the stacks whose own metrics buckets this region's
	// global querier reads across regions (global view only): the stacks
	// it reads in the stack graph, whose history stays in the view while
	// their clusters are down and their S3 is not.
	PeerBuckets []Site
	// Domain and HostedZoneID place thanos.<stack>.<domain>.
	Domain       string
	HostedZoneID string
	// PulsarNamespace is where the Pulsar pod monitors live.
	PulsarNamespace string
	// WebhookURL is where alerts are sent (a secret); empty routes alerts
	// nowhere (with a warning).
	WebhookURL model.Secret
	// EndpointCIDRs are what the region's Thanos endpoint (an internal NLB)
	// admits: the VPC blocks of this region and the joined regions, whose
	// global queriers reach it through the transit gateways. Required
	// where the endpoint is exposed.
	EndpointCIDRs []string
	// ControlPlaneCIDRs are the VPC's blocks: the EKS control plane calls
	// the operator's admission webhook from network interfaces in the
	// cluster's subnets.
	ControlPlaneCIDRs []string
	// Local is the Prometheus volume and retention.
	Local LocalStore
	// Retention of the metrics bucket (zero: DefaultMetricsRetention).
	Retention MetricsRetention
	// LogRetentionDays is how long the region's pod log group keeps logs
	// (zero: DefaultLogRetentionDays).
	LogRetentionDays int
	// RunbookBase is where the repository is browsed; the alerts' runbook
	// links are RunbookBase/RunbookDoc#alert ("" keeps them relative).
	RunbookBase string
	// PhaseCosts are the plan's monthly cost of every region at every
	// phase (the cost dashboard; none: no cost dashboard).
	PhaseCosts []PhaseCost
	// Protect protects the metrics bucket and its key from deletion.
	Protect bool
	// StorageClass of the Prometheus volumes.
	StorageClass string
	// NodeSelector and Tolerations place Prometheus, Alertmanager, Thanos
	// and the operator on the on-demand critical pool.
	NodeSelector map[string]string
	Tolerations  []Toleration
	Tags         map[string]string
}

// DefaultLocalStore is a region's Prometheus volume: a week, the bucket
// holds the rest.
var DefaultLocalStore = LocalStore{Retention: "7d", RetentionSize: "90GB", Disk: "100Gi"}

// WithDefaults fills the bucket retention and the local store.
func (a Config) WithDefaults() Config {
	if a.Retention == (MetricsRetention{}) {
		a.Retention = DefaultMetricsRetention
	}
	if a.Local == (LocalStore{}) {
		a.Local = DefaultLocalStore
	}
	if a.LogRetentionDays == 0 {
		a.LogRetentionDays = DefaultLogRetentionDays
	}
	return a
}

// Exposed says whether another region queries this one's endpoint.
func (a Config) Exposed() bool {
	return slices.ContainsFunc(a.Peers, func(p Peer) bool { return p.GlobalView })
}

// Thanos is the region's Thanos configuration.
func (a Config) Thanos() Thanos {
	a = a.WithDefaults()
	t := Thanos{Retention: a.Retention, StorageClass: a.StorageClass, Scheduling: Scheduling{NodeSelector: a.NodeSelector, Tolerations: a.Tolerations}}
	if a.GlobalView {
		var others []string
		for _, p := range a.Peers {
			others = append(others, p.Stack)
		}
		t.GlobalEndpoints = GlobalEndpoints(a.Cluster, a.Domain, others)
		t.History = a.History()
	}
	return t
}

// History are the region's history stores: one over each mirror it
// keeps, one over each peer bucket it reads.
func (a Config) History() []HistoryStore {
	var out []HistoryStore
	for _, m := range a.Mirrors {
		out = append(out, HistoryStore{Stack: m, Region: a.Region, Mirror: true})
	}
	for _, p := range a.PeerBuckets {
		out = append(out, HistoryStore{Stack: p.Stack, Region: p.Region})
	}
	return out
}

// Validate checks the configuration.
func (a Config) Validate() error {
	a = a.WithDefaults()
	var errs []error
	if err := a.Charts.Validate(); err != nil {
		errs = append(errs, err)
	}
	if a.Cluster == "" || a.Region == "" {
		errs = append(errs, errors.New("cluster and region: both required (external labels)"))
	}
	if a.Domain == "" {
		errs = append(errs, errors.New("domain: required for the regions' Thanos endpoints"))
	}
	if a.HostedZoneID == "" {
		errs = append(errs, errors.New("hostedZoneId: the hosted zone is not given"))
	}
	if a.StorageClass == "" {
		errs = append(errs, errors.New("storageClass: empty"))
	}
	r := a.Retention
	if r.RawDays < 1 || r.FiveMinuteDays < r.RawDays || r.OneHourDays < r.FiveMinuteDays {
		errs = append(errs, fmt.Errorf("retention %+v: want 1 <= raw <= 5m <= 1h days (downsamples outlive the raw samples)", r))
	}
	for _, c := range a.EndpointCIDRs {
		if p, err := netip.ParsePrefix(c); err != nil || p.Bits() < MinEndpointPrefix {
			errs = append(errs, fmt.Errorf("endpointCidrs: %q: want a VPC block of /%d or narrower, such as 10.20.0.0/16", c, MinEndpointPrefix))
		}
	}
	if a.Exposed() && len(a.EndpointCIDRs) == 0 {
		errs = append(errs, errors.New("endpointCidrs: empty, but a global-view peer reads this region's Thanos endpoint: want the VPC blocks it admits (this region's and the joined regions')"))
	}
	if err := validRetention(a.LogRetentionDays); err != nil {
		errs = append(errs, err)
	}
	if err := kit.ControlPlaneCIDRs(a.ControlPlaneCIDRs); err != nil {
		errs = append(errs, err)
	}
	if u, err := url.Parse(a.RunbookBase); a.RunbookBase != "" && (err != nil || u.Scheme != "https" || u.Host == "") {
		errs = append(errs, fmt.Errorf("runbookBase: %q: want an https:// URL where the repository is browsed", a.RunbookBase))
	}
	if _, err := MetricNames(Expressions(a.PulsarNamespace)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(append(errs, a.validateMirrors()...)...)
}

// validateMirrors: history stores only with a global view, each stack
// once (mirrored or read, never both), never this one, named so its store
// gateway's objects can be; a mirror target and a peer bucket in an AWS
// region.
func (a Config) validateMirrors() []error {
	var errs []error
	if len(a.Mirrors)+len(a.PeerBuckets) > 0 && !a.GlobalView {
		errs = append(errs, fmt.Errorf("mirrors %v, peerBuckets %v: only a region with a global view reads other regions' history", a.Mirrors, a.PeerBuckets))
	}
	seen := map[string]bool{}
	check := func(field, stack, region string) {
		switch {
		case len(stack) > MaxHistoryStack || !model.IsKubernetesName(stack):
			errs = append(errs, fmt.Errorf("%s: %q: want a stack name of at most %d lowercase letters, digits and '-'", field, stack, MaxHistoryStack))
		case len(a.Cluster)+len(stack) > MaxHistoryNames:
			errs = append(errs, fmt.Errorf("%s: %q: with this region's %q, %d characters: at most %d fit its store's IAM role name", field, stack, a.Cluster, len(a.Cluster)+len(stack), MaxHistoryNames))
		case seen[stack] || stack == a.Cluster:
			errs = append(errs, fmt.Errorf("%s: %q: listed twice, or this region itself", field, stack))
		case region == "":
			errs = append(errs, fmt.Errorf("%s: %q: its AWS region is required", field, stack))
		}
		seen[stack] = true
	}
	for _, m := range a.Mirrors {
		check("mirrors", m, a.Region)
	}
	for _, p := range a.PeerBuckets {
		check("peerBuckets", p.Stack, p.Region)
	}
	seen = map[string]bool{}
	for _, m := range a.MirrorTo {
		check("mirrorTo", m.Stack, m.Region)
	}
	return errs
}

// operator is the Prometheus operator on the critical pool, its admission
// webhook a Deployment of its own there (two replicas under a PDB).
func operator(crit Scheduling) Operator {
	return Operator{Scheduling: crit, AdmissionWebhooks: AdmissionWebhooks{Deployment: WebhookDeployment{
		Enabled: true, Replicas: 2, PodDisruptionBudget: Toggle{Enabled: true}, Scheduling: crit}}}
}

// extraManifests are the monitoring release's own objects: the region's
// Thanos, Fluent Bit, and the namespace's NetworkPolicies.
func (a Config) extraManifests() []any {
	out := append(a.Thanos().Manifests(), LogManifests(a.Cluster, a.Region)...)
	blocks := Blocks{VPC: a.ControlPlaneCIDRs}
	if a.Exposed() {
		blocks.Endpoint = a.EndpointCIDRs
	}
	for _, np := range NetworkPolicies(blocks) {
		out = append(out, np)
	}
	return out
}

// CA is the fleet CA that signs every region's gRPC certificate, and the
// CA certificates the region trusts: the signing one's, and during a
// rotation the other one's (docs/operations.md, "Rotating the fleet CA").
type CA struct {
	CertPEM, KeyPEM pulumi.StringInput
	TrustPEM        pulumi.StringInput
}

// Deps are the outputs of other components monitoring needs.
type Deps struct {
	// Provider is the cluster's Kubernetes provider (always required).
	Provider *kubernetes.Provider
	// OIDCProviderARN and OIDCIssuer let the Thanos service accounts
	// assume their bucket roles.
	OIDCProviderARN pulumi.StringInput
	OIDCIssuer      pulumi.StringInput
	// FleetCA signs the region's certificate (the bootstrap stack's).
	FleetCA CA
	// Mirrors are the mirror buckets of Config.MirrorTo, by stack (their
	// outputs OutputMetricsMirrors).
	Mirrors map[string]MirrorBucket
	// PeerBuckets are the metrics buckets of Config.PeerBuckets, by stack
	// (their outputs).
	PeerBuckets map[string]PeerBucket
	// DependsOn are what the chart's pods need first (the node pools).
	DependsOn []pulumi.Resource
}

// Validate reports a missing provider, OIDC provider or fleet CA.
func (d Deps) Validate() error {
	return kit.Missing(map[string]any{"provider": d.Provider, "oidcProviderArn": d.OIDCProviderARN, "oidcIssuer": d.OIDCIssuer,
		"fleetCa.certPem": d.FleetCA.CertPEM, "fleetCa.keyPem": d.FleetCA.KeyPEM, "fleetCa.trustPem": d.FleetCA.TrustPEM})
}

// OutputMetricsMirrors is the stack output of a region's mirror buckets,
// {stack: {MirrorBucketARN: ..., MirrorKMSKeyARN: ...}}, which the
// mirrored stacks read.
const (
	OutputMetricsMirrors = "metricsMirrors"
	MirrorBucketARN      = "bucketArn"
	MirrorKMSKeyARN      = "kmsKeyArn"
)

// MirrorBucket is a mirror of this region's metrics in another region.
type MirrorBucket struct {
	BucketARN, KMSKeyARN pulumi.StringInput
}

// PeerBucket is another region's own metrics bucket: its name, ARN and
// key.
type PeerBucket struct {
	Name, ARN, KMSKeyARN pulumi.StringInput
}

// ValidateFor reports a mirror of Config.MirrorTo or a peer bucket of
// Config.PeerBuckets without its bucket or key.
func (d Deps) ValidateFor(c Config) error {
	var errs []error
	for _, m := range c.MirrorTo {
		if b := d.Mirrors[m.Stack]; b.BucketARN == nil || b.KMSKeyARN == nil {
			errs = append(errs, fmt.Errorf("mirror in %s: bucket and key ARNs are required (its stack's output %s)", m.Stack, OutputMetricsMirrors))
		}
	}
	for _, p := range c.PeerBuckets {
		if b := d.PeerBuckets[p.Stack]; b.Name == nil || b.ARN == nil || b.KMSKeyARN == nil {
			errs = append(errs, fmt.Errorf("metrics bucket of %s: its name, ARN and key ARN are required (its stack's outputs)", p.Stack))
		}
	}
	return errors.Join(errs...)
}

// ChartValues computes the kube-prometheus-stack values for the region:
// the Prometheus pair with the Thanos sidecar and the replica label, the
// region's Thanos objects, and Grafana on the global querier where the
// region has a global view.
func ChartValues(a Config) (Values, error) {
	a = a.WithDefaults()
	if _, err := MetricNames(Expressions(a.PulsarNamespace)); err != nil {
		return Values{}, err
	}
	crit := Scheduling{NodeSelector: a.NodeSelector, Tolerations: a.Tolerations}
	v := Values{
		FullnameOverride: Fullname,
		CRDs:             Toggle{Enabled: true},
		Prometheus: Prometheus{PrometheusSpec: PrometheusSpec{
			Replicas: 2, Retention: a.Local.Retention, RetentionSize: a.Local.RetentionSize, ScrapeInterval: "30s", WALCompression: true,
			ExternalLabels:                          map[string]string{"cluster": a.Cluster, "region": a.Region},
			ReplicaExternalLabelName:                ReplicaLabel,
			Thanos:                                  &ThanosSpec{ObjectStorageConfig: ObjectStorageConfig{ExistingSecret: SecretKey{Name: ObjstoreSecret, Key: ObjstoreKey}}},
			PodMonitorSelectorNilUsesHelmValues:     false,
			ServiceMonitorSelectorNilUsesHelmValues: false,
			RuleSelectorNilUsesHelmValues:           false,
			Resources:                               Resources{Requests: map[string]string{"cpu": "2", "memory": "8Gi"}, Limits: map[string]string{"memory": "8Gi"}},
			StorageSpec: StorageSpec{VolumeClaimTemplate: VolumeClaimTemplate{Spec: PVCSpec{StorageClassName: a.StorageClass,
				AccessModes: []string{"ReadWriteOnce"}, Resources: Resources{Requests: map[string]string{"storage": a.Local.Disk}}}}},
			NodeSelector: crit.NodeSelector, Tolerations: crit.Tolerations,
		}, ThanosService: Toggle{Enabled: true}, ThanosServiceMonitor: Toggle{Enabled: true},
			// NewMonitoring sets the sidecar's role, an output; the key is
			// here so the chart-path checks see it.
			ServiceAccount: ServiceAccount{Annotations: map[string]pulumi.StringInput{model.AnnotationIRSARole: pulumi.String("")}}},
		Alertmanager: Alertmanager{Enabled: true, Config: AlertmanagerConfig(a.webhookSecret()),
			AlertmanagerSpec: AlertmanagerSpec{Replicas: 2, NodeSelector: crit.NodeSelector, Tolerations: crit.Tolerations}},
		Grafana:               Grafana{Enabled: false},
		Operator:              operator(crit),
		KubeEtcd:              Toggle{Enabled: false},
		KubeControllerManager: Toggle{Enabled: false},
		KubeScheduler:         Toggle{Enabled: false},
		NodeExporter:          NamespaceOverride{NamespaceOverride: model.NamespaceNodeAgents},
		ExtraManifests:        a.extraManifests(),
		KubeStateMetrics:      KubeStateMetrics{MetricLabelsAllowlist: []string{"nodes=[" + model.LabelZone + "]"}},
	}
	if s := a.webhookSecret(); s != "" {
		v.Alertmanager.AlertmanagerSpec.Secrets = []string{s}
	}
	if a.GlobalView {
		v.Grafana = Grafana{Enabled: true, DefaultDashboardsEnabled: true,
			Admin: &GrafanaAdmin{ExistingSecret: GrafanaAdminSecret, UserKey: GrafanaUserKey, PasswordKey: GrafanaPasswordKey},
			Sidecar: &Sidecar{Dashboards: SidecarDashboards{Enabled: true, Label: "grafana_dashboard", LabelValue: "1"},
				Datasources: SidecarDatasources{DefaultDatasourceEnabled: false}},
			AdditionalDataSources: []DataSource{{Name: "Thanos (global)", UID: "thanos-global", Type: "prometheus", Access: "proxy",
				URL: GlobalQueryURL(), IsDefault: true}}}
	}
	return v, nil
}

// AlertmanagerConfig routes every alert but the watchdog to the webhook
// whose URL Alertmanager reads from the mounted Secret (url_file), so the
// URL never appears in values, state or git.
func AlertmanagerConfig(secret string) AlertmanagerSettings {
	receivers := []AlertReceiver{{Name: "null"}}
	receiver := "null"
	if secret != "" {
		receiver = "webhook"
		receivers = append(receivers, AlertReceiver{Name: "webhook", WebhookConfigs: []WebhookConfig{
			{URLFile: "/etc/alertmanager/secrets/" + secret + "/url", SendResolved: true}}})
	}
	return AlertmanagerSettings{
		Global: AlertmanagerGlobal{ResolveTimeout: "5m"},
		Route: AlertRoute{Receiver: receiver, GroupBy: []string{"alertname", "cluster", "region"},
			GroupWait: "30s", GroupInterval: "5m", RepeatInterval: "4h",
			Routes: []AlertRoute{{Matchers: []string{`alertname = "Watchdog"`}, Receiver: "null"}}},
		Receivers:    receivers,
		InhibitRules: InhibitRules(),
	}
}

// RuleSpec is the PrometheusRule spec.
func RuleSpec(pulsarNamespace, runbookBase string) RuleSpecValue {
	return RuleSpecValue{Groups: alertGroups(pulsarNamespace, runbookBase)}
}

// KarpenterPodMonitorSpec scrapes the Karpenter controller.
func KarpenterPodMonitorSpec() PodMonitorSpec {
	return PodMonitorSpec{
		NamespaceSelector:   NamespaceSelector{MatchNames: []string{"kube-system"}},
		Selector:            LabelSelector{MatchLabels: map[string]string{model.LabelAppName: "karpenter"}},
		PodMetricsEndpoints: []PodMetricsEndpoint{{Port: "http-metrics", Path: "/metrics", Interval: "30s"}},
	}
}

// GrafanaJSON renders a dashboard in Grafana's JSON model.
func GrafanaJSON(d Dashboard) (string, error) {
	out := GrafanaDashboard{UID: d.UID, Title: d.Title, SchemaVersion: 39, Tags: []string{"pulsar-fleet"},
		Time: GrafanaTime{From: "now-6h", To: "now"}}
	for i, p := range d.Panels {
		panel := GrafanaPanel{ID: i + 1, Type: "timeseries", Title: p.Title,
			FieldConfig: GrafanaFieldConfig{Defaults: GrafanaFieldDefaults{Unit: p.Unit}, Overrides: []struct{}{}},
			GridPos:     GrafanaGridPos{H: 8, W: 12, X: (i % 2) * 12, Y: (i / 2) * 8}}
		for j, t := range p.Targets {
			panel.Targets = append(panel.Targets, GrafanaTarget{Expr: t.Expr, LegendFormat: t.Legend, RefID: string(rune('A' + j))})
		}
		if p.Text != "" {
			panel.Type, panel.Options, panel.GridPos.W = "text", &GrafanaTextOptions{Content: p.Text, Mode: "markdown"}, 24
		}
		out.Panels = append(out.Panels, panel)
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// Observability is the component: the metrics bucket with its roles, the
// region's gRPC certificate, monitoring's in-cluster half, the endpoint's
// DNS name and, with a global view, the Grafana admin password.
type Observability struct {
	pulumi.ResourceState
	Installed
	// MetricsBucket is the region's Thanos bucket, MetricsBucketARN its
	// ARN and MetricsKMSKeyARN its key's, which the global-view regions
	// that read this one read it with.
	MetricsBucket, MetricsBucketARN, MetricsKMSKeyARN pulumi.StringOutput
	// MetricsMirrors are the mirror buckets the region keeps of other
	// regions' metrics, {stack: {bucketArn, kmsKeyArn}}
	// (OutputMetricsMirrors).
	MetricsMirrors pulumi.Map
	// ProbeAlarm is the name of the alarm on the end-to-end probe, which
	// the region's Route53 health check watches.
	ProbeAlarm pulumi.StringOutput
}

// New installs monitoring for the region.
func New(ctx *pulumi.Context, name string, cfg Config, deps Deps, opts ...pulumi.ResourceOption) (*Observability, error) {
	o := &Observability{}
	return kit.Construct(ctx, TypeToken, name, cfg, deps, o, func(cfg Config, parent pulumi.ResourceOption) (pulumi.Map, error) {
		store, err := newMetricsStore(ctx, name, cfg, deps, parent)
		if err != nil {
			return nil, err
		}
		cert, err := regionCertificate(ctx, name, cfg, deps.FleetCA, parent)
		if err != nil {
			return nil, err
		}
		logs, err := newLogShipping(ctx, name, cfg, deps, parent)
		if err != nil {
			return nil, err
		}
		md := MonitoringDeps{Provider: deps.Provider, DependsOn: deps.DependsOn, FormerParent: o,
			FluentBitRoleARN: logs.role.Arn,
			Thanos: ThanosDeps{BucketName: store.bucket.Bucket, TLS: cert,
				SidecarRoleARN: store.roles[PrometheusServiceAccount].Arn, StoreRoleARN: store.roles[StoreName].Arn,
				CompactRoleARN: store.roles[CompactName].Arn, History: store.history}}
		o.MetricsMirrors = pulumi.Map{}
		for m, mb := range store.mirrors {
			o.MetricsMirrors[m] = pulumi.Map{MirrorBucketARN: mb.Bucket.Arn, MirrorKMSKeyARN: mb.Key.Arn}
		}
		if cfg.GlobalView {
			pw, err := random.NewRandomPassword(ctx, name+"-grafana-admin", &random.RandomPasswordArgs{
				Length: pulumi.Int(32), Special: pulumi.Bool(false),
			}, parent)
			if err != nil {
				return nil, err
			}
			md.GrafanaAdminPassword = pw.Result
		}
		m, err := NewMonitoring(ctx, name, cfg, md, parent)
		if err != nil {
			return nil, err
		}
		o.Installed, o.MetricsBucket, o.ProbeAlarm = m.Installed, store.bucket.Bucket, logs.probeAlarm
		o.MetricsBucketARN, o.MetricsKMSKeyARN = store.bucket.Arn, store.key.Arn
		if cfg.Exposed() {
			// thanos.<stack>.<domain> points at the endpoint's load balancer.
			if _, err := route53.NewRecord(ctx, name+"-thanos", &route53.RecordArgs{
				ZoneId: pulumi.String(cfg.HostedZoneID), Name: pulumi.String(EndpointName(cfg.Cluster, cfg.Domain)), Type: pulumi.String("CNAME"),
				Ttl: pulumi.Int(60), Records: pulumi.StringArray{m.EndpointHostname},
			}, parent); err != nil {
				return nil, err
			}
		}
		return pulumi.Map{"endpointHostname": o.EndpointHostname, "metricsBucket": o.MetricsBucket, "metricsBucketArn": o.MetricsBucketARN,
			"metricsKmsKeyArn": o.MetricsKMSKeyARN, "probeAlarm": o.ProbeAlarm, OutputMetricsMirrors: o.MetricsMirrors}, nil
	}, opts...)
}

// regionCertificate is the region's gRPC certificate, signed by the fleet
// CA, for both ends of the cross-region hop: the regional querier serves
// with it and the global querier presents it. Both ends trust every CA
// of the bundle. A new signing CA replaces the certificate (the tls
// provider re-creates it for another CA). Its key never leaves the
// stack's state (a Pulumi secret) and the cluster's Secret.
func regionCertificate(ctx *pulumi.Context, name string, cfg Config, ca CA, parent pulumi.ResourceOption) (GRPCCertificate, error) {
	key, err := tls.NewPrivateKey(ctx, name+"-thanos", &tls.PrivateKeyArgs{
		Algorithm: pulumi.String("ECDSA"), EcdsaCurve: pulumi.String("P256"),
	}, parent)
	if err != nil {
		return GRPCCertificate{}, err
	}
	csr, err := tls.NewCertRequest(ctx, name+"-thanos", &tls.CertRequestArgs{
		PrivateKeyPem: key.PrivateKeyPem, DnsNames: pulumi.ToStringArray(CertificateNames(cfg.Cluster, cfg.Domain)),
		Subject: &tls.CertRequestSubjectArgs{CommonName: pulumi.String(EndpointName(cfg.Cluster, cfg.Domain)), Organization: pulumi.String("pulsar-fleet")},
	}, parent)
	if err != nil {
		return GRPCCertificate{}, err
	}
	cert, err := tls.NewLocallySignedCert(ctx, name+"-thanos", &tls.LocallySignedCertArgs{
		CertRequestPem: csr.CertRequestPem, CaCertPem: ca.CertPEM, CaPrivateKeyPem: pulumi.ToSecret(ca.KeyPEM).(pulumi.StringOutput),
		ValidityPeriodHours: pulumi.Int(CertificateValidityHours), EarlyRenewalHours: pulumi.Int(CertificateRenewalHours),
		AllowedUses: pulumi.ToStringArray([]string{"digital_signature", "key_encipherment", "server_auth", "client_auth"}),
	}, parent)
	if err != nil {
		return GRPCCertificate{}, err
	}
	return GRPCCertificate{CACert: ca.TrustPEM, Cert: cert.CertPem, Key: pulumi.ToSecret(key.PrivateKeyPem).(pulumi.StringOutput)}, nil
}
