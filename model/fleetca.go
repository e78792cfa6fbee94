package model

import (
	"errors"
	"fmt"
	"slices"
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
	return fmt.Errorf("%s {generation: %d, stage: %s}: the bootstrap runs {generation: %d, stage: %s}, and the next step of a rotation is {generation: %d, stage: %s}, after every region's `up` (docs/operations.md, \"Rotating the fleet CA\")",
		field, now.Generation, now.Stage, was.Generation, was.Stage, next.Generation, next.Stage)
}
