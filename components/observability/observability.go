// Package observability runs kube-prometheus-stack (chart 88.5.3) in every
// region with external labels naming the cluster and region, alert rules on
// the failures that lose messages, and a Karpenter pod monitor. Every
// region remote-writes the metrics its dashboards and alerts use to one
// global store: the primary region's Prometheus with the remote-write
// receiver on, reached at metrics.<domain> over TLS from the peers' NAT
// addresses only. Grafana runs in the primary with dashboards as code.
//
// Why not Amazon Managed Service for Prometheus: its write URL contains the
// workspace id, an output of the primary, and the peers would have to read
// it back while the primary already reads the peers' buckets (a cycle in the
// stack graph); and SigV4 signs the AMP host name, so it cannot hide behind
// a stable name in the hosted zone. A self-hosted receiver behind
// metrics.<domain> needs no stack output: peers write to the name, and the
// primary's stack points the name at the receiver.
package observability

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// TypeToken is the component's type.
var TypeToken = kit.Type("observability", "Observability")

// Chart coordinates and names.
const (
	ChartRepo       = "https://prometheus-community.github.io/helm-charts"
	ChartName       = "kube-prometheus-stack"
	ChartVersion    = "88.5.3"
	Namespace       = model.NamespaceMonitoring
	Fullname        = "kps"
	ReceiverService = "metrics-receiver"
	// GrafanaAdminSecret holds the Grafana admin user and password. The
	// program creates it (primary only) from a generated password that
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
)

// MetricsName is the stable name of the global store.
func MetricsName(domain string) string { return "metrics." + domain }

// WriteURL is where peers remote-write: always https, since metrics cross
// regions over the internet.
func WriteURL(domain string) string { return "https://" + MetricsName(domain) + "/api/v1/write" }

// Config configures one region's monitoring.
type Config struct {
	// Charts is where the monitoring chart comes from (empty: the public
	// repository).
	Charts model.ChartSource
	// Cluster is the Pulsar cluster name (external label cluster).
	Cluster string
	// Region is the AWS region (external label region).
	Region string
	// Global hosts the global store and Grafana (the primary).
	Global bool
	// Domain and HostedZoneID place metrics.<domain>.
	Domain       string
	HostedZoneID string
	// PulsarNamespace is where the Pulsar pod monitors live.
	PulsarNamespace string
	// WebhookURL is where alerts are sent (a secret); empty routes alerts
	// nowhere (with a warning).
	WebhookURL model.Secret
	// ReceiverCIDRs may reach the global receiver besides the peers' NATs.
	ReceiverCIDRs []string
	// StorageClass of the Prometheus volumes.
	StorageClass string
	// NodeSelector and Tolerations place Prometheus, Alertmanager and the
	// operator on the on-demand critical pool.
	NodeSelector map[string]string
	Tolerations  []Toleration
	Tags         map[string]string
}

// WithDefaults returns the configuration: monitoring has no defaults.
func (a Config) WithDefaults() Config { return a }

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
		errs = append(errs, errors.New("domain: required for the global store's name"))
	}
	if a.HostedZoneID == "" {
		errs = append(errs, errors.New("hostedZoneId: the hosted zone is not given"))
	}
	if a.StorageClass == "" {
		errs = append(errs, errors.New("storageClass: empty"))
	}
	if _, err := KeepRegex(a.PulsarNamespace); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Deps are the outputs of other components monitoring needs.
type Deps struct {
	// Provider is the cluster's Kubernetes provider (always required).
	Provider *kubernetes.Provider
	// PeerNATIPs are the peers' NAT addresses, the only ones the global
	// receiver admits besides Config.ReceiverCIDRs (global store only).
	PeerNATIPs pulumi.StringArrayInput
	// ReceiverCertificateARN is the certificate of metrics.<domain>, with
	// which the receiver's NLB terminates TLS (global store only).
	ReceiverCertificateARN pulumi.StringInput
	// DependsOn are what the chart's pods need first (the node pools).
	DependsOn []pulumi.Resource
}

// Validate reports a missing provider.
func (d Deps) Validate() error {
	return kit.Missing(map[string]any{"provider": d.Provider})
}

// ValidateFor reports, when the configuration hosts the global store, a
// missing receiver certificate or peer NAT addresses.
func (d Deps) ValidateFor(c Config) error {
	if !c.Global {
		return nil
	}
	if err := kit.Missing(map[string]any{"peerNatIps": d.PeerNATIPs, "receiverCertificateArn": d.ReceiverCertificateARN}); err != nil {
		return fmt.Errorf("the global store needs its certificate and the peers' NAT addresses: %w", err)
	}
	return nil
}

