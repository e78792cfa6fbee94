package pulsar

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

func rsaPEM(t *testing.T, bits int, pkcs8 bool) (string, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	require.NoError(t, err)
	if pkcs8 {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		require.NoError(t, err)
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), key
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})), key
}

// A minted token is what `bin/pulsar tokens create -a RS256` makes: an
// RS256 JWT whose only claim is the subject, verifiable with the public
// key the brokers read (DER SubjectPublicKeyInfo), and the same on every
// run, so an `up` shows no change.
func TestMintToken(t *testing.T) {
	for _, pkcs8 := range []bool{false, true} {
		keyPEM, key := rsaPEM(t, 2048, pkcs8)
		token, err := MintToken(keyPEM, "replicator-us-east-1")
		require.NoError(t, err)
		parts := strings.Split(token, ".")
		require.Len(t, parts, 3)
		var header, claims map[string]any
		for i, v := range []*map[string]any{&header, &claims} {
			b, err := base64.RawURLEncoding.DecodeString(parts[i])
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, v))
		}
		assert.Equal(t, map[string]any{"alg": "RS256"}, header)
		assert.Equal(t, map[string]any{"sub": "replicator-us-east-1"}, claims)

		der, err := PublicKeyDER(keyPEM)
		require.NoError(t, err)
		pub, err := x509.ParsePKIXPublicKey(der)
		require.NoError(t, err)
		assert.True(t, key.PublicKey.Equal(pub), "the public key the brokers read is the signing key's")
		subject, err := VerifyToken(der, token)
		require.NoError(t, err)
		assert.Equal(t, "replicator-us-east-1", subject)

		again, err := MintToken(keyPEM, "replicator-us-east-1")
		require.NoError(t, err)
		assert.Equal(t, token, again, "deterministic")
		other, err := MintToken(keyPEM, "admin-us-east-1")
		require.NoError(t, err)
		assert.NotEqual(t, token, other)
	}
}

// A token another key signed, or one altered after signing, does not
// verify.
func TestVerifyTokenRefuses(t *testing.T) {
	keyPEM, _ := rsaPEM(t, 2048, false)
	otherPEM, _ := rsaPEM(t, 2048, false)
	der, err := PublicKeyDER(keyPEM)
	require.NoError(t, err)
	token, err := MintToken(keyPEM, "admin-us-east-1")
	require.NoError(t, err)
	foreign, err := MintToken(otherPEM, "admin-us-east-1")
	require.NoError(t, err)
	parts := strings.Split(token, ".")
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin-us-west-2"}`)) + "." + parts[2]
	hs256 := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256"}`)) + "." + parts[1] + "." + parts[2]
	for _, tc := range []struct{ name, token, want string }{
		{"another key", foreign, "verification error"},
		{"claims altered", forged, "verification error"},
		{"another algorithm", hs256, `algorithm "HS256"`},
		{"not a JWT", "abc", "1 parts, want 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyToken(der, tc.token)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// A key the brokers could not verify, or a weak one, is refused by name.
func TestMintTokenRefuses(t *testing.T) {
	weak, _ := rsaPEM(t, 1024, false)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(t, err)
	good, _ := rsaPEM(t, 2048, false)
	for _, tc := range []struct{ name, key, subject, want string }{
		{"not PEM", "simulated", "admin", "not PEM"},
		{"a certificate", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})), "admin", `PEM block "CERTIFICATE"`},
		{"weak", weak, "admin", "1024-bit RSA, want at least 2048"},
		{"ECDSA", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})), "admin", "want RSA"},
		{"no subject", good, "", "empty subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MintToken(tc.key, tc.subject)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// Roles: region-scoped with the fleet key (one key verifies every
// region's tokens), the chart's names with the chart's key.
func TestRolesOf(t *testing.T) {
	fleet := RolesOf(Config{Cluster: "us-west-2"})
	assert.Equal(t, Roles{Broker: "broker-us-west-2", Proxy: "proxy-us-west-2", Admin: "admin-us-west-2", Replicator: "replicator-us-west-2",
		Probe: "probe-us-west-2"}, fleet)
	chart := RolesOf(Config{Cluster: "us-west-2", SigningKey: model.SigningKeyChart})
	assert.Equal(t, Roles{Broker: "broker-admin", Proxy: "proxy-admin", Admin: "admin", Replicator: "replicator-us-west-2", Probe: "admin"}, chart)
	assert.Equal(t, "pulsar-token-admin-us-west-2", TokenSecret(fleet.Admin))
}
