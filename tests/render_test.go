package tests

// The render tier: every Helm release of every stack at every phase,
// rendered by helm (tools/helm) with its real chart from the reference
// directory and the program's values, then applied with strict field
// validation to the API-server tier, and read back against the plan.

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/apiserver"
	"github.com/pulsar-fleet/pulsar-fleet/internal/golden"
	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/internal/reference"
	"github.com/pulsar-fleet/pulsar-fleet/internal/render"
	"github.com/pulsar-fleet/pulsar-fleet/internal/tooling"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// ClusterAPIVersions are the group/versions the cluster serves beyond
// Kubernetes' own when the charts install: the CRDs the program and the
// charts depend on.
var clusterAPIVersions = []string{"monitoring.coreos.com/v1", "karpenter.sh/v1", "karpenter.k8s.aws/v1", "cert-manager.io/v1"}

// kubeVersion is the API-server tier's Kubernetes version.
const kubeVersion = "1.37.0"

func newRenderer(t *testing.T) render.Renderer {
	t.Helper()
	if testing.Short() {
		t.Skip("render tier: not in -short")
	}
	charts := chartsDir(t)
	start := time.Now()
	helm, err := tooling.Helm.Path(root)
	require.NoError(t, err, "build helm from tools/helm")
	t.Logf("helm ready in %s: %s", time.Since(start).Round(time.Millisecond), helm)
	return render.Renderer{Helm: helm, Charts: charts, KubeVersion: kubeVersion, APIVersions: clusterAPIVersions,
		Stands: map[string]string{"karpenter-crd": karpenterCRDChartVersion}}
}

// karpenterCRDChartVersion is what the reference karpenter-crd chart's
// Chart.yaml says. Karpenter's release packaging sets the version when it
// publishes; the chart source of the 1.14.1 release still says 1.13.0.
// TestKarpenterCRDChartIsTheRelease proves its CRDs are 1.14.1's.
const karpenterCRDChartVersion = "1.13.0"

// The CRD chart's templates are the CRDs the Karpenter 1.14.1 chart ships
// in crds/, but for the optional annotations block the CRD chart adds.
func TestKarpenterCRDChartIsTheRelease(t *testing.T) {
	charts := reference.Path(t, "charts")
	crdDir := filepath.Join(charts, "karpenter", "crds")
	files, err := filepath.Glob(filepath.Join(charts, "karpenter-crd", "templates", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	annotations := regexp.MustCompile(`(?m)^ *\{\{- with \.Values\.additionalAnnotations \}\}\n.*\n *\{\{- end \}\}\n`)
	for _, f := range files {
		tmpl, err := os.ReadFile(f)
		require.NoError(t, err)
		release, err := os.ReadFile(filepath.Join(crdDir, filepath.Base(f)))
		require.NoError(t, err, "karpenter 1.14.1 ships %s", filepath.Base(f))
		assert.Equal(t, string(release), annotations.ReplaceAllString(string(tmpl), ""), filepath.Base(f))
	}
}

// renderedStack is one stack at one phase: what the program emits itself,
// and what each of its Helm releases renders to.
type renderedStack struct {
	Stack, Phase string
	Offline      stacks.OfflineStack
	Design       regions.RegionDesign
	Releases     []render.Release
	// Rendered holds each release's objects, by release name.
	Rendered map[string][]manifests.Object
	// Warnings are what parsing the rendered output reported.
	Warnings []string
}

var (
	renderOnce   sync.Once
	renderResult []renderedStack
	renderErr    error
)

// renderAll renders every stack at every phase once per test binary.
func renderAll(t *testing.T, r render.Renderer) []renderedStack {
	t.Helper()
	renderOnce.Do(func() {
		start := time.Now()
		renderResult, renderErr = renderEvery(r, catalog(t))
		t.Logf("rendered every release of 3 stacks x 5 phases in %s", time.Since(start).Round(time.Millisecond))
	})
	require.NoError(t, renderErr)
	return renderResult
}

func renderEvery(r render.Renderer, cat *sizing.Catalog) ([]renderedStack, error) {
	fleet, _, err := stacks.LoadFleet(root)
	if err != nil {
		return nil, err
	}
	var out []renderedStack
	for _, ph := range sizing.PhaseNames {
		res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: cat, Phase: ph})
		if err != nil {
			return nil, err
		}
		for _, st := range res.Stacks {
			d, err := stacks.DesignFor(fleet, st.Stack, ph, cat)
			if err != nil {
				return nil, err
			}
			rs := renderedStack{Stack: st.Stack, Phase: ph, Offline: st, Design: d,
				Releases: render.Releases(st.Resources), Rendered: map[string][]manifests.Object{}}
			for _, rel := range rs.Releases {
				objs, warnings, err := r.Render(context.Background(), rel)
				if err != nil {
					return nil, fmt.Errorf("%s/%s: %w", st.Stack, ph, err)
				}
				rs.Rendered[rel.Name] = objs
				rs.Warnings = append(rs.Warnings, warnings...)
			}
			out = append(out, rs)
		}
	}
	return out, nil
}

