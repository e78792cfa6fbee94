package tooling

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// KubernetesProviderVersion is the version the built provider reports: the
// Kubernetes SDK's (go.mod), so the engine loads it for the program's
// Kubernetes resources instead of looking for a download. The source is
// the provider module at commit f47bc2d6 (tools/kubernetesprovider).
const KubernetesProviderVersion = "4.33.0"

// providerModule and providerMain are the provider module and its main
// package.
const (
	providerModule = "github.com/pulumi/pulumi-kubernetes/provider/v4"
	providerMain   = providerModule + "/cmd/pulumi-resource-kubernetes"
)

// KubernetesProvider is the Kubernetes provider plugin of the real-provider
// tier. Its main package embeds two files the provider's generate step
// writes (the schema with its version set, and the compacted Terraform
// mapping), and the module cache is read-only, so the build runs in a
// staged copy of the main package inside a copy of the tools module.
var KubernetesProvider = Tool{Module: "kubernetesprovider", Package: providerMain, Binary: "pulumi-resource-kubernetes",
	LDFlags: "-X " + providerModule + "/pkg/version.Version=" + KubernetesProviderVersion,
	EnvVar:  "PULSAR_FLEET_KUBERNETES_PROVIDER", Stage: stageKubernetesProvider}

// stageKubernetesProvider copies the tools module's go.mod and go.sum and
// the provider's main.go into a temporary module, and writes the two
// embedded files beside it.
func stageKubernetesProvider(modDir string) (string, string, error) {
	src, err := moduleDir(modDir, providerModule)
	if err != nil {
		return "", "", err
	}
	dir, err := os.MkdirTemp("", "pulumi-resource-kubernetes-")
	if err != nil {
		return "", "", err
	}
	main := filepath.Join(dir, "cmd", "pulumi-resource-kubernetes")
	steps := []func() error{
		func() error { return os.MkdirAll(main, 0o755) },
		func() error { return copyFile(filepath.Join(modDir, "go.sum"), filepath.Join(dir, "go.sum")) },
		func() error { return stagedGoMod(modDir, dir) },
		func() error {
			return copyFile(filepath.Join(src, "cmd", "pulumi-resource-kubernetes", "main.go"), filepath.Join(main, "main.go"))
		},
		func() error {
			return writeEmbeddedSchema(filepath.Join(src, "cmd", "pulumi-resource-kubernetes"), main)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			os.RemoveAll(dir)
			return "", "", err
		}
	}
	return dir, "./cmd/pulumi-resource-kubernetes", nil
}

// moduleDir is where the module cache holds a module the tools module
// requires, downloading it first if the cache lacks it (a cold cache).
func moduleDir(modDir, module string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = modDir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("download %s: %w", module, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", fmt.Errorf("download %s: %w", module, err)
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("download %s: %s", module, info.Error)
	}
	return info.Dir, nil
}

// stagedGoMod is the tools module's go.mod under another module path (the
// staged copy is a module of its own).
func stagedGoMod(modDir, dir string) error {
	b, err := os.ReadFile(filepath.Join(modDir, "go.mod"))
	if err != nil {
		return err
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "module ") {
			lines[i] = "module pulsar-fleet.invalid/staged-kubernetes-provider"
		}
	}
	return os.WriteFile(filepath.Join(dir, "go.mod"), []byte(strings.Join(lines, "\n")), 0o644)
}

// writeEmbeddedSchema does what the provider's generate.go does: the
// schema with its version set, and the Terraform mapping re-marshalled.
func writeEmbeddedSchema(src, dst string) error {
	var schema map[string]any
	if err := readJSON(filepath.Join(src, "schema.json"), &schema); err != nil {
		return err
	}
	schema["version"] = KubernetesProviderVersion
	var mapping any
	if err := readJSON(filepath.Join(src, "terraform-mapping.json"), &mapping); err != nil {
		return err
	}
	for name, v := range map[string]any{"schema-embed.json": schema, "terraform-mapping-embed.json": mapping} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}
