package tests

// The transition tier: for every stack and every adjacent pair of phases,
// both ways, each step's declared state is applied for real (not dry run)
// over the previous one on the API-server tier. A state's objects are the
// program's own Kubernetes objects and every object its Pulsar releases
// render with the real chart (`helm template`, as an install the first
// time a release appears and as an upgrade after). What a state no longer
// has is deleted, as Helm and Pulumi delete it; a Helm hook is deleted and
// created again (before-hook-creation). The Karpenter and
// kube-prometheus-stack releases are left out here: TestRenderTier applies
// them at every phase.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/apiserver"
	"github.com/pulsar-fleet/pulsar-fleet/internal/golden"
	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/internal/render"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
	"github.com/pulsar-fleet/pulsar-fleet/transition"
)

// declaredState is one `up` of a transition: its objects, and what it
// runs of ZooKeeper and bookies.
type declaredState struct {
	name string
	// objs are the program's objects; releases its Pulsar releases.
	objs     []manifests.Object
	releases []render.Release
	// leave is the cluster work after this state's `up`: bookies leaving
	// one at a time (`pulsar-fleet decommission`); resize the EBS bookies'
	// StatefulSet deleted with its pods left running.
	leave  *transition.Leave
	resize *transition.Resize
	// retained are the objects of resources with retainOnDelete: left in
	// the cluster when a later state no longer declares them.
	retained map[liveObject]bool
}

// statesOf are the states of one transition in order: the old phase, each
// declared step, the new phase.
func statesOf(t *testing.T, stack string, tr transition.Transition) []declaredState {
	t.Helper()
	out := []declaredState{previewState(t, stack, tr.From, nil)}
	for _, s := range tr.Steps {
		var step *stacks.TransitionStep
		if s.Declares != nil {
			step = &stacks.TransitionStep{From: tr.From, Step: s.N}
		}
		st := previewState(t, stack, tr.To, step)
		st.leave, st.resize = s.Leave, s.Resize
		out = append(out, st)
	}
	return out
}

var previewCache = map[string]declaredState{}

func previewState(t *testing.T, stack, phase string, step *stacks.TransitionStep) declaredState {
	t.Helper()
	name := phase
	if step != nil {
		name = fmt.Sprintf("%s (from %s, step %d)", phase, step.From, step.Step)
	}
	key := stack + " " + name
	if st, ok := previewCache[key]; ok {
		return st
	}
	res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: catalog(t), Phase: phase, Stacks: []string{stack}, Transition: step})
	require.NoError(t, err, key)
	rs := res.Stacks[0].Resources
	st := declaredState{name: name, objs: manifests.From(rs), retained: map[liveObject]bool{}}
	for _, r := range rs {
		if r.RetainOnDelete {
			for _, o := range manifests.From([]recorder.Resource{r}) {
				st.retained[identity(o)] = true
			}
		}
	}
	for _, rel := range render.Releases(rs) {
		if rel.Chart == pulsar.ChartName {
			st.releases = append(st.releases, rel)
		}
	}
	previewCache[key] = st
	return st
}

// liveObject is an object the API server holds, by its identity.
type liveObject struct{ apiVersion, kind, namespace, name string }

func identity(o manifests.Object) liveObject {
	return liveObject{o.APIVersion(), o.Kind(), o.Namespace(), o.Name()}
}

// applier applies states in sequence and remembers what is live.
type applier struct {
	t    *testing.T
	s    *apiserver.Server
	r    render.Renderer
	live map[liveObject]bool
	// kept are the live objects Pulumi leaves behind when undeclared.
	kept   map[liveObject]bool
	ns     map[string]bool
	rcache map[string][]manifests.Object
	// problems are the rejected updates and the unsafe steps.
	problems []string
}

func (a *applier) problem(format string, args ...any) {
	a.problems = append(a.problems, fmt.Sprintf(format, args...))
}

func (a *applier) rendered(rel render.Release, upgrade bool) []manifests.Object {
	b, err := json.Marshal(rel.Values)
	require.NoError(a.t, err)
	key := fmt.Sprintf("%s %v %s", rel.Name, upgrade, b)
	if objs, ok := a.rcache[key]; ok {
		return objs
	}
	r := a.r
	r.Upgrade = upgrade
	objs, _, err := r.Render(context.Background(), rel)
	require.NoError(a.t, err, rel.String())
	a.rcache[key] = objs
	return objs
}

