package observability

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// MonitoringTypeToken is the type of monitoring's in-cluster half.
var MonitoringTypeToken = kit.Type("observability", "Monitoring")

// MonitoringDeps are what the in-cluster half needs from other components
// and from the AWS half (or, in a test, literal values standing in).
type MonitoringDeps struct {
	// Provider is the cluster's Kubernetes provider (always required).
	Provider *kubernetes.Provider
	// PeerNATIPs are the peers' NAT addresses, the only ones the global
	// receiver admits besides Config.ReceiverCIDRs (global store only).
	PeerNATIPs pulumi.StringArrayInput
	// ReceiverCertificateARN is the certificate of metrics.<domain>, with
	// which the receiver's NLB terminates TLS (global store only).
	ReceiverCertificateARN pulumi.StringInput
	// GrafanaAdminPassword is the Grafana admin's password (global store
	// only); it reaches the cluster only as a Pulumi secret.
	GrafanaAdminPassword pulumi.StringInput
	// DependsOn are what the chart's pods need first (the node pools).
	DependsOn []pulumi.Resource
	// FormerParent is the Observability component these resources were
	// registered under before the in-cluster half became a component of
	// its own; their aliases keep a running stack's release in place. Nil
	// for a component built alone.
	FormerParent pulumi.Resource
}

// Validate reports a missing provider.
func (d MonitoringDeps) Validate() error {
	return kit.Missing(map[string]any{"provider": d.Provider})
}

// ValidateFor reports, when the configuration hosts the global store, a
// missing receiver certificate, peer NAT addresses or Grafana password.
func (d MonitoringDeps) ValidateFor(c Config) error {
	if !c.Global {
		return nil
	}
	if err := kit.Missing(map[string]any{"peerNatIps": d.PeerNATIPs, "receiverCertificateArn": d.ReceiverCertificateARN,
		"grafanaAdminPassword": d.GrafanaAdminPassword}); err != nil {
		return fmt.Errorf("the global store needs its certificate, the peers' NAT addresses and Grafana's password: %w", err)
	}
	return nil
}

// Monitoring is the in-cluster half of observability: the namespace, its
// Secrets, the chart, the rules and monitors, and in the primary the
// dashboards and the receiver's load balancer.
type Monitoring struct {
	pulumi.ResourceState
	Installed
}

// Installed is what the in-cluster half installed, which both halves
// expose.
type Installed struct {
	// Stack is the chart release; workloads that create PodMonitors depend
	// on it (it installs the CRDs).
	Stack *helmv3.Release
	// ReceiverHostname is the global receiver's NLB (primary only).
	ReceiverHostname pulumi.StringOutput
}

// NewMonitoring installs the region's monitoring in its cluster. It needs
// no AWS resource of its own, so it can be built alone against any API
// server.
func NewMonitoring(ctx *pulumi.Context, name string, cfg Config, deps MonitoringDeps, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	m := &Monitoring{}
	return kit.Construct(ctx, MonitoringTypeToken, name, cfg, deps, m, func(cfg Config, parent pulumi.ResourceOption) (pulumi.Map, error) {
		values, err := ChartValues(cfg)
		if err != nil {
			return nil, err
		}
		b := inCluster{ctx: ctx, name: name, cfg: cfg, deps: deps,
			opts: []pulumi.ResourceOption{parent, pulumi.Provider(deps.Provider), kit.MovedFrom(deps.FormerParent)}}
		if err := b.build(m, values); err != nil {
			return nil, err
		}
		return pulumi.Map{"receiverHostname": m.ReceiverHostname}, nil
	}, opts...)
}

// inCluster registers the in-cluster resources.
type inCluster struct {
	ctx  *pulumi.Context
	name string
	cfg  Config
	deps MonitoringDeps
	// opts are every child's: the parent, the provider, the alias.
	opts []pulumi.ResourceOption
}

func (b *inCluster) build(m *Monitoring, values Values) error {
	if b.cfg.WebhookURL == "" {
		_ = b.ctx.Log.Warn("observability: no alert webhook configured (secret stack config alertWebhookUrl); alerts are routed nowhere", &pulumi.LogArgs{})
	}
	ns, err := corev1.NewNamespace(b.ctx, b.name, &corev1.NamespaceArgs{
		// restricted: every pod of the release complies once node-exporter,
		// which needs the host's network, PID namespace and paths, runs in
		// kube-system (tests/podsecurity_test.go).
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(Namespace), Labels: pulumi.ToStringMap(model.PodSecurityLabels(model.PSARestricted))},
	}, b.opts...)
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
	m.Stack = stack
	after := append(append([]pulumi.ResourceOption(nil), b.opts...), pulumi.DependsOn([]pulumi.Resource{stack}))
	if err := b.monitors(after); err != nil {
		return err
	}
	m.ReceiverHostname = pulumi.String("").ToStringOutput()
	if !b.cfg.Global {
		return nil
	}
	if err := b.dashboards(after); err != nil {
		return err
	}
	return b.receiver(m, after)
}

// release installs the chart once the pods' dependencies and the Secrets
// it reads exist.
func (b *inCluster) release(ns *corev1.Namespace, values Values, secrets []pulumi.Resource) (*helmv3.Release, error) {
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
	}, append(append([]pulumi.ResourceOption(nil), b.opts...), pulumi.DependsOn(dependsOn))...)
}

// monitors registers the alert rules and the Karpenter pod monitor (after
// the chart, which installs their CRDs).
func (b *inCluster) monitors(after []pulumi.ResourceOption) error {
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
func (b *inCluster) dashboards(after []pulumi.ResourceOption) error {
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
// with TLS, open only to the peers' NAT addresses (and listed CIDRs).
func (b *inCluster) receiver(m *Monitoring, opts []pulumi.ResourceOption) error {
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
	m.ReceiverHostname = svc.Status.ApplyT(func(s *corev1.ServiceStatus) (string, error) {
		if s == nil || s.LoadBalancer == nil || len(s.LoadBalancer.Ingress) == 0 || s.LoadBalancer.Ingress[0].Hostname == nil {
			return "", errors.New("the metrics receiver NLB has no hostname yet")
		}
		return *s.LoadBalancer.Ingress[0].Hostname, nil
	}).(pulumi.StringOutput)
	return nil
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
// in the primary the Grafana admin credentials from the password given.
// Their values exist only as Pulumi secrets (encrypted in state,
// "[secret]" in previews).
func (b *inCluster) secrets(ns *corev1.Namespace) ([]pulumi.Resource, error) {
	var out []pulumi.Resource
	secret := func(suffix, secretName string, data pulumi.StringMap) error {
		s, err := corev1.NewSecret(b.ctx, b.name+"-"+suffix, &corev1.SecretArgs{
			Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(secretName), Namespace: ns.Metadata.Name().Elem()},
			Type:       pulumi.String("Opaque"),
			StringData: data,
		}, b.opts...)
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
	password := pulumi.ToSecret(b.deps.GrafanaAdminPassword).(pulumi.StringOutput)
	err := secret("grafana-admin", GrafanaAdminSecret, pulumi.StringMap{GrafanaUserKey: pulumi.String(GrafanaAdminUser), GrafanaPasswordKey: password})
	return out, err
}
