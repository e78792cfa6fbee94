package tests

// The real-provider tier: every in-cluster component of one region, built
// from its design with literal values standing in for the AWS halves'
// outputs: Karpenter's releases, EC2NodeClasses and NodePools
// (capacity.NewKarpenter), the monitoring release, rules, monitors,
// dashboards, Thanos and its endpoint (observability.NewMonitoring), the Pulsar release
// (pulsar.New) and the client ConfigMap (routing.NewClientConfigMap). They
// run through the real Pulumi engine (file:// backend) and the real
// Kubernetes provider plugin (built from the Go module proxy), with the
// product's provider settings (cluster.ProviderArgs), against a bare
// kube-apiserver (the releases install their CRDs), with the charts from the
// reference directory through the product's chartSource option.
//
// The API server has no kubelet, no controllers and no cloud: nothing ever
// becomes ready, nothing is garbage-collected and no load balancer gets an
// address. So, in this test only:
//   - a stand-in service controller (apiserver.ServeLoadBalancers) gives
//     each LoadBalancer Service an endpoint and an NLB-like hostname, so the
//     provider's Service await, which the product relies on for the proxy's
//     hostname, runs for real;
//   - a stack transformation skips every other await: pulumi.com/skipAwait
//     on the other objects, and skipAwait, no atomic rollback, no job wait
//     and no hooks on every Helm release (a hook Job would never finish);
//   - deletes with background propagation (pulumi.com/deletionPropagationPolicy):
//     the provider's default, foreground, leaves a foregroundDeletion
//     finalizer only kube-controller-manager would remove.
// The product keeps its own await, atomic and hook settings.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/capacity"
	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/components/observability"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/components/routing"
	"github.com/pulsar-fleet/pulsar-fleet/internal/apiserver"
	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/internal/tooling"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
	"github.com/pulsar-fleet/pulsar-fleet/transition"
)

// Test-only annotations: every object is deleted in the background, and
// all but Services skip await.
const (
	skipAwait   = "pulumi.com/skipAwait"
	propagation = "pulumi.com/deletionPropagationPolicy"
)

// withoutAwait is the test-only stack transformation described above.
func withoutAwait(args *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
	annotate := func(m metav1.ObjectMetaPtrInput, await bool) {
		meta, ok := m.(*metav1.ObjectMetaArgs)
		if !ok || meta == nil {
			return
		}
		ann := pulumi.StringMap{}
		if have, ok := meta.Annotations.(pulumi.StringMap); ok {
			for k, v := range have {
				ann[k] = v
			}
		}
		ann[propagation] = pulumi.String("background")
		if !await {
			ann[skipAwait] = pulumi.String("true")
		}
		meta.Annotations = ann
	}
	switch p := args.Props.(type) {
	case *helmv3.ReleaseArgs:
		p.SkipAwait, p.Atomic, p.WaitForJobs, p.DisableWebhooks = pulumi.Bool(true), pulumi.Bool(false), pulumi.Bool(false), pulumi.Bool(true)
		// Helm waits for hook Jobs to complete, and no controller runs
		// them here: hooks are off on upgrade too (the provider reads
		// disableWebhooks on install, disableCRDHooks on upgrade).
		p.DisableCRDHooks = pulumi.Bool(true)
	case *corev1.ServiceArgs:
		annotate(p.Metadata, true)
	case *corev1.NamespaceArgs:
		annotate(p.Metadata, false)
	case *corev1.SecretArgs:
		annotate(p.Metadata, false)
	case *corev1.ServiceAccountArgs:
		annotate(p.Metadata, false)
	case *corev1.ConfigMapArgs:
		annotate(p.Metadata, false)
	case kubernetes.UntypedArgs: // custom resources register untyped
		if meta, ok := p["metadata"].(metav1.ObjectMetaPtrInput); ok {
			annotate(meta, false)
		}
	default:
		return nil
	}
	return &pulumi.ResourceTransformationResult{Props: args.Props, Opts: args.Opts}
}

// standIn is a test component with an AWS half's type and name, standing
// in for it (its AWS resources cannot be created here).
type standIn struct{ pulumi.ResourceState }

// inClusterHalves are the types of the in-cluster halves split out of the
// capacity, observability and routing components.
var inClusterHalves = []string{capacity.KarpenterTypeToken, observability.MonitoringTypeToken, routing.ClientConfigMapTypeToken}

// outerHalf registers the stand-in for an AWS half; its in-cluster half is
// its child, with it as FormerParent, as in the product.
func outerHalf(ctx *pulumi.Context, token, name string) (pulumi.Resource, error) {
	outer := &standIn{}
	return outer, ctx.RegisterComponentResource(token, name, outer)
}

