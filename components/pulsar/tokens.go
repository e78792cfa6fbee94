package pulsar

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// MinSigningKeyBits is the smallest RSA signing key accepted.
const MinSigningKeyBits = 2048

// Roles are the Pulsar roles of a region's own clients. With the fleet
// key every role is named after the region: a token is valid in every
// region (one key verifies them all), so a region-scoped name keeps one
// region's superuser token a nobody in the others. The chart's key keeps
// the names it was deployed with.
type Roles struct {
	// Broker, Proxy and Admin are the super users: the brokers among
	// themselves, the proxies towards the brokers, and the program's jobs.
	Broker, Proxy, Admin string
	// Replicator is this region's brokers at the peers it replicates to;
	// each peer grants it produce and consume on the replicated namespaces.
	Replicator string
	// Probe is the end-to-end probe's: produce and consume on the probe's
	// namespace, nothing more (with the chart's key, which the program
	// cannot mint from, the probe uses Admin).
	Probe string
}

// Minted are the roles whose tokens the program mints into Secrets of
// their own (with the fleet key): the super users and the probe.
func (r Roles) Minted() []string { return []string{r.Broker, r.Proxy, r.Admin, r.Probe} }

// RolesOf are the roles of a region.
func RolesOf(a Config) Roles {
	if a.WithDefaults().SigningKey == model.SigningKeyChart {
		return Roles{Broker: "broker-admin", Proxy: "proxy-admin", Admin: "admin", Replicator: ReplicatorRole(a.Cluster), Probe: "admin"}
	}
	return Roles{Broker: "broker-" + a.Cluster, Proxy: "proxy-" + a.Cluster, Admin: "admin-" + a.Cluster, Replicator: ReplicatorRole(a.Cluster),
		Probe: "probe-" + a.Cluster}
}

// ReplicatorRole is the role a cluster's brokers replicate as.
func ReplicatorRole(cluster string) string { return "replicator-" + cluster }

// TokenSecret is the Secret the chart mounts a super user's token from
// (`<release>-token-<subject>`, key TOKEN).
func TokenSecret(role string) string { return ReleaseName + "-token-" + role }

// KeySecret is the Secret the chart mounts the token public key from
// (key PUBLICKEY); the program writes no private key into the cluster.
const KeySecret = ReleaseName + "-token-asymmetric-key"

// SigningKey parses an RSA private key in PEM (PKCS#1 or PKCS#8) of at
// least MinSigningKeyBits.
func SigningKey(keyPEM string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(keyPEM))
	if block == nil {
		return nil, errors.New("token signing key: not PEM")
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("token signing key: %w", err)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("token signing key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("token signing key: %T, want RSA (Pulsar's tokens here are RS256)", k)
		}
		key = rk
	default:
		return nil, fmt.Errorf("token signing key: PEM block %q, want RSA PRIVATE KEY or PRIVATE KEY", block.Type)
	}
	if n := key.N.BitLen(); n < MinSigningKeyBits {
		return nil, fmt.Errorf("token signing key: %d-bit RSA, want at least %d", n, MinSigningKeyBits)
	}
	return key, nil
}

// PublicKeyDER is the key's public half as Pulsar reads tokenPublicKey:
// DER-encoded SubjectPublicKeyInfo, as `bin/pulsar tokens
// create-key-pair` writes it.
func PublicKeyDER(keyPEM string) ([]byte, error) {
	key, err := SigningKey(keyPEM)
	if err != nil {
		return nil, err
	}
	return x509.MarshalPKIXPublicKey(&key.PublicKey)
}

// VerifyToken checks an RS256 token as a broker does, against the public
// key the brokers read (DER SubjectPublicKeyInfo), and returns its
// subject.
func VerifyToken(publicDER []byte, token string) (string, error) {
	pub, err := x509.ParsePKIXPublicKey(publicDER)
	if err != nil {
		return "", fmt.Errorf("token public key: %w", err)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return "", fmt.Errorf("token public key: %T, want RSA", pub)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("token: %d parts, want 3 (a JWT)", len(parts))
	}
	enc := base64.RawURLEncoding
	var header, claims map[string]string
	for i, v := range []*map[string]string{&header, &claims} {
		b, err := enc.DecodeString(parts[i])
		if err != nil {
			return "", fmt.Errorf("token part %d: %w", i, err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			return "", fmt.Errorf("token part %d: %w", i, err)
		}
	}
	if header["alg"] != "RS256" {
		return "", fmt.Errorf("token algorithm %q, want RS256", header["alg"])
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		return "", fmt.Errorf("token signature: %w", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(rsaPub, crypto.SHA256, digest[:], sig); err != nil {
		return "", fmt.Errorf("token signature: %w", err)
	}
	return claims["sub"], nil
}

// MintToken is an RS256 JWT for subject with no expiry, as `bin/pulsar
// tokens create -a RS256 --subject` makes it. PKCS #1 v1.5 signatures
// are deterministic, so the same key and subject give the same token on
// every run: an `up` never shows a token change unless the key changed.
func MintToken(keyPEM, subject string) (string, error) {
	if subject == "" {
		return "", errors.New("token: empty subject")
	}
	key, err := SigningKey(keyPEM)
	if err != nil {
		return "", err
	}
	header, err := json.Marshal(map[string]string{"alg": "RS256"})
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(map[string]string{"sub": subject})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("token %s: %w", subject, err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}
