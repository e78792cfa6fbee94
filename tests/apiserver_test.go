package tests

// The API-server tier: every Kubernetes object the program emits, for every
// stack at every phase, applied with strict validation and dryRun=All to a
// real kube-apiserver (built from the Go module proxy) on Debian's etcd,
// after the reference CRDs are installed. CEL rules in the CRDs (Karpenter's
// among them) run here, which the schema checks in the component tests
// cannot do.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/gitops"
	"github.com/pulsar-fleet/pulsar-fleet/internal/apiserver"
	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/internal/reference"
	"github.com/pulsar-fleet/pulsar-fleet/internal/tooling"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// startAPIServer starts etcd and kube-apiserver for one test. Without etcd
// the tier is skipped, unless REQUIRE_APISERVER=1 (set by .ci/run, which
// installs etcd) turns that into a failure.
func startAPIServer(t *testing.T) *apiserver.Server {
	t.Helper()
	s := startBareAPIServer(t)
	crds, err := filepath.Glob(filepath.Join(reference.Path(t, "crds"), "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, crds)
	crds = append(crds, certManagerCRDs(t)...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, f := range crds {
		require.NoError(t, s.ApplyFile(ctx, f))
	}
	return s
}

// startBareAPIServer starts etcd and kube-apiserver with no CRDs: the
// charts install their own.
func startBareAPIServer(t *testing.T) *apiserver.Server {
	t.Helper()
	etcd := needEtcd(t)
	start := time.Now()
	kas, err := tooling.KubeAPIServer.Path(root)
	require.NoError(t, err, "build kube-apiserver from tools/kubeapiserver")
	t.Logf("kube-apiserver ready in %s: %s", time.Since(start).Round(time.Millisecond), kas)

	start = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := apiserver.Start(ctx, apiserver.Options{Etcd: etcd, KubeAPIServer: kas, Dir: t.TempDir()})
	t.Cleanup(s.Stop)
	require.NoError(t, err)
	t.Logf("etcd + kube-apiserver serving in %s at %s", time.Since(start).Round(time.Millisecond), s.URL)
	return s
}

// needEtcd finds etcd, or skips the test (fails it under
// REQUIRE_APISERVER=1); -short skips the API-server tiers too.
func needEtcd(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("API-server tier: not in -short")
	}
	etcd, err := apiserver.FindEtcd()
	if err != nil {
		if os.Getenv("REQUIRE_APISERVER") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return etcd
}

// helmNamespaces are the namespaces Helm releases create for themselves.
func helmNamespaces(rs []recorder.Resource) []string {
	var out []string
	for _, r := range rs {
		if strings.HasPrefix(r.Type, "kubernetes:helm.sh/") && r.Inputs["createNamespace"] == true {
			if ns, _ := r.Inputs["namespace"].(string); ns != "" {
				out = append(out, ns)
			}
		}
	}
	return out
}

func TestAPIServerTier(t *testing.T) {
	s := startAPIServer(t)
	ctx := context.Background()
	cat := catalog(t)

	// Namespaces that exist before the program runs: the API server's own,
	// and the operator's (installed with the operator, not by this program).
	known := map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true}
	create := func(ns string) {
		if known[ns] {
			return
		}
		obj := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}
		require.NoError(t, s.Apply(ctx, obj, false))
		known[ns] = true
	}
	create(gitops.DefaultOptions().Namespace)
	// namespacesFirst creates, for real, the namespaces a stack's objects
	// need (its Namespace objects, strictly validated too, and those its
	// Helm releases create) and returns its objects.
	namespacesFirst := func(rs []recorder.Resource) []manifests.Object {
		objs := manifests.From(rs)
		for _, ns := range helmNamespaces(rs) {
			create(ns)
		}
		for _, o := range objs {
			if o.Kind() == "Namespace" && !known[o.Name()] {
				require.NoError(t, s.Apply(ctx, o.Object, false), o.String())
				known[o.Name()] = true
			}
		}
		return objs
	}

	t.Run("every emitted object of every stack and phase", func(t *testing.T) {
		start := time.Now()
		kinds := map[string]int{}
		total := 0
		for _, phase := range sizing.Phases() {
			ph := phase.Name
			res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: cat, Phase: ph})
			require.NoError(t, err, ph)
			for _, st := range res.Stacks {
				objs := namespacesFirst(st.Resources)
				for _, o := range objs {
					kinds[o.APIVersion()+" "+o.Kind()]++
					total++
					if ns := o.Namespace(); ns != "" && !known[ns] {
						t.Errorf("%s/%s: %s is in namespace %q that nothing creates", st.Stack, ph, o, ns)
						continue
					}
					if err := s.Apply(ctx, o.Object, true); err != nil {
						t.Errorf("%s/%s: %v", st.Stack, ph, describe(err))
					}
				}
			}
		}
		files, err := stacks.StackFiles(root)
		require.NoError(t, err)
		fleet, _, err := stacks.LoadFleet(root)
		require.NoError(t, err)
		g, err := stacks.NewGraph(fleet)
		require.NoError(t, err)
		for _, st := range gitops.Stacks(g, gitops.DefaultOptions()) {
			obj := toMap(t, st)
			kinds["pulumi.com/v1 Stack"]++
			total++
			if err := s.Apply(ctx, obj, true); err != nil {
				t.Errorf("gitops: %v", describe(err))
			}
		}
		require.Len(t, files, len(fleet.Stacks))

		var lines []string
		for k, n := range kinds {
			lines = append(lines, fmt.Sprintf("%s: %d", k, n))
		}
		sort.Strings(lines)
		t.Logf("%d objects applied with dryRun=All, fieldValidation=Strict in %s:\n  %s", total, time.Since(start).Round(time.Millisecond), strings.Join(lines, "\n  "))
		for _, want := range []string{
			"karpenter.sh/v1 NodePool", "karpenter.k8s.aws/v1 EC2NodeClass",
			"monitoring.coreos.com/v1 PodMonitor", "monitoring.coreos.com/v1 PrometheusRule",
			"pulumi.com/v1 Stack", "v1 ConfigMap", "v1 Namespace", "v1 Service", "v1 ServiceAccount",
			"batch/v1 Job", "batch/v1 CronJob", "rbac.authorization.k8s.io/v1 Role", "rbac.authorization.k8s.io/v1 ClusterRoleBinding",
			"storage.k8s.io/v1 StorageClass", "networking.k8s.io/v1 NetworkPolicy",
		} {
			assert.Positive(t, kinds[want], "no %s was checked", want)
		}
	})

	t.Run("broken objects are rejected with the field named", func(t *testing.T) {
		res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: cat, Stacks: []string{"us-east-1"}})
		require.NoError(t, err)
		objs := namespacesFirst(res.Stacks[0].Resources)
		pick := func(kind string) map[string]any {
			for _, o := range objs {
				if o.Kind() == kind {
					return toMap(t, o.Object)
				}
			}
			t.Fatalf("no %s emitted", kind)
			return nil
		}
		for _, tc := range []struct {
			name, kind, field string
			breakIt           func(obj map[string]any)
		}{
			{"unknown field in a NodePool", "NodePool", "spotToOnDemandRatio", func(o map[string]any) {
				o["spec"].(map[string]any)["spotToOnDemandRatio"] = 0.7
			}},
			{"v1alpha5 Provisioner field in a NodePool", "NodePool", "ttlSecondsAfterEmpty", func(o map[string]any) {
				o["spec"].(map[string]any)["ttlSecondsAfterEmpty"] = 30
			}},
			{"NodePool schema pattern: consolidateAfter must be a duration", "NodePool", "consolidateAfter", func(o map[string]any) {
				o["spec"].(map[string]any)["disruption"].(map[string]any)["consolidateAfter"] = "soon"
			}},
			{"NodePool CEL rule: restricted label", "NodePool", "kubernetes.io/hostname", func(o map[string]any) {
				tmpl := o["spec"].(map[string]any)["template"].(map[string]any)
				md, _ := tmpl["metadata"].(map[string]any)
				if md == nil {
					md = map[string]any{}
					tmpl["metadata"] = md
				}
				md["labels"] = map[string]any{"kubernetes.io/hostname": "bookie-0"}
			}},
			{"NodePool CEL rule: budget schedule without duration", "NodePool", "schedule", func(o map[string]any) {
				d := o["spec"].(map[string]any)["disruption"].(map[string]any)
				d["budgets"] = []any{map[string]any{"nodes": "0", "schedule": "0 9 * * mon-fri"}}
			}},
			{"wrong type in a PrometheusRule", "PrometheusRule", "groups", func(o map[string]any) {
				o["spec"].(map[string]any)["groups"] = "PulsarBacklogGrowing"
			}},
			{"wrong type in a PrometheusRule rule", "PrometheusRule", "for", func(o map[string]any) {
				g := o["spec"].(map[string]any)["groups"].([]any)[0].(map[string]any)
				g["rules"].([]any)[0].(map[string]any)["for"] = 300
			}},
			{"unknown field in a CronJob", "CronJob", "schedules", func(o map[string]any) {
				o["spec"].(map[string]any)["schedules"] = "*/5 * * * *"
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				assertRejected(t, s, pick(tc.kind), tc.breakIt, tc.kind, tc.field)
			})
		}
	})
}

// assertRejected applies obj, which must pass, then breaks it: the API
// server must reject it, naming the object (wantObject is part of its id)
// and the field.
func assertRejected(t *testing.T, s *apiserver.Server, obj map[string]any, breakIt func(map[string]any), wantObject, field string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, s.Apply(ctx, obj, true), "the unbroken %s must pass", wantObject)
	breakIt(obj)
	err := s.Apply(ctx, obj, true)
	var apiErr *apiserver.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, describe(err), field)
	assert.Contains(t, apiErr.Object, wantObject)
	t.Log(err)
}

func describe(err error) string {
	var apiErr *apiserver.Error
	if errors.As(err, &apiErr) && len(apiErr.Fields) > 0 {
		return err.Error() + " (fields: " + strings.Join(apiErr.Fields, ", ") + ")"
	}
	return err.Error()
}

// toMap turns a typed value into the plain map a client sends (and copies a
// map, so a test can break it).
func toMap(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}
