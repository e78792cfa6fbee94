// Package regions holds the region and role profiles and turns one validated
// stack config into the region's component graph. It asks sizing for the
// phase plan and hands each component the plain numbers it needs; components
// never see config or the planner.
package regions

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// RegionFacts are facts about an AWS region the program supports.
type RegionFacts struct {
	Name string
	// Zones are the availability zones usable for EKS node subnets.
	Zones []string
	// PriceFactor scales us-east-1 list prices to this region (EC2 on-demand
	// Linux, averaged over the c/m/r families of the catalog).
	PriceFactor float64
}

var regionFacts = map[string]RegionFacts{
	// us-east-1e is excluded: it offers few current-generation types.
	"us-east-1":    {Name: "us-east-1", Zones: []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"}, PriceFactor: 1.0},
	"us-east-2":    {Name: "us-east-2", Zones: []string{"us-east-2a", "us-east-2b", "us-east-2c"}, PriceFactor: 1.0},
	"us-west-2":    {Name: "us-west-2", Zones: []string{"us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"}, PriceFactor: 1.0},
	"eu-west-1":    {Name: "eu-west-1", Zones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}, PriceFactor: 1.11},
	"eu-central-1": {Name: "eu-central-1", Zones: []string{"eu-central-1a", "eu-central-1b", "eu-central-1c"}, PriceFactor: 1.15},
}

// Facts returns the facts of a supported region.
func Facts(region string) (RegionFacts, error) {
	f, ok := regionFacts[region]
	if !ok {
		return RegionFacts{}, fmt.Errorf("unsupported region %q: profiles exist for %s", region, strings.Join(SupportedRegions(), ", "))
	}
	return f, nil
}

// SupportedRegions lists the regions with profiles.
func SupportedRegions() []string {
	out := make([]string, 0, len(regionFacts))
	for r := range regionFacts {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// SpotShares are the planned spot shares of the data pools, in [0, 1)
// (instance-storage bookies, never on spot, take 0 whatever is planned).
type SpotShares struct {
	Broker, Bookie float64
}

// RoleProfile is the default behaviour of a region role.
type RoleProfile struct {
	// Spot are the spot shares per phase; every phase has its own.
	Spot map[model.PhaseName]SpotShares
	// BucketReplicasTo are the roles of the peers that receive this role's
	// offload bucket by S3 replication when the stack sets no
	// tieredStorage.replicateTo: the primary's goes to the DR region only
	// (geo-replicated namespaces already have copies in the secondary; see
	// docs/capacity-plan.md, "Cross-region replication of the offload
	// bucket"); the others replicate their buckets nowhere.
	BucketReplicasTo []model.RegionRole
	// GlobalView runs the fleet's global query layer and Grafana in the
	// region (Thanos' global querier over every region's regional
	// querier): the primary and the secondary, so the global view survives
	// the loss of either; the DR region answers queries but serves none.
	GlobalView bool
	// Summary explains the profile in the docs and plan output.
	Summary string
}

// SpotShares are the profile's spot shares at a phase. A phase the profile
// does not cover is an error, never a silent 0 (which would mean all
// on-demand).
func (p RoleProfile) SpotShares(phase model.PhaseName) (SpotShares, error) {
	s, ok := p.Spot[phase]
	if !ok {
		return SpotShares{}, fmt.Errorf("role profile %q has no spot shares for phase %q: every profile covers %s", p.Summary, phase, model.OneOf(model.PhaseNames))
	}
	return s, nil
}

// perPhase gives every phase the same shares.
func perPhase(s SpotShares) map[model.PhaseName]SpotShares {
	out := map[model.PhaseName]SpotShares{}
	for _, p := range model.PhaseNames {
		out[p] = s
	}
	return out
}

// roleProfiles follow the seeds: the primary runs 70-80% spot (more as the
// fleet grows and spot diversification improves), the secondary 90%, and the
// disaster-recovery region 50% because it must be there when the others
// are not. ZooKeeper and proxies are on-demand only in every role.
var roleProfiles = map[model.RegionRole]RoleProfile{
	model.RolePrimary: {
		Spot: map[model.PhaseName]SpotShares{
			model.Phase35K: {0.70, 0.70}, model.Phase100K: {0.75, 0.75}, model.Phase1M: {0.75, 0.75},
			model.Phase10M: {0.75, 0.75}, model.Phase100M: {0.80, 0.80},
		},
		BucketReplicasTo: []model.RegionRole{model.RoleDR},
		GlobalView:       true,
		Summary:          "70-80% spot on the data pools, rising with the phase; offload bucket replicated to the DR region",
	},
	model.RoleSecondary: {Spot: perPhase(SpotShares{0.90, 0.90}), GlobalView: true, Summary: "90% spot on the data pools; a second global view"},
	model.RoleDR:        {Spot: perPhase(SpotShares{0.50, 0.50}), Summary: "50% spot: the recovery region must hold when the others fail"},
}

// Profile returns a role's profile.
func Profile(role model.RegionRole) (RoleProfile, error) {
	p, ok := roleProfiles[role]
	if !ok {
		return RoleProfile{}, model.Invalid("role", role, model.RegionRoles)
	}
	return p, nil
}

// PreferredFamilies are the current-generation (Nitro) families per
// architecture the data and critical pools may use. Previous generations
// (c5, m5, m5a, m5n, r5, r5a, r5n, i3) are left out: they cost as much or
// more per unit of network and CPU and are the first spot pools to dry up.
var PreferredFamilies = map[sizing.Arch][]string{
	sizing.ARM64: {"c6g", "c6gn", "c7g", "c7gn", "c8g", "m6g", "m6gd", "m7g", "m8g", "r6g", "r6gd", "r7g", "r7gd", "r8g", "i4g", "im4gn", "is4gen"},
	sizing.AMD64: {"c6i", "c6in", "m6i", "m6in", "m7i", "r6i", "r6in", "r7i", "i3en", "i4i"},
}

// Families returns the preferred families for the given architectures.
func Families(arches []sizing.Arch) []string {
	var out []string
	for _, a := range arches {
		out = append(out, PreferredFamilies[a]...)
	}
	sort.Strings(out)
	return out
}