// TestRenderTier applies every object every release renders (hooks and
// CRDs included) to the API server with strict field validation, and keeps
// the table of rendered objects per stack, phase and release as a golden.
func TestRenderTier(t *testing.T) {
	r := newRenderer(t)
	all := renderAll(t, r)
	s := startAPIServer(t)
	ctx := context.Background()
	known := map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true}
	var table []string
	start := time.Now()
	total := 0
	// The CRDs the releases carry are installed for real first (as Helm
	// does, before anything else), so the custom resources check against
	// the charts' own schemas.
	for _, rs := range all[:1] {
		for _, rel := range rs.Releases {
			for _, o := range rs.Rendered[rel.Name] {
				if o.Kind() == "CustomResourceDefinition" {
					require.NoError(t, s.Install(ctx, toMap(t, o.Object)), "%s: %s", rel, o.Source)
				}
			}
		}
	}
	for _, rs := range all {
		// The table lists a stack's releases by name: the mock engine
		// registers independent releases in no fixed order.
		var rows []string
		for _, rel := range rs.Releases {
			if !known[rel.Namespace] {
				require.NoError(t, s.Apply(ctx, map[string]any{"apiVersion": "v1", "kind": "Namespace",
					"metadata": map[string]any{"name": rel.Namespace}}, false))
				known[rel.Namespace] = true
			}
			kinds := map[string]int{}
			for _, o := range rs.Rendered[rel.Name] {
				obj := toMap(t, o.Object)
				inNamespace(t, s, obj, rel.Namespace)
				kinds[o.Kind()]++
				total++
				if err := s.Apply(ctx, obj, true); err != nil {
					t.Errorf("%s/%s release %s, %s: %v", rs.Stack, rs.Phase, rel.Name, o.Source, describe(err))
				}
			}
			rows = append(rows, fmt.Sprintf("%-10s %-5s %-22s %3d  %s", rs.Stack, rs.Phase, rel.Name, len(rs.Rendered[rel.Name]), countLine(kinds)))
		}
		sort.Strings(rows)
		table = append(table, rows...)
	}
	t.Logf("%d rendered objects applied with dryRun=All, fieldValidation=Strict in %s", total, time.Since(start).Round(time.Millisecond))
	// One chart defect, and only it: Pulsar 4.7.0 writes the metadata
	// initialisation Job's nodeSelector twice, with the same value
	// (templates/pulsar-cluster-initialize.yaml). Helm installs without
	// strict validation, and the API server keeps one with a warning. The
	// render tier applies the object with one copy.
	warnings := map[string]bool{}
	for _, rs := range all {
		for _, w := range rs.Warnings {
			warnings[w] = true
		}
	}
	assert.Equal(t, []string{"pulsar/templates/pulsar-cluster-initialize.yaml: duplicate key spec.template.spec.nodeSelector (lines 45 and 144 of its document, same value)"},
		slices.Sorted(maps.Keys(warnings)))
	head := "# Objects each Helm release renders with its real chart (helm template, hooks and CRDs included),\n" +
		"# per stack and phase. Every one passes kube-apiserver " + kubeVersion + " with strict field validation (TestRenderTier).\n" +
		"# stack     phase release               total  by kind\n"
	golden.Assert(t, "render/objects.txt", []byte(head+strings.Join(table, "\n")+"\n"))
}

// inNamespace puts a namespaced object in the release's namespace when
// the chart leaves it out, as helm install would.
func inNamespace(t *testing.T, s *apiserver.Server, obj map[string]any, ns string) {
	t.Helper()
	md, _ := obj["metadata"].(map[string]any)
	if md == nil || md["namespace"] != nil {
		return
	}
	namespaced, err := s.Namespaced(context.Background(), fmt.Sprint(obj["apiVersion"]), fmt.Sprint(obj["kind"]))
	if err == nil && namespaced {
		md["namespace"] = ns
	}
}