// beforeSplit rewrites a stack's state to what it was before the in-cluster
// halves became components: their children directly under the AWS half,
// with the URNs they had there, and no in-cluster component.
func beforeSplit(dep apitype.UntypedDeployment) (apitype.UntypedDeployment, error) {
	var d struct {
		Resources []map[string]any `json:"resources"`
	}
	if err := json.Unmarshal(dep.Deployment, &d); err != nil {
		return dep, err
	}
	text := string(dep.Deployment)
	for _, r := range d.Resources {
		if slices.Contains(inClusterHalves, r["type"].(string)) {
			text = strings.ReplaceAll(text, fmt.Sprintf("%q", r["urn"]), fmt.Sprintf("%q", r["parent"]))
		}
	}
	for _, token := range inClusterHalves {
		text = strings.ReplaceAll(text, "$"+token+"$", "$")
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return dep, err
	}
	var kept []any
	for _, r := range raw["resources"].([]any) {
		if !slices.Contains(inClusterHalves, r.(map[string]any)["type"].(string)) {
			kept = append(kept, r)
		}
	}
	raw["resources"] = kept
	out, err := json.Marshal(raw)
	return apitype.UntypedDeployment{Version: dep.Version, Deployment: out}, err
}

// inClusterProgram builds every in-cluster component of the region from its
// design (edited by edit, if given), with literal values standing in for
// the AWS halves' outputs, through a provider with the product's settings;
// extra are more test-only stack transformations.
func inClusterProgram(d regions.RegionDesign, kubeconfig, charts string, edit func(*regions.Configs), extra ...pulumi.ResourceTransformation) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		for _, tr := range append([]pulumi.ResourceTransformation{withoutAwait}, extra...) {
			if err := ctx.RegisterStackTransformation(tr); err != nil {
				return err
			}
		}
		k8s, err := kubernetes.NewProvider(ctx, "local", cluster.ProviderArgs(pulumi.String(kubeconfig)))
		if err != nil {
			return err
		}
		cfg := d.Components
		cfg.Capacity.Charts, cfg.Pulsar.Charts, cfg.Observability.Charts = model.ChartSource(charts), model.ChartSource(charts), model.ChartSource(charts)
		if edit != nil {
			edit(&cfg)
		}
		karpenter, err := inClusterKarpenter(ctx, d, cfg.Capacity, k8s)
		if err != nil {
			return err
		}
		monitoring, err := inClusterMonitoring(ctx, d, cfg.Observability, k8s, karpenter.Ready)
		if err != nil {
			return err
		}
		pl, err := pulsar.New(ctx, d.Stack, cfg.Pulsar, pulsar.Deps{
			Provider: k8s, CertificateARN: pulumi.String("arn:aws:acm:" + d.Region + ":123456789012:certificate/literal"),
			PrivateCertificateARN: pulumi.String("arn:aws:acm:" + d.Region + ":123456789012:certificate/private"),
			BrokerRoleARN:         pulumi.String("arn:aws:iam::123456789012:role/" + d.Stack + "-offload-broker"),
			OffloadBucket:         pulumi.String(d.Stack + "-offload"), DependsOn: append([]pulumi.Resource{monitoring.Stack}, karpenter.Ready...),
			// A real key: the tier's Secrets carry real tokens minted from it.
			TokenKey: tierTokenKey(),
			// cert-manager's CRDs are installed with the API server (its
			// webhook could not answer here: no pod runs), so the releases
			// wait for the monitoring stack instead.
			CertManager: monitoring.Stack,
		})
		if err != nil {
			return err
		}
		if err := recordedOutputs(ctx, d, pl, monitoring); err != nil {
			return err
		}
		outer, err := outerHalf(ctx, routing.TypeToken, d.Stack)
		if err != nil {
			return err
		}
		_, err = routing.NewClientConfigMap(ctx, d.Stack, cfg.Routing, routing.ClientConfigMapDeps{
			Provider: k8s, DependsOn: []pulumi.Resource{pl.NamespaceObject}, FormerParent: outer}, pulumi.Parent(outer))
		return err
	}
}

// recordedOutputs exports the phase, the transition step and the bookie
// sets as the product does (regions.RecordedOutputs): as declared once the
// releases hold the declared values, else as the stack's own last outputs
// (read as the product reads them, stacks.ReadDeployed), and whether the
// monitoring release is applied.
func recordedOutputs(ctx *pulumi.Context, d regions.RegionDesign, pl *pulsar.Pulsar, monitoring *observability.Monitoring) error {
	recorded, err := stacks.ReadDeployed(ctx, "organization/"+ctx.Project()+"/"+ctx.Stack(), "the real-provider tier")
	if err != nil {
		return err
	}
	declared := regions.DeclaredPulsarOutputs(d, tierTokenKey())
	for k, v := range regions.RecordedOutputs(pl.Applied, declared, recorded, regions.PulsarOutputs...) {
		ctx.Export(k, v)
	}
	ctx.Export(monitoringApplied, monitoring.Applied)
	return nil
}

// tierTokenKey is the fleet signing key of the tier's releases, a Pulumi
// secret as the bootstrap stack's is.
func tierTokenKey() pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.String(recorder.SimulatedTokenKey())).(pulumi.StringOutput)
}

// kubernetesProviderURN is the tier program's Kubernetes provider.
func kubernetesProviderURN(stack string) string {
	return "urn:pulumi:" + stack + "::realprovider::pulumi:providers:kubernetes::local"
}

// monitoringApplied is the tier's output of observability's Applied.
const monitoringApplied = "monitoringApplied"

