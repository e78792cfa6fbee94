// Package pulsar installs the Apache Pulsar chart (4.7.0, Pulsar 4.0.12) on
// a region's cluster with typed values computed from the phase plan:
// replicas, resources and JVM memory per component, placement on the
// Karpenter pools, zone spreading, PodDisruptionBudgets, autoscaling,
// write quorum 3 / ack quorum 2 with zones as racks enforced, bookies
// registered to their zone's rack, deduplication, tiered storage to the
// region's bucket through IRSA, JWT authentication and authorization with
// tokens minted from the fleet key, and TLS on every component from a CA
// per region (cert-manager issues the certificates). Clients reach the
// proxies through an NLB that terminates TLS with an ACM certificate and
// opens TLS again to the proxies.
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
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// TypeToken is the component's type.
var TypeToken = kit.Type("pulsar", "Pulsar")

// External endpoint ports: TLS terminates at the NLB, which opens TLS
// again to the proxies (BackendProtocol).
const (
	BackendProtocol = "ssl"
	PortPulsarTLS   = model.PortPulsarTLS
	PortHTTPS       = model.PortHTTPS
	ExternalName    = "pulsar-proxy-external"
	HealthPath      = model.HealthPath
)

// Exposure is how clients reach the proxies.
type Exposure struct {
	// Scheme is internet-facing or internal.
	Scheme model.ProxyScheme
	// ClientCIDRs restrict an internet-facing NLB; none leaves it open,
	// which the stack config allows only with allowPublicProxy.
	ClientCIDRs []string
	// PrivateCIDRs are what the private listener admits: this region's VPC
	// blocks and those of the regions joined to it (package interconnect).
	PrivateCIDRs []string
}

// Deps are the outputs of other components the release needs.
type Deps struct {
	// Provider is the cluster's Kubernetes provider.
	Provider *kubernetes.Provider
	// CertificateARN is the ACM certificate the NLB's TLS listeners use.
	CertificateARN pulumi.StringInput
	// BrokerRoleARN is the offload role the broker service account assumes.
	BrokerRoleARN pulumi.StringInput
	// OffloadBucket is the name of the tiered-storage bucket.
	OffloadBucket pulumi.StringInput
	// DependsOn are the node pools and the bucket/role the pods need.
	DependsOn []pulumi.Resource
	// TokenKey is the fleet's token signing key (RSA, PEM, a secret): the
	// program mints the region's tokens from it. Required with the fleet
	// signing key, unused with the chart's.
	TokenKey pulumi.StringInput
	// CertManager is what issues the releases' certificates (the
	// certmanager component's release): the releases wait for its CRDs
	// and webhook.
	CertManager pulumi.Resource
	// PrivateCertificateARN is the ACM certificate of the private
	// listener's name.
	PrivateCertificateARN pulumi.StringInput
	// NATIPs are the region's own NAT addresses: the probe reaches the
	// client listener through them, so a listener restricted to client
	// CIDRs admits them too (optional).
	NATIPs pulumi.StringArrayInput
}

// Validate reports the outputs the wiring forgot: the provider, the
// certificate, the broker role, the offload bucket and cert-manager are
// all required.
func (d Deps) Validate() error {
	return kit.Missing(map[string]any{"provider": d.Provider, "certificateArn": d.CertificateARN,
		"privateCertificateArn": d.PrivateCertificateARN, "brokerRoleArn": d.BrokerRoleARN, "offloadBucket": d.OffloadBucket,
		"certManager": d.CertManager})
}

// ValidateFor reports the outputs this configuration needs besides those:
// the fleet signing key mints the tokens.
func (d Deps) ValidateFor(cfg Config) error {
	if cfg.SigningKey == model.SigningKeyFleet && d.TokenKey == nil {
		return kit.Missing(map[string]any{"tokenKey": nil})
	}
	return nil
}

// Pulsar is the component.
type Pulsar struct {
	pulumi.ResourceState

	// ProxyHostname is the client listener's NLB's DNS name.
	ProxyHostname pulumi.StringOutput
	// PrivateHostname is the private listener's NLB's DNS name.
	PrivateHostname pulumi.StringOutput
	// HealthURL is the proxies' status page, on the private listener.
	HealthURL pulumi.StringOutput
	// Namespace is the release's namespace, and NamespaceObject the
	// object: whatever else goes in the namespace depends on it.
	Namespace       string
	NamespaceObject pulumi.Resource
	// Applied is true once every release holds the values this run
	// declares (kit.ValuesApplied): false for a release left out by
	// `up --target`, so the stack reports the phase it last applied.
	Applied pulumi.BoolOutput
}

