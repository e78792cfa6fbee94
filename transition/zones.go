package transition

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/components/network"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
)

// DeployedNetwork is the VPC layout a stack's outputs say it runs.
type DeployedNetwork struct {
	VPCCIDR    string            `json:"vpcCidr"`
	Zones      []string          `json:"zones"`
	AddedZones []model.AddedZone `json:"addedZones"`
}

// NetworkChange compares the deployed VPC layout with the declared one.
// The only change one `up` makes safely is zones appended to addedZones,
// each in its own secondary CIDR; it returns them. Anything else (another
// vpcCidr, zones reordered, added or removed, an added zone changed or
// removed) would replace subnets, and with them every node and volume in
// them, and is refused.
func NetworkChange(stack, phase string, was DeployedNetwork, now network.Config) ([]model.AddedZone, error) {
	refuse := func(why string) error {
		return &RefusedError{Stack: stack, From: phase, To: phase, Subnets: true,
			Reasons: []string{"the VPC's subnets would be replaced (" + why + "), and with them every node and volume"}}
	}
	if was.VPCCIDR != now.CIDR {
		return nil, refuse(fmt.Sprintf("vpcCidr %s -> %s", was.VPCCIDR, now.CIDR))
	}
	if !slices.Equal(was.Zones, now.Zones) {
		return nil, refuse(fmt.Sprintf("zones %v -> %v", was.Zones, now.Zones))
	}
	added, ok := appended(was.AddedZones, now.AddedZones)
	if !ok {
		return nil, refuse(fmt.Sprintf("addedZones %v -> %v: added zones are only appended", was.AddedZones, now.AddedZones))
	}
	return added, nil
}

// appended are the zones now adds after was; false when now does not
// extend was (an added zone removed, reordered or given another CIDR).
func appended(was, now []model.AddedZone) ([]model.AddedZone, bool) {
	if len(now) < len(was) || !slices.Equal(was, now[:len(was)]) {
		return nil, false
	}
	return now[len(was):], true
}

// AllowZones lets one `up` add zones to a stack at a steady phase: not
// within a transition, and not with a phase change, so that the `up`
// changes only what the zones bring. before is the design at the deployed
// zones. The new design must not lose a bookie or change ZooKeeper by
// more than one server (Check), which the planner's rounding to the zone
// count could otherwise do, and no pod that keeps its volume in its zone
// may be stranded by the new, empty zone (Stranded).
func AllowZones(was Deployed, added []model.AddedZone, before, now regions.RegionDesign) error {
	var zones []string
	for _, z := range added {
		zones = append(zones, z.Zone)
	}
	if was.Between != nil || now.Between != nil || was.Phase != now.Phase {
		return &RefusedError{Stack: now.Stack, From: was.Phase, To: now.Phase, Zones: true, Reasons: []string{fmt.Sprintf(
			"zones %v are added while the stack moves between phases; a zone is added at a steady phase, in an `up` of its own", zones)}}
	}
	var reasons []string
	if err := Check(before, now); err != nil {
		var r *RefusedError
		if !errors.As(err, &r) {
			return err
		}
		reasons = append([]string{fmt.Sprintf("adding zones %v re-plans the region for %d zones:", zones, len(now.Components.Network.AllZones()))}, r.Reasons...)
	}
	if s, most := stranded(before); len(s) > 0 {
		reasons = append(reasons, fmt.Sprintf("pods bound to their zones would be stranded: %s keep their volumes in their zones, up to %d in one; the new zone, empty, joins their zone spread (maxSkew 1, DoNotSchedule), so such a pod, once rescheduled (a node's expiry or interruption), could not return to its volume",
			strings.Join(s, " and "), most))
	}
	if len(reasons) == 0 {
		return nil
	}
	return &RefusedError{Stack: now.Stack, From: was.Phase, To: now.Phase, Zones: true, Reasons: reasons,
		Remedy: "this version cannot add a zone to this region at this phase: its bookies and ZooKeeper servers cannot move into the new zone one at a time; build a new region stack with the zones in `zones`, geo-replicated (docs/operations.md, \"Adding a zone\")"}
}

// Stranded names the pods of a design that keep their volumes in their
// zones (ZooKeeper's servers, EBS bookies) and run more than one to a
// zone: a new, empty zone in their spread would keep a rescheduled one
// from its volume (the scheduler's skew, its zone's count against the
// empty zone's, exceeds 1).
func Stranded(d regions.RegionDesign) []string {
	names, _ := stranded(d)
	return names
}

// stranded is Stranded and the most pods of those sets one zone holds.
func stranded(d regions.RegionDesign) (names []string, most int) {
	zones := len(d.Components.Network.AllZones())
	bound := []struct {
		name  string
		count int
		bound bool
	}{
		{fmt.Sprintf("ZooKeeper's %d servers", d.Plan.ZooKeeper.Count), d.Plan.ZooKeeper.Count, true},
		{fmt.Sprintf("the %d EBS bookies", d.Plan.Bookies.Count), d.Plan.Bookies.Count, !d.Plan.Bookies.LocalNVMe},
	}
	for _, b := range bound {
		if n := perZone(b.count, zones); b.bound && n > 1 {
			names, most = append(names, b.name), max(most, n)
		}
	}
	return names, most
}

// perZone is the most pods of n spread evenly over zones one zone holds.
func perZone(n, zones int) int {
	if zones < 1 {
		return n
	}
	return (n + zones - 1) / zones
}
