package stacks

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// The committed stack files pin neither spot shares nor bucket replication:
// the role profiles supply both, and the fleet reports what it applied.
func TestRoleDefaultsApplied(t *testing.T) {
	f := repoFleet(t)
	want := map[string][]string{"us-east-1": {"eu-west-1"}, "us-west-2": {}, "eu-west-1": {}}
	for name, to := range want {
		s, ok := f.Get(name)
		require.True(t, ok, name)
		assert.Equal(t, to, s.TieredStorage.ReplicateTo, name)
	}
	applied, err := f.AppliedDefaults(model.Phase100M)
	require.NoError(t, err)
	assert.Contains(t, applied, AppliedDefault{"us-east-1", "spot.bookie", "0.80", "primary role profile at 100m"})
	assert.Contains(t, applied, AppliedDefault{"us-east-1", "tieredStorage.replicateTo", "[eu-west-1]", "primary role profile: the peers of role dr"})
	assert.Contains(t, applied, AppliedDefault{"us-west-2", "tieredStorage.replicateTo", "[]", "secondary role profile: no bucket replication"})
	assert.Len(t, applied, 9, "spot.broker, spot.bookie and replicateTo for each of 3 stacks")

	// What a stack file sets is kept and not reported: [] replicates nowhere.
	files := repoFiles(t)
	for i := range files {
		if files[i].Stack == "us-east-1" {
			files[i].Raw[Key("tieredStorage")] = `{"replicateTo":[]}`
			files[i].Raw[Key("spot")] = `{"broker":0.5}`
		}
	}
	f, err = FleetFromFiles(files)
	require.NoError(t, err)
	s, _ := f.Get("us-east-1")
	assert.Equal(t, []string{}, s.TieredStorage.ReplicateTo)
	applied, err = f.AppliedDefaults(model.Phase35K)
	require.NoError(t, err)
	assert.Contains(t, applied, AppliedDefault{"us-east-1", "spot.bookie", "0.70", "primary role profile at 35k"})
	for _, a := range applied {
		assert.False(t, a.Stack == "us-east-1" && a.Key != "spot.bookie", "us-east-1 sets %s itself", a.Key)
	}

	// The engine's view of one stack replaces its file and gets the same
	// defaults; a primary with no DR peer replicates nowhere.
	s.TieredStorage.ReplicateTo, s.Peers = nil, []string{"us-west-2"}
	s, _ = f.Replace(s).Get("us-east-1")
	assert.Equal(t, []string{}, s.TieredStorage.ReplicateTo)
}

// Volumes pinned at a phase are what the plan sizes the bookies on there,
// and only there.
func TestBookieVolumesPinReachesThePlan(t *testing.T) {
	f := repoFleet(t)
	for i := range f.Stacks {
		if f.Stacks[i].Stack == "us-east-1" {
			f.Stacks[i].BookieVolumes = &BookieVolumes{Phase: "35k", LedgerGiB: 2048, JournalGiB: 100, ThroughputMiB: 250}
		}
	}
	regs, err := f.PlannerRegions("35k")
	require.NoError(t, err)
	for _, r := range regs {
		if r.Name == "us-east-1" {
			require.NotNil(t, r.BookieVolumes)
			assert.Equal(t, int64(2048*sizing.GiB), r.BookieVolumes.LedgerBytes)
			assert.Equal(t, int64(100*sizing.GiB), r.BookieVolumes.JournalBytes)
		} else {
			assert.Nil(t, r.BookieVolumes, r.Name)
		}
	}
	cat, err := sizing.OpenCatalog("")
	require.NoError(t, err)
	for phase, ledger := range map[string]int64{"35k": 2048 * sizing.GiB, "100k": 2048 * sizing.GiB} {
		d, err := DesignFor(f, "us-east-1", phase, cat)
		require.NoError(t, err)
		assert.Equal(t, ledger, d.Plan.Bookies.LedgerDiskBytes, phase)
		if phase == "35k" {
			assert.Equal(t, int64(100*sizing.GiB), d.Plan.Bookies.JournalDiskBytes, "pinned")
		} else {
			assert.Equal(t, int64(24*sizing.GiB), d.Plan.Bookies.JournalDiskBytes, "the planner's at 100k")
		}
	}
}
