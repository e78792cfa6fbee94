package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
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

// Compression and the geo-replicated share from stack config reach the
// plan: producer batches compressed 2x store half the bytes, and a quarter
// of the traffic geo-replicated sends a quarter of the bytes to the peers
// and a quarter of the replicated rate into them.
func TestCompressionAndGeoShareReachThePlan(t *testing.T) {
	files, err := stacks.StackFiles(root)
	require.NoError(t, err)
	for i := range files {
		files[i].Raw["pulsar-fleet:workload"] = `{"compressionRatio": 2, "geoReplicatedShare": 0.25}`
	}
	fleet, err := stacks.FleetFromFiles(files)
	require.NoError(t, err)
	require.NoError(t, stacks.ValidateFleet(fleet))
	levers, err := stacks.DesignFor(fleet, "us-east-1", "10m", catalog(t))
	require.NoError(t, err)
	base := designAt(t, "us-east-1", "10m", nil)
	bw, lw := base.Plan.WorkloadInput(), levers.Plan.WorkloadInput()
	assert.InDelta(t, bw.ReplicatedInRate/4, lw.ReplicatedInRate, 1, "a quarter of the peers' traffic replicated in")
	assert.InDelta(t, bw.GeoReplicatedBytes()/8, lw.GeoReplicatedBytes(), 1, "a quarter of the traffic, at half the bytes")
	perMessage := func(w sizing.Workload) float64 { return w.IngressBytes() / w.StoredRate() }
	assert.InDelta(t, perMessage(bw)/2, perMessage(lw), 1e-9, "each message stored at half its bytes")
	assert.Less(t, levers.Plan.Cost.TransferUSD, base.Plan.Cost.TransferUSD/2, "transfer falls with both levers")
	assert.Less(t, levers.Plan.Cost.TotalUSD, base.Plan.Cost.TotalUSD)
}

// A calibration from stack config reaches the program's plan: at half the
// messages per broker vCPU, the 10m primary plans more broker vCPUs.
func TestCalibrationReachesThePlan(t *testing.T) {
	calibrated := func(cal string) regions.RegionDesign {
		files, err := stacks.StackFiles(root)
		require.NoError(t, err)
		for i := range files {
			files[i].Raw["pulsar-fleet:calibration"] = cal
		}
		fleet, err := stacks.FleetFromFiles(files)
		require.NoError(t, err)
		require.NoError(t, stacks.ValidateFleet(fleet))
		d, err := stacks.DesignFor(fleet, "us-east-1", "10m", catalog(t))
		require.NoError(t, err)
		return d
	}
	vcpus := func(d regions.RegionDesign) int {
		typ, err := catalog(t).Lookup(d.Plan.Brokers.InstanceType)
		require.NoError(t, err)
		return d.Plan.Brokers.Count * typ.VCPU
	}
	base := designAt(t, "us-east-1", "10m", nil)
	// At 1 KB the bytes bind the brokers' CPU (12.5 MB/s per vCPU, the
	// documented rating): half of either rate that binds asks for more.
	slowBytes := calibrated(`{"brokerWriteMBpsPerVcpu": 6.25}`)
	assert.Equal(t, 6.25e6, slowBytes.Plan.Params().BrokerWriteBytesPerVCPU)
	assert.Greater(t, vcpus(slowBytes), vcpus(base), "more broker vCPUs at half the bytes per vCPU")
	slowMsgs := calibrated(`{"brokerMsgPerVcpu": 6000}`)
	assert.Equal(t, 6_000.0, slowMsgs.Plan.Params().BrokerMsgPerVCPU)
	assert.Equal(t, sizing.DefaultParams().BrokerMsgPerVCPU, base.Plan.Params().BrokerMsgPerVCPU)
	assert.Greater(t, vcpus(slowMsgs), vcpus(base), "more broker vCPUs when the messages bind")
}