// inClusterKarpenter is Karpenter's in-cluster half, with literal IAM, queue
// and security group.
func inClusterKarpenter(ctx *pulumi.Context, d regions.RegionDesign, cfg capacity.Config, k8s *kubernetes.Provider) (*capacity.Karpenter, error) {
	outer, err := outerHalf(ctx, capacity.TypeToken, d.Stack)
	if err != nil {
		return nil, err
	}
	return capacity.NewKarpenter(ctx, d.Stack, cfg, capacity.KarpenterDeps{
		Provider: k8s, ClusterSecurityGroupID: pulumi.String("sg-0123456789abcdef0"), NodeRoleName: pulumi.String(d.Stack + "-karpenter-node"),
		ControllerRoleARN: pulumi.String("arn:aws:iam::123456789012:role/" + d.Stack + "-karpenter"), QueueName: pulumi.String(cfg.ClusterName),
		FormerParent: outer,
	}, pulumi.Parent(outer))
}

// inClusterMonitoring is monitoring's in-cluster half, with a literal
// bucket, roles, certificate, peer address and Grafana password.
func inClusterMonitoring(ctx *pulumi.Context, d regions.RegionDesign, cfg observability.Config, k8s *kubernetes.Provider,
	pools []pulumi.Resource) (*observability.Monitoring, error) {
	outer, err := outerHalf(ctx, observability.TypeToken, d.Stack)
	if err != nil {
		return nil, err
	}
	return observability.NewMonitoring(ctx, d.Stack, cfg, observability.MonitoringDeps{
		Provider:         k8s,
		FluentBitRoleARN: pulumi.String("arn:aws:iam::123456789012:role/" + d.Stack + "-fluent-bit"),
		Thanos: observability.ThanosDeps{BucketName: pulumi.String(d.Stack + "-metrics"),
			SidecarRoleARN: pulumi.String("arn:aws:iam::123456789012:role/" + d.Stack + "-kps-prometheus"),
			StoreRoleARN:   pulumi.String("arn:aws:iam::123456789012:role/" + d.Stack + "-thanos-store"),
			CompactRoleARN: pulumi.String("arn:aws:iam::123456789012:role/" + d.Stack + "-thanos-compact"),
			TLS: observability.GRPCCertificate{CACert: pulumi.String("literal fleet CA"), Cert: pulumi.String("literal certificate"),
				Key: pulumi.ToSecret(pulumi.String("literal key")).(pulumi.StringOutput)}, History: literalHistory(d.Stack, cfg)},
		GrafanaAdminPassword: pulumi.ToSecret(pulumi.String("literal-grafana-password")).(pulumi.StringOutput),
		DependsOn:            pools, FormerParent: outer,
	}, pulumi.Parent(outer))
}

// literalHistory are literal buckets and roles of the history stores.
func literalHistory(stack string, cfg observability.Config) map[string]observability.HistoryBucket {
	out := map[string]observability.HistoryBucket{}
	for _, h := range cfg.History() {
		out[h.Name()] = observability.HistoryBucket{BucketName: pulumi.String(h.Stack + "-metrics-history"),
			RoleARN: pulumi.String("arn:aws:iam::123456789012:role/" + stack + "-" + h.Name())}
	}
	return out
}

// providerEnv is the engine's environment: the file backend, the built
// provider first on PATH (an ambient plugin, so nothing is downloaded).
func providerEnv(t *testing.T, pluginDir string) map[string]string {
	return map[string]string{
		"PULUMI_BACKEND_URL":                          "file://" + t.TempDir(),
		"PULUMI_CONFIG_PASSPHRASE":                    "real-provider-tier",
		"PULUMI_SKIP_UPDATE_CHECK":                    "true",
		"PULUMI_DIY_BACKEND_NO_LEGACY_WARNING":        "true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		"PULUMI_HOME":                                 t.TempDir(),
		"PATH":                                        pluginDir + string(os.PathListSeparator) + os.Getenv("PATH"),
	}
}

// changes counts a run's resource operations other than "same" and
// "read": the program's stack reference to itself is read afresh in a run
// over a state that lacks it, which changes nothing.
func changes(summary *map[string]int) map[string]int {
	out := map[string]int{}
	if summary == nil {
		return out
	}
	for op, n := range *summary {
		if op != string(apitype.OpSame) && op != string(apitype.OpRead) && n > 0 {
			out[op] = n
		}
	}
	return out
}

// realTier is what the real-provider tests share: the reference charts,
// the Kubernetes provider built from the module proxy and the Pulumi CLI.
type realTier struct {
	charts, provider string
	cmd              auto.PulumiCommand
}

func newRealTier(t *testing.T) realTier {
	charts := chartsDir(t)
	needEtcd(t) // before the provider's long build
	start := time.Now()
	provider, err := tooling.KubernetesProvider.Path(root)
	require.NoError(t, err, "build pulumi-resource-kubernetes from tools/kubernetesprovider")
	t.Logf("Kubernetes provider ready in %s: %s", time.Since(start).Round(time.Millisecond), provider)
	cli := pulumiBin(t)
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: filepath.Dir(filepath.Dir(cli))})
	require.NoError(t, err)
	return realTier{charts: charts, provider: provider, cmd: cmd}
}

