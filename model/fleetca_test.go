package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFleetCAStages(t *testing.T) {
	for _, tc := range []struct {
		name string
		ca   FleetCA
		want []CAGeneration
	}{
		{"nothing set: the first CA", FleetCA{}, []CAGeneration{{Generation: 1, Signs: true, Protect: true}}},
		{"trust the next", FleetCA{Generation: 2, Stage: CATrust}, []CAGeneration{{Generation: 1, Signs: true, Protect: true}, {Generation: 2, Protect: true}}},
		{"the next signs", FleetCA{Generation: 2, Stage: CASign}, []CAGeneration{{Generation: 2, Signs: true, Protect: true}, {Generation: 1}}},
		{"the next alone", FleetCA{Generation: 2}, []CAGeneration{{Generation: 2, Signs: true, Protect: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.ca.Validate("fleetCa"))
			assert.Equal(t, tc.want, tc.ca.CAs())
		})
	}
	assert.Equal(t, "fleet-ca", CAGeneration{Generation: 1}.Name(), "the first CA keeps its name")
	assert.Equal(t, "fleet-ca-3", CAGeneration{Generation: 3}.Name())
}

func TestFleetCAValidate(t *testing.T) {
	for _, tc := range []struct {
		ca   FleetCA
		want string
	}{
		{FleetCA{Generation: -1}, "fleetCa.generation -1: want 1 or more"},
		{FleetCA{Generation: 2, Stage: "rotate"}, `fleetCa.stage "rotate": want steady, trust or sign`},
		{FleetCA{Generation: 1, Stage: CATrust}, `fleetCa.stage "trust": a rotation declares the new CA's generation, 2 or more`},
	} {
		assert.ErrorContains(t, tc.ca.Validate("fleetCa"), tc.want)
	}
}

func TestCAMove(t *testing.T) {
	steady := func(n int) FleetCA { return FleetCA{Generation: n, Stage: CASteady} }
	for _, tc := range []struct {
		name    string
		was, to FleetCA
		want    string // "" allowed
	}{
		{"unchanged", steady(1), FleetCA{}, ""},
		{"start a rotation", FleetCA{}, FleetCA{Generation: 2, Stage: CATrust}, ""},
		{"sign with the new", FleetCA{Generation: 2, Stage: CATrust}, FleetCA{Generation: 2, Stage: CASign}, ""},
		{"retire the old", FleetCA{Generation: 2, Stage: CASign}, steady(2), ""},
		{"the next rotation", steady(2), FleetCA{Generation: 3, Stage: CATrust}, ""},
		{"straight to the new CA", steady(1), steady(2), "the next step of a rotation is {generation: 2, stage: trust}"},
		{"sign before trusting", steady(1), FleetCA{Generation: 2, Stage: CASign}, "the next step of a rotation is {generation: 2, stage: trust}"},
		{"retire before signing", FleetCA{Generation: 2, Stage: CATrust}, steady(2), "the next step of a rotation is {generation: 2, stage: sign}"},
		{"back to the old", FleetCA{Generation: 2, Stage: CASign}, steady(1), "the next step of a rotation is {generation: 2, stage: steady}"},
		{"two generations", steady(1), FleetCA{Generation: 3, Stage: CATrust}, "{generation: 2, stage: trust}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CAMove(tc.was, tc.to, "fleetCa")
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, "Rotating the fleet CA")
		})
	}
}
