package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/certmanager"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/apiserver"
	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/internal/render"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// podsOf turns rendered workloads into the Pods their controllers would
// create: the template's metadata and spec, with each StatefulSet volume
// claim template as the claim it would mount.
func podsOf(t *testing.T, objs []manifests.Object) []map[string]any {
	var out []map[string]any
	for _, o := range objs {
		template, ok := podTemplate(o)
		if !ok {
			continue
		}
		b, err := json.Marshal(template)
		require.NoError(t, err)
		var tpl struct {
			Metadata map[string]any `json:"metadata"`
			Spec     map[string]any `json:"spec"`
		}
		require.NoError(t, json.Unmarshal(b, &tpl))
		vols, _ := tpl.Spec["volumes"].([]any)
		claims, _ := path(o.Object, "spec", "volumeClaimTemplates").([]any)
		for _, c := range claims {
			name := path(c.(map[string]any), "metadata", "name")
			vols = append(vols, map[string]any{"name": name, "persistentVolumeClaim": map[string]any{"claimName": name}})
		}
		if len(vols) > 0 {
			tpl.Spec["volumes"] = vols
		}
		if tpl.Metadata == nil {
			tpl.Metadata = map[string]any{}
		}
		tpl.Metadata["name"] = podName(o.Kind() + "-" + o.Name())
		tpl.Metadata["namespace"] = o.Namespace()
		out = append(out, map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": tpl.Metadata, "spec": tpl.Spec})
	}
	return out
}

var notName = regexp.MustCompile(`[^a-z0-9-]+`)

func podName(s string) string {
	s = notName.ReplaceAllString(strings.ToLower(s), "-")
	if len(s) > 60 {
		s = s[:60]
	}
	return strings.Trim(s, "-")
}

// Every pod the program's releases would run in the namespaces it creates
// is admitted by Pod Security Admission at the level the namespace
// enforces: kube-apiserver's PodSecurity plugin judges each pod (a dry-run
// create), in every stack at a phase with EBS bookies and one with NVMe.
// The monitoring namespace is restricted (node-exporter, which needs the
// host, runs in kube-system); the Pulsar namespace is baseline, and the
// failing case shows why: restricted refuses the chart's pods.
func TestPodSecurityLevels(t *testing.T) {
	r := newRenderer(t)
	s := startAPIServer(t)
	ctx := context.Background()
	levels := map[string]string{}
	refused := map[string]bool{}
	for _, stack := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
		for _, phase := range []string{"100k", "1m"} {
			label := stack + " " + phase
			res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: catalog(t), Phase: phase, Stacks: []string{stack}})
			require.NoError(t, err)
			rs := res.Stacks[0].Resources
			var nsObjs []manifests.Object
			for _, o := range manifests.From(rs) {
				if o.Kind() == "Namespace" {
					nsObjs = append(nsObjs, o)
					labels, _ := path(o.Object, "metadata", "labels").(map[string]any)
					levels[o.Name()] = fmt.Sprint(labels[model.LabelPSAEnforce])
				}
			}
			applyNamespaces(t, ctx, s, nsObjs, "")
			pods := renderedPods(t, ctx, r, s, rs)
			for _, p := range pods {
				assert.NoError(t, s.Apply(ctx, p, true), label)
			}
			// The failing case: every namespace at restricted.
			applyNamespaces(t, ctx, s, nsObjs, model.PSARestricted)
			for _, p := range pods {
				err := s.Apply(ctx, p, true)
				if path(p, "metadata", "labels", model.LabelPartOf) == model.PartOf {
					assert.NoError(t, err, "%s: the program's own jobs meet restricted", label)
				}
				if err != nil {
					assert.Contains(t, err.Error(), `violates PodSecurity "restricted:latest"`)
					refused[fmt.Sprint(path(p, "metadata", "namespace"))] = true
				}
			}
		}
	}
	assert.Equal(t, map[string]string{pulsar.DefaultNamespace: model.PSABaseline, model.NamespaceMonitoring: model.PSARestricted,
		certmanager.Namespace: model.PSARestricted}, levels)
	assert.Equal(t, map[string]bool{pulsar.DefaultNamespace: true}, refused, "restricted refuses the Pulsar chart's pods, and only those")
}

// applyNamespaces applies the program's namespaces, with their labels or
// every one at the level given, and the default ServiceAccount (no
// controller manager here makes it).
func applyNamespaces(t *testing.T, ctx context.Context, s *apiserver.Server, nsObjs []manifests.Object, level string) {
	for _, o := range nsObjs {
		obj := o.Object
		if level != "" {
			b, _ := json.Marshal(o.Object)
			obj = map[string]any{}
			require.NoError(t, json.Unmarshal(b, &obj))
			obj["metadata"].(map[string]any)["labels"] = map[string]any{model.LabelPSAEnforce: level}
		}
		require.NoError(t, s.Apply(ctx, obj, false))
		require.NoError(t, s.Apply(ctx, map[string]any{"apiVersion": "v1", "kind": "ServiceAccount",
			"metadata": map[string]any{"name": "default", "namespace": o.Name()}}, false))
	}
}

// renderedPods renders the stack's releases and returns the pods they
// would run in the namespaces the program creates, after applying their
// ServiceAccounts. node-exporter must be in kube-system.
func renderedPods(t *testing.T, ctx context.Context, r render.Renderer, s *apiserver.Server, rs []recorder.Resource) []map[string]any {
	var out []map[string]any
	// The service accounts the program makes itself (the Thanos bucket
	// users', which carry their roles' ARNs).
	for _, o := range manifests.From(rs) {
		if o.Kind() == "ServiceAccount" {
			require.NoError(t, s.Apply(ctx, o.Object, false), o.String())
		}
	}
	for _, rel := range render.Releases(rs) {
		if rel.Namespace != pulsar.DefaultNamespace && rel.Namespace != model.NamespaceMonitoring {
			continue
		}
		objs, _, err := r.Render(ctx, rel)
		require.NoError(t, err, rel.String())
		for _, o := range objs {
			if o.Kind() == "ServiceAccount" {
				require.NoError(t, s.Apply(ctx, o.Object, false))
			}
			if o.Kind() == "DaemonSet" && strings.Contains(o.Name(), "node-exporter") {
				assert.Equal(t, model.NamespaceNodeAgents, o.Namespace(), "node-exporter runs beside EKS' node agents")
			}
		}
		for _, p := range podsOf(t, objs) {
			if ns := path(p, "metadata", "namespace"); ns == pulsar.DefaultNamespace || ns == model.NamespaceMonitoring {
				out = append(out, p)
			}
		}
	}
	require.NotEmpty(t, out)
	return out
}
