package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// CAStage is where the fleet CA stands in a rotation. The bootstrap stack
// holds one CA at a steady stage and two during a rotation, and every
// region trusts every CA the bootstrap holds (OutputFleetCABundle), so a
// region whose certificate the other CA signed is still accepted.
type CAStage string

// The stages of a rotation from generation N-1 to N, in order; each is
// an `up` of the bootstrap stack followed by an `up` of every region.
const (
	// CASteady: generation N alone signs and is trusted.
	CASteady CAStage = "steady"
	// CATrust: generation N is made and trusted beside N-1, which still
	// signs; the regions' certificates do not change.
	CATrust CAStage = "trust"
	// CASign: N signs, so each region's `up` replaces its certificate;
	// N-1 is still trusted, and no longer protected, so that the next
	// steady stage deletes it.
	CASign CAStage = "sign"
)

// CAStages lists the stages in a rotation's order.
var CAStages = []CAStage{CASteady, CATrust, CASign}

// Valid reports whether s is a stage.
func (s CAStage) Valid() bool { return slices.Contains(CAStages, s) }

// OutputFleetCABundle is the bootstrap output of every CA certificate the
// regions trust, the signing CA's first (PEM, not a secret). A bootstrap
// stack deployed before it has one CA: its OutputFleetCACert.
const OutputFleetCABundle = "fleetCaBundlePem"

// FleetCA is the bootstrap's fleet CA setting, pulsar-fleet-bootstrap:fleetCa.
type FleetCA struct {
	// Generation numbers the CA; the first is 1. A rotation declares the
	// next one.
	Generation int `json:"generation"`
	// Stage is the rotation's stage (CASteady when empty).
	Stage CAStage `json:"stage"`
}

// Map is the setting as stacks export it (OutputFleetCA,
// OutputFleetCAApplied), defaults filled in.
func (f FleetCA) Map() map[string]any {
	f = f.WithDefaults()
	return map[string]any{"generation": f.Generation, "stage": string(f.Stage)}
}

// String is the setting as the messages name it, defaults filled in:
// {generation: N, stage: S}.
func (f FleetCA) String() string {
	f = f.WithDefaults()
	return fmt.Sprintf("{generation: %d, stage: %s}", f.Generation, f.Stage)
}

// CAGeneration is one CA the bootstrap holds.
type CAGeneration struct {
	Generation int
	// Signs is true for the one CA that signs the regions' certificates.
	Signs bool
	// Protect is false only for the CA a rotation is about to retire.
	Protect bool
}

// Name is the CA's resource name suffix: the first keeps the name it
// always had, so an existing CA is never renamed.
func (g CAGeneration) Name() string {
	if g.Generation == 1 {
		return "fleet-ca"
	}
	return fmt.Sprintf("fleet-ca-%d", g.Generation)
}

// WithDefaults is the first CA, steady, where nothing is set.
func (f FleetCA) WithDefaults() FleetCA {
	if f.Generation == 0 {
		f.Generation = 1
	}
	if f.Stage == "" {
		f.Stage = CASteady
	}
	return f
}

// Validate checks the setting, naming the field (field is its key).
func (f FleetCA) Validate(field string) error {
	f = f.WithDefaults()
	var errs []error
	if f.Generation < 1 {
		errs = append(errs, fmt.Errorf("%s.generation %d: want 1 or more", field, f.Generation))
	}
	if !f.Stage.Valid() {
		errs = append(errs, Invalid(field+".stage", f.Stage, CAStages))
	} else if f.Stage != CASteady && f.Generation < 2 {
		errs = append(errs, fmt.Errorf("%s.stage %q: a rotation declares the new CA's generation, 2 or more (generation is %d)", field, f.Stage, f.Generation))
	}
	return errors.Join(errs...)
}

// CAs are the CAs the bootstrap holds at the setting, the signing one
// first (the order of OutputFleetCABundle).
func (f FleetCA) CAs() []CAGeneration {
	f = f.WithDefaults()
	n := f.Generation
	switch f.Stage {
	case CATrust:
		return []CAGeneration{{Generation: n - 1, Signs: true, Protect: true}, {Generation: n, Protect: true}}
	case CASign:
		return []CAGeneration{{Generation: n, Signs: true, Protect: true}, {Generation: n - 1}}
	default:
		return []CAGeneration{{Generation: n, Signs: true, Protect: true}}
	}
}

