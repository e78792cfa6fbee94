package stacks

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// The program reads its own last outputs (a stack reference to itself)
// and runs the guard before it registers anything else, so a `pulumi up`
// outside the fleet driver (the operator's, a plain one) is refused too;
// the fleet key it last minted from reaches the region's own check.
func TestProgramGuardsItsDeployedState(t *testing.T) {
	cat, err := sizing.DefaultCatalog()
	require.NoError(t, err)
	fleet := repoFleet(t)
	var sf StackFile
	for _, f := range repoFiles(t) {
		if f.Stack == "eu-west-1" {
			sf = f
		}
	}
	require.Equal(t, "eu-west-1", sf.Stack)
	c, _ := fleet.Get("eu-west-1")
	d, err := DesignFor(fleet, "eu-west-1", "", cat)
	require.NoError(t, err)
	current, err := model.KeyFingerprint(recorder.SimulatedTokenKey())
	require.NoError(t, err)
	deployed := func(k8s, fingerprint string) map[string]any {
		out := map[string]any{regions.OutputPhase: c.Phase, regions.OutputBookieSets: regions.BookieSets(d.Components.Pulsar),
			regions.OutputKubernetesVersion: k8s, regions.OutputSigningKey: "fleet", regions.OutputSigningKeyFingerprint: fingerprint,
			regions.OutputZooKeeperQuorumTLS: "tls"}
		if v, ok := regions.EBSVolumes(d.Components); ok {
			out[regions.OutputBookieVolumes] = regions.VolumesOutput(v).Map()
		}
		return out
	}
	const self = "organization/pulsar-fleet/eu-west-1"
	for _, tc := range []struct {
		name     string
		deployed map[string]any
		want     string
		onlyRef  bool
	}{
		{"never deployed", nil, "", false},
		{"deployed as declared", deployed(c.Cluster.KubernetesVersion, current), "", false},
		{"a Kubernetes jump", deployed("1.33", current), "EKS upgrades one minor version at a time: set 1.34", true},
		{"another fleet key", deployed(c.Cluster.KubernetesVersion, "sha256:"+strings.Repeat("1", 64)), "its Pulsar tokens were minted from the fleet key sha256:111", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := recorder.New(c.Region)
			if tc.deployed != nil {
				rec.StackOutputs[self] = tc.deployed
			}
			err := rec.Run(Project, "eu-west-1", sf.Raw, sf.SecretKeys, NewProgram(WithFleet(fleet), WithCatalog(cat), WithOffline()))
			if tc.want == "" {
				require.NoError(t, err)
				assert.Greater(t, len(rec.Resources()), 100)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			if tc.onlyRef {
				for _, r := range rec.Resources() {
					assert.Equal(t, "pulumi:pulumi:StackReference", r.Type, "nothing but the reference to itself is registered: %s", r.Name)
				}
			}
		})
	}
}

// A null output is no output: a stack whose releases were applied without
// a key it recorded before (RecordedOutputs) reports it so, and the guard
// must not read a null as EBS bookies with no volumes, or as a step.
func TestDeployedStateReadsNullAsAbsent(t *testing.T) {
	d := DeployedState(map[string]any{regions.OutputPhase: "1m", regions.OutputBookieSets: "nvme",
		regions.OutputBookieVolumes: nil, regions.OutputTransition: nil, regions.OutputLegacyBookieStorage: nil})
	assert.Equal(t, "1m", d.Phase)
	assert.Nil(t, d.Volumes, "no EBS bookies")
	assert.Nil(t, d.Between, "at a phase")
	assert.Empty(t, d.LegacyStorage)
	withVolumes := DeployedState(map[string]any{regions.OutputBookieVolumes: map[string]any{"ledgerGiB": 100.0}})
	require.NotNil(t, withVolumes.Volumes, "a recorded volumes output is read")
}

// A plan whose spot pool cannot be diversified (a fan-out that only
// network-optimised types carry) names the key that fixes it, and with
// that key set, the design goes through.
func TestUndiversifiedSpotPoolNamesTheKey(t *testing.T) {
	cat, err := sizing.DefaultCatalog()
	require.NoError(t, err)
	f := repoFleet(t)
	for i := range f.Stacks {
		f.Stacks[i].Workload.Subscriptions = 400
	}
	_, err = DesignFor(f, "us-west-2", "", cat)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pool broker: spot needs diversification")
	assert.Contains(t, err.Error(), "stack us-west-2: set pulsar-fleet:spot.broker: 0 in its stack file")
	zero := 0.0
	for i := range f.Stacks {
		if f.Stacks[i].Stack == "us-west-2" {
			f.Stacks[i].Spot.Broker = &zero
		}
	}
	_, err = DesignFor(f, "us-west-2", "", cat)
	require.NoError(t, err, "on-demand brokers need no diversification")
}
