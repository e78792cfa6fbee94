// Package kit holds the conventions every component shares: typed values
// turned into nested pulumi.Maps (an unknown output blanks only its own
// leaf), typed IAM policy documents, tags, and errors.
package kit

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/internal/jsonform"
)

// ToMap converts a typed value (struct with json tags, map, slice, scalar)
// into a nested pulumi.Map. Fields tagged `json:",omitempty"` are left out
// when empty. pulumi.Input leaves (outputs) are kept as they are, so an
// unknown output blanks only its own leaf, never the whole values tree.
func ToMap(v any) (pulumi.Map, error) {
	x, err := toInput(reflect.ValueOf(v))
	if err != nil {
		return nil, err
	}
	m, ok := x.(pulumi.Map)
	if !ok {
		return nil, fmt.Errorf("values: top level is %T, want a struct or map", v)
	}
	return m, nil
}

var inputType = reflect.TypeOf((*pulumi.Input)(nil)).Elem()

func toInput(v reflect.Value) (pulumi.Input, error) {
	if !v.IsValid() {
		return nil, nil
	}
	if v.Type().Implements(inputType) {
		if (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) && v.IsNil() {
			return nil, nil
		}
		return v.Interface().(pulumi.Input), nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		return toInput(v.Elem())
	case reflect.Struct:
		return structInput(v)
	case reflect.Map:
		return mapInput(v)
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil, nil
		}
		a := pulumi.Array{}
		for i := 0; i < v.Len(); i++ {
			e, err := toInput(v.Index(i))
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			a = append(a, e)
		}
		return a, nil
	case reflect.String:
		return pulumi.String(v.String()), nil
	case reflect.Bool:
		return pulumi.Bool(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return pulumi.Int(int(v.Int())), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return pulumi.Int(int(v.Uint())), nil
	case reflect.Float32, reflect.Float64:
		return pulumi.Float64(v.Float()), nil
	}
	return nil, fmt.Errorf("values: unsupported kind %s", v.Kind())
}

// structInput is a struct's fields by their JSON names, with inline
// (embedded) fields merged and empty omitempty fields left out.
func structInput(v reflect.Value) (pulumi.Input, error) {
	m := pulumi.Map{}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, omit, inline := jsonName(f)
		if name == "-" || (omit && isEmpty(v.Field(i))) {
			continue
		}
		e, err := toInput(v.Field(i))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if sm, ok := e.(pulumi.Map); ok && inline {
			for k, x := range sm {
				m[k] = x
			}
		} else if e != nil && !inline {
			m[name] = e
		}
	}
	return m, nil
}

// mapInput is a map with its keys in order.
func mapInput(v reflect.Value) (pulumi.Input, error) {
	m := pulumi.Map{}
	keys := v.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	for _, k := range keys {
		e, err := toInput(v.MapIndex(k))
		if err != nil {
			return nil, fmt.Errorf("%v: %w", k, err)
		}
		if e != nil {
			m[fmt.Sprint(k.Interface())] = e
		}
	}
	return m, nil
}

func jsonName(f reflect.StructField) (name string, omitempty, inline bool) {
	tag := f.Tag.Get("json")
	if tag == "" {
		return f.Name, false, f.Anonymous
	}
	parts := strings.Split(tag, ",")
	name = parts[0]
	for _, p := range parts[1:] {
		switch p {
		case "omitempty", "omitzero":
			omitempty = true
		case "inline":
			inline = true
		}
	}
	if name == "" {
		name = f.Name
		inline = inline || f.Anonymous
	}
	return name, omitempty, inline
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Map, reflect.Slice, reflect.String, reflect.Array:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return v.IsZero()
}

// Paths lists every leaf path of a typed value in dotted form, as the Helm
// chart reads them (.Values.a.b.c). Maps and lists under freeForm keys are
// reported as the key itself. Used to check values against a chart's schema.
func Paths(v any, freeForm func(path string) bool) ([]string, error) {
	tree, err := jsonform.Value(v)
	if err != nil {
		return nil, err
	}
	var out []string
	var walk func(prefix string, x any)
	walk = func(prefix string, x any) {
		if prefix != "" && freeForm != nil && freeForm(prefix) {
			out = append(out, prefix)
			return
		}
		m, ok := x.(map[string]any)
		if !ok || len(m) == 0 {
			out = append(out, prefix)
			return
		}
		for k, e := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			walk(p, e)
		}
	}
	walk("", tree)
	sort.Strings(out)
	return out, nil
}
