package observability

import (
	"crypto/sha256"
	"encoding/hex"
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
	// Thanos are the bucket, its roles and the region's certificate.
	Thanos ThanosDeps
	// FluentBitRoleARN is Fluent Bit's role on the region's log group.
	FluentBitRoleARN pulumi.StringInput
	// GrafanaAdminPassword is the Grafana admin's password (global view
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

// ThanosDeps are the AWS half's outputs Thanos runs with.
type ThanosDeps struct {
	// BucketName is the region's metrics bucket.
	BucketName pulumi.StringInput
	// SidecarRoleARN, StoreRoleARN and CompactRoleARN are the bucket roles
	// of the Prometheus, store gateway and compactor service accounts.
	SidecarRoleARN, StoreRoleARN, CompactRoleARN pulumi.StringInput
	// TLS is the region's gRPC certificate and the fleet CA.
	TLS GRPCCertificate
	// History are the buckets and roles of Config.History(), by store
	// name.
	History map[string]HistoryBucket
}

// HistoryBucket is a history store's bucket and its role.
type HistoryBucket struct {
	BucketName, RoleARN pulumi.StringInput
}

// GRPCCertificate is a PEM certificate, its key and the CA certificates
// the region trusts (the fleet CA's bundle: the signing CA's and, during a
// rotation, the other one's).
type GRPCCertificate struct {
	CACert, Cert, Key pulumi.StringInput
}

// Validate reports a missing provider or Thanos input.
func (d MonitoringDeps) Validate() error {
	t := d.Thanos
	return kit.Missing(map[string]any{"provider": d.Provider, "fluentBitRoleArn": d.FluentBitRoleARN, "thanos.bucketName": t.BucketName,
		"thanos.sidecarRoleArn": t.SidecarRoleARN, "thanos.storeRoleArn": t.StoreRoleARN, "thanos.compactRoleArn": t.CompactRoleARN,
		"thanos.tls.caCert": t.TLS.CACert, "thanos.tls.cert": t.TLS.Cert, "thanos.tls.key": t.TLS.Key})
}

// ValidateFor reports a missing Grafana password where the region has a
// global view, and a mirror without its bucket or role.
func (d MonitoringDeps) ValidateFor(c Config) error {
	var errs []error
	for _, h := range c.History() {
		hb := d.Thanos.History[h.Name()]
		if err := kit.Missing(map[string]any{"thanos.history." + h.Name() + ".bucketName": hb.BucketName, "thanos.history." + h.Name() + ".roleArn": hb.RoleARN}); err != nil {
			errs = append(errs, err)
		}
	}
	if !c.GlobalView {
		return errors.Join(errs...)
	}
	if err := kit.Missing(map[string]any{"grafanaAdminPassword": d.GrafanaAdminPassword}); err != nil {
		errs = append(errs, fmt.Errorf("the global view needs Grafana's password: %w", err))
	}
	return errors.Join(errs...)
}

// Monitoring is the in-cluster half of observability: the namespace, its
// Secrets, the Thanos service accounts, the chart (with the Thanos
// objects), the rules and monitors, the endpoint's load balancer where
// another region queries this one, and the dashboards where it has a
// global view.
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
	// Applied is true once the release holds the values this run declares
	// (kit.ValuesApplied): false when `up --target` left it out.
	Applied pulumi.BoolOutput
	// EndpointHostname is the Thanos endpoint's NLB ("" when no other
	// region queries this one).
	EndpointHostname pulumi.StringOutput
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
		return pulumi.Map{"endpointHostname": m.EndpointHostname}, nil
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
	accounts, err := b.serviceAccounts(ns)
	if err != nil {
		return err
	}
	values.Prometheus.ServiceAccount.Annotations = map[string]pulumi.StringInput{model.AnnotationIRSARole: b.deps.Thanos.SidecarRoleARN}
	stack, applied, err := b.release(ns, values, append(secrets, accounts...))
	if err != nil {
		return err
	}
	m.Stack, m.Applied = stack, applied
	after := append(append([]pulumi.ResourceOption(nil), b.opts...), pulumi.DependsOn([]pulumi.Resource{stack}))
	if err := b.monitors(after); err != nil {
		return err
	}
	m.EndpointHostname = pulumi.String("").ToStringOutput()
	if b.cfg.Exposed() {
		if err := b.endpoint(m, after); err != nil {
			return err
		}
	}
	if !b.cfg.GlobalView {
		return nil
	}
	return b.dashboards(after)
}

