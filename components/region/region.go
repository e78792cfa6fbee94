// Package region is the root component of one region: every resource of the
// region is its descendant, so a region's resource tree reads top-down in
// previews and a whole region can be targeted or protected as one.
package region

import (
	"errors"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// TypeToken is the component's type.
var TypeToken = kit.Type("region", "Region")

// Config describes the region the root component stands for.
type Config struct {
	// Stack is the Pulumi stack name.
	Stack string
	// Region is the AWS region.
	Region string
	// Role is primary, secondary or dr.
	Role model.RegionRole
	// Phase is the scaling phase the region is sized for.
	Phase string
	// Tags are applied to every taggable AWS resource of the region.
	Tags map[string]string
}

// WithDefaults returns the config: a region has no defaults.
func (a Config) WithDefaults() Config { return a }

// Validate checks the arguments.
func (a Config) Validate() error {
	var errs []error
	if a.Stack == "" {
		errs = append(errs, errors.New("stack: empty"))
	}
	if a.Region == "" {
		errs = append(errs, errors.New("region: empty"))
	}
	if !a.Role.Valid() {
		errs = append(errs, model.Invalid("role", a.Role, model.RegionRoles))
	}
	if !model.PhaseName(a.Phase).Valid() {
		errs = append(errs, model.Invalid("phase", model.PhaseName(a.Phase), model.PhaseNames))
	}
	return errors.Join(errs...)
}

// DefaultTags are the tags every resource of a region carries.
func (a Config) DefaultTags() map[string]string {
	return kit.MergeTags(map[string]string{
		"pulsar-fleet:stack":  a.Stack,
		"pulsar-fleet:region": a.Region,
		"pulsar-fleet:role":   string(a.Role),
		"pulsar-fleet:phase":  a.Phase,
		"managed-by":          "pulumi",
	}, a.Tags)
}

// Region is the root component.
type Region struct {
	pulumi.ResourceState
	Config Config
}

// Deps: the root needs no other component.
type Deps = kit.NoDeps

// New registers the root component. Unlike the others, its children are
// the region's components, added by the caller with pulumi.Parent(region),
// so Finish, not New, registers the outputs.
func New(ctx *pulumi.Context, name string, cfg Config, deps Deps, opts ...pulumi.ResourceOption) (*Region, error) {
	if err := errors.Join(cfg.Validate(), deps.Validate()); err != nil {
		return nil, kit.Wrap("region", name, err)
	}
	r := &Region{Config: cfg}
	if err := ctx.RegisterComponentResource(TypeToken, name, r, opts...); err != nil {
		return nil, kit.Wrap("region", name, err)
	}
	return r, nil
}

// Finish registers the region's outputs, and adds its region, role and
// phase to them where they lack one: a phase the caller reports (only once
// the releases run it) is kept.
func (r *Region) Finish(ctx *pulumi.Context, outputs pulumi.Map) error {
	for k, v := range map[string]string{"region": r.Config.Region, "role": string(r.Config.Role), "phase": r.Config.Phase} {
		if _, ok := outputs[k]; !ok {
			outputs[k] = pulumi.String(v)
		}
	}
	return ctx.RegisterResourceOutputs(r, outputs)
}