// cycleOn starts a bare API server (the releases install their CRDs) with
// a stand-in service controller, and a cycle of d's stack on it. An API
// server per stack: without the namespace controller a destroyed stack's
// namespaces stay Terminating.
func (r realTier) cycleOn(t *testing.T, d regions.RegionDesign, timeout time.Duration) (*cycle, *apiserver.Server) {
	s := startBareAPIServer(t)
	crdCtx, crdCancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer crdCancel()
	for _, f := range certManagerCRDs(t) {
		require.NoError(t, s.ApplyFile(crdCtx, f))
	}
	kubeconfig, err := s.Kubeconfig()
	require.NoError(t, err)
	lbs, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go s.ServeLoadBalancers(lbs, d.Region, 500*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return &cycle{t: t, ctx: ctx, d: d, cmd: r.cmd, env: providerEnv(t, filepath.Dir(r.provider)), kubeconfig: kubeconfig, charts: r.charts}, s
}

// For every stack at 35k: up, up again with no changes, refresh with no
// drift, destroy.
func TestRealProviderTier(t *testing.T) {
	tier := newRealTier(t)
	fleet, _, err := stacks.LoadFleet(root)
	require.NoError(t, err)
	for _, stack := range fleet.Names() {
		t.Run(stack, func(t *testing.T) {
			d, err := stacks.DesignFor(fleet, stack, "35k", catalog(t))
			require.NoError(t, err)
			c, s := tier.cycleOn(t, d, 15*time.Minute)
			c.run(s)
			assertUninstalled(t, s, d.Components.Pulsar.Namespace)
		})
	}
}

// assertInstalled checks what up installed: the chart's StatefulSets with
// the plan's replicas, the plan's NodePools and node classes, the alert
// rules, and the client ConfigMap.
func assertInstalled(t *testing.T, s *apiserver.Server, d regions.RegionDesign) {
	replicas := map[string]int{}
	for _, it := range list(t, s, "/apis/apps/v1/namespaces/"+d.Components.Pulsar.Namespace+"/statefulsets") {
		replicas[it.Metadata.Name] = it.Spec.Replicas
	}
	want := map[string]int{"pulsar-zookeeper": d.Components.Pulsar.ZooKeeper.Replicas}
	for _, set := range d.Components.Pulsar.BookieSets {
		want[set.StatefulSet()] = set.Pod.Replicas
	}
	for name, n := range want {
		assert.Equal(t, n, replicas[name], "%s installed as designed", name)
	}
	for name := range replicas {
		if strings.HasSuffix(name, "-bookie") {
			assert.Contains(t, want, name, "only the design's bookie sets run")
		}
	}
	plan, err := capacity.Compute(d.Components.Capacity)
	require.NoError(t, err)
	var pools, classes []string
	for _, np := range plan.NodePools {
		pools = append(pools, np.Metadata.Name)
	}
	for _, nc := range plan.NodeClasses {
		classes = append(classes, nc.Metadata.Name)
	}
	assert.ElementsMatch(t, pools, names(list(t, s, "/apis/karpenter.sh/v1/nodepools")), "the plan's NodePools")
	assert.ElementsMatch(t, classes, names(list(t, s, "/apis/karpenter.k8s.aws/v1/ec2nodeclasses")), "the plan's node classes")
	assertCAKeepsItsKey(t, s, d.Components.Pulsar.Namespace)
	assert.Contains(t, names(list(t, s, "/apis/monitoring.coreos.com/v1/namespaces/"+observability.Namespace+"/prometheusrules")), "pulsar-fleet-alerts")
	assert.Contains(t, names(list(t, s, "/api/v1/namespaces/"+d.Components.Routing.Namespace+"/configmaps")), routing.ClientConfigMapName)
	// The NetworkPolicies: Karpenter's, made by the provider itself, and
	// the monitoring release's, installed with the chart.
	assert.Contains(t, names(list(t, s, "/apis/networking.k8s.io/v1/namespaces/"+capacity.Namespace+"/networkpolicies")), "karpenter")
	assert.Subset(t, names(list(t, s, "/apis/networking.k8s.io/v1/namespaces/"+observability.Namespace+"/networkpolicies")),
		[]string{"monitoring-default-deny", "monitoring-internal", "monitoring-operator-webhook", "thanos-endpoint"})
}

// caRenewBefore is a test-only transformation: the main Pulsar release
// (resource name stack) with the CA's renewBefore set to d.
func caRenewBefore(stack, d string) pulumi.ResourceTransformation {
	return func(args *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
		p, ok := args.Props.(*helmv3.ReleaseArgs)
		if !ok || args.Name != stack || args.Type != "kubernetes:helm.sh/v3:Release" {
			return nil
		}
		values, _ := p.Values.(pulumi.Map)
		certs, _ := values["certs"].(pulumi.Map)
		issuer, _ := certs["internal_issuer"].(pulumi.Map)
		if issuer == nil {
			return nil
		}
		issuer["renewBefore"] = pulumi.String(d)
		return &pulumi.ResourceTransformationResult{Props: p, Opts: args.Opts}
	}
}

// caSpec is the spec of the region CA's Certificate as kube-apiserver
// holds it.
func caSpec(t *testing.T, s *apiserver.Server, namespace string) map[string]any {
	body, err := s.Get(context.Background(), "/apis/cert-manager.io/v1/namespaces/"+namespace+"/certificates/"+pulsar.CACertificate)
	require.NoError(t, err, "the chart's CA Certificate")
	var ca struct {
		Spec map[string]any `json:"spec"`
	}
	require.NoError(t, json.Unmarshal(body, &ca))
	return ca.Spec
}

// assertCAKeepsItsKey checks the region CA's Certificate as kube-apiserver
// holds it: the chart's (Helm's fields intact) with the program's key
// policy. No cert-manager runs here: that cert-manager then keeps the key
// is its documented behaviour, not shown.
func assertCAKeepsItsKey(t *testing.T, s *apiserver.Server, namespace string) {
	body, err := s.Get(context.Background(), "/apis/cert-manager.io/v1/namespaces/"+namespace+"/certificates/"+pulsar.CACertificate)
	require.NoError(t, err, "the chart's CA Certificate")
	var ca struct {
		Spec struct {
			IsCA       bool   `json:"isCA"`
			SecretName string `json:"secretName"`
			Duration   string `json:"duration"`
			PrivateKey struct {
				RotationPolicy string `json:"rotationPolicy"`
			} `json:"privateKey"`
		} `json:"spec"`
	}
	require.NoError(t, json.Unmarshal(body, &ca))
	assert.Equal(t, pulsar.CAKeyPolicy, ca.Spec.PrivateKey.RotationPolicy, "the CA keeps its key when cert-manager renews it")
	assert.True(t, ca.Spec.IsCA, "the chart's fields are kept")
	assert.Equal(t, pulsar.CASecret, ca.Spec.SecretName)
	assert.Equal(t, pulsar.CADuration, ca.Spec.Duration)
}

// assertListeners checks the proxies' two load balancers as kube-apiserver
// holds them after up (the stand-in controller gave each a hostname): the
// client listener carries the Pulsar protocol only, the private one the
// protocol and the web API, on an internal NLB with source ranges.
func assertListeners(t *testing.T, s *apiserver.Server, d regions.RegionDesign) {
	for name, want := range map[string][]int{pulsar.ExternalName: {6651}, pulsar.PrivateName: {6651, 443}} {
		body, err := s.Get(context.Background(), "/api/v1/namespaces/"+d.Components.Pulsar.Namespace+"/services/"+name)
		require.NoError(t, err, name)
		var svc struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
			Spec struct {
				Ports []struct {
					Port int `json:"port"`
				} `json:"ports"`
				SourceRanges []string `json:"loadBalancerSourceRanges"`
			} `json:"spec"`
			Status struct {
				LoadBalancer struct {
					Ingress []struct {
						Hostname string `json:"hostname"`
					} `json:"ingress"`
				} `json:"loadBalancer"`
			} `json:"status"`
		}
		require.NoError(t, json.Unmarshal(body, &svc), name)
		var ports []int
		for _, p := range svc.Spec.Ports {
			ports = append(ports, p.Port)
		}
		assert.Equal(t, want, ports, name)
		require.NotEmpty(t, svc.Status.LoadBalancer.Ingress, "%s has its load balancer", name)
		if name == pulsar.PrivateName {
			assert.Equal(t, "true", svc.Metadata.Annotations[model.AnnotationLBInternal], "the private listener is internal")
			assert.Equal(t, d.Components.Pulsar.Exposure.PrivateCIDRs, svc.Spec.SourceRanges)
		}
	}
}