// CAMove refuses a fleet CA setting that does not follow the deployed one
// by at most one stage: steady N, then trust N+1, sign N+1, steady N+1.
// Any other move would stop trusting a CA some region's certificate may
// still carry, or delete a protected CA. field names the setting.
func CAMove(was, now FleetCA, field string) error {
	was, now = was.WithDefaults(), now.WithDefaults()
	if was == now {
		return nil
	}
	var next FleetCA
	switch was.Stage {
	case CATrust:
		next = FleetCA{Generation: was.Generation, Stage: CASign}
	case CASign:
		next = FleetCA{Generation: was.Generation, Stage: CASteady}
	default:
		next = FleetCA{Generation: was.Generation + 1, Stage: CATrust}
	}
	if now == next {
		return nil
	}
	return fmt.Errorf("%s %s: the bootstrap runs %s, and the next step of a rotation is %s, after every region's `up` (docs/operations.md, \"Rotating the fleet CA\")",
		field, now, was, next)
}

// ParseFleetCA reads a fleet CA setting as a stack exports it, a
// {generation, stage} object (the bootstrap's OutputFleetCA, a region's
// OutputFleetCAApplied).
func ParseFleetCA(v any) (FleetCA, error) {
	m, _ := v.(map[string]any)
	g, gok := m["generation"].(float64)
	s, sok := m["stage"].(string)
	if !gok || !sok || g != math.Trunc(g) || g < 1 || g > math.MaxInt32 {
		return FleetCA{}, fmt.Errorf("%v is not {generation, stage}", v)
	}
	f := FleetCA{Generation: int(g), Stage: CAStage(s)}
	if err := f.Validate("fleetCa"); err != nil {
		return FleetCA{}, fmt.Errorf("%v is not a fleet CA setting: %w", v, err)
	}
	return f, nil
}

// CAReport is what a region stack says of the fleet CA: the bootstrap
// setting its last `up` applied (its OutputFleetCAApplied). That `up`
// wrote the setting's bundle as its queriers' trust and had the setting's
// signing CA sign its certificate.
type CAReport struct {
	Stack string
	// Deployed is false for a stack with no outputs: its first `up` takes
	// whatever the bootstrap then holds.
	Deployed bool
	// Applied is the setting; nil for a stack deployed before it exported
	// one, which may not trust the bundle at all.
	Applied *FleetCA
}

// CARegionsReady refuses to move the fleet CA from was to now (field
// names the setting) while a deployed region has not applied was: a
// region skipped at trust would refuse the regions the next stage
// re-signs, and one skipped at sign would be refused by all the others
// once steady deletes the CA that signed it. regionsKey names the setting
// that lists the regions; listed is false where it is not set, and a move
// is then refused, since nothing could be checked (an empty list is an
// account without regions).
func CARegionsReady(was, now FleetCA, reports []CAReport, listed bool, field, regionsKey string) error {
	was, now = was.WithDefaults(), now.WithDefaults()
	if was == now {
		return nil
	}
	if !listed {
		return fmt.Errorf("%s %s: a step of the fleet CA's rotation needs %s, the region stacks that trust it (an empty list where there are none), so that each is checked to have run since the last step",
			field, now, regionsKey)
	}
	var behind []string
	for _, r := range reports {
		switch {
		case !r.Deployed:
		case r.Applied == nil:
			behind = append(behind, fmt.Sprintf("%s (deployed before it reported the fleet CA: run its `up` with this version)", r.Stack))
		case r.Applied.WithDefaults() != was:
			behind = append(behind, fmt.Sprintf("%s (applied %s: run its `up`)", r.Stack, r.Applied))
		}
	}
	if len(behind) == 0 {
		return nil
	}
	return fmt.Errorf("%s %s: the bootstrap runs %s, and not every region stack in %s has applied it: %s. "+
		"A stack that no longer trusts the fleet CA leaves the list (docs/operations.md, \"Rotating the fleet CA\")",
		field, now, was, regionsKey, strings.Join(behind, "; "))
}