// ValidateExposure checks the exposure settings.
func ValidateExposure(e Exposure) error {
	var errs []error
	if !e.Scheme.Valid() {
		errs = append(errs, model.Invalid("exposure scheme", e.Scheme, model.ProxySchemes))
	}
	if len(e.PrivateCIDRs) == 0 {
		errs = append(errs, errors.New("exposure privateCidrs: at least this region's VPC block"))
	}
	for i, c := range e.PrivateCIDRs {
		if p, ok := model.IPv4Network(c); !ok || p.Bits() == 0 {
			errs = append(errs, fmt.Errorf("exposure privateCidrs[%d] %q: want a VPC's IPv4 network address, not the internet", i, c))
		}
	}
	return errors.Join(errs...)
}

// ServiceAnnotations are the client listener's NLB settings, read by the
// EKS service controller: TLS with the ACM certificate and a TLS 1.2+
// policy, TLS again to the proxies' TLS port (the backend protocol ssl:
// the NLB does not check the in-cluster certificate, the hop is
// encrypted), cross-zone load balancing on.
func ServiceAnnotations(e Exposure, certificateARN pulumi.StringInput) map[string]pulumi.StringInput {
	ann := nlbAnnotations(certificateARN, ClientPortName)
	if e.Scheme == model.SchemeInternal {
		ann[model.AnnotationLBInternal] = pulumi.String("true")
	}
	return ann
}

// PrivateAnnotations are the private listener's: the same TLS on both of
// its ports, on an internal NLB.
func PrivateAnnotations(certificateARN pulumi.StringInput) map[string]pulumi.StringInput {
	ann := nlbAnnotations(certificateARN, ClientPortName+","+WebPortName)
	ann[model.AnnotationLBInternal] = pulumi.String("true")
	return ann
}

func nlbAnnotations(certificateARN pulumi.StringInput, sslPorts string) map[string]pulumi.StringInput {
	return map[string]pulumi.StringInput{
		"service.beta.kubernetes.io/aws-load-balancer-type":                              pulumi.String("nlb"),
		"service.beta.kubernetes.io/aws-load-balancer-ssl-cert":                          certificateARN,
		"service.beta.kubernetes.io/aws-load-balancer-ssl-ports":                         pulumi.String(sslPorts),
		"service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy":            pulumi.String("ELBSecurityPolicy-TLS13-1-2-2021-06"),
		"service.beta.kubernetes.io/aws-load-balancer-backend-protocol":                  pulumi.String(BackendProtocol),
		"service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": pulumi.String("true"),
	}
}

// New installs the release: its namespace, the chart, and the proxies'
// external Service behind an NLB.
func New(ctx *pulumi.Context, name string, cfg Config, deps Deps, opts ...pulumi.ResourceOption) (*Pulsar, error) {
	p := &Pulsar{}
	return kit.Construct(ctx, TypeToken, name, cfg, deps, p, func(cfg Config, parent pulumi.ResourceOption) (pulumi.Map, error) {
		values, err := Compute(cfg, deps)
		if err != nil {
			return nil, err
		}
		nvme, err := ComputeNVMe(cfg)
		if err != nil {
			return nil, err
		}
		p.Namespace = cfg.Namespace
		b := builder{ctx: ctx, name: name, cfg: cfg, deps: deps, k8s: []pulumi.ResourceOption{parent, pulumi.Provider(deps.Provider)}}
		if err := b.build(p, values, nvme); err != nil {
			return nil, err
		}
		return pulumi.Map{
			"proxyHostname": p.ProxyHostname, "privateHostname": p.PrivateHostname, "healthUrl": p.HealthURL,
			"namespace": pulumi.String(cfg.Namespace),
		}, nil
	}, opts...)
}

// builder registers the release's resources.
type builder struct {
	ctx  *pulumi.Context
	name string
	cfg  Config
	deps Deps
	// k8s are the options of every child: the parent and the provider.
	k8s []pulumi.ResourceOption
	// applied is, per release, whether its declared values are applied.
	applied []pulumi.BoolOutput
}

// opts are the children's options plus extra ones.
func (b *builder) opts(extra ...pulumi.ResourceOption) []pulumi.ResourceOption {
	return append(append([]pulumi.ResourceOption(nil), b.k8s...), extra...)
}