// ChartValues computes the kube-prometheus-stack values for the region.
func ChartValues(a Config) (Values, error) {
	keep, err := KeepRegex(a.PulsarNamespace)
	if err != nil {
		return Values{}, err
	}
	crit := Scheduling{NodeSelector: a.NodeSelector, Tolerations: a.Tolerations}
	retention, size, disk := "7d", "90GB", "100Gi"
	if a.Global {
		retention, size, disk = "30d", "450GB", "500Gi"
	}
	v := Values{
		FullnameOverride: Fullname,
		CRDs:             Toggle{Enabled: true},
		Prometheus: Prometheus{PrometheusSpec: PrometheusSpec{
			Replicas: 2, Retention: retention, RetentionSize: size, ScrapeInterval: "30s", WALCompression: true,
			ExternalLabels:                          map[string]string{"cluster": a.Cluster, "region": a.Region},
			PodMonitorSelectorNilUsesHelmValues:     false,
			ServiceMonitorSelectorNilUsesHelmValues: false,
			RuleSelectorNilUsesHelmValues:           false,
			EnableRemoteWriteReceiver:               a.Global,
			Resources:                               Resources{Requests: map[string]string{"cpu": "2", "memory": "8Gi"}, Limits: map[string]string{"memory": "8Gi"}},
			StorageSpec: StorageSpec{VolumeClaimTemplate: VolumeClaimTemplate{Spec: PVCSpec{StorageClassName: a.StorageClass,
				AccessModes: []string{"ReadWriteOnce"}, Resources: Resources{Requests: map[string]string{"storage": disk}}}}},
			NodeSelector: crit.NodeSelector, Tolerations: crit.Tolerations,
		}},
		Alertmanager: Alertmanager{Enabled: true, Config: AlertmanagerConfig(a.webhookSecret()),
			AlertmanagerSpec: AlertmanagerSpec{Replicas: 2, NodeSelector: crit.NodeSelector, Tolerations: crit.Tolerations}},
		Grafana:               Grafana{Enabled: false},
		Operator:              crit,
		KubeEtcd:              Toggle{Enabled: false},
		KubeControllerManager: Toggle{Enabled: false},
		KubeScheduler:         Toggle{Enabled: false},
		NodeExporter:          NamespaceOverride{NamespaceOverride: model.NamespaceNodeAgents},
	}
	if s := a.webhookSecret(); s != "" {
		v.Alertmanager.AlertmanagerSpec.Secrets = []string{s}
	}
	if a.Global {
		v.Grafana = Grafana{Enabled: true, DefaultDashboardsEnabled: true,
			Admin:   &GrafanaAdmin{ExistingSecret: GrafanaAdminSecret, UserKey: GrafanaUserKey, PasswordKey: GrafanaPasswordKey},
			Sidecar: &Sidecar{Dashboards: SidecarDashboards{Enabled: true, Label: "grafana_dashboard", LabelValue: "1"}}}
	}
	if !a.Global {
		v.Prometheus.PrometheusSpec.RemoteWrite = []RemoteWrite{{URL: WriteURL(a.Domain),
			WriteRelabelConfigs: []RelabelConfig{{SourceLabels: []string{"__name__"}, Regex: keep, Action: "keep"}},
			QueueConfig:         QueueConfig{Capacity: 20000, MaxShards: 50, MaxSamplesPerSend: 5000}}}
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
		Receivers: receivers,
	}
}

// RuleSpec is the PrometheusRule spec.
func RuleSpec(pulsarNamespace string) RuleSpecValue {
	return RuleSpecValue{Groups: AlertGroups(pulsarNamespace)}
}

// KarpenterPodMonitorSpec scrapes the Karpenter controller.
func KarpenterPodMonitorSpec() PodMonitorSpec {
	return PodMonitorSpec{
		NamespaceSelector:   NamespaceSelector{MatchNames: []string{"kube-system"}},
		Selector:            LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "karpenter"}},
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
		out.Panels = append(out.Panels, panel)
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// Observability is the component: monitoring's in-cluster half, and in the
// primary the Grafana admin password and the global store's DNS name.
type Observability struct {
	pulumi.ResourceState
	Installed
}

// New installs monitoring for the region.
func New(ctx *pulumi.Context, name string, cfg Config, deps Deps, opts ...pulumi.ResourceOption) (*Observability, error) {
	o := &Observability{}
	return kit.Construct(ctx, TypeToken, name, cfg, deps, o, func(cfg Config, parent pulumi.ResourceOption) (pulumi.Map, error) {
		md := MonitoringDeps{Provider: deps.Provider, PeerNATIPs: deps.PeerNATIPs, ReceiverCertificateARN: deps.ReceiverCertificateARN,
			DependsOn: deps.DependsOn, FormerParent: o}
		if cfg.Global {
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
		o.Installed = m.Installed
		if cfg.Global {
			// metrics.<domain> points at the receiver's load balancer.
			if _, err := route53.NewRecord(ctx, name+"-metrics", &route53.RecordArgs{
				ZoneId: pulumi.String(cfg.HostedZoneID), Name: pulumi.String(MetricsName(cfg.Domain)), Type: pulumi.String("CNAME"),
				Ttl: pulumi.Int(60), Records: pulumi.StringArray{m.ReceiverHostname},
			}, parent); err != nil {
				return nil, err
			}
		}
		return pulumi.Map{"receiverHostname": o.ReceiverHostname}, nil
	}, opts...)
}
