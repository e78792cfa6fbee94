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
// re-plan for the new zone count keeps every bookie and no pod bound to
// its zone would be stranded.
func TestZoneGuard(t *testing.T) {
	fleet, _, err := LoadFleet("..")
	require.NoError(t, err)
	cat, err := sizing.OpenCatalog("")
	require.NoError(t, err)
	zoneD := model.AddedZone{Zone: "us-east-1d", CIDR: "10.11.0.0/16"}
	declare := func(phase string, edit func(*StackConfig)) Fleet {
		f := Fleet{}
		for _, s := range fleet.Stacks {
			s.Phase = phase
			if s.Stack == "us-east-1" && edit != nil {
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
		return map[string]any{"phase": phase, "bookieSets": sets, "tokenSigningKey": "fleet", "kubernetesVersion": "1.35", "zookeeperQuorumTls": "tls", "network": map[string]any{
			"vpcCidr": "10.10.0.0/16", "zones": []any{"us-east-1a", "us-east-1b", "us-east-1c"}, "addedZones": zones}}
	}
	addD := func(s *StackConfig) { s.AddedZones = []model.AddedZone{zoneD} }
	for _, tc := range []struct {
		name     string
		declared Fleet
		deployed map[string]any
		want     []string // empty: allowed
	}{
		{"the same network", declare("10m", nil), deployed("10m", "nvme"), nil},
		{"deployed before the layout was exported", declare("10m", addD), map[string]any{"phase": "10m", "bookieSets": "nvme", "tokenSigningKey": "fleet", "kubernetesVersion": "1.35", "zookeeperQuorumTls": "tls"}, nil},
		{"another vpcCidr", declare("10m", func(s *StackConfig) { s.VPCCIDR = "10.12.0.0/16" }), deployed("10m", "nvme"),
			[]string{"subnets would be replaced (vpcCidr 10.10.0.0/16 -> 10.12.0.0/16)", "appending it to addedZones"}},
		{"zones reordered", declare("10m", func(s *StackConfig) { s.Zones = []string{"us-east-1b", "us-east-1a", "us-east-1c"} }), deployed("10m", "nvme"),
			[]string{"subnets would be replaced (zones [us-east-1a us-east-1b us-east-1c] -> [us-east-1b us-east-1a us-east-1c])"}},
		{"a zone appended to zones", declare("10m", func(s *StackConfig) { s.Zones = append(s.Zones, "us-east-1d") }), deployed("10m", "nvme"),
			[]string{"subnets would be replaced (zones"}},
		{"a zone added at a steady phase", declare("10m", addD), deployed("10m", "nvme"),
			[]string{"pods bound to their zones would be stranded: ZooKeeper's 5 servers keep their volumes in their zones, up to 2 in one", "build a new region stack", "Adding a zone"}},
		{"the added zone deployed", declare("10m", addD), deployed("10m", "nvme", zoneD), nil},
		{"a zone added with a phase change", declare("10m", addD), deployed("1m", "nvme"),
			[]string{"zones [us-east-1d] are added while the stack moves between phases", "add a zone at a steady phase"}},
		{"a zone added where the re-plan drops bookies", declare("1m", addD), deployed("1m", "nvme"),
			[]string{"adding zones [us-east-1d] re-plans the region for 4 zones", "5 bookies would leave at once (9 -> 4)", "this version cannot add a zone to this region at this phase", "Adding a zone"}},
		{"an added zone removed", declare("10m", nil), deployed("10m", "nvme", zoneD),
			[]string{"added zones are only appended"}},
		{"an added zone's CIDR changed", declare("10m", func(s *StackConfig) {
			s.AddedZones = []model.AddedZone{{Zone: "us-east-1d", CIDR: "10.13.0.0/16"}}
		}), deployed("10m", "nvme", zoneD), []string{"added zones are only appended"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := TransitionGuard(tc.declared, cat, nil)("us-east-1", tc.deployed)
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