func countLine(kinds map[string]int) string {
	var parts []string
	for k, n := range kinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// TestRenderedPulsarMatchesPlan reads the rendered Pulsar release back:
// broker.conf and bookkeeper.conf carry the plan's quorum, racks, offload
// and deduplication; counts, resources, JVM sizes, PDBs, zone spread and
// pools are the plan's.
func TestRenderedPulsarMatchesPlan(t *testing.T) {
	r := newRenderer(t)
	for _, rs := range renderAll(t, r) {
		require.NotEmpty(t, rs.Rendered["pulsar"], "%s/%s renders the pulsar release", rs.Stack, rs.Phase)
		objs := pulsarObjects(rs)
		for _, p := range pulsarProblems(rs.Design, objs) {
			t.Errorf("%s/%s: %s", rs.Stack, rs.Phase, p)
		}
	}
	t.Run("a wrong rendered value is caught", func(t *testing.T) {
		rs := withEBSBookies(t, renderAll(t, r))
		for _, tc := range []struct {
			name, want string
			breakIt    func(objs []manifests.Object)
		}{
			{"journal backups", "journalMaxBackups", func(objs []manifests.Object) {
				data(find(objs, "ConfigMap", "pulsar-bookie"))["journalMaxBackups"] = "5"
			}},
			{"write quorum", "managedLedgerDefaultWriteQuorum", func(objs []manifests.Object) {
				data(find(objs, "ConfigMap", "pulsar-broker"))["managedLedgerDefaultWriteQuorum"] = "2"
			}},
			{"bookie count", "bookie replicas", func(objs []manifests.Object) {
				spec(find(objs, "StatefulSet", "pulsar-bookie"))["replicas"] = 1
			}},
			{"offload bucket", "s3ManagedLedgerOffloadBucket", func(objs []manifests.Object) {
				data(find(objs, "ConfigMap", "pulsar-broker"))["s3ManagedLedgerOffloadBucket"] = "someone-elses-bucket"
			}},
			{"pool", "nodeSelector", func(objs []manifests.Object) {
				podSpec(find(objs, "StatefulSet", "pulsar-broker"))["nodeSelector"] = map[string]any{"pulsar-fleet.io/pool": "general"}
			}},
			{"broker PDB", "PodDisruptionBudget pulsar-broker", func(objs []manifests.Object) {
				spec(find(objs, "PodDisruptionBudget", "pulsar-broker"))["maxUnavailable"] = 3
			}},
		} {
			objs := deepCopy(t, pulsarObjects(rs))
			tc.breakIt(objs)
			assert.Contains(t, strings.Join(pulsarProblems(rs.Design, objs), "\n"), tc.want, tc.name)
		}
	})
}

// withEBSBookies is the first rendered stack whose bookies are the main
// release's (EBS): the failing cases break its pulsar-bookie objects.
func withEBSBookies(t *testing.T, all []renderedStack) renderedStack {
	t.Helper()
	for _, rs := range all {
		if rs.Design.Components.Pulsar.HasSet(model.StorageEBS) {
			return rs
		}
	}
	t.Fatal("no stack at any phase has EBS bookies")
	return renderedStack{}
}

// pulsarObjects are the objects of a stack's Pulsar releases: the main one
// and, with instance-storage bookies, theirs.
func pulsarObjects(rs renderedStack) []manifests.Object {
	return append(slices.Clone(rs.Rendered[pulsar.ReleaseName]), rs.Rendered[pulsar.NVMeRelease]...)
}

// TestRenderedMonitorsSelectWhatExists checks every PodMonitor and
// ServiceMonitor, the charts' and the program's, against the pods and
// Services the stack renders.
func TestRenderedMonitorsSelectWhatExists(t *testing.T) {
	r := newRenderer(t)
	for _, rs := range renderAll(t, r) {
		var objs []manifests.Object
		for _, rel := range rs.Releases {
			for _, o := range rs.Rendered[rel.Name] {
				o.Object = toMap(t, o.Object)
				if o.Namespace() == "" {
					o.Object["metadata"].(map[string]any)["namespace"] = rel.Namespace
				}
				objs = append(objs, o)
			}
		}
		objs = append(objs, manifests.From(rs.Offline.Resources)...)
		objs = append(objs, clusterProvided(rs)...)
		n := 0
		for _, m := range objs {
			if m.Kind() != "PodMonitor" && m.Kind() != "ServiceMonitor" {
				continue
			}
			n++
			if !selectsSomething(m, objs) {
				t.Errorf("%s/%s: %s %s/%s selects nothing the stack deploys", rs.Stack, rs.Phase, m.Kind(), m.Namespace(), m.Name())
			}
		}
		assert.Positive(t, n, "%s/%s has monitors", rs.Stack, rs.Phase)
	}
}

// clusterProvided are the Services no release renders but the cluster has:
// the API server's own, and the kubelet Service prometheus-operator keeps
// (its --kubelet-service flag, from the chart's kubelet settings).
func clusterProvided(rs renderedStack) []manifests.Object {
	svc := func(ns, name string, labels map[string]any) manifests.Object {
		return manifests.Object{Source: "cluster", Object: map[string]any{"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"namespace": ns, "name": name, "labels": labels}}}
	}
	kubelet := "kube-system"
	if ns, ok := field(findValues(rs, "kube-prometheus-stack"), "kubelet")["namespace"].(string); ok {
		kubelet = ns
	}
	return []manifests.Object{
		svc("default", "kubernetes", map[string]any{"component": "apiserver", "provider": "kubernetes"}),
		svc(kubelet, "kps-kubelet", map[string]any{"app.kubernetes.io/name": "kubelet", "k8s-app": "kubelet"}),
	}
}

func findValues(rs renderedStack, chart string) map[string]any {
	for _, rel := range rs.Releases {
		if rel.Chart == chart {
			return rel.Values
		}
	}
	return nil
}

// TestValuesEveryTemplateReads: no value the program sets is ignored by the
// chart's templates, computed from the templates themselves (render.Unused).
func TestValuesEveryTemplateReads(t *testing.T) {
	r := newRenderer(t)
	ctx := context.Background()
	seen := map[string]bool{}
	start := time.Now()
	checked := 0
	for _, rs := range renderAll(t, r) {
		for _, rel := range rs.Releases {
			b, err := json.Marshal(rel.Values)
			require.NoError(t, err)
			key := fmt.Sprintf("%s %x", rel.Chart, sha256.Sum256(b))
			if seen[key] {
				continue // the same values render the same way
			}
			seen[key] = true
			checked++
			unused, err := r.Unused(ctx, rel)
			require.NoError(t, err)
			assert.Empty(t, unused, "%s/%s release %s: values no template reads", rs.Stack, rs.Phase, rel)
		}
	}
	t.Logf("%d distinct release values checked in %s", checked, time.Since(start).Round(time.Second))

	t.Run("a key no template reads is named", func(t *testing.T) {
		var rel render.Release
		for _, x := range renderAll(t, r)[0].Releases {
			if x.Chart == "pulsar" {
				rel = x
			}
		}
		rel.Values = render.WithValue(rel.Values, []string{"broker", "notReadByAnyTemplate"}, 1.0)
		// The key the previous values set at the top level, which the chart
		// reads per component only.
		rel.Values = render.WithValue(rel.Values, []string{"affinity", "type"}, "requiredDuringSchedulingIgnoredDuringExecution")
		unused, err := r.Unused(ctx, rel)
		require.NoError(t, err)
		assert.Equal(t, []string{"affinity.type", "broker.notReadByAnyTemplate"}, unused)
	})
}

// TestRenderedObjectsRejectBrokenInput: the API server names the object
// and the field of a broken rendered object.
func TestRenderedObjectsRejectBrokenInput(t *testing.T) {
	r := newRenderer(t)
	rs := withEBSBookies(t, renderAll(t, r))
	s := startAPIServer(t)
	ctx := context.Background()
	require.NoError(t, s.Apply(ctx, map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "pulsar"}}, false))
	for _, tc := range []struct {
		name, kind, objName, field string
		breakIt                    func(obj map[string]any)
	}{
		{"wrong type in a PDB", "PodDisruptionBudget", "pulsar-bookie", "selector", func(o map[string]any) {
			o["spec"].(map[string]any)["selector"] = "component=bookie"
		}},
		{"unknown field in a StatefulSet", "StatefulSet", "pulsar-bookie", "volumeClaimTemplate", func(o map[string]any) {
			o["spec"].(map[string]any)["volumeClaimTemplate"] = []any{}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := toMap(t, find(rs.Rendered["pulsar"], tc.kind, tc.objName))
			assertRejected(t, s, obj, tc.breakIt, tc.kind+" pulsar/"+tc.objName, tc.field)
		})
	}
}

func deepCopy(t *testing.T, objs []manifests.Object) []manifests.Object {
	out := make([]manifests.Object, len(objs))
	for i, o := range objs {
		out[i] = o
		out[i].Object = toMap(t, o.Object)
	}
	return out
}
