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

func TestParseFleetCA(t *testing.T) {
	got, err := ParseFleetCA(map[string]any{"generation": float64(2), "stage": "sign"})
	require.NoError(t, err)
	assert.Equal(t, FleetCA{Generation: 2, Stage: CASign}, got)
	for name, v := range map[string]any{
		"no generation":        map[string]any{"stage": "sign"},
		"no stage":             map[string]any{"generation": float64(2)},
		"fractional":           map[string]any{"generation": 1.5, "stage": "trust"},
		"a string, not a map":  "trust",
		"generation as string": map[string]any{"generation": "2", "stage": "trust"},
		"generation 0":         map[string]any{"generation": float64(0), "stage": "steady"},
		"beyond an int":        map[string]any{"generation": 1e19, "stage": "steady"},
	} {
		_, err := ParseFleetCA(v)
		assert.ErrorContains(t, err, "is not {generation, stage}", name)
	}
	_, err = ParseFleetCA(map[string]any{"generation": float64(2), "stage": "rotate"})
	assert.ErrorContains(t, err, `is not a fleet CA setting: fleetCa.stage "rotate": want steady, trust or sign`)
	_, err = ParseFleetCA(map[string]any{"generation": float64(1), "stage": "trust"})
	assert.ErrorContains(t, err, "a rotation declares the new CA's generation")
}

// A rotation moves on only once every deployed region has applied the
// stage the bootstrap runs; a region never deployed is not waited for.
func TestCARegionsReady(t *testing.T) {
	trust := FleetCA{Generation: 2, Stage: CATrust}
	sign := FleetCA{Generation: 2, Stage: CASign}
	steady1 := FleetCA{Generation: 1, Stage: CASteady}
	at := func(f FleetCA) *FleetCA { return &f }
	for _, tc := range []struct {
		name     string
		was, now FleetCA
		reports  []CAReport
		unlisted bool     // the list of regions is not set
		want     []string // substrings; none: allowed
	}{
		{"no move: nothing to check", trust, trust, nil, true, nil},
		{"no move, a region behind: still allowed", trust, trust, []CAReport{{Stack: "a", Deployed: true, Applied: &steady1}}, false, nil},
		{"every region applied trust", trust, sign, []CAReport{{Stack: "a", Deployed: true, Applied: at(trust)}, {Stack: "b", Deployed: true, Applied: at(trust)}}, false, nil},
		{"a region never deployed is not waited for", trust, sign, []CAReport{{Stack: "a", Deployed: true, Applied: at(trust)}, {Stack: "new"}}, false, nil},
		{"the first CA by default", FleetCA{}, trust, []CAReport{{Stack: "a", Deployed: true, Applied: &FleetCA{}}}, false, nil},
		{"an account without regions (an empty list)", FleetCA{}, trust, nil, false, nil},
		{"one region still on the first CA", trust, sign,
			[]CAReport{{Stack: "a", Deployed: true, Applied: at(trust)}, {Stack: "b", Deployed: true, Applied: &steady1}}, false,
			[]string{"fleetCa {generation: 2, stage: sign}: the bootstrap runs {generation: 2, stage: trust}", "b (applied {generation: 1, stage: steady}: run its `up`)"}},
		{"a region deployed before the report", FleetCA{}, trust, []CAReport{{Stack: "old", Deployed: true}}, false,
			[]string{"old (deployed before it reported the fleet CA: run its `up` with this version)"}},
		{"retiring while a region was skipped at sign", sign, FleetCA{Generation: 2}, []CAReport{{Stack: "a", Deployed: true, Applied: at(trust)}}, false,
			[]string{"a (applied {generation: 2, stage: trust}: run its `up`)", "leaves the list"}},
		{"a move with no list of regions", FleetCA{}, trust, nil, true, []string{"fleetCa {generation: 2, stage: trust}: a step of the fleet CA's rotation needs pulsar-fleet-bootstrap:regionStacks"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CARegionsReady(tc.was, tc.now, tc.reports, !tc.unlisted, "pulsar-fleet-bootstrap:fleetCa", "pulsar-fleet-bootstrap:regionStacks")
			if len(tc.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
