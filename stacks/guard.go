package stacks

import (
	"fmt"

	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/internal/jsonform"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/transition"
)

// Guard is asked before a stack's preview or `up` with the stack's deployed
// outputs (none for a stack never deployed); an error stops that stack.
type Guard func(stack string, deployed map[string]any) error

// TransitionGuard refuses a change that one `up` cannot make safely
// (transition.Allow): what the stack runs comes from its outputs (phase,
// transition step, bookie sets), what it declares from its config. A
// config edit at the same phase that moves the bookies to other storage
// (a spot share, say) is refused too, and so are a transition's steps out
// of order.
//
// fleetKey, when not nil, reports the bootstrap stack's fleet key: a stack
// whose tokens were minted from another fleet key is refused, unless its
// file accepts the new key by fingerprint (allowSigningKey).
func TransitionGuard(f Fleet, cat *sizing.Catalog, fleetKey FleetKey) Guard {
	return func(stack string, deployed map[string]any) error {
		c, ok := f.Get(stack)
		if !ok {
			return nil
		}
		if err := CheckOutputs(stack, deployed); err != nil {
			return err
		}
		was := DeployedState(deployed)
		if len(deployed) == 0 {
			return nil
		}
		now, err := DesignFor(f, stack, "", cat)
		if err != nil {
			return err
		}
		if was.Phase == "" {
			// Outputs but no phase: no Pulsar release was applied (a
			// first `up` that stopped before them). What runs is guarded:
			// the VPC's subnets and the cluster's version.
			if was.Network != nil {
				if _, err := transition.NetworkChange(now.Stack, was.Phase, *was.Network, now.Components.Network); err != nil {
					return err
				}
			}
			return allowKubernetesVersion(c, deployed)
		}
		if err := allowNetwork(f, was, now, cat); err != nil {
			return err
		}
		at := func(phase string) (regions.RegionDesign, error) { return DesignFor(f, stack, phase, cat) }
		if err := transition.Allow(was, now, at, cat); err != nil {
			return err
		}
		if err := allowKubernetesVersion(c, deployed); err != nil {
			return err
		}
		if err := allowQuorumTLS(c, deployed); err != nil {
			return err
		}
		return allowSigningKey(c, deployed, fleetKey)
	}
}

// FleetKey reports the fingerprint of the bootstrap stack's fleet token
// key (model.KeyFingerprint); "" when the bootstrap stack does not say
// (not deployed, or deployed before the output).
type FleetKey func() (string, error)

// allowKubernetesVersion refuses a version change EKS cannot make in
// place (cluster.AllowUpgrade). A stack deployed before the export runs
// LegacyKubernetesVersion, the only version the program declared then.
func allowKubernetesVersion(c StackConfig, deployed map[string]any) error {
	was := outputOr(deployed, regions.OutputKubernetesVersion, LegacyKubernetesVersion)
	if was == c.Cluster.KubernetesVersion {
		return nil
	}
	if err := cluster.AllowUpgrade(was, c.Cluster.KubernetesVersion); err != nil {
		return fmt.Errorf("stack %s: %s: %s: %w", c.Stack, Key("cluster.kubernetesVersion"), c.Cluster.KubernetesVersion, err)
	}
	return nil
}

// outputOr is the deployed string output key, or what a stack deployed
// before that output ran (absent or empty).
func outputOr(deployed map[string]any, key, before string) string {
	if s, _ := deployed[key].(string); s != "" {
		return s
	}
	return before
}

// allowQuorumTLS lets one `up` move the ZooKeeper quorum by one stage at
// most (model.QuorumTLSMove). A stack deployed before the output runs a
// plaintext quorum.
func allowQuorumTLS(c StackConfig, deployed map[string]any) error {
	was := model.QuorumTLS(outputOr(deployed, regions.OutputZooKeeperQuorumTLS, string(model.QuorumPlaintext)))
	if err := model.QuorumTLSMove(was, c.ZooKeeper.QuorumTLS, Key("zookeeper.quorumTls")); err != nil {
		return fmt.Errorf("stack %s: %w", c.Stack, err)
	}
	return nil
}

// allowSigningKey refuses an `up` that would change what signs a deployed
// stack's tokens: every token the old key signed, the clients' included,
// would stop working at once. A stack deployed before the output is the
// chart's. Moving from the chart's key to the fleet key is allowed with
// tokens.replaceChartKey, after the clients hold fleet-key tokens; moving
// to another fleet key (allowFleetKey) with tokens.acceptKeyFingerprint.
func allowSigningKey(c StackConfig, deployed map[string]any, fleetKey FleetKey) error {
	was := model.SigningKey(outputOr(deployed, regions.OutputSigningKey, string(model.SigningKeyChart)))
	now := c.Tokens.SigningKey
	switch {
	case now == was && now == model.SigningKeyFleet:
		return allowFleetKey(c, deployed, fleetKey)
	case now == was:
		return nil
	case was == model.SigningKeyChart && now == model.SigningKeyFleet && c.Tokens.ReplaceChartKey:
		return nil
	case was == model.SigningKeyChart:
		return fmt.Errorf("stack %s: its Pulsar tokens are signed by the chart's key, and %s: %s would sign them with the fleet key, "+
			"invalidating every token the old key signed. Set %s: chart to keep the key, or move to the fleet key by docs/operations.md, "+
			"\"Moving a region to the fleet signing key\" (it ends with %s: true)", c.Stack, Key("tokens.signingKey"), now, Key("tokens.signingKey"), Key("tokens.replaceChartKey"))
	default:
		return fmt.Errorf("stack %s: its Pulsar tokens are signed by the %s key; %s: %s would invalidate every one of them (no procedure moves a region back to the chart's key)",
			c.Stack, was, Key("tokens.signingKey"), now)
	}
}

