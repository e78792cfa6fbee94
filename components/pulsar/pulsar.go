// Package pulsar installs the Apache Pulsar chart (4.7.0, Pulsar 4.0.12) on
// a region's cluster with typed values computed from the phase plan:
// replicas, resources and JVM memory per component, placement on the
// Karpenter pools, zone spreading, PodDisruptionBudgets, autoscaling,
// write quorum 3 / ack quorum 2 with zones as racks enforced, bookies
// registered to their zone's rack, deduplication, tiered storage to the
// region's bucket through IRSA, and JWT authentication and authorization.
// Clients reach the proxies through an NLB that terminates TLS with an ACM
// certificate.
//
// Why helm/v3 Release rather than helm/v4 Chart: the chart relies on Helm
// semantics that Chart v4 does not reproduce. Its JWT secret generator is a
// pre-install/pre-upgrade hook that must finish before brokers start; its
// cluster-metadata init jobs are gated by .Release.IsInstall
// (useReleaseStatus); and the geo-replication registration this component
// adds is a post-install/post-upgrade hook. Chart v4 renders hooks as plain
// resources applied alongside everything else. The price is paid in preview
// detail (one Release resource, its values diffed) and in compile time.
package pulsar

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// TypeToken is the component's type.
var TypeToken = kit.Type("pulsar", "Pulsar")

// External endpoint ports: TLS terminates at the NLB.
const (
	PortPulsarTLS = model.PortPulsarTLS
	PortHTTPS     = model.PortHTTPS
	ExternalName  = "pulsar-proxy-external"
	HealthPath    = model.HealthPath
)

// Exposure is how clients reach the proxies.
type Exposure struct {
	// Scheme is internet-facing or internal.
	Scheme string
	// ClientCIDRs restrict an internet-facing NLB.
	ClientCIDRs []string
	// CertificateARN is the ACM certificate the NLB's TLS listeners use.
	CertificateARN pulumi.StringInput
}

// Release is the component's full input: the plain Args plus wiring.
type Release struct {
	Args
	Exposure Exposure
	Provider *kubernetes.Provider
	// DependsOn are the node pools and the bucket/role the pods need.
	DependsOn []pulumi.Resource
}

// Pulsar is the component.
type Pulsar struct {
	pulumi.ResourceState

	// ProxyHostname is the NLB's DNS name.
	ProxyHostname pulumi.StringOutput
	// HealthURL is what global routing health-checks.
	HealthURL pulumi.StringOutput
	Namespace string
}

// ValidateExposure checks the exposure settings.
func ValidateExposure(e Exposure) error {
	if e.Scheme != "internet-facing" && e.Scheme != "internal" {
		return fmt.Errorf("exposure scheme %q: want internet-facing or internal", e.Scheme)
	}
	return nil
}

// ServiceAnnotations are the NLB settings of the external Service, read by
// the EKS service controller: TLS on both ports with the ACM certificate and
// a TLS 1.2+ policy, cross-zone load balancing on.
func ServiceAnnotations(e Exposure) map[string]pulumi.StringInput {
	ann := map[string]pulumi.StringInput{
		"service.beta.kubernetes.io/aws-load-balancer-type":                              pulumi.String("nlb"),
		"service.beta.kubernetes.io/aws-load-balancer-ssl-cert":                          e.CertificateARN,
		"service.beta.kubernetes.io/aws-load-balancer-ssl-ports":                         pulumi.String("pulsarssl,https"),
		"service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy":            pulumi.String("ELBSecurityPolicy-TLS13-1-2-2021-06"),
		"service.beta.kubernetes.io/aws-load-balancer-backend-protocol":                  pulumi.String("tcp"),
		"service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": pulumi.String("true"),
	}
	if e.Scheme == "internal" {
		ann["service.beta.kubernetes.io/aws-load-balancer-internal"] = pulumi.String("true")
	}
	return ann
}

