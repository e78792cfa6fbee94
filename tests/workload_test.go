package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// The team's workload from stack config reaches the plan: 4 KB messages
// store four times the bytes of the 1 KB preset.
func TestWorkloadFromConfigReachesThePlan(t *testing.T) {
	files, err := stacks.StackFiles(root)
	require.NoError(t, err)
	for i := range files {
		files[i].Raw["pulsar-fleet:workload"] = `{"messageSize": "4KB"}`
	}
	fleet, err := stacks.FleetFromFiles(files)
	require.NoError(t, err)
	require.NoError(t, stacks.ValidateFleet(fleet))
	four, err := stacks.DesignFor(fleet, "us-east-1", "100k", catalog(t))
	require.NoError(t, err)
	one := designAt(t, "us-east-1", "100k", nil)
	assert.Equal(t, int64(1000), one.Plan.WorkloadInput().MessageBytes)
	assert.Equal(t, int64(4000), four.Plan.WorkloadInput().MessageBytes)
	assert.InDelta(t, 4*one.Plan.Storage.StorageBytes, four.Plan.Storage.StorageBytes, 1, "4x the message size, 4x the storage")
}
