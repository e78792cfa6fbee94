package stacks

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

func TestWorkloadOverPhasePresets(t *testing.T) {
	preset, err := sizing.PhaseByName("100k")
	require.NoError(t, err)
	same, err := Workload{}.Apply(preset)
	require.NoError(t, err)
	assert.Equal(t, preset, same, "an empty workload keeps the preset")

	ph, err := Workload{MessageSize: "4KB", Subscriptions: 3, TTL: "48h", Retention: "0s"}.Apply(preset)
	require.NoError(t, err)
	assert.Equal(t, int64(4000), ph.MessageBytes)
	assert.Equal(t, 3.0, ph.ConsumerFanout)
	assert.Equal(t, 48*time.Hour, ph.TTL)
	assert.Zero(t, ph.Retention)
	assert.Equal(t, preset.Rate, ph.Rate, "the rate stays the phase's")
	ph, err = Workload{CompressionRatio: 2.5, GeoReplicatedShare: 0.25}.Apply(preset)
	require.NoError(t, err)
	assert.Equal(t, 2.5, ph.CompressionRatio)
	assert.Equal(t, 0.25, ph.GeoReplicatedShare)

	for _, tc := range []struct {
		w   Workload
		key string
	}{
		{Workload{MessageSize: "big"}, "workload.messageSize"},
		{Workload{MessageSize: "6MiB"}, "workload.messageSize"},
		{Workload{Subscriptions: -1}, "workload.subscriptions"},
		{Workload{TTL: "soon"}, "workload.ttl"},
		{Workload{TTL: "0s"}, "workload.ttl"},
		{Workload{Retention: "-1h"}, "workload.retention"},
		{Workload{CompressionRatio: 0.5}, "workload.compressionRatio"},
		{Workload{CompressionRatio: 50}, "workload.compressionRatio"},
		{Workload{GeoReplicatedShare: 1.5}, "workload.geoReplicatedShare"},
		{Workload{GeoReplicatedShare: -0.1}, "workload.geoReplicatedShare"},
	} {
		_, err := tc.w.Apply(preset)
		var ce *ConfigError
		require.True(t, errors.As(err, &ce), "%+v", tc.w)
		assert.Equal(t, Key(tc.key), ce.Key)
		assert.NotEmpty(t, ce.Allowed)
	}
}

// Every stack carries the same workload: it is the fleet's traffic.
func TestWorkloadIsTheFleets(t *testing.T) {
	files, err := StackFiles("..")
	require.NoError(t, err)
	files[0].Raw[Key("workload")] = `{"messageSize": "4KB"}`
	fleet, err := FleetFromFiles(files)
	require.NoError(t, err)
	err = ValidateFleet(fleet)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `config pulsar-fleet:workload.messageSize: (unset) is not allowed: want "4KB" as `+files[0].Stack+
		` sets it: the workload must be the same in every stack, since it is the fleet's traffic`, "the field that differs, not a Go struct")
	for i := range files {
		files[i].Raw[Key("workload")] = `{"messageSize": "4KB"}`
	}
	fleet, err = FleetFromFiles(files)
	require.NoError(t, err)
	require.NoError(t, ValidateFleet(fleet))
	ph, err := fleet.PhaseFor("35k")
	require.NoError(t, err)
	assert.Equal(t, int64(4000), ph.MessageBytes)

	files[0].Raw[Key("workload")] = `{"messageSize": "4KB", "compresion": 2}`
	_, err = FleetFromFiles(files)
	require.Error(t, err, "an unknown workload field is refused")
}
