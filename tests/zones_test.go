package tests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/network"
	"github.com/pulsar-fleet/pulsar-fleet/internal/golden"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
	"github.com/pulsar-fleet/pulsar-fleet/transition"
)

// addedZones are the zones each committed stack could add (eu-west-1 has
// none left), with a secondary CIDR beside its VPC's.
var addedZones = map[string]model.AddedZone{
	"us-east-1": {Zone: "us-east-1d", CIDR: "10.11.0.0/16"},
	"us-west-2": {Zone: "us-west-2d", CIDR: "10.21.0.0/16"},
}

// Adding a zone to a running region, at every phase: no subnet of the
// first zones changes, Karpenter's pools and the racks take the new zone,
// and the guard's decision (one `up` keeps every bookie and ZooKeeper
// within one server, or it is refused) is the golden table that
// docs/operations.md, "Adding a zone", shows.
func TestAddingAZone(t *testing.T) {
	var table []string
	for _, stack := range []string{"us-east-1", "us-west-2"} {
		z := addedZones[stack]
		for _, phase := range sizing.PhaseNames {
			before := designAt(t, stack, phase, nil)
			after := designAt(t, stack, phase, func(r stacks.Raw) {
				r[stacks.Key("addedZones")] = fmt.Sprintf(`[{"zone": %q, "cidr": %q}]`, z.Zone, z.CIDR)
			})
			nb, err := network.Compute(before.Components.Network)
			require.NoError(t, err)
			na, err := network.Compute(after.Components.Network)
			require.NoError(t, err)
			assert.Equal(t, nb.Private, na.Private, "%s %s: private subnets kept", stack, phase)
			assert.Equal(t, nb.Public, na.Public, "%s %s: public subnets kept", stack, phase)
			assert.Contains(t, after.Components.Capacity.Zones, z.Zone, "Karpenter's pools launch in the new zone")
			assert.Contains(t, after.Components.Pulsar.Zones, z.Zone, "the new zone is a rack")
			added, err := transition.NetworkChange(stack, phase, deployedNetwork(before), after.Components.Network)
			require.NoError(t, err)
			require.Equal(t, []model.AddedZone{z}, added)
			table = append(table, zoneLine(stack, phase, before, after,
				transition.AllowZones(transition.Deployed{Phase: phase}, added, before, after)))
		}
	}
	got := strings.Join(table, "\n") + "\n"
	golden.Assert(t, "zones/add-zone.txt", []byte(got))
	doc, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	require.NoError(t, err)
	assert.Contains(t, string(doc), "```\n"+got+"```", "docs/operations.md, \"Adding a zone\", shows the table")
}

func deployedNetwork(d regions.RegionDesign) transition.DeployedNetwork {
	n := d.Components.Network
	return transition.DeployedNetwork{VPCCIDR: n.CIDR, Zones: n.Zones, AddedZones: n.AddedZones}
}

func zoneLine(stack, phase string, before, after regions.RegionDesign, err error) string {
	verdict := "one `up`"
	var r *transition.RefusedError
	if errors.As(err, &r) {
		var why []string
		for _, reason := range r.Reasons {
			if strings.HasPrefix(reason, "adding zones") {
				continue
			}
			short, _, _ := strings.Cut(reason, ": ")
			if strings.HasPrefix(short, "pods bound") {
				short += " (" + strings.Join(transition.Stranded(before), ", ") + ")"
			}
			why = append(why, short)
		}
		verdict = "refused: " + strings.Join(why, "; ")
	} else if err != nil {
		verdict = "error: " + err.Error()
	}
	return fmt.Sprintf("%-9s %-4s +%s  bookies %d -> %d, zookeeper %d -> %d, brokers %d -> %d: %s", stack, phase,
		addedZones[stack].Zone, before.Plan.Bookies.Count, after.Plan.Bookies.Count,
		before.Plan.ZooKeeper.Count, after.Plan.ZooKeeper.Count, before.Plan.Brokers.Count, after.Plan.Brokers.Count, verdict)
}

// Stranded is the rule that refuses every committed case above: a pod
// that keeps its volume in its zone and shares its zone with another of
// its set cannot return to its volume once a new, empty zone is in its
// spread.
func TestStranded(t *testing.T) {
	d := designAt(t, "us-east-1", "10m", nil)
	for _, tc := range []struct {
		name      string
		zookeeper int
		bookies   int
		nvme      bool
		want      []string
	}{
		{"one to a zone, bookies on instance storage", 3, 51, true, nil},
		{"ZooKeeper two to a zone", 5, 51, true, []string{"ZooKeeper's 5 servers"}},
		{"EBS bookies two to a zone", 3, 6, false, []string{"the 6 EBS bookies"}},
		{"EBS bookies one to a zone", 3, 3, false, nil},
		{"both", 5, 9, false, []string{"ZooKeeper's 5 servers", "the 9 EBS bookies"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := d
			c.Plan.ZooKeeper.Count, c.Plan.Bookies.Count, c.Plan.Bookies.LocalNVMe = tc.zookeeper, tc.bookies, tc.nvme
			assert.Equal(t, tc.want, transition.Stranded(c))
		})
	}
}
