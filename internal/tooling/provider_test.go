package tooling

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The staged build holds the provider's main package with the two files
// its generate step writes, the schema carrying the version the binary
// reports, in a module of its own with the tools module's requirements.
func TestStageKubernetesProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads the provider module")
	}
	modDir := filepath.Join("..", "..", "tools", KubernetesProvider.Module)
	dir, pkg, err := stageKubernetesProvider(modDir)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	main := filepath.Join(dir, filepath.FromSlash(pkg))
	for _, f := range []string{"main.go", "schema-embed.json", "terraform-mapping-embed.json"} {
		if _, err := os.Stat(filepath.Join(main, f)); err != nil {
			t.Error(err)
		}
	}
	var schema struct{ Name, Version string }
	b, err := os.ReadFile(filepath.Join(main, "schema-embed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	if schema.Name != "kubernetes" || schema.Version != KubernetesProviderVersion {
		t.Errorf("schema %q version %q, want kubernetes %s", schema.Name, schema.Version, KubernetesProviderVersion)
	}
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), "module pulsar-fleet.invalid/staged-kubernetes-provider") || !strings.Contains(string(mod), providerModule+" ") {
		t.Errorf("staged go.mod:\n%s", mod)
	}
}
