package tests

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/reference"
	"github.com/pulsar-fleet/pulsar-fleet/internal/upstream"
)

// chartsDir is a directory of every chart the program installs: the
// reference charts, and cert-manager's chart as its release tool packages
// it from the tagged source the Go module proxy serves (Chart.yaml from
// Chart.template.yaml with the release's version). The source module is
// not copied into the repository; this directory is the test's own.
func chartsDir(t *testing.T) string {
	t.Helper()
	ref := reference.Path(t, "charts")
	dir := t.TempDir()
	entries, err := os.ReadDir(ref)
	require.NoError(t, err)
	for _, e := range entries {
		require.NoError(t, os.Symlink(filepath.Join(ref, e.Name()), filepath.Join(dir, e.Name())))
	}
	cm := upstream.CertManagerChart
	src := filepath.Join(reference.Module(t, cm.Module, cm.Version), cm.ChartDir)
	dst := filepath.Join(dir, cm.Name)
	require.NoError(t, copyTree(src, dst))
	tmpl, err := os.ReadFile(filepath.Join(src, "Chart.template.yaml"))
	require.NoError(t, err)
	chart := strings.NewReplacer("version: v0.0.0", "version: "+cm.Version, "appVersion: v0.0.0", "appVersion: "+cm.Version,
		"{{IS_PRERELEASE}}", "false").Replace(string(tmpl))
	require.Contains(t, chart, "version: "+cm.Version, "Chart.template.yaml has the version placeholder the release tool fills")
	require.NoError(t, os.WriteFile(filepath.Join(dst, "Chart.yaml"), []byte(chart), 0o644))
	return dir
}

// certManagerCRDs are cert-manager's CRDs as released (deploy/crds).
func certManagerCRDs(t *testing.T) []string {
	t.Helper()
	cm := upstream.CertManagerChart
	files, err := filepath.Glob(filepath.Join(reference.Module(t, cm.Module, cm.Version), "deploy", "crds", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// copyTree copies a directory of regular files (the module cache's are
// read-only; the copies are writable).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
