package tooling

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Select names tools by module, all by default, and refuses an unknown one
// with the known ones listed.
func TestSelect(t *testing.T) {
	all, err := Select(nil)
	require.NoError(t, err)
	assert.Len(t, all, 8)
	thanos, err := Select([]string{"thanos"})
	require.NoError(t, err)
	assert.Equal(t, []string{"thanos", "thanos-blockgen"}, []string{thanos[0].Binary, thanos[1].Binary}, "a module names every tool built from it")
	some, err := Select([]string{"helm", "kubeapiserver"})
	require.NoError(t, err)
	assert.Equal(t, []string{"helm", "kubeapiserver"}, []string{some[0].Module, some[1].Module})
	_, err = Select([]string{"kubectl"})
	assert.ErrorContains(t, err, `unknown tool "kubectl"`)
	assert.ErrorContains(t, err, "kubernetesprovider")
}

// A tool of the program's own is rebuilt when its sources change: they
// are part of its cache key.
func TestOwnSourcesKeyTheCache(t *testing.T) {
	root := t.TempDir()
	mod := root + "/tools/m"
	require.NoError(t, os.MkdirAll(mod+"/gen/testdata", 0o755))
	for f, body := range map[string]string{"go.mod": "module m\n", "go.sum": "", "gen/main.go": "package main\n\nfunc main() {}\n", "gen/testdata/x": "x"} {
		require.NoError(t, os.WriteFile(mod+"/"+f, []byte(body), 0o644))
	}
	t.Setenv("PULSAR_FLEET_TOOLS_CACHE", t.TempDir())
	tool := Tool{Module: "m", Package: "m/gen", Binary: "gen", Sources: "gen"}
	first, err := tool.Path(root)
	require.NoError(t, err)
	again, err := tool.Path(root)
	require.NoError(t, err)
	assert.Equal(t, first, again, "unchanged sources: the cached build")
	require.NoError(t, os.WriteFile(mod+"/gen/main.go", []byte("package main\n\nfunc main() { println() }\n"), 0o644))
	changed, err := tool.Path(root)
	require.NoError(t, err)
	assert.NotEqual(t, first, changed, "changed sources: a new build")
	require.NoError(t, os.WriteFile(mod+"/gen/testdata/x", []byte("y"), 0o644))
	again, err = tool.Path(root)
	require.NoError(t, err)
	assert.NotEqual(t, changed, again, "a changed file in a subdirectory: a new build")
}