// serviceAccounts are the store gateways', the compactor's and Fluent
// Bit's, with their roles (the chart's manifests cannot carry the roles'
// ARNs, which are outputs).
func (b *inCluster) serviceAccounts(ns *corev1.Namespace) ([]pulumi.Resource, error) {
	type account struct {
		name      string
		namespace pulumi.StringInput
		role      pulumi.StringInput
	}
	accounts := []account{
		{StoreName, ns.Metadata.Name().Elem(), b.deps.Thanos.StoreRoleARN},
		{CompactName, ns.Metadata.Name().Elem(), b.deps.Thanos.CompactRoleARN},
		{FluentBitName, pulumi.String(model.NamespaceNodeAgents), b.deps.FluentBitRoleARN},
	}
	for _, h := range b.cfg.History() {
		accounts = append(accounts, account{h.Name(), ns.Metadata.Name().Elem(), b.deps.Thanos.History[h.Name()].RoleARN})
	}
	var out []pulumi.Resource
	for _, a := range accounts {
		sa, err := corev1.NewServiceAccount(b.ctx, b.name+"-"+a.name, &corev1.ServiceAccountArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(a.name), Namespace: a.namespace,
				Annotations: pulumi.StringMap{model.AnnotationIRSARole: a.role}},
		}, b.opts...)
		if err != nil {
			return nil, err
		}
		out = append(out, sa)
	}
	return out, nil
}

// release installs the chart once the pods' dependencies and the Secrets
// it reads exist.
func (b *inCluster) release(ns *corev1.Namespace, values Values, secrets []pulumi.Resource) (*helmv3.Release, pulumi.BoolOutput, error) {
	vm, err := kit.ToMap(values)
	if err != nil {
		return nil, pulumi.BoolOutput{}, err
	}
	if err := withTrustChecksum(vm, TrustChecksum(b.deps.Thanos.TLS.CACert)); err != nil {
		return nil, pulumi.BoolOutput{}, err
	}
	dependsOn := append(append([]pulumi.Resource(nil), b.deps.DependsOn...), secrets...)
	chart, repo := kit.Chart(b.cfg.Charts, ChartName, ChartRepo)
	r, err := helmv3.NewRelease(b.ctx, b.name, &helmv3.ReleaseArgs{
		Name: pulumi.String(ChartName), Chart: chart, Version: pulumi.String(ChartVersion),
		RepositoryOpts: repo,
		Namespace:      ns.Metadata.Name().Elem(), Values: vm,
		Atomic: pulumi.Bool(true), CleanupOnFail: pulumi.Bool(true), Timeout: pulumi.Int(900), MaxHistory: pulumi.Int(10),
	}, append(append([]pulumi.ResourceOption(nil), b.opts...), pulumi.DependsOn(dependsOn))...)
	if err != nil {
		return nil, pulumi.BoolOutput{}, err
	}
	return r, kit.ValuesApplied(r, vm), nil
}

// monitors registers the alert rules and the Karpenter pod monitor (after
// the chart, which installs their CRDs).
func (b *inCluster) monitors(after []pulumi.ResourceOption) error {
	rules, err := kit.ToMap(RuleSpec(b.cfg.PulsarNamespace, b.cfg.RunbookBase))
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
	all := Dashboards()
	if len(b.cfg.PhaseCosts) > 0 {
		all = append(all, CostDashboard(b.cfg.PhaseCosts))
	}
	for _, d := range all {
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

// endpoint exposes the regional querier's gRPC port to the other regions'
// global queriers: an internal NLB that passes TLS through to Thanos,
// which demands a client certificate of the fleet CA, admitting only the
// VPC blocks of this region and the joined regions (the queriers' traffic
// takes the transit gateways; Config.Validate refuses an exposed endpoint
// without them).
func (b *inCluster) endpoint(m *Monitoring, opts []pulumi.ResourceOption) error {
	svc, err := corev1.NewService(b.ctx, b.name+"-thanos-endpoint", &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(EndpointService), Namespace: pulumi.String(Namespace),
			Annotations: pulumi.StringMap{
				"service.beta.kubernetes.io/aws-load-balancer-type": pulumi.String("nlb"),
				model.AnnotationLBInternal:                          pulumi.String("true"),
				model.AnnotationLBScheme:                            pulumi.String("internal"),
				"service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": pulumi.String("true"),
				AnnotationMutualTLS: pulumi.String(RegionalQueryName),
			}},
		Spec: &corev1.ServiceSpecArgs{
			Type: pulumi.String("LoadBalancer"), LoadBalancerSourceRanges: pulumi.ToStringArray(b.cfg.EndpointCIDRs),
			Selector: pulumi.ToStringMap(ThanosLabels(RegionalQueryName)),
			Ports: corev1.ServicePortArray{&corev1.ServicePortArgs{Name: pulumi.String("grpc-mtls"), Port: pulumi.Int(EndpointPort),
				TargetPort: pulumi.Int(GRPCPort), Protocol: pulumi.String("TCP")}},
		},
	}, opts...)
	if err != nil {
		return err
	}
	m.EndpointHostname = svc.Status.ApplyT(func(s *corev1.ServiceStatus) (string, error) {
		if s == nil || s.LoadBalancer == nil || len(s.LoadBalancer.Ingress) == 0 || s.LoadBalancer.Ingress[0].Hostname == nil {
			return "", errors.New("the Thanos endpoint's NLB has no hostname yet")
		}
		return *s.LoadBalancer.Ingress[0].Hostname, nil
	}).(pulumi.StringOutput)
	return nil
}

