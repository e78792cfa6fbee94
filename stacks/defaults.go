package stacks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
)

// AppliedDefault is a setting a stack file leaves to its role profile, and
// the value the program applied.
type AppliedDefault struct {
	Stack  string `json:"stack"`
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// withRoleDefaults fills the settings whose role-profile default needs the
// rest of the fleet: an unset tieredStorage.replicateTo becomes the peers
// whose role the profile replicates the offload bucket to (the primary's:
// its DR peers). An explicit list, [] included, is kept as written.
func (f Fleet) withRoleDefaults() Fleet {
	out := Fleet{Stacks: slices.Clone(f.Stacks)}
	for i, s := range out.Stacks {
		if s.TieredStorage.ReplicateTo != nil {
			continue
		}
		prof, err := regions.Profile(s.Role)
		if err != nil {
			continue // Validate names the role
		}
		targets := []string{}
		for _, p := range s.Peers {
			if peer, ok := f.Get(p); ok && peer.Region != s.Region && slices.Contains(prof.BucketReplicasTo, peer.Role) && !slices.Contains(targets, p) {
				targets = append(targets, p)
			}
		}
		out.Stacks[i].TieredStorage.ReplicateTo = targets
		out.Stacks[i].TieredStorage.replicateToDefaulted = true
	}
	return out
}

// AppliedDefaults lists, for each stack at a phase, the role-profile
// defaults the program applies where the stack file sets nothing: spot
// shares per data pool and the offload bucket's replication targets.
func (f Fleet) AppliedDefaults(phase model.PhaseName) ([]AppliedDefault, error) {
	var out []AppliedDefault
	for _, s := range f.Stacks {
		prof, err := regions.Profile(s.Role)
		if err != nil {
			return nil, fmt.Errorf("stack %s: %w", s.Stack, err)
		}
		shares, err := prof.SpotShares(phase)
		if err != nil {
			return nil, fmt.Errorf("stack %s: %w", s.Stack, err)
		}
		src := fmt.Sprintf("%s role profile at %s", s.Role, phase)
		if s.Spot.Broker == nil {
			out = append(out, AppliedDefault{s.Stack, "spot.broker", fmt.Sprintf("%.2f", shares.Broker), src})
		}
		if s.Spot.Bookie == nil {
			out = append(out, AppliedDefault{s.Stack, "spot.bookie", fmt.Sprintf("%.2f", shares.Bookie), src})
		}
		if s.TieredStorage.replicateToDefaulted {
			out = append(out, AppliedDefault{s.Stack, "tieredStorage.replicateTo", "[" + strings.Join(s.TieredStorage.ReplicateTo, ", ") + "]",
				bucketReplicasSource(s.Role, prof.BucketReplicasTo)})
		}
	}
	return out, nil
}

func bucketReplicasSource(role Role, to []model.RegionRole) string {
	if len(to) == 0 {
		return fmt.Sprintf("%s role profile: no bucket replication", role)
	}
	names := make([]string, len(to))
	for i, r := range to {
		names[i] = string(r)
	}
	return fmt.Sprintf("%s role profile: the peers of role %s", role, strings.Join(names, " or "))
}