// apply makes one state live: applies its objects for real and deletes
// what it no longer has. installed are the releases already installed.
func (a *applier) apply(label string, st declaredState, installed map[string]bool) (applied, deleted int) {
	ctx := context.Background()
	objs := slices.Clone(st.objs)
	for _, rel := range st.releases {
		a.namespace(rel.Namespace)
		for _, o := range a.rendered(rel, installed[rel.Name]) {
			inNamespace(a.t, a.s, o.Object, rel.Namespace)
			objs = append(objs, o)
		}
	}
	for _, o := range objs {
		if o.Kind() == "Namespace" {
			a.namespace(o.Name())
		}
	}
	want := map[liveObject]bool{}
	for _, o := range objs {
		if o.Kind() == "Namespace" {
			continue
		}
		id := identity(o)
		want[id] = true
		if _, hook := annotations(o)["helm.sh/hook"]; hook && a.live[id] {
			require.NoError(a.t, a.s.Delete(ctx, id.apiVersion, id.kind, id.namespace, id.name))
		}
		err := a.s.Apply(ctx, toMap(a.t, o.Object), false)
		if err != nil && o.Kind() == "StorageClass" && a.live[id] {
			// The provider replaces a StorageClass whose parameters change,
			// deleting it first (its name is fixed): pulumi-kubernetes,
			// provider/pkg/provider/diff.go, force-new .parameters.
			require.NoError(a.t, a.s.Delete(ctx, id.apiVersion, id.kind, id.namespace, id.name))
			err = a.s.Apply(ctx, toMap(a.t, o.Object), false)
		}
		if err != nil {
			a.problem("%s: %s rejected: %v", label, o, describe(err))
			continue
		}
		a.live[id] = true
		applied++
	}
	maps.Copy(a.kept, st.retained)
	for id := range a.live {
		if !want[id] && !a.kept[id] {
			require.NoError(a.t, a.s.Delete(ctx, id.apiVersion, id.kind, id.namespace, id.name))
			delete(a.live, id)
			deleted++
		}
	}
	return applied, deleted
}

