// Package golden compares test output with files under testdata/. Run tests
// with -update to rewrite the files; review the diff before committing.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// Assert compares got with testdata/<name>, or rewrites it with -update.
func Assert(t testing.TB, name string, got []byte) {
	t.Helper()
	AssertFile(t, filepath.Join("testdata", name), got)
}

// AssertFile compares got with the file at path, or rewrites it with -update.
func AssertFile(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run the test with -update and review it")
	assert.Equal(t, string(want), string(got), "golden file %s is stale; run with -update and review the diff", path)
}

// AssertBlock compares got with the text between the begin and end marker
// lines of a document (docs that embed generated output), or rewrites that
// block with -update.
func AssertBlock(t testing.TB, path, begin, end string, got []byte) {
	t.Helper()
	doc, err := os.ReadFile(path)
	require.NoError(t, err)
	s := string(doc)
	i, j := strings.Index(s, begin+"\n"), strings.Index(s, end)
	require.True(t, i >= 0 && j > i, "%s must contain %q and %q lines", path, begin, end)
	start := i + len(begin) + 1
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(s[:start]+string(got)+s[j:]), 0o644))
		return
	}
	assert.Equal(t, s[start:j], string(got), "the generated block of %s is stale; run the test with -update and review the diff", path)
}
