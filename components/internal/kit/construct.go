package kit

import (
	"errors"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Config is a component's plain configuration: JSON-serialisable values
// only, with its defaults in one place and one validation.
type Config[C any] interface {
	WithDefaults() C
	Validate() error
}

// Deps are the outputs of other components a component needs. Validate
// reports the ones that are missing.
type Deps interface {
	Validate() error
}

// DepsFor are Deps whose required outputs depend on the config (a peer's
// outputs for each configured peer, say). Construct calls ValidateFor with
// the defaulted config, before anything is registered.
type DepsFor[C any] interface {
	ValidateFor(cfg C) error
}

// NoDeps is the Deps of a component that needs no other component.
type NoDeps struct{}

// Validate accepts: there is nothing to miss.
func (NoDeps) Validate() error { return nil }

// Children registers a component's children under parent and returns the
// component's outputs.
type Children[C any] func(cfg C, parent pulumi.ResourceOption) (pulumi.Map, error)

// Construct registers a component the one way every component of the
// project is registered: defaults, then the validation of its plain config
// and its dependencies, then the component, then its children, then its
// outputs. A config or dependency error (Validate, and ValidateFor where
// the Deps have it) registers nothing. Every error
// names the component (its module, from token) and its name.
func Construct[C Config[C], S pulumi.ComponentResource](ctx *pulumi.Context, token, name string, cfg C, deps Deps,
	state S, children Children[C], opts ...pulumi.ResourceOption) (S, error) {
	var zero S
	kind := Module(token)
	cfg = cfg.WithDefaults()
	errs := []error{cfg.Validate(), deps.Validate()}
	if d, ok := deps.(DepsFor[C]); ok {
		errs = append(errs, d.ValidateFor(cfg))
	}
	if err := errors.Join(errs...); err != nil {
		return zero, Wrap(kind, name, err)
	}
	if err := ctx.RegisterComponentResource(token, name, state, opts...); err != nil {
		return zero, Wrap(kind, name, err)
	}
	outputs, err := children(cfg, pulumi.Parent(state))
	if err != nil {
		return zero, Wrap(kind, name, err)
	}
	if err := ctx.RegisterResourceOutputs(state, outputs); err != nil {
		return zero, Wrap(kind, name, err)
	}
	return state, nil
}

// Module is the module part of a type token (pulsar-fleet:<module>:<Type>).
func Module(token string) string {
	parts := strings.Split(token, ":")
	if len(parts) != 3 {
		return token
	}
	return parts[1]
}

// Missing reports the dependencies that were not given, by name: a nil
// input means the wiring forgot a component's output.
func Missing(deps map[string]any) error {
	var missing []string
	for _, name := range SortedKeys(deps) {
		if isNil(deps[name]) {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return errors.New("missing dependencies: " + strings.Join(missing, ", "))
}

// isNil reports a nil value, including a nil pointer, slice or map held in
// an interface.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map, reflect.Func, reflect.Chan:
		return r.IsNil()
	}
	return false
}

// MovedFrom is the option a resource takes when it moved from directly
// under former into a component of its own beneath it: an alias to the URN
// it had there, so a running stack keeps the resource (updates it in
// place) instead of deleting and re-creating it. Nil former (a component
// built alone) adds nothing.
func MovedFrom(former pulumi.Resource) pulumi.ResourceOption {
	if former == nil {
		return pulumi.Aliases(nil)
	}
	return pulumi.Aliases([]pulumi.Alias{{Parent: former}})
}
