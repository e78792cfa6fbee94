// Package render turns the Helm releases a stack declares into the objects
// their real charts deploy: `helm template` (built from tools/helm) with the
// release's chart from the reference directory, its namespace, the
// program's values and the cluster's Kubernetes and API versions. The
// render tier applies those objects to the API-server tier and asserts on
// their content; Unused finds the values no template reads.
package render

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
)

// Release is one Helm release as the program declares it.
type Release struct {
	// Source is the URN of the Pulumi resource.
	Source string
	// Name is the release name; Chart the chart's name (the last element
	// of its reference: a repository chart name or an OCI address).
	Name, Chart, Version, Namespace string
	// SkipCRDs is the release's skipCrds.
	SkipCRDs bool
	// Values are the release's values, with the preview's unknowns
	// replaced by manifests.Placeholder.
	Values map[string]any
}

func (r Release) String() string {
	return r.Namespace + "/" + r.Name + " (" + r.Chart + " " + r.Version + ")"
}

// Releases returns every Helm release among the recorded resources, in
// the order they were registered.
func Releases(rs []recorder.Resource) []Release {
	var out []Release
	for _, r := range rs {
		if !r.Custom || !strings.HasPrefix(r.Type, "kubernetes:helm.sh/") || !strings.HasSuffix(r.Type, ":Release") {
			continue
		}
		str := func(k string) string { s, _ := r.Inputs[k].(string); return s }
		values := map[string]any{}
		if v, ok := r.Inputs["values"].(map[string]any); ok {
			values = manifests.Resolve(v)
		}
		skip, _ := r.Inputs["skipCrds"].(bool)
		out = append(out, Release{Source: r.URN, Name: str("name"), Chart: path.Base(str("chart")),
			Version: str("version"), Namespace: str("namespace"), SkipCRDs: skip, Values: values})
	}
	return out
}

// Renderer runs helm template against a directory of unpacked charts.
type Renderer struct {
	// Helm is the helm binary.
	Helm string
	// Charts holds one unpacked chart per chart name.
	Charts string
	// KubeVersion is the cluster's Kubernetes version (Capabilities).
	KubeVersion string
	// APIVersions are the extra group/versions the cluster serves (the
	// CRDs installed before the charts).
	APIVersions []string
	// Stands maps a chart name to a Chart.yaml version that stands for the
	// release's pinned version: a copy whose metadata lags its content (the
	// caller proves the content).
	Stands map[string]string
	// Upgrade renders as `helm upgrade` does (.Release.IsUpgrade): the
	// chart leaves out what it renders on install only.
	Upgrade bool
}

// ChartDir is the directory of a release's chart; an error names a missing
// chart or a version other than the release's.
func (r Renderer) ChartDir(rel Release) (string, error) {
	dir := filepath.Join(r.Charts, rel.Chart)
	b, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return "", fmt.Errorf("release %s: chart %q: %w", rel, rel.Chart, err)
	}
	var meta struct {
		Version string `yaml:"version"`
	}
	if err := yaml.Unmarshal(b, &meta); err != nil {
		return "", fmt.Errorf("release %s: %s/Chart.yaml: %w", rel, rel.Chart, err)
	}
	if rel.Version != "" && meta.Version != rel.Version && r.Stands[rel.Chart] != meta.Version {
		return "", fmt.Errorf("release %s: the chart in %s is version %s, the release pins %s", rel, dir, meta.Version, rel.Version)
	}
	return dir, nil
}

// Render returns the objects the release deploys, install and upgrade
// hooks included (and its
// CRDs unless it skips them), and Parse's warnings. Each object's Source
// names its template.
func (r Renderer) Render(ctx context.Context, rel Release) ([]manifests.Object, []string, error) {
	out, err := r.template(ctx, rel, rel.Values)
	if err != nil {
		return nil, nil, err
	}
	return Parse(out)
}

