// Package chartref checks Helm values the program sets against a chart's
// reference: every leaf path must be a path of the chart's values.yaml, a
// path its templates read, or sit under a free-form map (annotations,
// resources, nodeSelector, ...) whose keys the chart passes through.
package chartref

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Known is the set of paths a chart accepts.
type Known struct {
	paths map[string]bool
	// FreeForm are keys (last path segment) under which anything goes.
	FreeForm map[string]bool
}

// DefaultFreeForm are the keys whose content the charts copy verbatim into
// manifests or config maps.
var DefaultFreeForm = []string{"configData", "annotations", "labels", "resources", "nodeSelector", "tolerations",
	"topologySpreadConstraints", "extraEnvs", "extraEnv", "podAnnotations", "podLabels", "appAnnotations", "customLabels",
	"additionalLabels", "requests", "limits", "behavior", "metrics", "extraDeploy", "securityContext", "affinity"}

// FreeFormKeys is a predicate that needs no chart: a path is free-form when
// its last key is one of DefaultFreeForm or extra. Paths computed with it
// stop at those keys, so the list of paths a program sets can be kept and
// checked against a chart later (Has accepts a path that ends at a
// free-form key only when the chart has that key).
func FreeFormKeys(extra ...string) func(path string) bool {
	set := map[string]bool{}
	for _, k := range append(append([]string(nil), DefaultFreeForm...), extra...) {
		set[k] = true
	}
	return func(path string) bool { return set[path[strings.LastIndex(path, ".")+1:]] }
}

// FromValuesFile collects every key path of a values.yaml (maps are walked,
// lists and scalars are leaves).
func FromValuesFile(path string) (*Known, error) {
	k := newKnown()
	return k, k.AddValuesFile("", path)
}

// AddValuesFile adds every key path of a values.yaml under prefix (a
// subchart's values under its name, as the parent chart passes them).
func (k *Known) AddValuesFile(prefix, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var root map[string]any
	if err := yaml.Unmarshal(b, &root); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if prefix != "" {
			k.paths[prefix] = true
		}
		if m, ok := v.(map[string]any); ok {
			for key, e := range m {
				p := key
				if prefix != "" {
					p = prefix + "." + key
				}
				walk(p, e)
			}
		}
	}
	walk(prefix, root)
	return nil
}

// AddPathList adds the paths listed one per line (# comments allowed).
func (k *Known) AddPathList(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ".")
		for i := range parts {
			k.paths[strings.Join(parts[:i+1], ".")] = true
		}
	}
	return sc.Err()
}

func newKnown() *Known {
	k := &Known{paths: map[string]bool{}, FreeForm: map[string]bool{}}
	for _, f := range DefaultFreeForm {
		k.FreeForm[f] = true
	}
	return k
}

// Has reports whether a path is known (or under a free-form key).
func (k *Known) Has(path string) bool {
	if k.paths[path] {
		return true
	}
	parts := strings.Split(path, ".")
	for i := range parts[:len(parts)-1] {
		if k.FreeForm[parts[i]] && k.paths[strings.Join(parts[:i+1], ".")] {
			return true
		}
	}
	return false
}

// IsFreeForm reports whether a path ends at a free-form key the chart knows.
func (k *Known) IsFreeForm(path string) bool {
	parts := strings.Split(path, ".")
	return k.FreeForm[parts[len(parts)-1]] && k.paths[path]
}

// Unknown returns the paths the chart does not accept, sorted.
func (k *Known) Unknown(paths []string) []string {
	var out []string
	for _, p := range paths {
		if !k.Has(p) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
