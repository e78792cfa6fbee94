package regions

import (
	"maps"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PulsarOutputs are the outputs that say what a stack's Pulsar releases
// run: the phase, the transition step, the bookie sets and their volumes,
// the signing key and ZooKeeper's quorum stage. The guards read them to
// learn what a stack runs before they allow a change, so each is reported
// only once the releases hold what it says (RecordedOutputs).
// OutputLegacyBookieStorage is one of them: a stack deployed before the
// bookie sets reports it until its releases are applied.
var PulsarOutputs = []string{
	OutputPhase, OutputTransition, OutputBookieSets, OutputBookieVolumes, OutputLegacyBookieStorage,
	OutputSigningKey, OutputSigningKeyFingerprint, OutputZooKeeperQuorumTLS,
}

// RecordedOutputs reports a group of outputs as declared once applied is
// true, and otherwise as the stack last recorded them (recorded, its last
// outputs). The engine updates a stack's outputs even in a run that
// applies only some resources (`pulumi up --target`), so an output taken
// from the configuration alone would report a phase step whose releases
// were never applied, and the guard would then allow the next step over
// it. The group is the declared outputs and those of keys the stack last
// recorded (not null); a key that one side lacks is reported null.
func RecordedOutputs(applied pulumi.BoolOutput, declared pulumi.Map, recorded map[string]any, keys ...string) pulumi.Map {
	last := map[string]any{}
	for _, k := range keys {
		if v, ok := recorded[k]; ok && v != nil {
			last[k] = v
		}
	}
	chosen := pulumi.All(applied, declared).ApplyT(func(v []any) map[string]any {
		if ok, _ := v[0].(bool); ok {
			return v[1].(map[string]any)
		}
		return last
	}).(pulumi.MapOutput)
	names := slices.Collect(maps.Keys(declared))
	for k := range last {
		if _, ok := declared[k]; !ok {
			names = append(names, k)
		}
	}
	out := pulumi.Map{}
	for _, k := range names {
		out[k] = chosen.MapIndex(pulumi.String(k))
	}
	return out
}
