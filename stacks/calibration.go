package stacks

import (
	"fmt"

	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// Calibration replaces the planner's assumptions that decide the broker
// and NVMe bookie counts from 1m up, with what the team measured on
// its own cluster (docs/capacity-plan.md, "Calibrating the planner"). It is
// the fleet's, so every stack sets the same one.
type Calibration struct {
	// BrokerMsgPerVCPU is the messages per second one broker vCPU carries
	// at the team's message size and batching (default 25,000).
	BrokerMsgPerVCPU float64 `json:"brokerMsgPerVcpu,omitempty"`
	// BrokerWriteMBpsPerVCPU is the write throughput one broker vCPU
	// carries, MB/s (default 12.5, the Pulsar documentation's rating).
	BrokerWriteMBpsPerVCPU float64 `json:"brokerWriteMBpsPerVcpu,omitempty"`
	// NVMeWriteMBpsPerTB is the sustained write bandwidth of the bookies'
	// instance storage, MB/s per TB (default 267, AWS's rating).
	NVMeWriteMBpsPerTB float64 `json:"nvmeWriteMBpsPerTB,omitempty"`
}

// Calibration bounds: beyond them a measurement is a mistake.
const (
	minMsgPerVCPU, maxMsgPerVCPU   = 1_000, 1_000_000
	minNVMeMBpsTB, maxNVMeMBpsTB   = 50, 5_000
	minMBpsPerVCPU, maxMBpsPerVCPU = 1, 200
)

// What each rating allows.
var (
	allowedMsgPerVCPU  = fmt.Sprintf("messages per second per broker vCPU, measured with pulsar-perf, between %d and %d", minMsgPerVCPU, maxMsgPerVCPU)
	allowedMBpsPerVCPU = fmt.Sprintf("MB/s of writes per broker vCPU, measured with pulsar-perf, between %d and %d", minMBpsPerVCPU, maxMBpsPerVCPU)
	allowedNVMeMBpsTB  = fmt.Sprintf("sustained MB/s per TB of instance storage, measured with fio, between %d and %d", minNVMeMBpsTB, maxNVMeMBpsTB)
)

// Apply lays the calibration over the planner's defaults; an error names
// the key.
func (c Calibration) Apply(p sizing.Params) (sizing.Params, error) {
	if c.BrokerMsgPerVCPU != 0 {
		if !(c.BrokerMsgPerVCPU >= minMsgPerVCPU && c.BrokerMsgPerVCPU <= maxMsgPerVCPU) {
			return p, &ConfigError{Key: Key("calibration.brokerMsgPerVcpu"), Value: c.BrokerMsgPerVCPU,
				Allowed: allowedMsgPerVCPU}
		}
		p.BrokerMsgPerVCPU = c.BrokerMsgPerVCPU
	}
	if c.BrokerWriteMBpsPerVCPU != 0 {
		if !(c.BrokerWriteMBpsPerVCPU >= minMBpsPerVCPU && c.BrokerWriteMBpsPerVCPU <= maxMBpsPerVCPU) {
			return p, &ConfigError{Key: Key("calibration.brokerWriteMBpsPerVcpu"), Value: c.BrokerWriteMBpsPerVCPU,
				Allowed: allowedMBpsPerVCPU}
		}
		p.BrokerWriteBytesPerVCPU = c.BrokerWriteMBpsPerVCPU * float64(sizing.MB)
	}
	if c.NVMeWriteMBpsPerTB != 0 {
		if !(c.NVMeWriteMBpsPerTB >= minNVMeMBpsTB && c.NVMeWriteMBpsPerTB <= maxNVMeMBpsTB) {
			return p, &ConfigError{Key: Key("calibration.nvmeWriteMBpsPerTB"), Value: c.NVMeWriteMBpsPerTB,
				Allowed: allowedNVMeMBpsTB}
		}
		p.NVMeWriteBytesPerGB = c.NVMeWriteMBpsPerTB * float64(sizing.MB) / 1000
	}
	return p, nil
}

// Params are the planner's assumptions with the fleet's calibration.
func (f Fleet) Params() (sizing.Params, error) {
	if len(f.Stacks) == 0 {
		return sizing.DefaultParams(), nil
	}
	return f.Stacks[0].Calibration.Apply(sizing.DefaultParams())
}

// sameCalibration refuses stacks whose calibrations differ: they describe
// the same software on the same instance families.
var sameCalibration = sameInEveryStack("calibration", func(s StackConfig) any { return s.Calibration },
	"the fleet runs one Pulsar on the same instance families")
