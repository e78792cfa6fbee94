package stacks

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// The guard reads the deployed VPC layout from the stack's `network`
// output: a change that would replace subnets is refused, and a zone is
// added only by appending to addedZones, at a steady phase, when the
// re-plan for the new zone count keeps every bookie.
func TestZoneGuard(t *testing.T) {
	fleet, _, err := LoadFleet("..")
	require.NoError(t, err)
	cat, err := sizing.OpenCatalog("")
	require.NoError(t, err)
	zoneD := model.AddedZone{Zone: "us-west-2d", CIDR: "10.21.0.0/16"}
	declare := func(phase string, edit func(*StackConfig)) Fleet {
		f := Fleet{}
		for _, s := range fleet.Stacks {
			s.Phase = phase
			if s.Stack == "us-west-2" && edit != nil {
				edit(&s)
			}
			f.Stacks = append(f.Stacks, s)
		}
		return f
	}
	deployed := func(phase, sets string, added ...model.AddedZone) map[string]any {
		zones := []any{}
		for _, z := range added {
			zones = append(zones, map[string]any{"zone": z.Zone, "cidr": z.CIDR})
		}
		return map[string]any{"phase": phase, "bookieSets": sets, "tokenSigningKey": "fleet", "network": map[string]any{
			"vpcCidr": "10.20.0.0/16", "zones": []any{"us-west-2a", "us-west-2b", "us-west-2c"}, "addedZones": zones}}
	}
	addD := func(s *StackConfig) { s.AddedZones = []model.AddedZone{zoneD} }
	for _, tc := range []struct {
		name     string
		declared Fleet
		deployed map[string]any
		want     []string // empty: allowed
	}{
		{"the same network", declare("100m", nil), deployed("100m", "nvme"), nil},
		{"deployed before the layout was exported", declare("100m", addD), map[string]any{"phase": "100m", "bookieSets": "nvme", "tokenSigningKey": "fleet"}, nil},
		{"another vpcCidr", declare("100m", func(s *StackConfig) { s.VPCCIDR = "10.22.0.0/16" }), deployed("100m", "nvme"),
			[]string{"subnets would be replaced (vpcCidr 10.20.0.0/16 -> 10.22.0.0/16)", "appending it to addedZones"}},
		{"zones reordered", declare("100m", func(s *StackConfig) { s.Zones = []string{"us-west-2b", "us-west-2a", "us-west-2c"} }), deployed("100m", "nvme"),
			[]string{"subnets would be replaced (zones [us-west-2a us-west-2b us-west-2c] -> [us-west-2b us-west-2a us-west-2c])"}},
		{"a zone appended to zones", declare("100m", func(s *StackConfig) { s.Zones = append(s.Zones, "us-west-2d") }), deployed("100m", "nvme"),
			[]string{"subnets would be replaced (zones"}},
		{"a zone added at a steady phase", declare("100m", addD), deployed("100m", "nvme"), nil},
		{"the added zone deployed", declare("100m", addD), deployed("100m", "nvme", zoneD), nil},
		{"a zone added with a phase change", declare("100m", addD), deployed("10m", "nvme"),
			[]string{"zones [us-west-2d] are added while the stack moves between phases", "add a zone at a steady phase"}},
		{"a zone added where the re-plan drops bookies", declare("10m", addD), deployed("10m", "nvme"),
			[]string{"adding zones [us-west-2d] re-plans the region for 4 zones", "3 bookies would leave at once (39 -> 36)", "this version cannot add the zone to this region at this phase", "Adding a zone"}},
		{"an added zone removed", declare("100m", nil), deployed("100m", "nvme", zoneD),
			[]string{"added zones are only appended"}},
		{"an added zone's CIDR changed", declare("100m", func(s *StackConfig) {
			s.AddedZones = []model.AddedZone{{Zone: "us-west-2d", CIDR: "10.23.0.0/16"}}
		}), deployed("100m", "nvme", zoneD), []string{"added zones are only appended"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := TransitionGuard(tc.declared, cat)("us-west-2", tc.deployed)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
