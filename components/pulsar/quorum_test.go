package pulsar

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/upstream"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Every zoo.cfg key a quorum stage sets is one ZooKeeper reads.
func TestQuorumTLSConfigKeysAreReal(t *testing.T) {
	real := upstream.ZooKeeperKeys()
	for _, q := range model.QuorumTLSStages {
		for _, kv := range QuorumTLSConfig(q) {
			assert.True(t, real[kv[0]], "%s: %s is not a ZooKeeper key", q, kv[0])
		}
	}
	assert.False(t, real["ssl.quorum.keystore.location"], "teeth: the keys are case-sensitive")
	assert.False(t, real["quorumTLS"], "teeth: an invented key")
}

// Each stage dials and accepts as ZooKeeper's upgrade procedure says.
func TestQuorumTLSStagesConfig(t *testing.T) {
	for _, tc := range []struct {
		q                       model.QuorumTLS
		sslQuorum, unifiedPorts string
	}{
		{model.QuorumAccept, "false", "true"},
		{model.QuorumDial, "true", "true"},
		{model.QuorumTLSOnly, "true", "false"},
	} {
		got := map[string]string{}
		for _, kv := range QuorumTLSConfig(tc.q) {
			got[kv[0]] = kv[1]
		}
		assert.Equal(t, tc.sslQuorum, got["sslQuorum"], tc.q)
		assert.Equal(t, tc.unifiedPorts, got["portUnification"], tc.q)
		assert.Equal(t, "true", got["sslQuorumReloadCertFiles"], tc.q)
		assert.Equal(t, QuorumCertDir+"/tls-combined.pem", got["ssl.quorum.keyStore.location"], "the copy, not the Secret volume")
		assert.Equal(t, QuorumCertDir+"/ca.crt", got["ssl.quorum.trustStore.location"], "the copy, not the Secret volume")
		assert.Equal(t, "PEM", got["ssl.quorum.keyStore.type"])
	}
}

// The ZooKeeper values carry the command on one line (the chart indents
// only its first) and the copies' directory in memory.
func TestZooKeeperValuesRunTheQuorumCommand(t *testing.T) {
	for _, q := range model.QuorumTLSStages {
		a := testConfig()
		a.QuorumTLS = q
		v, err := Compute(a, testDeps())
		require.NoError(t, err)
		zk := v.ZooKeeper
		assert.Equal(t, ZooKeeperCommand(q), zk.AdditionalCommand)
		assert.Equal(t, q == model.QuorumTLSOnly, strings.Contains(zk.AdditionalCommand, CloseClientPort),
			"%s: 2181 closes at the last stage only (model.QuorumTLS.ServesPlaintextClients)", q)
		assert.NotContains(t, zk.AdditionalCommand, "\n")
		require.Len(t, zk.ExtraVolumes, 1)
		assert.Equal(t, &EmptyDirVolume{Medium: "Memory"}, zk.ExtraVolumes[0].EmptyDir, "key material stays off the node's disk")
		assert.Equal(t, []VolumeMount{{Name: zk.ExtraVolumes[0].Name, MountPath: QuorumCertDir}}, zk.ExtraMounts)
	}
	v, err := Compute(testConfig(), testDeps())
	require.NoError(t, err)
	assert.True(t, strings.Contains(v.ZooKeeper.AdditionalCommand, "'sslQuorum=true' 'portUnification=false'"), "TLS only by default")
	a := testConfig()
	a.QuorumTLS = model.QuorumPlaintext
	_, err = Compute(a, testDeps())
	assert.ErrorContains(t, err, `quorumTls "plaintext": want accept, dial or tls`)
}
