package tests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
	"github.com/pulsar-fleet/pulsar-fleet/transition"
)

func designAt(t *testing.T, stack, phase string, edit func(raw stacks.Raw)) regions.RegionDesign {
	t.Helper()
	files, err := stacks.StackFiles(root)
	require.NoError(t, err)
	for i := range files {
		if files[i].Stack == stack && edit != nil {
			edit(files[i].Raw)
		}
	}
	fleet, err := stacks.FleetFromFiles(files)
	require.NoError(t, err)
	d, err := stacks.DesignFor(fleet, stack, phase, catalog(t))
	require.NoError(t, err)
	return d
}

// A direct jump that would drop bookie data or ZooKeeper quorum is refused,
// naming the transition command; every adjacent pair of every stack, both
// ways, is either safe in one `up` or refused.
func TestDirectPhaseJumpIsRefused(t *testing.T) {
	var refused *transition.RefusedError
	err := transition.Check(designAt(t, "us-east-1", "100k", nil), designAt(t, "us-east-1", "1m", nil))
	require.ErrorAs(t, err, &refused)
	assert.Contains(t, err.Error(), "pulsar-fleet transition --stack us-east-1 --from 100k --to 1m")
	assert.Contains(t, err.Error(), "ZooKeeper would change by 2 servers")
	assert.Contains(t, err.Error(), "between EBS volumes and instance storage")

	err = transition.Check(designAt(t, "us-west-2", "100k", nil), designAt(t, "us-west-2", "1m", nil))
	require.ErrorAs(t, err, &refused)
	assert.Contains(t, err.Error(), "pulsar-fleet transition --stack us-west-2 --from 100k --to 1m")
	assert.Contains(t, err.Error(), "the EBS bookies' volumes would change (ledgers 1536Gi -> 4096Gi, throughput 125MiB/s -> 375MiB/s)")

	err = transition.Check(designAt(t, "us-east-1", "100m", nil), designAt(t, "us-east-1", "10m", nil))
	require.ErrorAs(t, err, &refused)
	assert.Contains(t, err.Error(), "450 bookies would leave at once (501 -> 51)")

	err = transition.Check(designAt(t, "us-east-1", "35k", nil), designAt(t, "us-east-1", "100k", nil))
	require.ErrorAs(t, err, &refused)
	assert.Contains(t, err.Error(), "volumeClaimTemplates cannot change", "the planner gives 100k larger ledger volumes")

	// Growing bookies on the same storage with the same ZooKeeper is safe.
	assert.NoError(t, transition.Check(designAt(t, "us-east-1", "1m", nil), designAt(t, "us-east-1", "10m", nil)))
	assert.NoError(t, transition.Check(designAt(t, "us-east-1", "10m", nil), designAt(t, "us-east-1", "100m", nil)))

	for _, s := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
		for i := 0; i+1 < len(sizing.PhaseNames); i++ {
			a, b := designAt(t, s, sizing.PhaseNames[i], nil), designAt(t, s, sizing.PhaseNames[i+1], nil)
			for _, pair := range [][2]regions.RegionDesign{{a, b}, {b, a}} {
				c := transition.Diff(pair[0], pair[1])
				err := transition.Check(pair[0], pair[1])
				assert.Equal(t, len(c.Unsafe()) > 0, err != nil, "%s %s -> %s", s, pair[0].Phase, pair[1].Phase)
				if c.StorageFlip || c.BookiesTo < c.BookiesFrom || c.VolumesTo != nil {
					assert.Error(t, err, "%s %s -> %s drops bookies or changes their volumes", s, pair[0].Phase, pair[1].Phase)
				}
			}
		}
	}
}

// A spot-share edit that flips the bookies' storage at the same phase is
// refused the same way.
func TestSpotShareEditFlippingBookieStorageIsRefused(t *testing.T) {
	before := designAt(t, "us-west-2", "1m", nil)
	after := designAt(t, "us-west-2", "1m", func(raw stacks.Raw) {
		raw["pulsar-fleet:spot"] = `{"bookie": 0}`
	})
	require.False(t, before.Plan.Bookies.LocalNVMe)
	require.True(t, after.Plan.Bookies.LocalNVMe, "all on-demand bookies plan on instance storage")
	err := transition.Check(before, after)
	var refused *transition.RefusedError
	require.True(t, errors.As(err, &refused), "%v", err)
	assert.Contains(t, err.Error(), "between EBS volumes and instance storage")
	assert.Contains(t, err.Error(), "a change at phase 1m is refused")
	assert.Contains(t, err.Error(), "revert the edit that moves the bookies", "the remedy is named")
	assert.Contains(t, err.Error(), "pulsar-fleet transition")
}

// Changes that would replace the VPC's subnets are refused, and no
// transition plans them.
func TestSubnetReplacementIsRefused(t *testing.T) {
	base := designAt(t, "us-east-1", "35k", nil)
	for name, edit := range map[string]func(stacks.Raw){
		"vpcCidr":         func(r stacks.Raw) { r["pulsar-fleet:vpcCidr"] = "10.11.0.0/16" },
		"zones reordered": func(r stacks.Raw) { r["pulsar-fleet:zones"] = `["us-east-1b", "us-east-1a", "us-east-1c"]` },
	} {
		changed := designAt(t, "us-east-1", "35k", edit)
		err := transition.Check(base, changed)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "subnets would be replaced", name)
		assert.Contains(t, err.Error(), "Adding a zone", name)
		_, err = transition.Plan(base, changed, catalog(t))
		assert.Error(t, err, name)
	}
}