// assertTokens checks the credentials as the brokers will read them: the
// key Secret holds the public key only, and every super user's and the
// replicator's token verifies with it and names its role.
func assertTokens(t *testing.T, s *apiserver.Server, d regions.RegionDesign) {
	secrets := map[string]map[string]string{}
	for _, it := range list(t, s, "/api/v1/namespaces/"+d.Components.Pulsar.Namespace+"/secrets") {
		secrets[it.Metadata.Name] = it.Data
	}
	key := secrets[pulsar.KeySecret]
	require.Contains(t, key, "PUBLICKEY")
	assert.NotContains(t, key, "PRIVATEKEY", "no private key in the cluster")
	der, err := base64.StdEncoding.DecodeString(key["PUBLICKEY"])
	require.NoError(t, err)
	roles := pulsar.RolesOf(d.Components.Pulsar)
	tokens := map[string]string{}
	for _, role := range roles.Minted() {
		tokens[role] = secrets[pulsar.TokenSecret(role)]["TOKEN"]
	}
	for _, p := range d.Components.Pulsar.Peers {
		tokens[roles.Replicator] = secrets[pulsar.GeoTokensSecret][p.Cluster]
	}
	for role, b64 := range tokens {
		raw, err := base64.StdEncoding.DecodeString(b64)
		require.NoError(t, err, role)
		subject, err := pulsar.VerifyToken(der, string(raw))
		require.NoError(t, err, "%s: verifies with the key the brokers read (DER SubjectPublicKeyInfo, as Pulsar reads tokenPublicKey)", role)
		assert.Equal(t, role, subject)
	}
}