// NewPulsar installs the release.
func NewPulsar(ctx *pulumi.Context, name string, r Release, opts ...pulumi.ResourceOption) (*Pulsar, error) {
	r.Args = r.Args.withDefaults()
	values, err := Compute(r.Args)
	if err != nil {
		return nil, kit.Wrap("pulsar", name, err)
	}
	if err := ValidateExposure(r.Exposure); err != nil {
		return nil, kit.Wrap("pulsar", name, err)
	}
	if r.Provider == nil || r.Exposure.CertificateARN == nil || r.BrokerRoleARN == nil || r.Offload.Bucket == nil {
		return nil, kit.Wrap("pulsar", name, errors.New("provider, certificate, broker role and offload bucket are required"))
	}
	p := &Pulsar{Namespace: r.Namespace}
	if err := ctx.RegisterComponentResource(TypeToken, name, p, opts...); err != nil {
		return nil, kit.Wrap("pulsar", name, err)
	}
	k8sOpts := []pulumi.ResourceOption{pulumi.Parent(p), pulumi.Provider(r.Provider)}
	fail := func(err error) (*Pulsar, error) { return nil, kit.Wrap("pulsar", name, err) }

	ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(r.Namespace), Labels: pulumi.StringMap{
			"pod-security.kubernetes.io/enforce": pulumi.String("baseline"),
			"pod-security.kubernetes.io/warn":    pulumi.String("restricted"),
		}},
	}, k8sOpts...)
	if err != nil {
		return fail(err)
	}
	vm, err := kit.ToMap(values)
	if err != nil {
		return fail(err)
	}
	release, err := helmv3.NewRelease(ctx, name, &helmv3.ReleaseArgs{
		Name:           pulumi.String(ReleaseName),
		Chart:          pulumi.String(ChartName),
		Version:        pulumi.String(ChartVersion),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(ChartRepo)},
		Namespace:      ns.Metadata.Name().Elem(),
		Values:         vm,
		// Not atomic: a failed upgrade must never roll bookies back by
		// deleting and recreating them; operators fix forward.
		Atomic: pulumi.Bool(false), CleanupOnFail: pulumi.Bool(false),
		Timeout: pulumi.Int(1800), MaxHistory: pulumi.Int(20), WaitForJobs: pulumi.Bool(true),
	}, append(k8sOpts, pulumi.DependsOn(r.DependsOn))...)
	if err != nil {
		return fail(err)
	}

	spec := &corev1.ServiceSpecArgs{
		Type:                  pulumi.String("LoadBalancer"),
		ExternalTrafficPolicy: pulumi.String("Cluster"),
		Selector:              pulumi.ToStringMap(labels(CompProxy)),
		Ports: corev1.ServicePortArray{
			&corev1.ServicePortArgs{Name: pulumi.String("pulsarssl"), Port: pulumi.Int(PortPulsarTLS), TargetPort: pulumi.Int(6650), Protocol: pulumi.String("TCP")},
			&corev1.ServicePortArgs{Name: pulumi.String("https"), Port: pulumi.Int(PortHTTPS), TargetPort: pulumi.Int(8080), Protocol: pulumi.String("TCP")},
		},
	}
	if r.Exposure.Scheme == "internet-facing" && len(r.Exposure.ClientCIDRs) > 0 {
		spec.LoadBalancerSourceRanges = kit.StringInputs(r.Exposure.ClientCIDRs)
	}
	ann := pulumi.StringMap{}
	for k, v := range ServiceAnnotations(r.Exposure) {
		ann[k] = v
	}
	svc, err := corev1.NewService(ctx, name+"-proxy-external", &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(ExternalName), Namespace: ns.Metadata.Name().Elem(), Annotations: ann},
		Spec:     spec,
	}, append(k8sOpts, pulumi.DependsOn([]pulumi.Resource{release}))...)
	if err != nil {
		return fail(err)
	}
	p.ProxyHostname = svc.Status.ApplyT(func(s *corev1.ServiceStatus) (string, error) {
		if s == nil || s.LoadBalancer == nil || len(s.LoadBalancer.Ingress) == 0 || s.LoadBalancer.Ingress[0].Hostname == nil {
			return "", errors.New("the proxy NLB has no hostname yet: the service controller did not provision it")
		}
		return *s.LoadBalancer.Ingress[0].Hostname, nil
	}).(pulumi.StringOutput)
	p.HealthURL = pulumi.Sprintf("https://%s%s", p.ProxyHostname, HealthPath)
	if err := ctx.RegisterResourceOutputs(p, pulumi.Map{
		"proxyHostname": p.ProxyHostname, "healthUrl": p.HealthURL, "namespace": pulumi.String(r.Namespace),
	}); err != nil {
		return fail(err)
	}
	return p, nil
}