// The plan's steps keep every rule: ZooKeeper changes one server per `up`,
// bookies leave only after being decommissioned one at a time, and a
// storage move builds the new set before draining the old one.
func TestTransitionSteps(t *testing.T) {
	up, err := transition.Plan(designAt(t, "us-east-1", "100k", nil), designAt(t, "us-east-1", "1m", nil), catalog(t))
	require.NoError(t, err)
	assert.False(t, up.Direct)
	var titles []string
	for _, s := range up.Steps {
		titles = append(titles, s.Title)
	}
	assert.Equal(t, []string{"ZooKeeper 3 -> 4 servers", "add the instance-storage (NVMe) bookie set beside the EBS one",
		"drain the 6 EBS bookies, one at a time", "`pulumi up` of phase 1m"}, titles)
	assert.Positive(t, up.DataBytes)
	assert.InDelta(t, up.DataBytes, designAt(t, "us-east-1", "100k", nil).Plan.Storage.StorageBytes, 1, "the old set's data moves once")
	assert.Equal(t, &transition.Leave{StatefulSet: "pulsar-bookie", To: 0, ReadOnlyFirst: true}, up.Steps[2].Leave, "the drain")
	assert.Contains(t, up.Steps[0].Gate, "`"+pulsar.ZooKeeperModeCommand+"` on each shows one leader and 3 followers",
		"the gate asks ZooKeeper over its TLS port: 2181 is closed")

	down, err := transition.Plan(designAt(t, "us-east-1", "100m", nil), designAt(t, "us-east-1", "10m", nil), catalog(t))
	require.NoError(t, err)
	require.Len(t, down.Steps, 2)
	assert.Equal(t, "decommission bookies 51..500, one at a time", down.Steps[0].Title)
	assert.Empty(t, down.Steps[0].Up, "decommissioning is cluster work before the up that removes the pods")
	assert.Equal(t, &transition.Leave{StatefulSet: "pulsar-nvme-bookie", To: 51}, down.Steps[0].Leave, "the decommissioning is `pulsar-fleet decommission`")
	assert.Contains(t, down.Steps[0].Between[1], "pulsar-fleet decommission --stack us-east-1 --statefulset pulsar-nvme-bookie --to 51")
	assert.Contains(t, down.Steps[1].Up[0], "bookie replicas 51: the count the decommissioning left, so no bookie goes in this `up`")

	// EBS bookies whose planned volumes differ are resized in place: the
	// claims grown, the StatefulSet deleted with its pods left running,
	// then re-created by the `up` with the new claim templates.
	from, to := designAt(t, "us-west-2", "100k", nil), designAt(t, "us-west-2", "1m", nil)
	grow, err := transition.Plan(from, to, catalog(t))
	require.NoError(t, err)
	require.Len(t, grow.Steps, 2)
	r := grow.Steps[0]
	assert.Equal(t, "resize the EBS bookies' volumes in place (ledgers 1536Gi -> 4096Gi, throughput 125MiB/s -> 375MiB/s)", r.Title)
	assert.Equal(t, &transition.Resize{StatefulSet: "pulsar-bookie", From: from.Plan.Bookies.Volumes(), To: to.Plan.Bookies.Volumes()}, r.Resize)
	assert.Equal(t, []string{"VolumeAttributesClasses gp3-375mibs-6000iops and gp3-375mibs-3000iops declared beside the running ones (Kubernetes 1.34 or later)"}, r.Up)
	assert.Contains(t, r.Between[0], "`pulsar-fleet resize`")
	assert.Contains(t, r.Between[1], "each claim `pulsar-bookie-ledgers-pulsar-bookie-<n>` to size 4096Gi and volumeAttributesClassName gp3-375mibs-3000iops, and each claim `pulsar-bookie-journal-pulsar-bookie-<n>` to volumeAttributesClassName gp3-375mibs-6000iops, in one")
	assert.Contains(t, r.Between[2], "kubectl -n pulsar delete statefulset pulsar-bookie --cascade=orphan")
	assert.Contains(t, grow.Steps[1].Up, "StatefulSet pulsar-bookie re-created with the new claim templates; the gp3 classes replaced with the new throughput and IOPS (the provider deletes and re-creates a StorageClass whose parameters change), so new bookies' volumes get them; the old VolumeAttributesClasses leave the stack but stay in the cluster (retained volumes may name them)")

	same, err := transition.Plan(designAt(t, "us-east-1", "10m", nil), designAt(t, "us-east-1", "100m", nil), catalog(t))
	require.NoError(t, err)
	assert.True(t, same.Direct)
	assert.Len(t, same.Steps, 1)
	assert.Zero(t, same.DataBytes)
}

// estimatesTable is the report of the transition estimates on us-east-1
// that docs/operations.md carries.
func estimatesTable(t *testing.T) string {
	var out string
	for _, p := range [][2]string{{"100k", "1m"}, {"1m", "10m"}, {"10m", "100m"}, {"10m", "1m"}} {
		tr, err := transition.Plan(designAt(t, "us-east-1", p[0], nil), designAt(t, "us-east-1", p[1], nil), catalog(t))
		require.NoError(t, err)
		out += fmt.Sprintf("| %s -> %s | %s | %.1f |\n", p[0], p[1], sizing.FormatSI(tr.DataBytes), tr.Hours)
	}
	return out
}

// The estimates in docs/operations.md are the ones the planner computes.
func TestTransitionEstimatesDocIsCurrent(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	require.NoError(t, err)
	table := estimatesTable(t)
	assert.Contains(t, string(doc), table, "docs/operations.md, \"Moving between phases\": the estimates table is stale; it should read:\n%s", table)
}
