// Package reference locates the upstream artifacts some tests compare the
// program with: the real Helm charts, their values files, the CRDs and the
// lists of Pulsar's and BookKeeper's configuration keys as released. They
// are not part of the repository and the product never reads them.
//
// The directory is $PULSAR_FLEET_REFERENCE, or ../shared/reference beside
// the checkout. A test that needs a missing file skips with a message that
// names the file and how to provide it; REQUIRE_REFERENCE=1 (set by
// .ci/run) turns the skip into a failure, so CI never skips.
package reference

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const (
	// DirEnv overrides the reference directory.
	DirEnv = "PULSAR_FLEET_REFERENCE"
	// RequireEnv set to 1 makes a missing reference file a test failure.
	RequireEnv = "REQUIRE_REFERENCE"
	// defaultRel is the default directory relative to the repository root.
	defaultRel = "../shared/reference"
)

// Dir returns the reference directory (it may not exist).
func Dir() (string, error) {
	if d := os.Getenv(DirEnv); d != "" {
		return filepath.Abs(d)
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Clean(filepath.Join(root, defaultRel)), nil
}

// RepoRoot walks up from the working directory to the module root (the
// directory whose go.mod declares this module).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && isProjectModule(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("reference: no go.mod of github.com/pulsar-fleet/pulsar-fleet above the working directory")
		}
		dir = parent
	}
}

func isProjectModule(gomod []byte) bool {
	const decl = "module github.com/pulsar-fleet/pulsar-fleet\n"
	return len(gomod) >= len(decl) && string(gomod[:len(decl)]) == decl
}

// Path returns the absolute path of rel inside the reference directory. When
// it is absent the test is skipped with a message naming what is missing,
// or fails when REQUIRE_REFERENCE=1.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p, err := Lookup(rel)
	if err != nil {
		Missing(t, err)
	}
	return p
}

// Lookup is Path without a test: the path, or an error naming what is
// missing and how to provide it.
func Lookup(rel string) (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("reference file %s is not at %s: put the upstream reference directory at %s "+
			"(or set %s to it); these tests compare the program with the released charts, CRDs and key lists, "+
			"which are not part of the repository", rel, p, dir, DirEnv)
	}
	return p, nil
}

// Missing skips t with err, or fails it when REQUIRE_REFERENCE=1.
func Missing(t testing.TB, err error) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%v (%s=1: reference tests must not skip)", err, RequireEnv)
	}
	t.Skip(err)
}

// Module is the source of a Go module release, downloaded through the Go
// module proxy into the module cache (`go mod download`): the upstream
// artifacts published only with their source, such as cert-manager's
// chart and CRDs. Without the proxy or the cache it skips, or fails under
// REQUIRE_REFERENCE=1, like a missing reference file.
func Module(t testing.TB, path, version string) string {
	t.Helper()
	dir, err := LookupModule(path, version)
	if err != nil {
		Missing(t, err)
	}
	return dir
}

// LookupModule is Module without a test.
func LookupModule(path, version string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", path+"@"+version)
	cmd.Dir = os.TempDir() // outside any module: the download is the only thing asked
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.Output()
	var m struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &m); jerr == nil && m.Error != "" {
		err = errors.New(m.Error)
	}
	if err != nil || m.Dir == "" {
		return "", fmt.Errorf("upstream module %s@%s is not in the module cache and the Go module proxy did not serve it (%v): "+
			"these tests compare the program with its released chart and CRDs", path, version, err)
	}
	return m.Dir, nil
}