func (b *builder) build(p *Pulsar, values Values, nvme *BookieReleaseValues) error {
	ns, err := corev1.NewNamespace(b.ctx, b.name, &corev1.NamespaceArgs{
		// baseline: the chart sets no container securityContext
		// (allowPrivilegeEscalation, capabilities, runAsNonRoot, seccomp),
		// which restricted requires of every pod (tests/podsecurity_test.go).
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(b.cfg.Namespace), Labels: pulumi.ToStringMap(model.PodSecurityLabels(model.PSABaseline))},
	}, b.opts()...)
	if err != nil {
		return err
	}
	p.NamespaceObject = ns
	creds, err := b.credentials(ns)
	if err != nil {
		return err
	}
	// The releases declare Certificates and Issuers: cert-manager's CRDs
	// and webhook come first.
	release, err := b.release(ns, values, append(creds, b.deps.CertManager))
	if err != nil {
		return err
	}
	if nvme != nil {
		if _, err := b.chart(b.name+"-nvme-bookies", NVMeRelease, ns, *nvme, b.deps.CertManager); err != nil {
			return err
		}
	}
	if err := b.caKeyPolicy(ns, release); err != nil {
		return err
	}
	svc, err := b.proxyService(ns, release)
	if err != nil {
		return err
	}
	private, err := b.privateService(ns, release)
	if err != nil {
		return err
	}
	p.ProxyHostname, p.PrivateHostname = hostname(svc, "client"), hostname(private, "private")
	p.HealthURL = pulumi.Sprintf("https://%s%s", p.PrivateHostname, HealthPath)
	p.Applied = kit.AllTrue(b.applied...)
	return nil
}

// caKeyPolicy patches the chart's CA Certificate, once the release has
// made it, to keep its key when cert-manager renews or re-issues it
// (CAKeyPolicy). The patch owns that one field (server-side apply), which
// the chart does not set: Helm's upgrades of the Certificate (a merge
// patch between the old and new manifests) leave it. It goes with the
// release: un-patching a Certificate being deleted would be pointless,
// and one already gone would be re-created empty.
func (b *builder) caKeyPolicy(ns *corev1.Namespace, release *helmv3.Release) error {
	_, err := apiextensions.NewCustomResourcePatch(b.ctx, b.name+"-ca-key-policy", &apiextensions.CustomResourcePatchArgs{
		ApiVersion: pulumi.String("cert-manager.io/v1"), Kind: pulumi.String("Certificate"),
		Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String(CACertificate), Namespace: ns.Metadata.Name().Elem()},
		OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{"privateKey": pulumi.Map{"rotationPolicy": pulumi.String(CAKeyPolicy)}}},
	}, b.opts(pulumi.DependsOn([]pulumi.Resource{release}), pulumi.DeletedWith(release))...)
	return err
}

// hostname is a load balancer Service's DNS name, once the service
// controller has provisioned it.
func hostname(svc *corev1.Service, listener string) pulumi.StringOutput {
	return svc.Status.ApplyT(func(s *corev1.ServiceStatus) (string, error) {
		if s == nil || s.LoadBalancer == nil || len(s.LoadBalancer.Ingress) == 0 || s.LoadBalancer.Ingress[0].Hostname == nil {
			return "", fmt.Errorf("the proxies' %s NLB has no hostname yet: the service controller did not provision it", listener)
		}
		return *s.LoadBalancer.Ingress[0].Hostname, nil
	}).(pulumi.StringOutput)
}

// release installs the chart with the computed values, after the node
// pools, the bucket and role the pods need, the credentials' Secrets and
// cert-manager. The instance-storage bookies' release (NVMeRelease, the
// same chart with only its bookkeeper component) depends on neither the
// main release nor the other way round: on a first install each waits for
// the other (these bookies for ZooKeeper, the brokers for these bookies),
// so both install together and converge; and a later change to either
// never waits on the other's upgrade.
func (b *builder) release(ns *corev1.Namespace, values Values, creds []pulumi.Resource) (*helmv3.Release, error) {
	return b.chart(b.name, ReleaseName, ns, values, creds...)
}

