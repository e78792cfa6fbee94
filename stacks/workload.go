package stacks

import (
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/pulsar-fleet/pulsar-fleet/internal/jsonform"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// Workload is the team's own workload (stack config `workload`), laid over
// every phase's preset: each field left out keeps the preset. It is the
// fleet's workload, so every stack sets the same one.
type Workload struct {
	// MessageSize is the average message, e.g. "4KB" (at most Pulsar's 5 MiB).
	MessageSize string `json:"messageSize,omitempty"`
	// Subscriptions is how many subscriptions read each message (fan-out).
	Subscriptions float64 `json:"subscriptions,omitempty"`
	// TTL and Retention are durations such as "24h" or "2h".
	TTL       string `json:"ttl,omitempty"`
	Retention string `json:"retention,omitempty"`
	// CompressionRatio is what the producers' batch compression saves
	// (2 = half the bytes sent and stored); 1 or unset is none.
	CompressionRatio float64 `json:"compressionRatio,omitempty"`
	// GeoReplicatedShare is the share of produced traffic in namespaces
	// geo-replicated to the peers (0.25 = a quarter); unset is all of it.
	GeoReplicatedShare float64 `json:"geoReplicatedShare,omitempty"`
}

// What each workload field allows.
var (
	allowedSubscriptions      = fmt.Sprintf("a fan-out above 0, at most %d subscriptions per message", sizing.MaxFanout)
	allowedCompressionRatio   = fmt.Sprintf("a ratio from 1 (no compression) to %d, such as 2.5 for producer batches compressed with LZ4 or zstd", sizing.MaxCompressionRatio)
	allowedGeoReplicatedShare = "a fraction in (0, 1], such as 0.25 when a quarter of the traffic is in geo-replicated namespaces"
)

// Apply lays the workload over a phase preset; an error names the key.
func (w Workload) Apply(ph sizing.Phase) (sizing.Phase, error) {
	if w.MessageSize != "" {
		n, err := sizing.ParseSize(w.MessageSize)
		if err != nil || n <= 0 || n > sizing.MaxMessageBytes {
			return ph, &ConfigError{Key: Key("workload.messageSize"), Value: w.MessageSize,
				Allowed: fmt.Sprintf("a size such as 1KB or 4KiB, at most %s (Pulsar's maxMessageSize)", sizing.FormatSI(float64(sizing.MaxMessageBytes)))}
		}
		ph.MessageBytes = n
	}
	if w.Subscriptions != 0 {
		if !(w.Subscriptions >= 0 && w.Subscriptions <= sizing.MaxFanout) {
			return ph, &ConfigError{Key: Key("workload.subscriptions"), Value: w.Subscriptions, Allowed: allowedSubscriptions}
		}
		ph.ConsumerFanout = w.Subscriptions
	}
	if w.TTL != "" {
		d, err := sizing.ParseDuration(w.TTL)
		if err != nil || d <= 0 {
			return ph, &ConfigError{Key: Key("workload.ttl"), Value: w.TTL, Allowed: "a positive duration such as 24h or 7d"}
		}
		ph.TTL = d
	}
	if w.Retention != "" {
		d, err := sizing.ParseDuration(w.Retention)
		if err != nil || d < 0 {
			return ph, &ConfigError{Key: Key("workload.retention"), Value: w.Retention, Allowed: "a duration such as 2h (0 for none)"}
		}
		ph.Retention = d
	}
	return w.applyShares(ph)
}

// applyShares lays the compression ratio and the geo-replicated share over
// the preset.
func (w Workload) applyShares(ph sizing.Phase) (sizing.Phase, error) {
	if w.CompressionRatio != 0 {
		if !(w.CompressionRatio >= 1 && w.CompressionRatio <= sizing.MaxCompressionRatio) {
			return ph, &ConfigError{Key: Key("workload.compressionRatio"), Value: w.CompressionRatio,
				Allowed: allowedCompressionRatio}
		}
		ph.CompressionRatio = w.CompressionRatio
	}
	if w.GeoReplicatedShare != 0 {
		if !(w.GeoReplicatedShare > 0 && w.GeoReplicatedShare <= 1) {
			return ph, &ConfigError{Key: Key("workload.geoReplicatedShare"), Value: w.GeoReplicatedShare,
				Allowed: allowedGeoReplicatedShare}
		}
		ph.GeoReplicatedShare = w.GeoReplicatedShare
	}
	return ph, nil
}

// PhaseFor is a phase preset with the fleet's workload laid over it.
func (f Fleet) PhaseFor(name string) (sizing.Phase, error) {
	ph, err := sizing.PhaseByName(name)
	if err != nil || len(f.Stacks) == 0 {
		return ph, err
	}
	return f.Stacks[0].Workload.Apply(ph)
}

// sameInEveryStack is a fleet check that refuses a stack whose value
// under key differs from the first stack's; why says why it must be the
// fleet's.
func sameInEveryStack(key string, value func(StackConfig) any, why string) func(Fleet, fleetBadFunc) {
	return func(f Fleet, bad fleetBadFunc) {
		for _, s := range f.Stacks[1:] {
			if first, v := f.Stacks[0], value(s); !reflect.DeepEqual(v, value(first)) {
				field, want, got := firstDifference(value(first), v)
				bad(s.Stack, Key(key+field), got, fmt.Sprintf("%s as %s sets it: the %s must be the same in every stack, since %s",
					fmtValue(want), first.Stack, key, why))
			}
		}
	}
}

// firstDifference names the first field, as the stack file spells it
// (".messageSize"; "" for values that are not objects), where a and b
// differ, and its value in each; an unset field is (unset).
func firstDifference(a, b any) (string, any, any) {
	fa, fb := fields(a), fields(b)
	if fa == nil || fb == nil {
		return "", a, b
	}
	union := maps.Clone(fa)
	maps.Copy(union, fb)
	for _, n := range slices.Sorted(maps.Keys(union)) {
		if !reflect.DeepEqual(fa[n], fb[n]) {
			return "." + n, orUnset(fa, n), orUnset(fb, n)
		}
	}
	return "", a, b
}

// fields is a config object's fields by their JSON names (nil for a
// value that is not an object).
func fields(v any) map[string]any {
	var m map[string]any
	if jsonform.Decode(v, &m) != nil {
		return nil
	}
	return m
}

func orUnset(m map[string]any, k string) any {
	if v, ok := m[k]; ok {
		return v
	}
	return marker("(unset)")
}

// sameWorkload refuses stacks whose workloads differ: the phases describe
// the fleet's traffic, which every region plans its share of.
var sameWorkload = sameInEveryStack("workload", func(s StackConfig) any { return s.Workload }, "it is the fleet's traffic")
