package tests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/network"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/golden"
	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/internal/render"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
	"github.com/pulsar-fleet/pulsar-fleet/transition"
)

// addedZones are the zones each committed stack could add (eu-west-1 has
// none left), with a secondary CIDR beside its VPC's.
var addedZones = map[string]model.AddedZone{
	"us-east-1": {Zone: "us-east-1d", CIDR: "10.11.0.0/16"},
	"us-west-2": {Zone: "us-west-2d", CIDR: "10.21.0.0/16"},
}

// Adding a zone to a running region, at every phase: no subnet of the
// first zones changes, Karpenter's pools and the racks take the new zone,
// and the guard's decision (one `up` keeps every bookie and ZooKeeper
// within one server, or it is refused) is the golden table that
// docs/operations.md, "Adding a zone", shows.
func TestAddingAZone(t *testing.T) {
	var table []string
	for _, stack := range []string{"us-east-1", "us-west-2"} {
		z := addedZones[stack]
		for _, phase := range sizing.PhaseNames {
			before := designAt(t, stack, phase, nil)
			after := designAt(t, stack, phase, func(r stacks.Raw) {
				r[stacks.Key("addedZones")] = fmt.Sprintf(`[{"zone": %q, "cidr": %q}]`, z.Zone, z.CIDR)
			})
			nb, err := network.Compute(before.Components.Network)
			require.NoError(t, err)
			na, err := network.Compute(after.Components.Network)
			require.NoError(t, err)
			assert.Equal(t, nb.Private, na.Private, "%s %s: private subnets kept", stack, phase)
			assert.Equal(t, nb.Public, na.Public, "%s %s: public subnets kept", stack, phase)
			assert.Contains(t, after.Components.Capacity.Zones, z.Zone, "Karpenter's pools launch in the new zone")
			assert.Contains(t, after.Components.Pulsar.Zones, z.Zone, "the new zone is a rack")
			added, err := transition.NetworkChange(stack, phase, deployedNetwork(before), after.Components.Network)
			require.NoError(t, err)
			require.Equal(t, []model.AddedZone{z}, added)
			table = append(table, zoneLine(stack, phase, before, after,
				transition.AllowZones(transition.Deployed{Phase: phase}, added, before, after)))
		}
	}
	got := strings.Join(table, "\n") + "\n"
	golden.Assert(t, "zones/add-zone.txt", []byte(got))
	doc, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	require.NoError(t, err)
	assert.Contains(t, string(doc), "```\n"+got+"```", "docs/operations.md, \"Adding a zone\", shows the table")
}

func deployedNetwork(d regions.RegionDesign) transition.DeployedNetwork {
	n := d.Components.Network
	return transition.DeployedNetwork{VPCCIDR: n.CIDR, Zones: n.Zones, AddedZones: n.AddedZones}
}

func zoneLine(stack, phase string, before, after regions.RegionDesign, err error) string {
	verdict := "one `up`"
	var r *transition.RefusedError
	if errors.As(err, &r) {
		why, _, _ := strings.Cut(r.Reasons[len(r.Reasons)-1], ": ")
		verdict = "refused, " + why
	} else if err != nil {
		verdict = "error: " + err.Error()
	}
	return fmt.Sprintf("%-9s %-4s +%s  bookies %d -> %d, zookeeper %d -> %d, brokers %d -> %d: %s", stack, phase,
		addedZones[stack].Zone, before.Plan.Bookies.Count, after.Plan.Bookies.Count,
		before.Plan.ZooKeeper.Count, after.Plan.ZooKeeper.Count, before.Plan.Brokers.Count, after.Plan.Brokers.Count, verdict)
}

// The added-zone state applies for real: at every phase where the guard
// allows it as one `up`, the stack's declared state before and after the
// zone is added, applied in sequence to kube-apiserver, is accepted,
// keeps ZooKeeper within one server and removes no bookie, and the
// after-state's NodePools may launch in the new zone.
func TestAddedZoneApplies(t *testing.T) {
	r := newRenderer(t)
	s := startAPIServer(t)
	a := &applier{t: t, s: s, r: r, live: map[liveObject]bool{}, kept: map[liveObject]bool{}, rcache: map[string][]manifests.Object{},
		ns: map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true}}
	cat := catalog(t)
	applied := 0
	for _, stack := range []string{"us-east-1", "us-west-2"} {
		z := addedZones[stack]
		dir := withAddedZone(t, stack, z)
		for _, phase := range sizing.PhaseNames {
			before := designAt(t, stack, phase, nil)
			after := designAt(t, stack, phase, func(r stacks.Raw) {
				r[stacks.Key("addedZones")] = fmt.Sprintf(`[{"zone": %q, "cidr": %q}]`, z.Zone, z.CIDR)
			})
			added := []model.AddedZone{z}
			if transition.AllowZones(transition.Deployed{Phase: phase}, added, before, after) != nil {
				continue // refused, with the zone's own transition (TestAddingAZone)
			}
			from := previewState(t, stack, phase, nil)
			to := zoneState(t, dir, stack, phase, cat)
			a.runStates(stack, transition.Transition{From: phase, To: phase + " +" + z.Zone}, []declaredState{from, to})
			assert.False(t, poolsAdmit(from, z.Zone), "%s %s: before, no NodePool launches in %s", stack, phase, z.Zone)
			assert.True(t, poolsAdmit(to, z.Zone), "%s %s: the NodePools launch in %s", stack, phase, z.Zone)
			applied++
			t.Logf("%s %s: the added-zone state applied", stack, phase)
		}
	}
	assert.Empty(t, a.problems, "every added-zone state applies, with no bookie removed and ZooKeeper within one server")
	assert.Positive(t, applied, "at least one phase adds a zone as one `up`")
}

// withAddedZone is a copy of the project's files with stack's file
// declaring the added zone.
func withAddedZone(t *testing.T, stack string, z model.AddedZone) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"Pulumi.yaml", "Pulumi.us-east-1.yaml", "Pulumi.us-west-2.yaml", "Pulumi.eu-west-1.yaml"} {
		b, err := os.ReadFile(filepath.Join(root, name))
		require.NoError(t, err)
		if name == "Pulumi."+stack+".yaml" {
			b = append(b, fmt.Sprintf("  pulsar-fleet:addedZones:\n    - zone: %s\n      cidr: %s\n", z.Zone, z.CIDR)...)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	return dir
}

// zoneState is the stack's declared state with the added zone, previewed
// from dir.
func zoneState(t *testing.T, dir, stack, phase string, cat *sizing.Catalog) declaredState {
	t.Helper()
	res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: dir, Catalog: cat, Phase: phase, Stacks: []string{stack}})
	require.NoError(t, err, "%s %s with an added zone", stack, phase)
	rs := res.Stacks[0].Resources
	st := declaredState{name: phase + " + zone", objs: manifests.From(rs)}
	for _, rel := range render.Releases(rs) {
		if rel.Chart == pulsar.ChartName {
			st.releases = append(st.releases, rel)
		}
	}
	return st
}

// poolsAdmit says whether every NodePool of a state allows zone.
func poolsAdmit(st declaredState, zone string) bool {
	pools := 0
	for _, o := range st.objs {
		if o.Kind() != "NodePool" {
			continue
		}
		pools++
		reqs, _ := field(o.Object, "spec", "template", "spec")["requirements"].([]any)
		found := false
		for _, r := range reqs {
			req, _ := r.(map[string]any)
			if req["key"] != model.LabelZone {
				continue
			}
			vals, _ := req["values"].([]any)
			for _, v := range vals {
				found = found || v == zone
			}
		}
		if !found {
			return false
		}
	}
	return pools > 0
}