// chart is one release of the Pulsar chart.
func (b *builder) chart(resource, release string, ns *corev1.Namespace, values any, after ...pulumi.Resource) (*helmv3.Release, error) {
	vm, err := kit.ToMap(values)
	if err != nil {
		return nil, err
	}
	chart, repo := kit.Chart(b.cfg.Charts, ChartName, ChartRepo)
	r, err := helmv3.NewRelease(b.ctx, resource, &helmv3.ReleaseArgs{
		Name:           pulumi.String(release),
		Chart:          chart,
		Version:        pulumi.String(ChartVersion),
		RepositoryOpts: repo,
		Namespace:      ns.Metadata.Name().Elem(),
		Values:         vm,
		// Not atomic: a failed upgrade must never roll bookies back by
		// deleting and recreating them; operators fix forward.
		Atomic: pulumi.Bool(false), CleanupOnFail: pulumi.Bool(false),
		Timeout: pulumi.Int(1800), MaxHistory: pulumi.Int(20), WaitForJobs: pulumi.Bool(true),
	}, b.opts(pulumi.DependsOn(append(append([]pulumi.Resource(nil), b.deps.DependsOn...), after...)))...)
	if err != nil {
		return nil, err
	}
	b.applied = append(b.applied, kit.ValuesApplied(r, vm))
	return r, nil
}

// The proxies' two listeners. The client listener carries the Pulsar
// protocol only (6651), to clients: internet-facing unless the stack says
// internal, restricted to the client CIDRs. The private listener carries
// the protocol and the web API (443: admin, lookups, the status page) on
// an internal NLB that admits this VPC and the joined regions' VPCs only:
// operators in the VPC, and the peers' brokers, whose replicators and
// admin client reach it through the transit gateways. The admin API is
// never on a public listener.
const (
	// PrivateName is the private listener's Service.
	PrivateName = "pulsar-proxy-private"
	// ClientPortName and WebPortName name the Services' ports, which the
	// NLB annotations list.
	ClientPortName = "pulsarssl"
	WebPortName    = "https"
)

// proxyService is the client listener: an NLB terminating TLS with the
// certificate, open to the client CIDRs when internet-facing.
func (b *builder) proxyService(ns *corev1.Namespace, release *helmv3.Release) (*corev1.Service, error) {
	e := b.cfg.Exposure
	spec := &corev1.ServiceSpecArgs{
		Type:                  pulumi.String("LoadBalancer"),
		ExternalTrafficPolicy: pulumi.String("Cluster"),
		Selector:              pulumi.ToStringMap(labels(CompProxy)),
		Ports:                 corev1.ServicePortArray{clientPort()},
	}
	if e.Scheme == model.SchemeInternetFacing && len(e.ClientCIDRs) > 0 {
		spec.LoadBalancerSourceRanges = kit.SourceRanges(b.deps.NATIPs, e.ClientCIDRs)
	}
	return b.loadBalancer(ns, release, ExternalName, b.name+"-proxy-external", spec, ServiceAnnotations(e, b.deps.CertificateARN))
}

// privateService is the private listener: an internal NLB with the
// private name's certificate, admitting the private CIDRs only.
func (b *builder) privateService(ns *corev1.Namespace, release *helmv3.Release) (*corev1.Service, error) {
	spec := &corev1.ServiceSpecArgs{
		Type:                     pulumi.String("LoadBalancer"),
		ExternalTrafficPolicy:    pulumi.String("Cluster"),
		Selector:                 pulumi.ToStringMap(labels(CompProxy)),
		Ports:                    corev1.ServicePortArray{clientPort(), webPort()},
		LoadBalancerSourceRanges: pulumi.ToStringArray(b.cfg.Exposure.PrivateCIDRs),
	}
	return b.loadBalancer(ns, release, PrivateName, b.name+"-proxy-private", spec, PrivateAnnotations(b.deps.PrivateCertificateARN))
}

func clientPort() *corev1.ServicePortArgs {
	return &corev1.ServicePortArgs{Name: pulumi.String(ClientPortName), Port: pulumi.Int(PortPulsarTLS), TargetPort: pulumi.Int(portPulsarTLS), Protocol: pulumi.String("TCP")}
}

func webPort() *corev1.ServicePortArgs {
	return &corev1.ServicePortArgs{Name: pulumi.String(WebPortName), Port: pulumi.Int(PortHTTPS), TargetPort: pulumi.Int(portWebHTTPS), Protocol: pulumi.String("TCP")}
}

// loadBalancer registers a Service of the proxies behind an NLB.
func (b *builder) loadBalancer(ns *corev1.Namespace, release *helmv3.Release, name, resource string, spec *corev1.ServiceSpecArgs,
	annotations map[string]pulumi.StringInput) (*corev1.Service, error) {
	ann := pulumi.StringMap{}
	for k, v := range annotations {
		ann[k] = v
	}
	return corev1.NewService(b.ctx, resource, &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: ns.Metadata.Name().Elem(), Annotations: ann},
		Spec:     spec,
	}, b.opts(pulumi.DependsOn([]pulumi.Resource{release}))...)
}