// template runs helm template with the given values and returns its output.
func (r Renderer) template(ctx context.Context, rel Release, values map[string]any) ([]byte, error) {
	dir, err := r.ChartDir(rel)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("release %s: values: %w", rel, err)
	}
	// Tests hooks are left out: install and upgrade never create them.
	args := []string{"template", rel.Name, dir, "--namespace", rel.Namespace, "--values", "-", "--skip-tests"}
	if r.KubeVersion != "" {
		args = append(args, "--kube-version", r.KubeVersion)
	}
	for _, v := range r.APIVersions {
		args = append(args, "--api-versions", v)
	}
	if !rel.SkipCRDs {
		args = append(args, "--include-crds")
	}
	if r.Upgrade {
		args = append(args, "--is-upgrade")
	}
	cmd := exec.CommandContext(ctx, r.Helm, args...)
	cmd.Stdin = bytes.NewReader(b)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+os.TempDir(), "HELM_CONFIG_HOME="+os.TempDir(), "HELM_DATA_HOME="+os.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, &TemplateError{Release: rel.String(), Err: err, Stderr: strings.TrimSpace(stderr.String())}
	}
	return stdout.Bytes(), nil
}

// TemplateError is a chart that refused to render the values.
type TemplateError struct {
	Release string
	Err     error
	Stderr  string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("helm template %s: %v: %s", e.Release, e.Err, e.Stderr)
}

func (e *TemplateError) Unwrap() error { return e.Err }

// Parse splits helm's output into objects, each with the template it came
// from as its Source. A key repeated in one mapping with the same value is
// kept once and reported as a warning (the API server accepts it with a
// warning unless validation is strict); with different values it is an
// error.
func Parse(out []byte) ([]manifests.Object, []string, error) {
	var objs []manifests.Object
	var warnings []string
	for _, doc := range bytes.Split(out, []byte("\n---")) {
		src := ""
		for _, line := range strings.Split(string(doc), "\n") {
			if s, ok := strings.CutPrefix(line, "# Source: "); ok {
				src = s
				break
			}
		}
		var node yaml.Node
		if err := yaml.NewDecoder(bytes.NewReader(doc)).Decode(&node); err != nil {
			if errors.Is(err, io.EOF) {
				continue
			}
			return nil, nil, fmt.Errorf("%s: %w", src, err)
		}
		dups, err := dedupe(&node, "")
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", src, err)
		}
		for _, d := range dups {
			warnings = append(warnings, src+": "+d)
		}
		var obj map[string]any
		if err := node.Decode(&obj); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", src, err)
		}
		if obj == nil {
			continue
		}
		objs = append(objs, manifests.Object{Source: src, Object: obj})
	}
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].Kind() < objs[j].Kind() })
	return objs, warnings, nil
}

// dedupe removes repeated keys with equal values from every mapping under
// n, returning their paths; a repeated key with another value is an error.
func dedupe(n *yaml.Node, path string) ([]string, error) {
	var dups []string
	if n.Kind == yaml.MappingNode {
		seen := map[string]int{}
		var kept []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if j, ok := seen[k.Value]; ok {
				if !sameNode(kept[j+1], v) {
					return nil, fmt.Errorf("key %s%s is given twice with different values (lines %d and %d)", path, k.Value, kept[j].Line, k.Line)
				}
				dups = append(dups, fmt.Sprintf("duplicate key %s%s (lines %d and %d of its document, same value)", path, k.Value, kept[j].Line, k.Line))
				continue
			}
			seen[k.Value] = len(kept)
			kept = append(kept, k, v)
		}
		n.Content = kept
	}
	for i, c := range n.Content {
		p := path
		if n.Kind == yaml.MappingNode && i%2 == 1 {
			p = path + n.Content[i-1].Value + "."
		}
		d, err := dedupe(c, p)
		if err != nil {
			return nil, err
		}
		dups = append(dups, d...)
	}
	return dups, nil
}

func sameNode(a, b *yaml.Node) bool {
	var x, y any
	if a.Decode(&x) != nil || b.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
