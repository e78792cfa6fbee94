package model

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// ChartSource is where the program's Helm releases take their charts
// from. Empty uses each chart's public repository. An air-gapped team
// points it at its own copy, holding every chart under its own name:
//   - an OCI registry path, oci://registry.example.com/charts
//     (charts pushed with `helm push`);
//   - an HTTPS chart repository, https://charts.example.com/stable
//     (an index.yaml repository: Artifactory, ChartMuseum, Harbor);
//   - a local directory with each chart unpacked in <dir>/<chart>,
//     absolute, or relative to the directory `pulumi` runs in.
//
// Versions stay pinned by the program either way.
type ChartSource string

// Kind names what a chart source is.
func (s ChartSource) Kind() string {
	switch {
	case s == "":
		return "public"
	case strings.HasPrefix(string(s), "oci://"):
		return "oci"
	case strings.HasPrefix(string(s), "https://"):
		return "https"
	}
	return "dir"
}

// Validate refuses a source that is none of the three forms.
func (s ChartSource) Validate() error {
	v := string(s)
	switch s.Kind() {
	case "oci", "https":
		rest := v[strings.Index(v, "://")+3:]
		if rest == "" || strings.ContainsAny(rest, " ?#") {
			return fmt.Errorf("chartSource %q: want oci://host/path or https://host/path", v)
		}
	case "dir":
		if strings.Contains(v, "://") {
			return fmt.Errorf("chartSource %q: want an oci:// or https:// mirror, or a directory of unpacked charts", v)
		}
	}
	return nil
}

// Locate is where one chart comes from: the chart reference and, for a
// classic repository, the repository URL (empty otherwise). publicRepo is
// the chart's public repository (oci:// or https://).
func (s ChartSource) Locate(chart, publicRepo string) (ref, repo string) {
	src := string(s)
	if src == "" {
		src = publicRepo
	}
	switch ChartSource(src).Kind() {
	case "oci":
		return strings.TrimSuffix(src, "/") + "/" + chart, ""
	case "https":
		return chart, src
	}
	return path.Join(filepath.ToSlash(src), chart), ""
}
