package stacks

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckOutputs(t *testing.T) {
	volumes := map[string]any{"ledgerGiB": 768.0, "journalGiB": 24.0, "throughputMiB": 125.0, "ledgerIOPS": 3000.0, "journalIOPS": 6000.0}
	network := map[string]any{"vpcCidr": "10.0.0.0/16", "zones": []any{"us-east-1a"}}
	for _, tc := range []struct {
		name    string
		outputs map[string]any
		want    string // "" passes
	}{
		{"never deployed", map[string]any{}, ""},
		{"what the program writes", map[string]any{"phase": "1m", "bookieSets": "ebs,nvme", "transition": map[string]any{"from": "100k", "step": 2.0},
			"bookieVolumes": volumes, "network": network, "kubernetesVersion": "1.35", "zookeeperQuorumTls": "tls"}, ""},
		{"nulls are no outputs", map[string]any{"phase": "1m", "transition": nil, "bookieVolumes": nil, "network": nil, "bookieStorage": nil}, ""},
		{"a phase of another type", map[string]any{"phase": 3.0}, "output phase: 3 is not allowed: want a string"},
		{"a phase no plan has", map[string]any{"phase": "2m"}, `output phase: "2m" is not allowed: want one of 35k`},
		{"a version as a number", map[string]any{"phase": "35k", "kubernetesVersion": 1.35}, "output kubernetesVersion: 1.35 is not allowed: want a string"},
		{"a quorum stage as a number", map[string]any{"phase": "35k", "zookeeperQuorumTls": 3.0}, "output zookeeperQuorumTls: 3"},
		{"a signing key as a number", map[string]any{"phase": "35k", "tokenSigningKey": 1.0}, "output tokenSigningKey: 1"},
		{"a transition as a string", map[string]any{"phase": "1m", "transition": "x"}, `output transition: "x" is not allowed`},
		{"a step as a word", map[string]any{"phase": "1m", "transition": map[string]any{"from": "100k", "step": "two"}}, "output transition:"},
		{"a step of 0", map[string]any{"phase": "1m", "transition": map[string]any{"from": "100k", "step": 0.0}}, "output transition:"},
		{"a fractional step", map[string]any{"phase": "1m", "transition": map[string]any{"from": "100k", "step": 1.7}}, "output transition:"},
		{"a huge step", map[string]any{"phase": "1m", "transition": map[string]any{"from": "100k", "step": 1e30}}, "output transition:"},
		{"a transition from no phase", map[string]any{"phase": "1m", "transition": map[string]any{"from": "2m", "step": 1.0}}, "output transition:"},
		{"a network as a number", map[string]any{"phase": "35k", "network": 5.0}, "output network: 5"},
		{"a network without its block", map[string]any{"phase": "35k", "network": map[string]any{"zones": 5.0}}, "output network:"},
		{"volumes as a number", map[string]any{"phase": "35k", "bookieVolumes": 5.0}, "output bookieVolumes: 5"},
		{"volumes with no sizes", map[string]any{"phase": "35k", "bookieVolumes": map[string]any{}}, "output bookieVolumes: {}"},
		{"volumes too large to hold", map[string]any{"phase": "35k", "bookieVolumes": map[string]any{"ledgerGiB": 1e30, "journalGiB": 24.0}}, "output bookieVolumes:"},
		{"volumes with a size misspelt", map[string]any{"phase": "35k", "bookieVolumes": map[string]any{"ledger": 1.0, "journalGiB": 1.0}}, "output bookieVolumes:"},
		{"volumes with a key of a later version", map[string]any{"phase": "35k", "bookieVolumes": map[string]any{"ledgerGiB": 1.0, "journalGiB": 1.0, "class": "gp3"}}, ""},
		{"bookie sets as a number", map[string]any{"phase": "35k", "bookieSets": 5.0}, "output bookieSets: 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckOutputs("us-east-1", tc.outputs)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "stack us-east-1: its deployed outputs cannot be read")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