// allowFleetKey refuses an `up` of a stack whose tokens were minted from
// one fleet key when the bootstrap stack now holds another (replaced,
// recreated, or another account's): the `up` would re-mint every token,
// and the brokers, once restarted, would refuse every token the old key
// signed, the applications' included. The file's
// tokens.acceptKeyFingerprint, naming the new key, lets it through. A
// stack deployed before the fingerprint output, or a bootstrap stack that
// does not export one, is not compared.
func allowFleetKey(c StackConfig, deployed map[string]any, fleetKey FleetKey) error {
	was, _ := deployed[regions.OutputSigningKeyFingerprint].(string)
	if fleetKey == nil || was == "" {
		return nil
	}
	now, err := fleetKey()
	if err != nil {
		return fmt.Errorf("stack %s: read the bootstrap stack's fleet key: %w", c.Stack, err)
	}
	if err := model.FleetKeyChange(was, now, c.Tokens.AcceptKeyFingerprint, Key("tokens")); err != nil {
		return fmt.Errorf("stack %s: %w", c.Stack, err)
	}
	return nil
}

// allowNetwork refuses a change of the deployed VPC layout other than
// zones appended to addedZones, and lets zones be added only as
// transition.AllowZones allows, judged against the design at the deployed
// zones.
func allowNetwork(f Fleet, was transition.Deployed, now regions.RegionDesign, cat *sizing.Catalog) error {
	if was.Network == nil {
		return nil
	}
	added, err := transition.NetworkChange(now.Stack, was.Phase, *was.Network, now.Components.Network)
	if err != nil || len(added) == 0 {
		return err
	}
	c, _ := f.Get(now.Stack)
	c.AddedZones = was.Network.AddedZones
	before, err := DesignFor(f.Replace(c), now.Stack, was.Phase, cat)
	if err != nil {
		return err
	}
	return transition.AllowZones(was, added, before, now)
}

// DeployedState reads what a stack runs from its outputs.
func DeployedState(out map[string]any) transition.Deployed {
	str := func(k string) string { s, _ := out[k].(string); return s }
	d := transition.Deployed{Phase: str(regions.OutputPhase), BookieSets: str(regions.OutputBookieSets),
		LegacyStorage: str(regions.OutputLegacyBookieStorage)}
	if from, step, ok := transitionOutput(out[regions.OutputTransition]); ok {
		d.Between = &regions.Between{From: from, Step: int(step)}
	}
	if n, ok := out[regions.OutputNetwork].(map[string]any); ok {
		d.Network = deployedNetwork(n)
	}
	// A null is no key: once the releases are applied, RecordedOutputs
	// reports a key the stack recorded but no longer declares as null.
	if v, ok := out[regions.OutputBookieVolumes]; ok && v != nil {
		d.Volumes = deployedVolumes(v)
	}
	return d
}

// deployedVolumes reads the bookieVolumes output ({ledgerGiB, journalGiB,
// throughputMiB, ledgerIOPS, journalIOPS}, as JSON decodes it). An output
// that does not read as one gives volumes no plan has (zero), so the guard
// refuses rather than take the stack for one deployed before the export.
func deployedVolumes(v any) *sizing.Volumes {
	out, ok := volumesOutput(v)
	if !ok {
		return &sizing.Volumes{}
	}
	vol := out.Volumes()
	return &vol
}

// volumesOutput reads the bookieVolumes output as JSON decodes it; false
// if it does not read as one.
func volumesOutput(v any) (regions.BookieVolumes, bool) {
	var out regions.BookieVolumes
	ok := jsonform.Decode(v, &out) == nil
	return out, ok
}

// transitionOutput reads the transition output ({from, step}: step a
// float64 as JSON decodes it, an int as the program exports it); false if
// it is not an object.
func transitionOutput(v any) (from string, step float64, ok bool) {
	t, ok := v.(map[string]any)
	if !ok {
		return "", 0, false
	}
	from, _ = t["from"].(string)
	step, _ = t["step"].(float64)
	if n, isInt := t["step"].(int); isInt {
		step = float64(n)
	}
	return from, step, true
}

// deployedNetwork reads the network output ({vpcCidr, zones, addedZones},
// as JSON decodes it); nil if it does not read as one.
func deployedNetwork(n map[string]any) *transition.DeployedNetwork {
	var out transition.DeployedNetwork
	if jsonform.Decode(n, &out) != nil || out.VPCCIDR == "" {
		return nil
	}
	return &out
}
