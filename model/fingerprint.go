package model

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
)

// OutputFleetTokenKeyFingerprint is the bootstrap stack's output of its
// fleet token key's fingerprint (KeyFingerprint; not a secret): the fleet
// driver compares it with what each region deployed before an `up`.
const OutputFleetTokenKeyFingerprint = "fleetTokenKeyFingerprint"

// KeyFingerprint names an RSA signing key by its public half:
// "sha256:" and the hex SHA-256 of the public key's DER (SubjectPublicKeyInfo),
// what `openssl pkey -pubout -outform DER | sha256sum` prints for the key.
// It takes the private key in PEM, PKCS #1 or PKCS #8.
func KeyFingerprint(keyPEM string) (string, error) {
	block, _ := pem.Decode([]byte(keyPEM))
	if block == nil {
		return "", errors.New("key fingerprint: not PEM")
	}
	var pub *rsa.PublicKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return "", fmt.Errorf("key fingerprint: %w", err)
		}
		pub = &k.PublicKey
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return "", fmt.Errorf("key fingerprint: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return "", fmt.Errorf("key fingerprint: %T, want RSA", k)
		}
		pub = &rk.PublicKey
	default:
		return "", fmt.Errorf("key fingerprint: PEM block %q, want RSA PRIVATE KEY or PRIVATE KEY", block.Type)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("key fingerprint: %w", err)
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// FleetKeyChange refuses moving a region's tokens from the fleet key they
// were minted from (was) to another (now) that the region's stack file
// does not accept by fingerprint (accept; acceptKey names the config key
// that holds the setting, pulsar-fleet:tokens):
// the `up` would re-mint every token, and the brokers would refuse every
// token the old key signed, the applications' included. A region that
// exported no fingerprint (deployed before it) or an unknown new key is
// not compared.
func FleetKeyChange(was, now, accept, acceptKey string) error {
	if was == "" || now == "" || now == was || now == accept {
		return nil
	}
	return fmt.Errorf("its Pulsar tokens were minted from the fleet key %s, and the bootstrap stack's fleet key is now %s. "+
		"An `up` would re-mint every token from the new key, and the brokers would refuse every token the old one signed, the applications' included. "+
		"If the key was replaced on purpose, follow docs/operations.md, \"Rotating the fleet signing key\", and add acceptKeyFingerprint: %q to %s in this stack's file; "+
		"if not, restore the bootstrap stack's key", was, now, now, acceptKey)
}
