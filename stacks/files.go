package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// SecretPlaceholder stands in for a `secure:` config value that cannot be
// decrypted (the offline preview and peer files never decrypt).
const SecretPlaceholder = model.Redacted

// StackFile is one Pulumi.<stack>.yaml read from disk.
type StackFile struct {
	Stack      string
	Path       string
	Raw        Raw
	SecretKeys []string
}

// ReadStackFile parses a stack settings file into raw config: structured
// values are JSON-encoded as the engine does, secure values become
// SecretPlaceholder and are listed in SecretKeys.
func ReadStackFile(path string) (StackFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return StackFile{}, fmt.Errorf("read stack file: %w", err)
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return StackFile{}, fmt.Errorf("parse %s: %w", path, err)
	}
	base := filepath.Base(path)
	sf := StackFile{Stack: strings.TrimSuffix(strings.TrimPrefix(base, "Pulumi."), filepath.Ext(base)), Path: path, Raw: Raw{}}
	for k, v := range doc.Config {
		v, secret := unsecure(v)
		if secret {
			sf.SecretKeys = append(sf.SecretKeys, k)
		}
		switch x := v.(type) {
		case string:
			sf.Raw[k] = x
		case map[string]any, []any:
			j, err := json.Marshal(x)
			if err != nil {
				return StackFile{}, fmt.Errorf("%s: config %s: %w", path, k, err)
			}
			sf.Raw[k] = string(j)
		default:
			sf.Raw[k] = fmt.Sprint(x)
		}
	}
	sort.Strings(sf.SecretKeys)
	return sf, nil
}

// unsecure replaces {secure: ...} values, at any depth, by the placeholder.
func unsecure(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["secure"]; ok && len(x) == 1 {
			return SecretPlaceholder, true
		}
		secret := false
		out := map[string]any{}
		for k, e := range x {
			var s bool
			out[k], s = unsecure(e)
			secret = secret || s
		}
		return out, secret
	case []any:
		secret := false
		out := make([]any, len(x))
		for i, e := range x {
			var s bool
			out[i], s = unsecure(e)
			secret = secret || s
		}
		return out, secret
	}
	return v, false
}

// StackFiles reads every Pulumi.<stack>.yaml in dir.
func StackFiles(dir string) ([]StackFile, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []StackFile
	for _, p := range paths {
		sf, err := ReadStackFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, sf)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Stack < out[j].Stack })
	if len(out) == 0 {
		return nil, fmt.Errorf("no Pulumi.<stack>.yaml files in %s", dir)
	}
	return out, nil
}

// LoadFleet reads, parses and validates every stack file in dir.
func LoadFleet(dir string) (Fleet, []StackFile, error) {
	files, err := StackFiles(dir)
	if err != nil {
		return Fleet{}, nil, err
	}
	f, err := FleetFromFiles(files)
	if err != nil {
		return Fleet{}, files, err
	}
	return f, files, ValidateFleet(f)
}

// FleetFromFiles parses stack files into a fleet without validating it.
func FleetFromFiles(files []StackFile) (Fleet, error) {
	var f Fleet
	for _, sf := range files {
		c, err := ParseConfig(sf.Stack, sf.Raw, sf.SecretKeys...)
		if err != nil {
			return Fleet{}, fmt.Errorf("%s: %w", sf.Path, err)
		}
		f.Stacks = append(f.Stacks, c)
	}
	return f.withRoleDefaults(), nil
}

// RawFromContext reads the current stack's config from the engine: every
// declared project key plus aws:region, and which of them are secrets. The
// SDK cannot list config keys, so keys the program does not declare (typos,
// in the project's namespace or a mistyped one) are found in the
// PULUMI_CONFIG variable the language host sets for real runs; engineEnv
// false ignores it (under the mock engine it is the caller's, not the
// stack's).
func RawFromContext(ctx *pulumi.Context, engineEnv bool) (Raw, []string) {
	raw := Raw{}
	var all map[string]string
	if env := os.Getenv("PULUMI_CONFIG"); engineEnv && env != "" && json.Unmarshal([]byte(env), &all) == nil {
		for k, v := range all {
			if ns, _, _ := strings.Cut(k, ":"); !slices.Contains(ProviderNamespaces, ns) {
				raw[k] = v
			}
		}
	}
	var secret []string
	for _, k := range append([]string{"aws:region"}, keys()...) {
		if v, ok := ctx.GetConfig(k); ok {
			raw[k] = v
			if ctx.IsConfigSecret(k) {
				secret = append(secret, k)
			}
		}
	}
	return raw, secret
}

func keys() []string {
	out := make([]string, len(ConfigKeys))
	for i, k := range ConfigKeys {
		out[i] = Key(k.Name)
	}
	return out
}

// CheckProjectFile reads dir/Pulumi.yaml, which the real engine applies
// (its defaults and types), and checks that it declares exactly ConfigKeys
// as the program reads them, so the offline preview and `pulumi up` cannot
// disagree. Errors name the key and the difference.
func CheckProjectFile(dir string) error {
	path := filepath.Join(dir, "Pulumi.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("the project file: %w (the real engine reads it; the offline preview checks it agrees with the program)", err)
	}
	var doc struct {
		Name    string `yaml:"name"`
		Runtime any    `yaml:"runtime"`
		Config  map[string]struct {
			Type    string `yaml:"type"`
			Default any    `yaml:"default"`
			Secret  bool   `yaml:"secret"`
		} `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{path}, a...)...))
	}
	if doc.Name != Project {
		bad("name %q: want %q (the config namespace the program reads)", doc.Name, Project)
	}
	if rt, _ := doc.Runtime.(string); rt != "go" {
		if m, ok := doc.Runtime.(map[string]any); !ok || m["name"] != "go" {
			bad("runtime %v: want go", doc.Runtime)
		}
	}
	for _, k := range ConfigKeys {
		d, ok := doc.Config[Key(k.Name)]
		if !ok {
			bad("config %s is not declared: want type %s", Key(k.Name), k.Type)
			continue
		}
		if d.Type != k.Type {
			bad("config %s has type %q: want %q", Key(k.Name), d.Type, k.Type)
		}
		if got := jsonOf(d.Default); got != jsonOf(parseDefault(k.Default)) {
			bad("config %s has default %s: the program's is %s", Key(k.Name), got, jsonOf(parseDefault(k.Default)))
		}
		if d.Secret != SecretKeys[k.Name] {
			bad("config %s has secret: %v: want %v", Key(k.Name), d.Secret, SecretKeys[k.Name])
		}
	}
	for name := range doc.Config {
		if !slices.Contains(keys(), name) {
			bad("config %s is declared but the program does not read it: want one of the program's keys (see stacks.ConfigKeys)", name)
		}
	}
	return errors.Join(errs...)
}

func parseDefault(s string) any {
	if s == "" {
		return nil
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	return v
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
