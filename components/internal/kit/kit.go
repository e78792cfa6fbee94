package kit

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypePrefix prefixes every component type token of the project.
const TypePrefix = "pulsar-fleet:"

// Type builds a component type token: pulsar-fleet:<module>:<Type>.
func Type(module, typ string) string { return TypePrefix + module + ":" + typ }

// Tags merges tag sets (later sets win) into a StringMap.
func Tags(sets ...map[string]string) pulumi.StringMap {
	out := pulumi.StringMap{}
	for _, s := range sets {
		for k, v := range s {
			out[k] = pulumi.String(v)
		}
	}
	return out
}

// MergeTags merges tag sets into a plain map.
func MergeTags(sets ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		for k, v := range s {
			out[k] = v
		}
	}
	return out
}

// Wrap wraps an error with the component kind and name.
func Wrap(kind, name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %q: %w", kind, name, err)
}

// SortedKeys returns a map's keys in order.
func SortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// StringInputs lifts a slice of strings.
func StringInputs(xs []string) pulumi.StringArray {
	out := make(pulumi.StringArray, len(xs))
	for i, x := range xs {
		out[i] = pulumi.String(x)
	}
	return out
}
