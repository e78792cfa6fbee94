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
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
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
	Namespace       = "monitoring"
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

// Observability is the component.
type Observability struct {
	pulumi.ResourceState
	// Stack is the chart release; workloads that create PodMonitors depend
	// on it (it installs the CRDs).
	Stack *helmv3.Release
	// ReceiverHostname is the global receiver's NLB (primary only).
	ReceiverHostname pulumi.StringOutput
}

// New installs monitoring for the region.
func New(ctx *pulumi.Context, name string, cfg Config, deps Deps, opts ...pulumi.ResourceOption) (*Observability, error) {
	o := &Observability{}
	return kit.Construct(ctx, TypeToken, name, cfg, deps, o, func(cfg Config, parent pulumi.ResourceOption) (pulumi.Map, error) {
		values, err := ChartValues(cfg)
		if err != nil {
			return nil, err
		}
		b := builder{ctx: ctx, name: name, cfg: cfg, deps: deps, parent: parent,
			k8s: []pulumi.ResourceOption{parent, pulumi.Provider(deps.Provider)}}
		if err := b.build(o, values); err != nil {
			return nil, err
		}
		return pulumi.Map{"receiverHostname": o.ReceiverHostname}, nil
	}, opts...)
}

// builder registers the component's resources.
type builder struct {
	ctx    *pulumi.Context
	name   string
	cfg    Config
	deps   Deps
	parent pulumi.ResourceOption
	// k8s are the options of the Kubernetes children: the parent and the
	// provider.
	k8s []pulumi.ResourceOption
}

func (b *builder) build(o *Observability, values Values) error {
	if b.cfg.WebhookURL == "" {
		_ = b.ctx.Log.Warn("observability: no alert webhook configured (secret stack config alertWebhookUrl); alerts are routed nowhere", &pulumi.LogArgs{})
	}
	ns, err := corev1.NewNamespace(b.ctx, b.name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(Namespace)},
	}, b.k8s...)
	if err != nil {
		return err
	}
	secrets, err := b.secrets(ns)
	if err != nil {
		return err
	}
	stack, err := b.release(ns, values, secrets)
	if err != nil {
		return err
	}
	o.Stack = stack
	after := append(append([]pulumi.ResourceOption(nil), b.k8s...), pulumi.DependsOn([]pulumi.Resource{stack}))
	if err := b.monitors(after); err != nil {
		return err
	}
	o.ReceiverHostname = pulumi.String("").ToStringOutput()
	if !b.cfg.Global {
		return nil
	}
	if err := b.dashboards(after); err != nil {
		return err
	}
	return b.receiver(o, after)
}

// release installs the chart once the pods' dependencies and the Secrets
// it reads exist.
func (b *builder) release(ns *corev1.Namespace, values Values, secrets []pulumi.Resource) (*helmv3.Release, error) {
	vm, err := kit.ToMap(values)
	if err != nil {
		return nil, err
	}
	dependsOn := append(append([]pulumi.Resource(nil), b.deps.DependsOn...), secrets...)
	chart, repo := kit.Chart(b.cfg.Charts, ChartName, ChartRepo)
	return helmv3.NewRelease(b.ctx, b.name, &helmv3.ReleaseArgs{
		Name: pulumi.String(ChartName), Chart: chart, Version: pulumi.String(ChartVersion),
		RepositoryOpts: repo,
		Namespace:      ns.Metadata.Name().Elem(), Values: vm,
		Atomic: pulumi.Bool(true), CleanupOnFail: pulumi.Bool(true), Timeout: pulumi.Int(900), MaxHistory: pulumi.Int(10),
	}, append(append([]pulumi.ResourceOption(nil), b.k8s...), pulumi.DependsOn(dependsOn))...)
}

// monitors registers the alert rules and the Karpenter pod monitor (after
// the chart, which installs their CRDs).
func (b *builder) monitors(after []pulumi.ResourceOption) error {
	rules, err := kit.ToMap(RuleSpec(b.cfg.PulsarNamespace))
	if err != nil {
		return err
	}
	monitor, err := kit.ToMap(KarpenterPodMonitorSpec())
	if err != nil {
		return err
	}
	if _, err := apiextensions.NewCustomResource(b.ctx, b.name+"-alerts", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("monitoring.coreos.com/v1"), Kind: pulumi.String("PrometheusRule"),
		Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String("pulsar-fleet-alerts"), Namespace: pulumi.String(Namespace)},
		OtherFields: kubernetes.UntypedArgs{"spec": rules},
	}, after...); err != nil {
		return err
	}
	_, err = apiextensions.NewCustomResource(b.ctx, b.name+"-karpenter", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("monitoring.coreos.com/v1"), Kind: pulumi.String("PodMonitor"),
		Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String("karpenter"), Namespace: pulumi.String(Namespace)},
		OtherFields: kubernetes.UntypedArgs{"spec": monitor},
	}, after...)
	return err
}

