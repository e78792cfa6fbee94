package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuorumTLSMove(t *testing.T) {
	const key = "pulsar-fleet:zookeeper.quorumTls"
	for _, tc := range []struct {
		was, now QuorumTLS
		want     string // "" allows
	}{
		{QuorumPlaintext, QuorumAccept, ""},
		{QuorumAccept, QuorumAccept, ""},
		{QuorumAccept, QuorumDial, ""},
		{QuorumDial, QuorumTLSOnly, ""},
		{QuorumTLSOnly, QuorumTLSOnly, ""},
		{QuorumPlaintext, QuorumTLSOnly, "declare pulsar-fleet:zookeeper.quorumTls: accept first"},
		{QuorumPlaintext, QuorumDial, "declare pulsar-fleet:zookeeper.quorumTls: accept first"},
		{QuorumAccept, QuorumTLSOnly, "declare pulsar-fleet:zookeeper.quorumTls: dial first"},
		{QuorumTLSOnly, QuorumDial, ""},
		{QuorumDial, QuorumAccept, ""},
		{QuorumTLSOnly, QuorumAccept, "back from tls two stages at once"},
		{QuorumAccept, QuorumPlaintext, `want accept, dial or tls`},
		{QuorumTLSOnly, "ssl", `want accept, dial or tls`},
		{"strict", QuorumTLSOnly, `the deployed ZooKeeper quorum reads "strict"`},
	} {
		err := QuorumTLSMove(tc.was, tc.now, key)
		if tc.want == "" {
			assert.NoError(t, err, "%s -> %s", tc.was, tc.now)
			continue
		}
		require.Error(t, err, "%s -> %s", tc.was, tc.now)
		assert.Contains(t, err.Error(), tc.want, "%s -> %s", tc.was, tc.now)
	}
}

func TestQuorumTLSStages(t *testing.T) {
	for _, q := range QuorumTLSStages {
		assert.True(t, q.Valid(), q)
	}
	assert.False(t, QuorumPlaintext.Valid(), "plaintext is not declarable")
	assert.Equal(t, []bool{false, true, true}, []bool{QuorumAccept.DialsTLS(), QuorumDial.DialsTLS(), QuorumTLSOnly.DialsTLS()})
	assert.Equal(t, []bool{true, true, false}, []bool{QuorumAccept.AcceptsPlaintext(), QuorumDial.AcceptsPlaintext(), QuorumTLSOnly.AcceptsPlaintext()})
}
