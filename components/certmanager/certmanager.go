// Package certmanager installs cert-manager (chart v1.19.1) in a region's
// cluster: the issuer of the Pulsar components' in-cluster certificates.
// The Pulsar chart declares them (certs.internal_issuer): a self-signed
// CA per region, and a certificate per component signed by it, which
// cert-manager renews before they expire (credentials that rotate
// themselves).
//
// The controller and its webhook run two replicas each under a
// PodDisruptionBudget, on the critical pool, and its CRDs are kept when
// the release is uninstalled: deleting them would delete every
// Certificate and Issuer with them.
package certmanager

import (
	"errors"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// The chart, pinned like the others. Before moving it, compare the Go
// release the new cert-manager is built with: a renewed region CA keeps its
// key (pulsar.CAKeyPolicy), but its subject key identifier is derived by Go
// (1.25 moved from SHA-1 to truncated SHA-256), and Java's path validation
// matches the identifier the CA's earlier certificates carry
// (docs/operations.md, "TLS inside the cluster").
const (
	ChartRepo    = "https://charts.jetstack.io"
	ChartName    = "cert-manager"
	ChartVersion = "v1.19.1"
	// Namespace is cert-manager's own; its pods meet `restricted`.
	Namespace = "cert-manager"
	// Replicas of the controller and the webhook: one may be evicted.
	Replicas = 2
)

// TypeToken is the component's type.
var TypeToken = kit.Type("certmanager", "CertManager")

// Config is what the release needs.
type Config struct {
	// Charts is where the chart comes from (empty: its public repository).
	Charts model.ChartSource
	// Placement is the critical pool's.
	Placement k8s.Placement
	// ControlPlaneCIDRs are the VPC's blocks: the EKS control plane calls
	// the webhook from network interfaces in the cluster's subnets.
	ControlPlaneCIDRs []string
}

// WithDefaults returns the config: it has no defaults.
func (c Config) WithDefaults() Config { return c }

// Validate checks the chart source and the control plane's blocks.
func (c Config) Validate() error {
	return errors.Join(c.Charts.Validate(), kit.ControlPlaneCIDRs(c.ControlPlaneCIDRs))
}

// Ports and labels of the chart's pods (v1.19.1's templates and default
// values), which the NetworkPolicies admit and select.
const (
	// WebhookPort is the webhook's HTTPS port (webhook.securePort).
	WebhookPort = 10250
	// MetricsPort is where the controller, the webhook and the CA
	// injector serve metrics.
	MetricsPort      = 9402
	componentWebhook = "webhook"
)

// NetworkPolicies isolate the namespace: the webhook takes the control
// plane's calls (from the VPC's blocks: pods' addresses are in them too,
// so any pod of the cluster reaches the webhook's TLS port, which only
// answers admission reviews; without blocks, no door), Prometheus scrapes
// the metrics ports, and nothing else reaches a cert-manager pod.
//
// And the pods send DNS and TLS on 443 only (egress): cert-manager talks
// to the API server alone, and issues from in-cluster CAs (no ACME
// server, no cloud DNS). The API server's addresses are EKS's network
// interfaces, which the program cannot name, so the door is by port.
func NetworkPolicies(c Config) []k8s.NetworkPolicy {
	webhook := k8s.Pods(map[string]string{model.LabelAppInstance: ChartName, model.LabelAppComponent: componentWebhook})
	return append([]k8s.NetworkPolicy{
		k8s.DefaultDeny("default-deny", Namespace),
		k8s.IngressPolicy("metrics-from-prometheus", Namespace, k8s.Pods(map[string]string{model.LabelAppInstance: ChartName}),
			k8s.FromNamespace(model.NamespaceMonitoring, MetricsPort)),
		k8s.TLSEgress("egress", Namespace, k8s.LabelSelector{}),
	}, k8s.IngressFromBlocks("webhook-from-control-plane", Namespace, webhook, c.ControlPlaneCIDRs, WebhookPort)...)
}

// Deps are the outputs of other components the release needs.
type Deps struct {
	// Provider is the cluster's Kubernetes provider.
	Provider *kubernetes.Provider
	// DependsOn are what the pods need to be scheduled (the node pools).
	DependsOn []pulumi.Resource
}

// Validate reports a missing provider.
func (d Deps) Validate() error { return kit.Missing(map[string]any{"provider": d.Provider}) }

// CertManager is the component.
type CertManager struct {
	pulumi.ResourceState
	// Release is the chart's release: what declares Certificates and
	// Issuers waits for it (its CRDs and its webhook).
	Release *helmv3.Release
}

// New installs cert-manager in its namespace.
func New(ctx *pulumi.Context, name string, cfg Config, deps Deps, opts ...pulumi.ResourceOption) (*CertManager, error) {
	c := &CertManager{}
	return kit.Construct(ctx, TypeToken, name, cfg, deps, c, func(cfg Config, parent pulumi.ResourceOption) (pulumi.Map, error) {
		k8sOpts := []pulumi.ResourceOption{parent, pulumi.Provider(deps.Provider)}
		ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(Namespace), Labels: pulumi.ToStringMap(model.PodSecurityLabels(model.PSARestricted))},
		}, k8sOpts...)
		if err != nil {
			return nil, err
		}
		values, err := kit.ToMap(ChartValues(cfg))
		if err != nil {
			return nil, err
		}
		chart, repo := kit.Chart(cfg.Charts, ChartName, ChartRepo)
		c.Release, err = helmv3.NewRelease(ctx, name, &helmv3.ReleaseArgs{
			Name: pulumi.String(ChartName), Chart: chart, Version: pulumi.String(ChartVersion), RepositoryOpts: repo,
			Namespace: ns.Metadata.Name().Elem(), Values: values,
			Atomic: pulumi.Bool(true), CleanupOnFail: pulumi.Bool(true), Timeout: pulumi.Int(600), MaxHistory: pulumi.Int(10),
		}, append(k8sOpts, pulumi.DependsOn(deps.DependsOn))...)
		if err != nil {
			return nil, err
		}
		if _, err := kit.NetworkPolicies(ctx, name, NetworkPolicies(cfg), append(k8sOpts, pulumi.DependsOn([]pulumi.Resource{ns}))...); err != nil {
			return nil, err
		}
		return pulumi.Map{"namespace": pulumi.String(Namespace)}, nil
	}, opts...)
}
