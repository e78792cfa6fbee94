package regions

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/internal/jsonform"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// RegionDesign is one region at one phase as a pure value: the plan's
// fleet and every component's configuration, computed and validated before
// anything is registered. It holds no Pulumi output: the places where one
// component's outputs feed another (ids, ARNs, the cluster's provider) are
// filled by Build and left out here. It is what a reviewer reads
// (`pulsar-fleet design`, goldens per stack and phase) and what comparing
// two phases starts from.
type RegionDesign struct {
	Stack  string           `json:"stack"`
	Region string           `json:"region"`
	Role   model.RegionRole `json:"role"`
	Phase  string           `json:"phase"`
	// Between is set on a state between two phases: the step of the
	// transition from another phase to Phase (transition.Interim).
	Between *Between `json:"transition,omitempty"`
	// Fleet summarises the plan: per role, the count, the capacity split and
	// the instance type, with the limit that binds.
	Fleet map[sizing.Role]DesignRole `json:"fleet"`
	// MonthlyUSD is the plan's monthly cost of the region.
	MonthlyUSD float64 `json:"monthlyUsd"`
	// Components are every component's arguments (wiring left out).
	Components Configs `json:"-"`
	// Plan is the full capacity plan Components were computed from.
	Plan sizing.RegionPlan `json:"-"`
}

// Between names a state between two phases: step Step of the transition
// from phase From.
type Between struct {
	From string `json:"from"`
	Step int    `json:"step"`
}

// DesignRole is one role's share of the fleet.
type DesignRole struct {
	Count          int    `json:"count"`
	Spot           int    `json:"spot"`
	OnDemand       int    `json:"onDemand"`
	InstanceType   string `json:"instanceType"`
	LimitingFactor string `json:"limitingFactor"`
	LocalNVMe      bool   `json:"localNVMe,omitempty"`
}

// Design computes a region's design from its spec: the capacity plan (with
// its failure checks), then every component's validated arguments.
func Design(spec Spec, cat *sizing.Catalog) (RegionDesign, error) {
	plan, err := PlanFor(spec, cat)
	if err != nil {
		return RegionDesign{}, fmt.Errorf("region %s: %w", spec.Stack, err)
	}
	args, err := ComponentConfigs(spec, plan, cat)
	if err != nil {
		return RegionDesign{}, fmt.Errorf("region %s: %w", spec.Stack, err)
	}
	if err := args.Validate(); err != nil {
		return RegionDesign{}, fmt.Errorf("region %s: %w", spec.Stack, err)
	}
	d := RegionDesign{Stack: spec.Stack, Region: spec.Region, Role: spec.Role, Phase: spec.Phase.Name,
		Fleet: map[sizing.Role]DesignRole{}, MonthlyUSD: plan.Cost.TotalUSD, Components: args, Plan: plan}
	for _, r := range []sizing.RoleSize{plan.Brokers, plan.Bookies, plan.Proxies, plan.ZooKeeper} {
		d.Fleet[r.Role] = DesignRole{Count: r.Count, Spot: r.Spot, OnDemand: r.OnDemand, InstanceType: r.InstanceType,
			LimitingFactor: r.LimitingFactor, LocalNVMe: r.LocalNVMe}
	}
	return d, nil
}

// JSON renders the design, components included, as indented JSON with
// sorted keys: the form of the goldens and of `pulsar-fleet design`.
func (d RegionDesign) JSON() ([]byte, error) {
	head, err := plainValue(reflect.ValueOf(d))
	if err != nil {
		return nil, err
	}
	comps, err := plainValue(reflect.ValueOf(d.Components))
	if err != nil {
		return nil, err
	}
	out := head.(map[string]any)
	out["components"] = comps
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

var (
	inputType    = reflect.TypeOf((*pulumi.Input)(nil)).Elem()
	resourceType = reflect.TypeOf((*pulumi.Resource)(nil)).Elem()
)

// isWiring reports a type whose values are other components' outputs or
// resources: they exist only while the program runs.
func isWiring(t reflect.Type) bool {
	if t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t.Implements(inputType) || t.Implements(resourceType)
}

// plainValue turns a value into JSON-friendly data through its JSON names,
// leaving wiring out.
func plainValue(v reflect.Value) (any, error) {
	if !v.IsValid() {
		return nil, nil
	}
	if isWiring(v.Type()) {
		return nil, nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		return plainValue(v.Elem())
	case reflect.Struct:
		return plainStruct(v)
	case reflect.Map:
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			e, err := plainValue(v.MapIndex(k))
			if err != nil {
				return nil, err
			}
			if e != nil {
				out[fmt.Sprint(k.Interface())] = e
			}
		}
		return out, nil
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil, nil
		}
		out := make([]any, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			e, err := plainValue(v.Index(i))
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	}
	// Scalars (and types with their own JSON form, such as model.Secret).
	return jsonform.Value(v.Interface())
}

func plainStruct(v reflect.Value) (any, error) {
	if _, ok := v.Interface().(json.Marshaler); ok {
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return nil, err
		}
		var out any
		err = json.Unmarshal(b, &out)
		return out, err
	}
	out := map[string]any{}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, skip := fieldName(f)
		if skip || isWiring(f.Type) {
			continue
		}
		e, err := plainValue(v.Field(i))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		if e != nil {
			out[name] = e
		}
	}
	return out, nil
}

// fieldName is a field's JSON name: its tag, else its Go name.
func fieldName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", true
	}
	tag := f.Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	switch {
	case name == "-":
		return "", true
	case name != "":
		return name, false
	}
	return f.Name, false
}

// SortedRoles lists a design's roles in a stable order.
func (d RegionDesign) SortedRoles() []sizing.Role {
	out := make([]sizing.Role, 0, len(d.Fleet))
	for r := range d.Fleet {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