// AnnotationMutualTLS marks a load balancer that passes TLS through to a
// workload that terminates it with client certificates; its value names
// the workload. `pulsar-fleet check` verifies the workload's flags.
const AnnotationMutualTLS = "pulsar-fleet.io/mutual-tls"

// webhookSecret is the Secret Alertmanager reads the webhook URL from, or
// "" without a webhook.
func (a Config) webhookSecret() string {
	if a.WebhookURL == "" {
		return ""
	}
	return AlertWebhookSecret
}

// secrets creates the Secrets the charts read: the alert webhook URL, the
// Thanos bucket configuration and gRPC certificate, and with a global view
// the Grafana admin credentials from the password given.
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
	t := b.deps.Thanos
	if err := secret("thanos-objstore", ObjstoreSecret, pulumi.StringMap{
		ObjstoreKey: t.BucketName.ToStringOutput().ApplyT(func(bucket string) string { return ObjstoreConfig(bucket, b.cfg.Region) }).(pulumi.StringOutput),
	}); err != nil {
		return nil, err
	}
	for _, h := range b.cfg.History() {
		if err := secret(h.ObjstoreSecret(), h.ObjstoreSecret(), pulumi.StringMap{
			ObjstoreKey: t.History[h.Name()].BucketName.ToStringOutput().ApplyT(func(bucket string) string { return ObjstoreConfig(bucket, h.Region) }).(pulumi.StringOutput),
		}); err != nil {
			return nil, err
		}
	}
	if err := secret("thanos-grpc-tls", GRPCTLSSecret, pulumi.StringMap{
		"ca.crt": t.TLS.CACert, "tls.crt": t.TLS.Cert, "tls.key": pulumi.ToSecret(t.TLS.Key).(pulumi.StringOutput),
	}); err != nil {
		return nil, err
	}
	if !b.cfg.GlobalView {
		return out, nil
	}
	password := pulumi.ToSecret(b.deps.GrafanaAdminPassword).(pulumi.StringOutput)
	err := secret("grafana-admin", GrafanaAdminSecret, pulumi.StringMap{GrafanaUserKey: pulumi.String(GrafanaAdminUser), GrafanaPasswordKey: password})
	return out, err
}

// TrustChecksum is the SHA-256 of the CA certificates, in hex.
func TrustChecksum(caPEM pulumi.StringInput) pulumi.StringOutput {
	return caPEM.ToStringOutput().ApplyT(func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}).(pulumi.StringOutput)
}

// withTrustChecksum annotates the queriers' pod templates in the release's
// values with the checksum of the CA certificates they trust. Thanos reads
// its CA file once, at start (it reloads its own certificate and key when
// they change, not the CA), so a new bundle, at each stage of a fleet CA
// rotation, reaches the queriers only by rolling them.
func withTrustChecksum(values pulumi.Map, checksum pulumi.StringOutput) error {
	manifests, _ := values["extraManifests"].(pulumi.Array)
	found := 0
	for _, m := range manifests {
		obj, _ := m.(pulumi.Map)
		meta, _ := obj["metadata"].(pulumi.Map)
		name, _ := meta["name"].(pulumi.String)
		if obj["kind"] != pulumi.String("Deployment") || (name != RegionalQueryName && name != GlobalQueryName) {
			continue
		}
		spec, _ := obj["spec"].(pulumi.Map)
		tmpl, _ := spec["template"].(pulumi.Map)
		tmeta, ok := tmpl["metadata"].(pulumi.Map)
		if !ok {
			return fmt.Errorf("values: %s has no pod template metadata", name)
		}
		if a, ok := tmeta["annotations"].(pulumi.Map); ok {
			a[model.AnnotationTrustChecksum] = checksum
		} else {
			tmeta["annotations"] = pulumi.Map{model.AnnotationTrustChecksum: checksum}
		}
		found++
	}
	if found == 0 {
		return errors.New("values: no Thanos querier to annotate with the trusted CAs' checksum")
	}
	return nil
}
