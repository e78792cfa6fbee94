// Package crdschema validates custom resources against the OpenAPI v3
// schema of their CustomResourceDefinition, the way the API server's
// structural validation does for types and unknown fields: every object
// schema with properties rejects fields it does not declare, unless it sets
// x-kubernetes-preserve-unknown-fields. CEL rules (x-kubernetes-validations)
// are not evaluated here; the API-server test tier checks those.
package crdschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"gopkg.in/yaml.v3"
)

// Validator validates objects of one CRD version.
type Validator struct {
	Group, Kind, Version string
	schema               *jsonschema.Schema
}

// Load reads a CRD file and prepares the validator of the given version.
func Load(path, version string) (*Validator, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var crd struct {
		Spec struct {
			Group string `yaml:"group"`
			Names struct {
				Kind string `yaml:"kind"`
			} `yaml:"names"`
			Versions []struct {
				Name   string `yaml:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
				} `yaml:"schema"`
			} `yaml:"versions"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &crd); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name != version {
			continue
		}
		s := strict(v.Schema.OpenAPIV3Schema)
		raw, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft2020
		url := "crd://" + crd.Spec.Group + "/" + version + "/" + crd.Spec.Names.Kind
		if err := c.AddResource(url, bytes.NewReader(raw)); err != nil {
			return nil, err
		}
		sch, err := c.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("compile %s: %w", url, err)
		}
		return &Validator{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind, Version: version, schema: sch}, nil
	}
	return nil, fmt.Errorf("%s: no version %s", path, version)
}

// strict rewrites an OpenAPI schema: closed objects, no OpenAPI-only
// keywords the JSON Schema compiler does not know.
func strict(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			switch {
			case strings.HasPrefix(k, "x-kubernetes-"), k == "nullable":
				continue
			}
			out[k] = strict(e)
		}
		_, hasProps := x["properties"]
		preserve, _ := x["x-kubernetes-preserve-unknown-fields"].(bool)
		if _, hasAdditional := x["additionalProperties"]; hasProps && !hasAdditional && !preserve {
			out["additionalProperties"] = false
		}
		if x["x-kubernetes-int-or-string"] == true {
			delete(out, "type")
			out["anyOf"] = []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}
		}
		if nullable, _ := x["nullable"].(bool); nullable {
			if t, ok := out["type"].(string); ok {
				out["type"] = []any{t, "null"}
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = strict(e)
		}
		return out
	}
	return v
}

// Validate checks an object (apiVersion, kind, metadata, spec) decoded from
// JSON. metadata is not part of CRD schemas and is checked for a name only.
func (v *Validator) Validate(obj map[string]any) error {
	if obj["apiVersion"] != v.Group+"/"+v.Version || obj["kind"] != v.Kind {
		return fmt.Errorf("object is %v %v, want %s/%s %s", obj["apiVersion"], obj["kind"], v.Group, v.Version, v.Kind)
	}
	// Round-trip through JSON so numbers and maps have JSON types.
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	if m, ok := doc.(map[string]any); ok {
		delete(m, "metadata")
	}
	if err := v.schema.Validate(doc); err != nil {
		return fmt.Errorf("%s %s: %w", v.Kind, name(obj), err)
	}
	return nil
}

func name(obj map[string]any) string {
	if m, ok := obj["metadata"].(map[string]any); ok {
		if n, ok := m["name"].(string); ok {
			return n
		}
	}
	return "(unnamed)"
}
