package tests

// The real-provider tier: one region's in-cluster components, built from
// its design with literal values standing in for the AWS components'
// outputs, through the real Pulumi engine (file:// backend) and the real
// Kubernetes provider plugin (built from the Go module proxy), against the
// API-server tier's kube-apiserver, with the charts from the reference
// directory through the product's chartSource option.
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
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/observability"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/apiserver"
	"github.com/pulsar-fleet/pulsar-fleet/internal/reference"
	"github.com/pulsar-fleet/pulsar-fleet/internal/tooling"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
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
	case *corev1.ServiceArgs:
		annotate(p.Metadata, true)
	case *corev1.NamespaceArgs:
		annotate(p.Metadata, false)
	case *corev1.SecretArgs:
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

// inClusterProgram builds the region's Pulsar release and, where the
// region is not the global metrics store (whose receiver has an AWS DNS
// record), its monitoring, from the design alone.
func inClusterProgram(d regions.RegionDesign, kubeconfig, charts string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		if err := ctx.RegisterStackTransformation(withoutAwait); err != nil {
			return err
		}
		k8s, err := kubernetes.NewProvider(ctx, "local", &kubernetes.ProviderArgs{
			Kubeconfig: pulumi.String(kubeconfig), EnableServerSideApply: pulumi.Bool(true), DeleteUnreachable: pulumi.Bool(false)})
		if err != nil {
			return err
		}
		cfg := d.Components
		cfg.Pulsar.Charts, cfg.Observability.Charts = model.ChartSource(charts), model.ChartSource(charts)
		var after []pulumi.Resource
		if !cfg.Observability.Global {
			obs, err := observability.New(ctx, d.Stack, cfg.Observability, observability.Deps{Provider: k8s})
			if err != nil {
				return err
			}
			after = append(after, obs.Stack)
		}
		_, err = pulsar.New(ctx, d.Stack, cfg.Pulsar, pulsar.Deps{
			Provider: k8s, CertificateARN: pulumi.String("arn:aws:acm:" + d.Region + ":123456789012:certificate/literal"),
			BrokerRoleARN: pulumi.String("arn:aws:iam::123456789012:role/" + d.Stack + "-offload-broker"),
			OffloadBucket: pulumi.String(d.Stack + "-offload"), DependsOn: after,
		})
		return err
	}
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

// changes counts a run's resource operations other than "same".
func changes(summary *map[string]int) map[string]int {
	out := map[string]int{}
	if summary == nil {
		return out
	}
	for op, n := range *summary {
		if op != string(apitype.OpSame) && n > 0 {
			out[op] = n
		}
	}
	return out
}

// For every stack at 35k: up, up again with no changes, refresh with no
// drift, destroy.
func TestRealProviderTier(t *testing.T) {
	charts := reference.Path(t, "charts")
	needEtcd(t) // before the provider's long build
	start := time.Now()
	provider, err := tooling.KubernetesProvider.Path(root)
	require.NoError(t, err, "build pulumi-resource-kubernetes from tools/kubernetesprovider")
	t.Logf("Kubernetes provider ready in %s: %s", time.Since(start).Round(time.Millisecond), provider)
	cli := pulumiBin(t)
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: filepath.Dir(filepath.Dir(cli))})
	require.NoError(t, err)
	fleet, _, err := stacks.LoadFleet(root)
	require.NoError(t, err)
	for _, stack := range fleet.Names() {
		t.Run(stack, func(t *testing.T) {
			// An API server per stack: without the namespace controller a
			// destroyed stack's namespaces stay Terminating.
			s := startAPIServer(t)
			kubeconfig, err := s.Kubeconfig()
			require.NoError(t, err)
			d, err := stacks.DesignFor(fleet, stack, "35k", catalog(t))
			require.NoError(t, err)
			lbs, stop := context.WithCancel(context.Background())
			defer stop()
			go s.ServeLoadBalancers(lbs, d.Region, 500*time.Millisecond)
			runProviderCycle(t, s, d, cmd, providerEnv(t, filepath.Dir(provider)), kubeconfig, charts)
			assertUninstalled(t, s, d.Components.Pulsar.Namespace)
		})
	}
}