// object is what the tier reads of a listed object.
type object struct {
	Metadata struct {
		Name string `json:"name"`
		UID  string `json:"uid"`
	} `json:"metadata"`
	Spec struct {
		Replicas             int `json:"replicas"`
		VolumeClaimTemplates []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Resources struct {
					Requests map[string]string `json:"requests"`
				} `json:"resources"`
			} `json:"spec"`
		} `json:"volumeClaimTemplates"`
	} `json:"spec"`
	Data map[string]string `json:"data"`
}

// assertVolumes checks the EBS bookies' claim templates are the design's
// volumes. (The gp3 classes are the cluster component's, which this tier
// does not build: it holds the in-cluster layer only.)
func assertVolumes(t *testing.T, s *apiserver.Server, d regions.RegionDesign) {
	want, ok := regions.EBSVolumes(d.Components)
	if !ok {
		return
	}
	var ledgers, journal int64
	for _, it := range list(t, s, "/apis/apps/v1/namespaces/"+d.Components.Pulsar.Namespace+"/statefulsets") {
		if it.Metadata.Name != "pulsar-bookie" {
			continue
		}
		for _, c := range it.Spec.VolumeClaimTemplates {
			switch size := binaryQuantity(t, c.Spec.Resources.Requests["storage"]); {
			case strings.HasSuffix(c.Metadata.Name, "-ledgers"):
				ledgers = size
			case strings.HasSuffix(c.Metadata.Name, "-journal"):
				journal = size
			}
		}
	}
	assert.Equal(t, [2]int64{want.LedgerBytes, want.JournalBytes}, [2]int64{ledgers, journal}, "%s: the bookies' claim templates (ledgers, journal)", d.Phase)
}

// binaryQuantity reads a storage quantity as the API server returns it:
// the program writes Gi, and the server normalizes 2048Gi to 2Ti.
func binaryQuantity(t *testing.T, q string) int64 {
	v, err := manifests.BinaryQuantity(q)
	require.NoError(t, err, q)
	return v
}