func (a *applier) namespace(ns string) {
	if ns == "" || a.ns[ns] {
		return
	}
	require.NoError(a.t, a.s.Apply(context.Background(), map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": ns}}, false))
	a.ns[ns] = true
}

func annotations(o manifests.Object) map[string]any {
	md, _ := o.Object["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	return ann
}

// quorumAndBookies reads what a state runs: ZooKeeper replicas and the
// replicas of each bookie StatefulSet.
func quorumAndBookies(st declaredState, rendered func(render.Release) []manifests.Object) (int, map[string]int) {
	zk, bookies := 0, map[string]int{}
	for _, rel := range st.releases {
		for _, o := range rendered(rel) {
			if o.Kind() != "StatefulSet" {
				continue
			}
			n, _ := num(spec(o.Object)["replicas"])
			switch {
			case o.Name() == "pulsar-zookeeper":
				zk = n
			case strings.HasSuffix(o.Name(), "-bookie"):
				bookies[o.Name()] = n
			}
		}
	}
	return zk, bookies
}

func TestTransitionsApplyInSequence(t *testing.T) {
	r := newRenderer(t)
	s := startAPIServer(t)
	a := &applier{t: t, s: s, r: r, live: map[liveObject]bool{}, kept: map[liveObject]bool{}, rcache: map[string][]manifests.Object{},
		ns: map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true}}
	cat := catalog(t)
	start := time.Now()
	var table []string
	for _, stack := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
		for i := 0; i+1 < len(sizing.PhaseNames); i++ {
			for _, pair := range [][2]string{{sizing.PhaseNames[i], sizing.PhaseNames[i+1]}, {sizing.PhaseNames[i+1], sizing.PhaseNames[i]}} {
				tr, err := transition.Plan(designAt(t, stack, pair[0], nil), designAt(t, stack, pair[1], nil), cat)
				require.NoError(t, err)
				table = append(table, a.run(stack, tr)...)
			}
		}
	}
	t.Logf("3 stacks x 8 transitions applied in sequence in %s", time.Since(start).Round(time.Second))
	assert.Empty(t, a.problems, "every step applies, and none loses bookie data or ZooKeeper quorum")
	t.Run("an unsafe sequence is caught", func(t *testing.T) {
		a.problems = nil
		from, to := previewState(t, "us-east-1", "100k", nil), previewState(t, "us-east-1", "1m", nil)
		a.runStates("us-east-1", transition.Transition{From: "100k", To: "1m"}, []declaredState{from, to})
		assert.Contains(t, strings.Join(a.problems, "\n"), "ZooKeeper 3 -> 5 servers in one step", "a direct jump")
		assert.Contains(t, strings.Join(a.problems, "\n"), "the `up` removes 6 bookies of pulsar-bookie", "a direct storage move")
		a.problems = nil
		a.runStates("us-west-2", transition.Transition{From: "100k", To: "1m"}, []declaredState{previewState(t, "us-west-2", "100k", nil), previewState(t, "us-west-2", "1m", nil)})
		assert.Contains(t, strings.Join(a.problems, "\n"), "StatefulSet pulsar/pulsar-bookie (from pulsar/templates/bookkeeper-statefulset.yaml) rejected",
			"without the resize step, the larger volumes are refused")
		assert.Contains(t, strings.Join(a.problems, "\n"), "spec.volumeClaimTemplates")
		// The layout before bookie sets: one StatefulSet moved to instance
		// storage. Kubernetes refuses the update the issue describes.
		a.problems = nil
		flipped := from
		flipped.releases = slices.Clone(from.releases)
		flipped.releases[0].Values = withoutBookieVolumes(t, from.releases[0].Values)
		a.runStates("us-east-1", transition.Transition{From: "100k", To: "100k"}, []declaredState{from, flipped})
		assert.Contains(t, strings.Join(a.problems, "\n"), "StatefulSet pulsar/pulsar-bookie", "volumeClaimTemplates cannot change")
		assert.Contains(t, strings.Join(a.problems, "\n"), "spec.volumeClaimTemplates: Invalid value: null: field is immutable")
	})
	head := "# Each transition's declared states, applied for real in sequence to kube-apiserver " + kubeVersion + "\n" +
		"# (TestTransitionsApplyInSequence): ZooKeeper servers, bookies per StatefulSet, objects applied and deleted.\n"
	golden.Assert(t, "transitions/sequence.txt", []byte(head+strings.Join(table, "\n")+"\n"))
}

// run applies one transition's states in sequence from a clean slate, and
// checks every step: ZooKeeper moves by at most one server, no `up`
// removes a bookie, and bookies leave only in the decommission steps'
// cluster work, one per change (the StatefulSet's scale).
func (a *applier) run(stack string, tr transition.Transition) []string {
	return a.runStates(stack, tr, statesOf(a.t, stack, tr))
}

func (a *applier) runStates(stack string, tr transition.Transition, states []declaredState) []string {
	label := fmt.Sprintf("%s %s -> %s", stack, tr.From, tr.To)
	a.apply(label+" (reset)", declaredState{}, nil)
	installed := map[string]bool{}
	rendered := func(rel render.Release) []manifests.Object { return a.rendered(rel, installed[rel.Name]) }
	var lines []string
	prevZK, prevBookies := -1, map[string]int{}
	for i, st := range states {
		zk, bookies := quorumAndBookies(st, rendered)
		applied, deleted := a.apply(fmt.Sprintf("%s, %s", label, st.name), st, installed)
		for _, rel := range st.releases {
			installed[rel.Name] = true
		}
		if i > 0 {
			if abs(zk-prevZK) > 1 {
				a.problem("%s, %s: ZooKeeper %d -> %d servers in one step", label, st.name, prevZK, zk)
			}
			for set, n := range prevBookies {
				if bookies[set] < n {
					a.problem("%s, %s: the `up` removes %d bookies of %s; bookies leave one at a time, decommissioned, between `up`s", label, st.name, n-bookies[set], set)
				}
			}
		}
		line := fmt.Sprintf("%-9s %-12s %-26s zookeeper %d, bookies %s; %d applied, %d deleted",
			stack, tr.From+" -> "+tr.To, st.name, zk, bookieLine(bookies), applied, deleted)
		if l := st.leave; l != nil {
			a.leave(label, *l, bookies)
			line += fmt.Sprintf("; then %s to %d, one bookie at a time", l.StatefulSet, l.To)
		}
		if r := st.resize; r != nil {
			a.orphan(r.StatefulSet)
			line += fmt.Sprintf("; then %s deleted, its bookies left running", r.StatefulSet)
		}
		lines = append(lines, line)
		prevZK, prevBookies = zk, bookies
	}
	return lines
}

// leave is a decommission step's cluster work as `pulsar-fleet
// decommission` does it: the StatefulSet down by one bookie per change.
func (a *applier) leave(label string, l transition.Leave, bookies map[string]int) {
	for n := bookies[l.StatefulSet]; n > l.To; n-- {
		if err := a.s.Scale(context.Background(), "apps/v1", "StatefulSet", pulsar.DefaultNamespace, l.StatefulSet, n-1); err != nil {
			a.problem("%s: scale %s to %d: %v", label, l.StatefulSet, n-1, err)
			return
		}
	}
	bookies[l.StatefulSet] = l.To
}

// orphan deletes a StatefulSet and leaves its pods: the resize step's
// `kubectl delete --cascade=orphan` (this API server runs no garbage
// collector, so no deletion cascades here).
func (a *applier) orphan(name string) {
	id := liveObject{"apps/v1", "StatefulSet", pulsar.DefaultNamespace, name}
	require.NoError(a.t, a.s.Delete(context.Background(), id.apiVersion, id.kind, id.namespace, id.name))
	delete(a.live, id)
}

func bookieLine(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " + ")
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// withoutBookieVolumes is a copy of the Pulsar values with the bookies off
// their volumes: the single StatefulSet moving to instance storage.
func withoutBookieVolumes(t *testing.T, values map[string]any) map[string]any {
	b, err := json.Marshal(values)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	bk := out["bookkeeper"].(map[string]any)
	bk["volumes"] = map[string]any{"persistence": false}
	return out
}
