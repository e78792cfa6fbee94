// Package manifests extracts every Kubernetes object a stack emits from an
// offline preview: the pulumi-kubernetes resources themselves (typed kinds
// and custom resources) and the objects a Helm release deploys verbatim
// from its values (the Pulsar chart's extraDeploy). The API-server tier
// applies them to a real API server; the security baseline reads them.
package manifests

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
)

// Object is one Kubernetes object and where it came from.
type Object struct {
	// Source is the URN of the Pulumi resource that emits it.
	Source string
	// Object is the manifest (apiVersion, kind, metadata, ...).
	Object map[string]any
	// Unknown lists the paths whose values the preview could not know
	// (resource outputs); Placeholder replaced them.
	Unknown []string
	// Redacted lists the Secret fields whose whole content is a Pulumi
	// secret (the Kubernetes SDK marks a Secret's data so); one
	// RedactedKey entry stands in for them.
	Redacted []string
}

// RedactedKey is the one key that stands in for a Secret's secret data.
const RedactedKey = "redacted"

// Placeholder stands in for a value only known after deployment.
const Placeholder = "preview-unknown"

// APIVersion, Kind, Name and Namespace read the object's identity.
func (o Object) APIVersion() string { s, _ := o.Object["apiVersion"].(string); return s }

// Kind is the object's kind.
func (o Object) Kind() string { s, _ := o.Object["kind"].(string); return s }

// Name is metadata.name.
func (o Object) Name() string { return str(meta(o.Object)["name"]) }

// Namespace is metadata.namespace ("" for cluster-scoped or defaulted).
func (o Object) Namespace() string { return str(meta(o.Object)["namespace"]) }

// String identifies the object in messages.
func (o Object) String() string {
	id := o.Name()
	if ns := o.Namespace(); ns != "" {
		id = ns + "/" + id
	}
	return fmt.Sprintf("%s %s %s (from %s)", o.APIVersion(), o.Kind(), id, o.Source)
}

func meta(obj map[string]any) map[string]any {
	m, _ := obj["metadata"].(map[string]any)
	return m
}

func str(v any) string { s, _ := v.(string); return s }

// nonObject are pulumi-kubernetes types that are not one Kubernetes object.
var nonObject = regexp.MustCompile(`^kubernetes:(helm\.sh/|yaml(/v2)?:|kustomize(/v2)?:|index:)|:(Provider|ConfigFile|ConfigGroup|Directory)$|Patch$`)

// PassThroughKeys are the charts' lists of objects they render as given:
// Pulsar's extraDeploy, kube-prometheus-stack's extraManifests.
var PassThroughKeys = []string{"extraDeploy", "extraManifests"}

// From returns every object of the recorded resources, sorted by kind and
// name. Objects without a name get the one Pulumi would auto-name them by
// (the resource name); the values the preview could not know become
// Placeholder, and the paths are listed so a caller can tell.
func From(resources []recorder.Resource) []Object {
	var out []Object
	for _, r := range resources {
		if !r.Custom || !strings.HasPrefix(r.Type, "kubernetes:") {
			continue
		}
		if strings.HasPrefix(r.Type, "kubernetes:helm.sh/") {
			ns := str(r.Inputs["namespace"])
			values, _ := r.Inputs["values"].(map[string]any)
			// The charts' pass-through lists: Pulsar's extraDeploy,
			// kube-prometheus-stack's extraManifests.
			for _, key := range PassThroughKeys {
				extra, _ := values[key].([]any)
				for _, e := range extra {
					if m, ok := e.(map[string]any); ok {
						out = append(out, build(r.URN, m, ns, ""))
					}
				}
			}
			continue
		}
		if nonObject.MatchString(r.Type) {
			continue
		}
		out = append(out, build(r.URN, r.Inputs, "", r.Name))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind() != out[j].Kind() {
			return out[i].Kind() < out[j].Kind()
		}
		return out[i].Namespace()+"/"+out[i].Name() < out[j].Namespace()+"/"+out[j].Name()
	})
	return out
}

func build(source string, inputs map[string]any, defaultNS, autoName string) Object {
	o := Object{Source: source}
	obj := replaceUnknown(inputs, "", &o.Unknown).(map[string]any)
	m := meta(obj)
	if m == nil {
		m = map[string]any{}
		obj["metadata"] = m
	}
	if str(m["name"]) == "" && autoName != "" {
		m["name"] = dnsName(autoName)
	}
	if str(m["namespace"]) == "" && defaultNS != "" {
		m["namespace"] = defaultNS
	}
	if obj["kind"] == "Secret" {
		for field, placeholder := range map[string]string{"stringData": "[secret]", "data": "W3NlY3JldF0="} {
			if obj[field] == "[secret]" {
				obj[field] = map[string]any{RedactedKey: placeholder}
				o.Redacted = append(o.Redacted, field)
			}
		}
		sort.Strings(o.Redacted)
	}
	o.Object = obj
	return o
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

func dnsName(s string) string {
	s = strings.Trim(notDNS.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	return s
}

// replaceUnknown copies v, dropping nulls and replacing the recorder's
// unknown marker with Placeholder.
func replaceUnknown(v any, path string, unknown *[]string) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			if e == nil {
				continue
			}
			out[k] = replaceUnknown(e, path+"."+k, unknown)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = replaceUnknown(e, fmt.Sprintf("%s[%d]", path, i), unknown)
		}
		return out
	case string:
		if t == "[unknown]" {
			*unknown = append(*unknown, path)
			return Placeholder
		}
		return t
	default:
		return v
	}
}

// Resolve copies values, dropping nulls and replacing the preview's unknown
// values with Placeholder (a Helm release's values, before rendering).
func Resolve(values map[string]any) map[string]any {
	var unknown []string
	return replaceUnknown(values, "", &unknown).(map[string]any)
}
