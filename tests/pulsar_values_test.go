package tests

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/golden"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// renderValues computes a stack's Pulsar values at a phase, the way Build
// does, with placeholders for the outputs of other components.
func renderValues(t *testing.T, stack, phase string) (pulsar.Values, *pulsar.BookieReleaseValues, sizing.RegionPlan) {
	t.Helper()
	files, err := stacks.StackFiles(root)
	require.NoError(t, err)
	for i := range files {
		files[i].Raw["pulsar-fleet:phase"] = phase
	}
	fleet, err := stacks.FleetFromFiles(files)
	require.NoError(t, err)
	c, _ := fleet.Get(stack)
	spec, err := c.RegionSpec(fleet, "organization")
	require.NoError(t, err)
	cat := catalog(t)
	plan, err := regions.PlanFor(spec, cat)
	require.NoError(t, err)
	cfg, err := regions.ComponentConfigs(spec, plan, cat)
	require.NoError(t, err)
	v, err := pulsar.Compute(cfg.Pulsar, pulsar.Deps{
		OffloadBucket: pulumi.String("<offload bucket of " + stack + ">"),
		BrokerRoleARN: pulumi.String("<broker offload role of " + stack + ">"),
	})
	require.NoError(t, err)
	nvme, err := pulsar.ComputeNVMe(cfg.Pulsar)
	require.NoError(t, err)
	return v, nvme, plan
}

func checkAgainstPlan(t *testing.T, v pulsar.Values, nvme *pulsar.BookieReleaseValues, plan sizing.RegionPlan) {
	t.Helper()
	bookies := v.BookKeeper
	assert.Equal(t, plan.Bookies.LocalNVMe, nvme != nil, "instance-storage bookies are their own release")
	assert.Equal(t, !plan.Bookies.LocalNVMe, v.Components.BookKeeper, "EBS bookies are the main release's")
	if nvme != nil {
		bookies = nvme.BookKeeper
	}
	assert.Equal(t, plan.Bookies.Count, bookies.ReplicaCount, "bookies = plan")
	// The HPAs own the broker and proxy counts; the chart ignores
	// replicaCount while they are on.
	assert.Zero(t, v.Broker.ReplicaCount)
	assert.Equal(t, plan.Brokers.Count, v.Broker.Autoscaling.MinReplicas, "brokers = plan")
	assert.Equal(t, plan.BrokerHPA.Max, v.Broker.Autoscaling.MaxReplicas)
	assert.Zero(t, v.Proxy.ReplicaCount)
	assert.Equal(t, plan.Proxies.Count, v.Proxy.Autoscaling.MinReplicas, "proxies = plan")
	assert.Equal(t, plan.ZooKeeper.Count, v.ZooKeeper.ReplicaCount, "zookeeper = plan")
	assert.Equal(t, plan.Autorecovery, v.Autorecovery.ReplicaCount)
	e, _ := strconv.Atoi(v.Broker.ConfigData["managedLedgerDefaultEnsembleSize"])
	w, _ := strconv.Atoi(v.Broker.ConfigData["managedLedgerDefaultWriteQuorum"])
	a, _ := strconv.Atoi(v.Broker.ConfigData["managedLedgerDefaultAckQuorum"])
	assert.True(t, e >= w && w >= a && a >= 2, "quorum %d/%d/%d holds", e, w, a)
	assert.GreaterOrEqual(t, bookies.ReplicaCount, e)
	assert.Equal(t, "true", v.Broker.ConfigData["bookkeeperClientEnforceMinNumRacksPerWriteQuorum"], "racks enforced")
	assert.Equal(t, strconv.Itoa(plan.Quorum.MinRacksPerWriteQuorum), v.Broker.ConfigData["bookkeeperClientMinNumRacksPerWriteQuorum"])
	assert.Equal(t, plan.Bookies.LocalNVMe, !bookies.Volumes.Persistence)
	b, err := json.Marshal([]any{v, nvme})
	require.NoError(t, err)
	for _, k := range pulsar.InventedKeys {
		assert.NotContains(t, string(b), `"`+k+`"`)
	}
}

func TestPulsarValuesPerPhase(t *testing.T) {
	for _, ph := range sizing.PhaseNames {
		v, nvme, plan := renderValues(t, "us-east-1", ph)
		checkAgainstPlan(t, v, nvme, plan)
		assertValuesGolden(t, "pulsar-values/phase-"+ph+"-us-east-1", v, nvme)
	}
}

func TestPulsarValuesPerRole(t *testing.T) {
	for _, stack := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
		v, nvme, plan := renderValues(t, stack, "35k")
		checkAgainstPlan(t, v, nvme, plan)
		assertValuesGolden(t, "pulsar-values/role-"+string(plan.Role)+"-"+stack, v, nvme)
	}
}

// assertValuesGolden keeps the main release's values as name.json and the
// instance-storage set's, when there is one, as name-nvme.json.
func assertValuesGolden(t *testing.T, name string, v pulsar.Values, nvme *pulsar.BookieReleaseValues) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	golden.Assert(t, name+".json", append(b, '\n'))
	if nvme != nil {
		b, err := json.MarshalIndent(nvme, "", "  ")
		require.NoError(t, err)
		golden.Assert(t, name+"-nvme.json", append(b, '\n'))
	}
}