// list reads a list from the API server.
func list(t *testing.T, s *apiserver.Server, path string) []object {
	body, err := s.Get(context.Background(), path)
	require.NoError(t, err, path)
	var l struct {
		Items []object `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &l), path)
	return l.Items
}

func names(objs []object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Metadata.Name)
	}
	return out
}

// clientConfigMap reads the client ConfigMap.
func clientConfigMap(t *testing.T, s *apiserver.Server, d regions.RegionDesign) object {
	for _, o := range list(t, s, "/api/v1/namespaces/"+d.Components.Routing.Namespace+"/configmaps") {
		if o.Metadata.Name == routing.ClientConfigMapName {
			return o
		}
	}
	t.Fatalf("no %s", routing.ClientConfigMapName)
	return object{}
}

// assertUninstalled checks that destroy removed what the chart installed:
// no workload, Service or Helm release record is left in the namespace
// (which itself stays Terminating: no namespace controller runs here).
func assertUninstalled(t *testing.T, s *apiserver.Server, ns string) {
	for _, path := range []string{"/apis/apps/v1/namespaces/" + ns + "/statefulsets", "/apis/apps/v1/namespaces/" + ns + "/deployments",
		"/api/v1/namespaces/" + ns + "/services", "/api/v1/namespaces/" + ns + "/secrets?labelSelector=owner%3Dhelm"} {
		assert.Empty(t, names(list(t, s, path)), "%s: left after destroy", path)
	}
}

// cycle runs one stack through the engine.
type cycle struct {
	t          *testing.T
	ctx        context.Context
	d          regions.RegionDesign
	cmd        auto.PulumiCommand
	env        map[string]string
	kubeconfig string
	charts     string
	log        strings.Builder
}

// stack is the stack with the program, edited by edit.
func (c *cycle) stack(edit func(*regions.Configs), extra ...pulumi.ResourceTransformation) auto.Stack {
	st, err := auto.UpsertStackInlineSource(c.ctx, c.d.Stack, "realprovider", inClusterProgram(c.d, c.kubeconfig, c.charts, edit, extra...),
		auto.Pulumi(c.cmd), auto.EnvVars(c.env))
	require.NoError(c.t, err)
	return st
}

// step runs f, logs its time and fails with the engine's log on error.
func (c *cycle) step(name string, f func() error) {
	began := time.Now()
	err := f()
	c.t.Logf("%s %s in %s", c.d.Stack, name, time.Since(began).Round(time.Millisecond))
	require.NoError(c.t, err, "%s %s:\n%s", c.d.Stack, name, tail(c.log.String(), 4000))
}

// up runs an up and returns its changes.
func (c *cycle) up(name string, st auto.Stack, opts ...optup.Option) map[string]int {
	var res auto.UpResult
	c.step(name, func() (err error) {
		res, err = st.Up(c.ctx, append([]optup.Option{optup.ProgressStreams(&c.log)}, opts...)...)
		return
	})
	return changes(res.Summary.ResourceChanges)
}

// pulsarReleasesChange previews st and tells whether it changes a Pulsar
// release (the main one or an instance-storage bookie set's).
func (c *cycle) pulsarReleasesChange(st auto.Stack) bool {
	evs := make(chan events.EngineEvent)
	changed := false
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range evs {
			if p := e.ResourcePreEvent; p != nil && p.Metadata.Type == "kubernetes:helm.sh/v3:Release" &&
				p.Metadata.Op != apitype.OpSame && strings.Contains(p.Metadata.URN, pulsar.TypeToken) {
				changed = true
			}
		}
	}()
	c.step("preview of the releases' changes", func() error {
		_, err := st.Preview(c.ctx, optpreview.ProgressStreams(&c.log), optpreview.EventStreams(evs))
		return err
	})
	<-done
	return changed
}

// assertRecorded checks the stack's outputs of what its releases run:
// d's phase, transition step and bookie sets.
func (c *cycle) assertRecorded(st auto.Stack, d regions.RegionDesign, when string) {
	out, err := st.Outputs(c.ctx)
	require.NoError(c.t, err)
	var transition any
	if b := d.Between; b != nil {
		transition = map[string]any{"from": b.From, "step": float64(b.Step)}
	}
	assert.Equal(c.t, d.Phase, out[regions.OutputPhase].Value, "%s: the phase output", when)
	assert.Equal(c.t, transition, out[regions.OutputTransition].Value, "%s: the transition output", when)
	assert.Equal(c.t, regions.BookieSets(d.Components.Pulsar), out[regions.OutputBookieSets].Value, "%s: the bookie sets output", when)
	assert.Equal(c.t, true, out[monitoringApplied].Value, "%s: the monitoring release holds its declared values", when)
}

// run: up; the state rewritten as it was before the in-cluster halves were
// split out, then up, which only creates the three halves (the aliases
// keep every object in place); up again and preview, with no changes; an
// edit of the client settings, which updates the ConfigMap in place;
// refresh with no drift; destroy.
func (c *cycle) run(s *apiserver.Server) {
	t := c.t
	st := c.stack(nil)
	created := c.up("up", st)
	assert.Positive(t, created["create"], "the first up creates the in-cluster layer")
	c.assertRecorded(st, c.d, "after the first up")
	assertInstalled(t, s, c.d)
	assertTokens(t, s, c.d)
	assertListeners(t, s, c.d)
	c.step("state rewritten as before the split", func() error {
		dep, err := st.Export(c.ctx)
		if err != nil {
			return err
		}
		if dep, err = beforeSplit(dep); err != nil {
			return err
		}
		return st.Import(c.ctx, dep)
	})
	assert.Equal(t, map[string]int{"create": len(inClusterHalves)}, c.up("up over the state from before the split", st),
		"only the in-cluster halves are new: every object they hold is kept in place")
	assert.Empty(t, c.up("second up", st), "a second up changes nothing")
	var preview auto.PreviewResult
	c.step("preview", func() (err error) { preview, err = st.Preview(c.ctx, optpreview.ProgressStreams(&c.log)); return })
	for op, n := range preview.ChangeSummary {
		assert.True(t, op == apitype.OpSame || n == 0, "%s: %d after up", op, n)
	}

	before := clientConfigMap(t, s, c.d)
	edited := c.stack(func(cfg *regions.Configs) { cfg.Routing.Client.SendTimeoutMs += 1000 })
	assert.Equal(t, map[string]int{"update": 1}, c.up("up (client settings edited)", edited), "the ConfigMap is updated, not replaced")
	after := clientConfigMap(t, s, c.d)
	assert.Equal(t, before.Metadata.UID, after.Metadata.UID, "the same ConfigMap object, updated in place")
	assert.NotEqual(t, before.Data["client.json"], after.Data["client.json"])
	assert.Contains(t, after.Data["client.json"], fmt.Sprintf(`"sendTimeoutMs":%d`, c.d.Components.Routing.Client.SendTimeoutMs+1000))

	// A Helm upgrade that changes the CA Certificate (renewBefore: a field
	// cert-manager does not re-issue for) patches it, and leaves the
	// program's key policy.
	const renewBefore = "4380h"
	caEdited := c.stack(func(cfg *regions.Configs) { cfg.Routing.Client.SendTimeoutMs += 1000 }, caRenewBefore(c.d.Stack, renewBefore))
	assert.Equal(t, map[string]int{"update": 1}, c.up("up (the CA's renewBefore changed)", caEdited), "the main release is upgraded")
	assert.Equal(t, renewBefore, caSpec(t, s, c.d.Components.Pulsar.Namespace)["renewBefore"], "Helm patched the CA Certificate")
	assertCAKeepsItsKey(t, s, c.d.Components.Pulsar.Namespace)
	edited = caEdited

	var refresh auto.RefreshResult
	c.step("refresh", func() (err error) { refresh, err = edited.Refresh(c.ctx, optrefresh.ProgressStreams(&c.log)); return })
	assert.Empty(t, changes(refresh.Summary.ResourceChanges), "refresh finds no drift")
	var destroy auto.DestroyResult
	dctx, dcancel := context.WithTimeout(c.ctx, 4*time.Minute)
	defer dcancel()
	c.step("destroy", func() (err error) { destroy, err = edited.Destroy(dctx, optdestroy.ProgressStreams(&c.log)); return })
	assert.Equal(t, created["create"], changes(destroy.Summary.ResourceChanges)["delete"], "destroy deletes what up created")
	t.Logf("%s: %v created, then deleted", c.d.Stack, created)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("...%s", s[len(s)-n:])
}

// declaredDesign is a stack's design with its config at phase and, when
// step is set, declaring that transition step.
func declaredDesign(t *testing.T, fleet stacks.Fleet, stack, phase string, step *stacks.TransitionStep) regions.RegionDesign {
	t.Helper()
	f := stacks.Fleet{}
	for _, s := range fleet.Stacks {
		if s.Stack == stack {
			s.Phase, s.Transition = phase, step
		}
		f.Stacks = append(f.Stacks, s)
	}
	d, err := stacks.DesignFor(f, stack, "", catalog(t))
	require.NoError(t, err, "%s at %s, %+v", stack, phase, step)
	return d
}

// declaredStep is one state a stack declares in a transition, and the
// cluster work of its step before the next `up`: for a resize step, the
// EBS bookies' StatefulSet deleted with its pods left running.
type declaredStep struct {
	design regions.RegionDesign
	resize *transition.Resize
}

// transitionDesigns are the designs a stack declares from one phase to
// another, in order, ending with the new phase.
func transitionDesigns(t *testing.T, fleet stacks.Fleet, stack, from, to string) []declaredStep {
	t.Helper()
	tr, err := transition.Plan(declaredDesign(t, fleet, stack, from, nil), declaredDesign(t, fleet, stack, to, nil), catalog(t))
	require.NoError(t, err)
	var out []declaredStep
	for _, n := range tr.Declarable() {
		out = append(out, declaredStep{declaredDesign(t, fleet, stack, to, &stacks.TransitionStep{From: from, Step: n}), tr.Steps[n-1].Resize})
	}
	return append(out, declaredStep{design: declaredDesign(t, fleet, stack, to, nil)})
}

// us-west-2 moves 100k -> 1m and back, one declared state per `up`, on
// the real engine with the real provider. Its bookies stay on EBS, so the
// transition resizes them each way: real Helm upgrades the main release,
// the resize step's StatefulSet is deleted with the pods left (its
// cluster work), and the next `up` re-creates it with the new claim
// templates. Every `up` leaves exactly the design's bookie sets,
// ZooKeeper ensemble and claim sizes. (us-west-2 runs three ZooKeeper
// servers at both phases; ZooKeeper's steps are applied in the
// kube-apiserver sequence, TestTransitionsApplyInSequence.)
func TestRealProviderTransition(t *testing.T) {
	tier := newRealTier(t)
	fleet, _, err := stacks.LoadFleet(root)
	require.NoError(t, err)
	start := declaredDesign(t, fleet, "us-west-2", "100k", nil)
	steps := append([]declaredStep{{design: start}}, transitionDesigns(t, fleet, "us-west-2", "100k", "1m")...)
	steps = append(steps, transitionDesigns(t, fleet, "us-west-2", "1m", "100k")...)
	c, s := tier.cycleOn(t, start, 10*time.Minute)
	var st auto.Stack
	resized, leftOut := 0, 0
	for i, step := range steps {
		d := step.design
		c.d = d
		st = c.stack(nil)
		name := "up of " + d.Phase
		if b := d.Between; b != nil {
			name = fmt.Sprintf("up of %s, transition from %s step %d", d.Phase, b.From, b.Step)
		}
		if i > 0 {
			// An up that leaves the releases out (`--target` of the
			// provider alone) still updates the outputs. Where the step
			// changes a Pulsar release, they keep reporting the step the
			// releases run; where it changes none, there is nothing to
			// apply, and they report the new step.
			changes := c.pulsarReleasesChange(st)
			c.up(name+", --target the provider only", st, optup.Target([]string{kubernetesProviderURN(d.Stack)}))
			if changes {
				c.assertRecorded(st, steps[i-1].design, name+" with its Pulsar release changes left out")
				leftOut++
			} else {
				c.assertRecorded(st, d, name+" with no Pulsar release change to leave out")
			}
		}
		changed := c.up(name, st)
		c.assertRecorded(st, d, name)
		t.Logf("%s: %v; bookie sets %s", name, changed, regions.BookieSets(d.Components.Pulsar))
		assertInstalled(t, s, d)
		assertVolumes(t, s, d)
		if i > 0 && reflect.DeepEqual(d.Components, steps[i-1].design.Components) {
			assert.Empty(t, changed, "%s: a step of cluster work declares the state before it", name)
		}
		if r := step.resize; r != nil {
			require.NoError(t, s.Delete(c.ctx, "apps/v1", "StatefulSet", d.Components.Pulsar.Namespace, r.StatefulSet), "the resize step's cluster work")
			resized++
		}
	}
	assert.Equal(t, 2, resized, "the EBS bookies' volumes are resized both ways")
	assert.Positive(t, leftOut, "some steps change a Pulsar release, and left out, are not reported applied")
	dctx, dcancel := context.WithTimeout(c.ctx, 4*time.Minute)
	defer dcancel()
	c.step("destroy", func() error { _, err := st.Destroy(dctx, optdestroy.ProgressStreams(&c.log)); return err })
	assertUninstalled(t, s, start.Components.Pulsar.Namespace)
}
