package stacks

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

func TestCalibrationOverDefaults(t *testing.T) {
	def := sizing.DefaultParams()
	same, err := Calibration{}.Apply(def)
	require.NoError(t, err)
	assert.Equal(t, def, same, "no calibration keeps the defaults")
	p, err := Calibration{BrokerMsgPerVCPU: 12_500, NVMeWriteMBpsPerTB: 250, BrokerWriteMBpsPerVCPU: 20}.Apply(def)
	require.NoError(t, err)
	assert.Equal(t, 12_500.0, p.BrokerMsgPerVCPU)
	assert.Equal(t, 20e6, p.BrokerWriteBytesPerVCPU)
	assert.InDelta(t, 0.25*float64(sizing.MB), p.NVMeWriteBytesPerGB, 1e-9, "250 MB/s per TB is 0.25 MB/s per GB")
	for _, tc := range []struct {
		c   Calibration
		key string
	}{
		{Calibration{BrokerMsgPerVCPU: 10}, "calibration.brokerMsgPerVcpu"},
		{Calibration{BrokerMsgPerVCPU: -25_000}, "calibration.brokerMsgPerVcpu"},
		{Calibration{NVMeWriteMBpsPerTB: 1e6}, "calibration.nvmeWriteMBpsPerTB"},
		{Calibration{BrokerWriteMBpsPerVCPU: 500}, "calibration.brokerWriteMBpsPerVcpu"},
	} {
		_, err := tc.c.Apply(def)
		var ce *ConfigError
		require.True(t, errors.As(err, &ce), "%+v", tc.c)
		assert.Equal(t, Key(tc.key), ce.Key)
		assert.Contains(t, ce.Allowed, "measured")
	}
}

// The calibration is the fleet's: differing stacks are refused, and a
// bad value is refused by the stack's own validation, naming the key.
func TestCalibrationIsTheFleets(t *testing.T) {
	files, err := StackFiles("..")
	require.NoError(t, err)
	files[0].Raw[Key("calibration")] = `{"brokerMsgPerVcpu": 12500}`
	fleet, err := FleetFromFiles(files)
	require.NoError(t, err)
	err = ValidateFleet(fleet)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pulsar-fleet:calibration")
	for i := range files {
		files[i].Raw[Key("calibration")] = `{"brokerMsgPerVcpu": 12500}`
	}
	fleet, err = FleetFromFiles(files)
	require.NoError(t, err)
	require.NoError(t, ValidateFleet(fleet))
	p, err := fleet.Params()
	require.NoError(t, err)
	assert.Equal(t, 12_500.0, p.BrokerMsgPerVCPU)

	files[0].Raw[Key("calibration")] = `{"brokerMsgPerVcpu": 5}`
	fleet, err = FleetFromFiles(files)
	require.NoError(t, err)
	assert.ErrorContains(t, ValidateFleet(fleet), "pulsar-fleet:calibration.brokerMsgPerVcpu")
}
