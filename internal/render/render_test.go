package render

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
)

func TestLeaves(t *testing.T) {
	v := map[string]any{
		"a": map[string]any{"b": 1.0, "c": map[string]any{"d": "x"}, "e": map[string]any{}},
		"l": []any{"x"},
	}
	var names []string
	for _, l := range Leaves(v) {
		names = append(names, l.Name())
	}
	assert.Equal(t, []string{"a.b", "a.c.d", "a.e", "l"}, names, "lists and empty maps are leaves")
}

func TestWithCopiesThePath(t *testing.T) {
	v := map[string]any{"a": map[string]any{"b": 1.0, "c": 2.0}, "z": 3.0}
	w := WithValue(v, []string{"a", "b"}, 9.0)
	assert.Equal(t, 1.0, v["a"].(map[string]any)["b"], "the original is unchanged")
	assert.Equal(t, map[string]any{"a": map[string]any{"b": 9.0, "c": 2.0}, "z": 3.0}, w)
	assert.Equal(t, map[string]any{"x": map[string]any{"y": 1}}, WithValue(map[string]any{}, []string{"x", "y"}, 1), "missing maps are made")
}

func TestMutateChangesEveryKind(t *testing.T) {
	for _, v := range []any{true, false, 3.0, 3, "s", []any{}, []any{"x"}, map[string]any{}, nil} {
		assert.NotEqual(t, v, mutate(v, 7), "%#v", v)
	}
}

func TestComparerIgnoresVolatileLines(t *testing.T) {
	base := []byte("a\npassword: x1\nb")
	again := []byte("a\npassword: y2\nb")
	same := newComparer(base, again)
	assert.True(t, same([]byte("a\npassword: z3\nb")), "a random line does not count")
	assert.False(t, same([]byte("a\npassword: z3\nc")))
	assert.False(t, same([]byte("a\npassword: z3")), "a line fewer is a change")
}

func TestParse(t *testing.T) {
	out := []byte(`---
# Source: c/templates/a.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
---
# Source: c/templates/job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: j
spec:
  template:
    spec:
      nodeSelector:
        pool: x
      restartPolicy: Never
      nodeSelector:
        pool: x
---
# Source: c/templates/empty.yaml
`)
	objs, warnings, err := Parse(out)
	require.NoError(t, err)
	require.Len(t, objs, 2)
	assert.Equal(t, "ConfigMap", objs[0].Kind())
	assert.Equal(t, "c/templates/job.yaml", objs[1].Source)
	assert.Equal(t, map[string]any{"pool": "x"}, objs[1].Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["nodeSelector"])
	assert.Equal(t, []string{"c/templates/job.yaml: duplicate key spec.template.spec.nodeSelector (lines 10 and 13 of its document, same value)"}, warnings)

	_, _, err = Parse([]byte("# Source: c/templates/x.yaml\nkind: A\nmetadata:\n  name: a\nkind: B\n"))
	require.ErrorContains(t, err, "key kind is given twice with different values")
	assert.ErrorContains(t, err, "c/templates/x.yaml")
}

func TestReleases(t *testing.T) {
	rs := []recorder.Resource{
		{URN: "u1", Type: "kubernetes:helm.sh/v3:Release", Custom: true, Inputs: map[string]any{
			"name": "karpenter", "chart": "oci://public.ecr.aws/karpenter/karpenter", "version": "1.14.1", "namespace": "kube-system",
			"skipCrds": true, "values": map[string]any{"a": "[unknown]", "b": nil}}},
		{URN: "u2", Type: "kubernetes:core/v1:ConfigMap", Custom: true},
	}
	got := Releases(rs)
	require.Len(t, got, 1)
	assert.Equal(t, Release{Source: "u1", Name: "karpenter", Chart: "karpenter", Version: "1.14.1", Namespace: "kube-system",
		SkipCRDs: true, Values: map[string]any{"a": manifests.Placeholder}}, got[0])
}

func TestChartDirChecksTheVersion(t *testing.T) {
	r := Renderer{Charts: t.TempDir()}
	_, err := r.ChartDir(Release{Name: "x", Chart: "missing", Version: "1.0.0"})
	require.ErrorContains(t, err, `chart "missing"`)
}
