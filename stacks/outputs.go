package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// stringOutputs are the outputs the guards read as strings.
var stringOutputs = []string{
	regions.OutputPhase, regions.OutputBookieSets, regions.OutputLegacyBookieStorage, regions.OutputSigningKey,
	regions.OutputSigningKeyFingerprint, regions.OutputZooKeeperQuorumTLS, regions.OutputKubernetesVersion,
}

// CheckOutputs refuses deployed outputs the guards would misread: a key
// they read of another type than the program writes, a phase no plan
// has, a transition step that is not a positive whole number, a network
// or volumes output that does not read as one. The program writes none of
// these; they come from a hand-made or damaged outputs file, which the
// guard would otherwise take for a stack never deployed or at step 0. A
// null is no output.
func CheckOutputs(stack string, deployed map[string]any) error {
	var errs []error
	bad := func(key string, v any, want string) {
		errs = append(errs, fmt.Errorf("output %s: %s is not allowed: want %s", key, describe(v), want))
	}
	for _, k := range stringOutputs {
		if v, ok := deployed[k]; ok && v != nil {
			if _, isString := v.(string); !isString {
				bad(k, v, "a string")
			}
		}
	}
	if p, ok := deployed[regions.OutputPhase].(string); ok && p != "" {
		if _, err := sizing.PhaseByName(p); err != nil {
			bad(regions.OutputPhase, p, "one of "+sizing.PhaseNamesHelp)
		}
	}
	if v, ok := deployed[regions.OutputTransition]; ok && v != nil && !isTransition(v) {
		bad(regions.OutputTransition, v, `{from: <phase>, step: <a whole number from 1>}`)
	}
	if v, ok := deployed[regions.OutputNetwork]; ok && v != nil {
		if n, isMap := v.(map[string]any); !isMap || deployedNetwork(n) == nil {
			bad(regions.OutputNetwork, v, "{vpcCidr, zones, addedZones}")
		}
	}
	if v, ok := deployed[regions.OutputBookieVolumes]; ok && v != nil && !isVolumes(v) {
		bad(regions.OutputBookieVolumes, v, "{ledgerGiB, journalGiB, throughputMiB, ledgerIOPS, journalIOPS}, whole numbers, both sizes positive")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stack %s: its deployed outputs cannot be read, so the guard cannot judge this run:\n%w", stack, err)
	}
	return nil
}

// isTransition is a transition output from a phase at a whole step from
// 1 (a missing or non-numeric step reads as 0).
func isTransition(v any) bool {
	from, step, ok := transitionOutput(v)
	if _, err := sizing.PhaseByName(from); !ok || err != nil {
		return false
	}
	return step >= 1 && step <= math.MaxInt32 && step == math.Trunc(step)
}

func isVolumes(v any) bool {
	// Keys a later version may add are not refused: a rollback, or a
	// branch made before them, must still read the outputs.
	m, isMap := v.(map[string]any)
	_, ledger := m["ledgerGiB"]
	_, journal := m["journalGiB"]
	out, ok := volumesOutput(v)
	if !isMap || !ledger || !journal || !ok {
		return false
	}
	return out.LedgerGiB > 0 && out.JournalGiB > 0 && out.ThroughputMiB >= 0 && out.LedgerIOPS >= 0 && out.JournalIOPS >= 0
}

// describe is a value as an outputs file shows it.
func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
