// Package tooling builds the external tools the test tiers drive (the
// Pulumi CLI, kube-apiserver, actionlint, helm) from pinned tools modules under
// tools/, through the Go module proxy, into a cache directory keyed by the
// tools module's go.mod and go.sum. Nothing is downloaded as a binary.
package tooling

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Tool is one buildable tool.
type Tool struct {
	// Module is the tools module directory under tools/.
	Module string
	// Package is the main package to build.
	Package string
	// Binary is the output file name.
	Binary string
	// LDFlags are passed to go build.
	LDFlags string
	// Tags are the build tags the upstream release is built with
	// (comma-separated).
	Tags string
	// Env overrides the EnvVar lookup ($ENV wins over building).
	EnvVar string
	// Sources is a directory of the tools module with a main package of
	// the program's own (its files join the cache key); empty for an
	// upstream package.
	Sources string
	// Stage, when set, prepares a build directory outside the module cache
	// (for a package that needs generated files beside its sources) and
	// returns it with the package to build there.
	Stage func(modDir string) (dir, pkg string, err error)
}

// Pulumi is the Pulumi CLI at the version the SDK is pinned to.
var Pulumi = Tool{Module: "pulumi", Package: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi", Binary: "pulumi",
	LDFlags: "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.259.0", EnvVar: "PULSAR_FLEET_PULUMI"}

// LanguageHost is the Go language host the CLI needs to run a project from
// its directory (pulumi-language-go; its last release inside sdk/v3).
var LanguageHost = Tool{Module: "languagehost", Package: "github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go",
	Binary: "pulumi-language-go", EnvVar: "PULSAR_FLEET_LANGUAGE_HOST"}

// Actionlint lints the GitHub workflows the program renders.
var Actionlint = Tool{Module: "actionlint", Package: "github.com/rhysd/actionlint/cmd/actionlint",
	Binary: "actionlint", EnvVar: "PULSAR_FLEET_ACTIONLINT"}

// KubeAPIServer is the API server of the API-server test tier (Kubernetes
// v1.37.0, staging modules mapped to their published v0.37.0 versions).
var KubeAPIServer = Tool{Module: "kubeapiserver", Package: "k8s.io/kubernetes/cmd/kube-apiserver",
	Binary: "kube-apiserver", EnvVar: "PULSAR_FLEET_KUBE_APISERVER",
	// The version /version reports (a source build says v0.0.0-master,
	// which charts' kubeVersion constraints refuse).
	LDFlags: "-X k8s.io/component-base/version.gitVersion=v1.37.0 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"}

// Helm renders the program's releases with their real charts in the render
// tier (helm v3.22.0; the product never runs it).
var Helm = Tool{Module: "helm", Package: "helm.sh/helm/v3/cmd/helm", Binary: "helm",
	LDFlags: "-X helm.sh/helm/v3/internal/version.version=v3.22.0", EnvVar: "PULSAR_FLEET_HELM"}

// Thanos is the Thanos release of components/observability.ThanosImage;
// the Thanos tier runs its queriers with the program's arguments. The
// release is built with the tags of its .promu.yml: without slicelabels,
// Prometheus' labels take another layout than Thanos' zero-copy labels
// assume, and a store gateway serving a block panics.
var Thanos = Tool{Module: "thanos", Package: "github.com/thanos-io/thanos/cmd/thanos", Binary: "thanos",
	LDFlags: "-X github.com/prometheus/common/version.Version=0.42.4", Tags: ThanosTags, EnvVar: "PULSAR_FLEET_THANOS"}

// ThanosTags are the build tags of a Thanos release (.promu.yml).
const ThanosTags = "netgo,slicelabels"

// CacheDir is where built tools live (PULSAR_FLEET_TOOLS_CACHE, else the
// user cache directory).
func CacheDir() (string, error) {
	if d := os.Getenv("PULSAR_FLEET_TOOLS_CACHE"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "pulsar-fleet", "tools"), nil
}

// Path returns the tool's binary, building it if the cache lacks it. The
// binary sits at <root>/bin/<name> (the layout auto.PulumiCommand expects).
func (t Tool) Path(repoRoot string) (string, error) {
	if p := os.Getenv(t.EnvVar); t.EnvVar != "" && p != "" {
		return p, nil
	}
	modDir := filepath.Join(repoRoot, "tools", t.Module)
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(modDir, f))
		if err != nil {
			return "", fmt.Errorf("tools module %s: %w", t.Module, err)
		}
		h.Write(b)
	}
	h.Write([]byte(t.Package + t.LDFlags + t.Tags))
	if err := hashSources(h, modDir, t.Sources); err != nil {
		return "", err
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	root := filepath.Join(cache, t.Module+"-"+hex.EncodeToString(h.Sum(nil))[:16])
	bin := filepath.Join(root, "bin", t.Binary)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		return "", err
	}
	// One build at a time across test processes.
	lock, err := os.OpenFile(filepath.Join(root, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	start := time.Now()
	tmp := bin + ".tmp"
	args := []string{"build", "-trimpath", "-o", tmp}
	if t.LDFlags != "" {
		args = append(args, "-ldflags", t.LDFlags)
	}
	if t.Tags != "" {
		args = append(args, "-tags", t.Tags)
	}
	dir, pkg := modDir, t.Package
	if t.Stage != nil {
		if dir, pkg, err = t.Stage(modDir); err != nil {
			return "", fmt.Errorf("stage %s: %w", t.Package, err)
		}
		defer os.RemoveAll(dir)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s from tools/%s: %w\n%s", t.Package, t.Module, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "tooling: built %s in %s\n", bin, time.Since(start).Round(time.Second))
	return bin, nil
}

// BlockGen writes TSDB blocks as a Thanos sidecar uploads them, for the
// Thanos tier's history stores (tools/thanos/blockgen, with the Prometheus
// TSDB of the Thanos release).
var BlockGen = Tool{Module: "thanos", Package: "github.com/pulsar-fleet/pulsar-fleet/tools/thanos/blockgen", Binary: "thanos-blockgen",
	Tags: ThanosTags, Sources: "blockgen", EnvVar: "PULSAR_FLEET_BLOCKGEN"}

// All are the tools the test tiers drive.
var All = []Tool{Pulumi, LanguageHost, Actionlint, KubeAPIServer, Helm, KubernetesProvider, Thanos, BlockGen}

// hashSources adds the files under dir in modDir, paths and contents, to
// h.
func hashSources(h io.Writer, modDir, dir string) error {
	if dir == "" {
		return nil
	}
	base := filepath.Join(modDir, dir)
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, path)
		fmt.Fprintf(h, "%s\x00%d\x00", rel, len(b))
		_, err = h.Write(b)
		return err
	})
	if err != nil {
		return fmt.Errorf("tool sources: %w", err)
	}
	return nil
}

// Select returns the tools named by their module (every tool of a module
// it names; all when none is named); an unknown name is an error that
// lists the known ones.
func Select(names []string) ([]Tool, error) {
	if len(names) == 0 {
		return All, nil
	}
	byName := map[string][]Tool{}
	var known []string
	for _, t := range All {
		if _, ok := byName[t.Module]; !ok {
			known = append(known, t.Module)
		}
		byName[t.Module] = append(byName[t.Module], t)
	}
	var out []Tool
	for _, n := range names {
		ts, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("unknown tool %q: want one of %v", n, known)
		}
		out = append(out, ts...)
	}
	return out, nil
}
