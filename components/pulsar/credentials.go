package pulsar

import (
	"encoding/base64"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// credentials are the Secrets the chart reads its JWT key and tokens
// from, made by the program from the fleet signing key before the release
// (so the chart's hook generates nothing): the public key, a token per
// minted role (Roles.Minted), and, with peers, the replicator's token under each peer's
// name. None with the chart's key.
func (b *builder) credentials(ns *corev1.Namespace) ([]pulumi.Resource, error) {
	a := b.cfg.WithDefaults()
	if a.SigningKey != model.SigningKeyFleet {
		return nil, nil
	}
	key := pulumi.ToSecret(b.deps.TokenKey.ToStringOutput()).(pulumi.StringOutput)
	public := key.ApplyT(func(pem string) (string, error) {
		der, err := PublicKeyDER(pem)
		return base64.StdEncoding.EncodeToString(der), err
	}).(pulumi.StringOutput)
	out := []pulumi.Resource{}
	// Only the field in use is set: an empty stringData beside data is a
	// diff the provider sees on every `up` (the real-provider tier).
	secret := func(resource, name string, data, stringData pulumi.StringMap) error {
		args := &corev1.SecretArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: ns.Metadata.Name().Elem(),
				Labels: pulumi.ToStringMap(map[string]string{model.LabelPartOf: model.PartOf})},
			Type: pulumi.String("Opaque"),
		}
		if data != nil {
			args.Data = data
		} else {
			args.StringData = stringData
		}
		s, err := corev1.NewSecret(b.ctx, b.name+"-"+resource, args, b.opts(pulumi.AdditionalSecretOutputs([]string{"data", "stringData"}))...)
		out = append(out, s)
		return err
	}
	if err := secret("token-key", KeySecret, pulumi.StringMap{"PUBLICKEY": public}, nil); err != nil {
		return nil, err
	}
	roles := RolesOf(a)
	for _, role := range roles.Minted() {
		if err := secret("token-"+role, TokenSecret(role), nil, pulumi.StringMap{"TOKEN": mint(key, role)}); err != nil {
			return nil, err
		}
	}
	if len(a.Peers) == 0 {
		return out, nil
	}
	geo := pulumi.StringMap{}
	for _, p := range sortedPeers(a.Peers) {
		geo[p.Cluster] = mint(key, roles.Replicator)
	}
	if err := secret("geo-tokens", GeoTokensSecret, nil, geo); err != nil {
		return nil, err
	}
	return out, nil
}

// mint is the token for subject, a secret.
func mint(key pulumi.StringOutput, subject string) pulumi.StringOutput {
	return pulumi.ToSecret(key.ApplyT(func(pem string) (string, error) { return MintToken(pem, subject) })).(pulumi.StringOutput)
}