// assertInstalled checks that the chart's StatefulSets exist, each with
// the replicas the plan gives it.
func assertInstalled(t *testing.T, s *apiserver.Server, d regions.RegionDesign) {
	body, err := s.Get(context.Background(), "/apis/apps/v1/namespaces/"+d.Components.Pulsar.Namespace+"/statefulsets")
	require.NoError(t, err)
	var list struct {
		Items []struct {
			Metadata struct{ Name string }  `json:"metadata"`
			Spec     struct{ Replicas int } `json:"spec"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	replicas := map[string]int{}
	for _, it := range list.Items {
		replicas[it.Metadata.Name] = it.Spec.Replicas
	}
	assert.Equal(t, d.Plan.Bookies.Count, replicas["pulsar-bookie"], "bookies installed as planned")
	assert.Equal(t, d.Plan.ZooKeeper.Count, replicas["pulsar-zookeeper"], "ZooKeeper installed as planned")
}

// assertUninstalled checks that destroy removed what the chart installed:
// no workload, Service or Helm release record is left in the namespace
// (which itself stays Terminating: no namespace controller runs here).
func assertUninstalled(t *testing.T, s *apiserver.Server, ns string) {
	ctx := context.Background()
	for _, path := range []string{"/apis/apps/v1/namespaces/" + ns + "/statefulsets", "/apis/apps/v1/namespaces/" + ns + "/deployments",
		"/api/v1/namespaces/" + ns + "/services", "/api/v1/namespaces/" + ns + "/secrets?labelSelector=owner%3Dhelm"} {
		body, err := s.Get(ctx, path)
		require.NoError(t, err, path)
		var list struct {
			Items []any `json:"items"`
		}
		require.NoError(t, json.Unmarshal(body, &list), path)
		assert.Empty(t, list.Items, "%s: left after destroy", path)
	}
}

func runProviderCycle(t *testing.T, s *apiserver.Server, d regions.RegionDesign, cmd auto.PulumiCommand, env map[string]string, kubeconfig, charts string) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	st, err := auto.UpsertStackInlineSource(ctx, d.Stack, "realprovider", inClusterProgram(d, kubeconfig, charts),
		auto.Pulumi(cmd), auto.EnvVars(env))
	require.NoError(t, err)
	var log strings.Builder
	step := func(name string, f func() error) {
		began := time.Now()
		err := f()
		t.Logf("%s %s in %s", d.Stack, name, time.Since(began).Round(time.Millisecond))
		require.NoError(t, err, "%s %s:\n%s", d.Stack, name, tail(log.String(), 4000))
	}
	var first auto.UpResult
	step("up", func() (err error) { first, err = st.Up(ctx, optup.ProgressStreams(&log)); return })
	created := changes(first.Summary.ResourceChanges)
	assert.Positive(t, created["create"], "the first up creates the in-cluster layer")
	assertInstalled(t, s, d)
	var again auto.UpResult
	step("second up", func() (err error) { again, err = st.Up(ctx, optup.ProgressStreams(&log)); return })
	assert.Empty(t, changes(again.Summary.ResourceChanges), "a second up changes nothing")
	var preview auto.PreviewResult
	step("preview", func() (err error) { preview, err = st.Preview(ctx, optpreview.ProgressStreams(&log)); return })
	for op, n := range preview.ChangeSummary {
		assert.True(t, op == apitype.OpSame || n == 0, "%s: %d after up", op, n)
	}
	var refresh auto.RefreshResult
	step("refresh", func() (err error) { refresh, err = st.Refresh(ctx, optrefresh.ProgressStreams(&log)); return })
	assert.Empty(t, changes(refresh.Summary.ResourceChanges), "refresh finds no drift")
	var destroy auto.DestroyResult
	dctx, dcancel := context.WithTimeout(ctx, 4*time.Minute)
	defer dcancel()
	step("destroy", func() (err error) { destroy, err = st.Destroy(dctx, optdestroy.ProgressStreams(&log)); return })
	assert.Equal(t, created["create"], changes(destroy.Summary.ResourceChanges)["delete"], "destroy deletes what up created")
	t.Logf("%s: %v created, then deleted", d.Stack, created)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("...%s", s[len(s)-n:])
}
