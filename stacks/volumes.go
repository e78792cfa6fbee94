package stacks

import (
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// BookieVolumes pins the EBS bookies' volumes at one phase: the volumes a
// running stack has there, in place of the planner's choice. The guard asks
// for it, with the values, when a stack runs other volumes than the plan
// chooses (a stack deployed before the planner chose them, or a workload
// edit): volumes change only in a phase transition's resize step.
type BookieVolumes struct {
	Phase         string `json:"phase"`
	LedgerGiB     int    `json:"ledgerGiB"`
	JournalGiB    int    `json:"journalGiB"`
	ThroughputMiB int    `json:"throughputMiB"`
}

// Volumes are the pinned volumes, IOPS as the planner provisions them.
func (b BookieVolumes) Volumes() sizing.Volumes {
	v := sizing.NewVolumes(int64(b.LedgerGiB)*sizing.GiB, float64(b.ThroughputMiB)*float64(sizing.MiB), sizing.DefaultParams())
	v.JournalBytes = int64(b.JournalGiB) * sizing.GiB
	return v
}

// validate names the field that breaks the pin.
func (b *BookieVolumes) validate(bad badFunc) {
	if b == nil {
		return
	}
	if _, err := sizing.PhaseByName(b.Phase); err != nil {
		bad(Key("bookieVolumes.phase"), b.Phase, "the phase the volumes are pinned at: one of "+sizing.PhaseNamesHelp)
	}
	if err := b.Volumes().Validate(); err != nil {
		if fe, ok := err.(*sizing.FieldError); ok {
			key, value := map[string]string{"ledgerVolume": "ledgerGiB", "journalVolume": "journalGiB", "ledgerIOPS": "ledgerGiB",
				"journalIOPS": "journalGiB", "ledgerThroughput": "throughputMiB", "journalThroughput": "throughputMiB", "volumeThroughput": "throughputMiB"}[fe.Field], any(nil)
			switch key {
			case "ledgerGiB":
				value = b.LedgerGiB
			case "journalGiB":
				value = b.JournalGiB
			default:
				value = b.ThroughputMiB
			}
			bad(Key("bookieVolumes."+key), value, fe.Allowed)
		}
	}
}