// dashboards publishes the Grafana dashboards as ConfigMaps the Grafana
// sidecar loads (primary only).
func (b *builder) dashboards(after []pulumi.ResourceOption) error {
	for _, d := range Dashboards() {
		body, err := GrafanaJSON(d)
		if err != nil {
			return err
		}
		if _, err := corev1.NewConfigMap(b.ctx, b.name+"-dashboard-"+d.UID, &corev1.ConfigMapArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("dashboard-" + d.UID), Namespace: pulumi.String(Namespace),
				Labels: pulumi.StringMap{"grafana_dashboard": pulumi.String("1")}},
			Data: pulumi.StringMap{d.UID + ".json": pulumi.String(body)},
		}, after...); err != nil {
			return err
		}
	}
	return nil
}

// receiver exposes the global Prometheus' remote-write receiver on an NLB
// with TLS, open only to the peers' NAT addresses (and listed CIDRs), and
// points metrics.<domain> at it.
func (b *builder) receiver(o *Observability, opts []pulumi.ResourceOption) error {
	ranges := pulumi.All(b.deps.PeerNATIPs, pulumi.ToStringArray(b.cfg.ReceiverCIDRs)).ApplyT(func(v []any) ([]string, error) {
		var out []string
		for _, ip := range v[0].([]string) {
			out = append(out, ip+"/32")
		}
		out = append(out, v[1].([]string)...)
		if len(out) == 0 {
			return nil, errors.New("the global metrics receiver would be open to the world: no peer NAT address or CIDR is known")
		}
		return out, nil
	}).(pulumi.StringArrayOutput)
	svc, err := corev1.NewService(b.ctx, b.name+"-receiver", &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(ReceiverService), Namespace: pulumi.String(Namespace),
			Annotations: pulumi.StringMap{
				"service.beta.kubernetes.io/aws-load-balancer-type":                              pulumi.String("nlb"),
				"service.beta.kubernetes.io/aws-load-balancer-ssl-cert":                          b.deps.ReceiverCertificateARN,
				"service.beta.kubernetes.io/aws-load-balancer-ssl-ports":                         pulumi.String("https"),
				"service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy":            pulumi.String("ELBSecurityPolicy-TLS13-1-2-2021-06"),
				"service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": pulumi.String("true"),
			}},
		Spec: &corev1.ServiceSpecArgs{
			Type: pulumi.String("LoadBalancer"), LoadBalancerSourceRanges: ranges,
			Selector: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("prometheus"),
				"operator.prometheus.io/name": pulumi.String(Fullname + "-prometheus")},
			Ports: corev1.ServicePortArray{&corev1.ServicePortArgs{Name: pulumi.String("https"), Port: pulumi.Int(443), TargetPort: pulumi.Int(9090), Protocol: pulumi.String("TCP")}},
		},
	}, opts...)
	if err != nil {
		return err
	}
	o.ReceiverHostname = svc.Status.ApplyT(func(s *corev1.ServiceStatus) (string, error) {
		if s == nil || s.LoadBalancer == nil || len(s.LoadBalancer.Ingress) == 0 || s.LoadBalancer.Ingress[0].Hostname == nil {
			return "", errors.New("the metrics receiver NLB has no hostname yet")
		}
		return *s.LoadBalancer.Ingress[0].Hostname, nil
	}).(pulumi.StringOutput)
	_, err = route53.NewRecord(b.ctx, b.name+"-metrics", &route53.RecordArgs{
		ZoneId: pulumi.String(b.cfg.HostedZoneID), Name: pulumi.String(MetricsName(b.cfg.Domain)), Type: pulumi.String("CNAME"),
		Ttl: pulumi.Int(60), Records: pulumi.StringArray{o.ReceiverHostname},
	}, b.parent)
	return err
}

// webhookSecret is the Secret Alertmanager reads the webhook URL from, or
// "" without a webhook.
func (a Config) webhookSecret() string {
	if a.WebhookURL == "" {
		return ""
	}
	return AlertWebhookSecret
}

// secrets creates the Secrets the charts read: the alert webhook URL, and
// in the primary the Grafana admin credentials from a generated password.
// Their values exist only as Pulumi secrets (encrypted in state,
// "[secret]" in previews).
func (b *builder) secrets(ns *corev1.Namespace) ([]pulumi.Resource, error) {
	var out []pulumi.Resource
	secret := func(suffix, secretName string, data pulumi.StringMap) error {
		s, err := corev1.NewSecret(b.ctx, b.name+"-"+suffix, &corev1.SecretArgs{
			Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(secretName), Namespace: ns.Metadata.Name().Elem()},
			Type:       pulumi.String("Opaque"),
			StringData: data,
		}, b.k8s...)
		out = append(out, s)
		return err
	}
	if b.cfg.WebhookURL != "" {
		url := pulumi.ToSecret(pulumi.String(b.cfg.WebhookURL.Reveal())).(pulumi.StringOutput)
		if err := secret("alert-webhook", AlertWebhookSecret, pulumi.StringMap{"url": url}); err != nil {
			return nil, err
		}
	}
	if !b.cfg.Global {
		return out, nil
	}
	pw, err := random.NewRandomPassword(b.ctx, b.name+"-grafana-admin", &random.RandomPasswordArgs{
		Length: pulumi.Int(32), Special: pulumi.Bool(false),
	}, b.parent)
	if err != nil {
		return nil, err
	}
	err = secret("grafana-admin", GrafanaAdminSecret, pulumi.StringMap{GrafanaUserKey: pulumi.String(GrafanaAdminUser), GrafanaPasswordKey: pw.Result})
	return out, err
}
