package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
	return f, nil
}

// RawFromContext reads the current stack's config from the engine: every
// declared project key plus aws:region, and which of them are secrets. The
// SDK cannot list config keys, so project keys the program does not declare
// (typos) are found in the PULUMI_CONFIG variable the language host sets
// for real runs.
func RawFromContext(ctx *pulumi.Context) (Raw, []string) {
	raw := Raw{}
	var all map[string]string
	if env := os.Getenv("PULUMI_CONFIG"); env != "" && json.Unmarshal([]byte(env), &all) == nil {
		for k, v := range all {
			if strings.HasPrefix(k, Project+":") {
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
