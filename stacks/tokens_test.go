package stacks

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// The guard refuses an `up` that would change what signs a deployed
// stack's tokens, unless it moves from the chart's key to the fleet key
// with replaceChartKey; a stack deployed before the output is the chart's.
func TestSigningKeyGuard(t *testing.T) {
	cat, err := sizing.DefaultCatalog()
	require.NoError(t, err)
	fleet := repoFleet(t)
	c, ok := fleet.Get("us-east-1")
	require.True(t, ok)
	deployed := func(key string) map[string]any {
		m := map[string]any{}
		if key != "" {
			m["tokenSigningKey"] = key
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		declared Tokens
		deployed string
		want     string
	}{
		{"deployed with the fleet key", Tokens{SigningKey: model.SigningKeyFleet}, "fleet", ""},
		{"deployed before the output, kept on the chart's key", Tokens{SigningKey: model.SigningKeyChart}, "", ""},
		{"deployed before the output, moved by omission", Tokens{SigningKey: model.SigningKeyFleet}, "", "its Pulsar tokens are signed by the chart's key"},
		{"the chart's key, moved by omission", Tokens{SigningKey: model.SigningKeyFleet}, "chart", `"Moving a region to the fleet signing key"`},
		{"the chart's key, moved on purpose", Tokens{SigningKey: model.SigningKeyFleet, ReplaceChartKey: true}, "chart", ""},
		{"back to the chart's key", Tokens{SigningKey: model.SigningKeyChart}, "fleet", "no procedure moves a region back"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := c
			s.Tokens = tc.declared
			err := allowSigningKey(s, deployed(tc.deployed), nil)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "us-east-1")
		})
	}
	// Through the guard itself: a stack deployed before the fleet key, at
	// its own phase, is refused by default.
	d, err := DesignFor(fleet, "us-east-1", "", cat)
	require.NoError(t, err)
	out := map[string]any{"phase": c.Phase, "bookieSets": regions.BookieSets(d.Components.Pulsar), "kubernetesVersion": c.Cluster.KubernetesVersion,
		regions.OutputZooKeeperQuorumTLS: "tls"}
	if v, ok := regions.EBSVolumes(d.Components); ok {
		out["bookieVolumes"] = regions.VolumesOutput(v).Map()
	}
	err = TransitionGuard(fleet, cat, nil)("us-east-1", out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tokens.signingKey: chart to keep the key")
	out["tokenSigningKey"] = "fleet"
	assert.NoError(t, TransitionGuard(fleet, cat, nil)("us-east-1", out))

	// The fleet key itself: the guard compares what the stack deployed
	// with the bootstrap stack's key.
	out[regions.OutputSigningKeyFingerprint] = oldKey
	assert.NoError(t, TransitionGuard(fleet, cat, key(oldKey, nil))("us-east-1", out), "the same key")
	err = TransitionGuard(fleet, cat, key(newKey, nil))("us-east-1", out)
	require.Error(t, err, "a replaced bootstrap key")
	assert.Contains(t, err.Error(), `add acceptKeyFingerprint: "`+newKey+`" to pulsar-fleet:tokens in this stack's file`)
}

const (
	oldKey = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	newKey = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// key is a FleetKey that reports fp, or fails with err.
func key(fp string, err error) FleetKey {
	return func() (string, error) { return fp, err }
}

// A stack whose tokens were minted from one fleet key is refused an `up`
// once the bootstrap stack holds another, unless its file accepts that
// key by fingerprint; what cannot be compared is not refused.
func TestFleetKeyGuard(t *testing.T) {
	c, ok := repoFleet(t).Get("us-east-1")
	require.True(t, ok)
	deployed := func(fp string) map[string]any {
		m := map[string]any{regions.OutputSigningKey: "fleet", regions.OutputZooKeeperQuorumTLS: "tls"}
		if fp != "" {
			m[regions.OutputSigningKeyFingerprint] = fp
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		accept   string
		deployed string
		key      FleetKey
		want     string
	}{
		{"the same key", "", oldKey, key(oldKey, nil), ""},
		{"a new key, unannounced", "", oldKey, key(newKey, nil), "its Pulsar tokens were minted from the fleet key " + oldKey + ", and the bootstrap stack's fleet key is now " + newKey},
		{"a new key, accepted", newKey, oldKey, key(newKey, nil), ""},
		{"a new key, another accepted", oldKey, "sha256:3333333333333333333333333333333333333333333333333333333333333333", key(newKey, nil), `"Rotating the fleet signing key"`},
		{"deployed before the fingerprint", "", "", key(newKey, nil), ""},
		{"a bootstrap stack without the output", "", oldKey, key("", nil), ""},
		{"not compared", "", oldKey, nil, ""},
		{"the bootstrap stack unreadable", "", oldKey, key("", errors.New("backend unreachable")), "read the bootstrap stack's fleet key: backend unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := c
			s.Tokens = Tokens{SigningKey: model.SigningKeyFleet, AcceptKeyFingerprint: tc.accept}
			err := allowSigningKey(s, deployed(tc.deployed), tc.key)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "stack us-east-1")
		})
	}
}
