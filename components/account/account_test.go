package account

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

func args() Args {
	return Args{StateBucket: "pulsar-fleet-state-123456789012", Repository: "acme/pulsar-fleet", DeployEnvironment: "production",
		DriftBranch: "main", Operator: &Operator{OIDCProviderARN: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/MGMT",
			Issuer: "oidc.eks.us-east-1.amazonaws.com/id/MGMT", Namespace: "pulumi-kubernetes-operator", ServiceAccount: "pulsar-fleet-deployer"}}
}

func run(t *testing.T, a Args) (*recorder.Recorder, error) {
	t.Helper()
	rec := recorder.New("us-east-1")
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		_, err := NewAccount(ctx, "account", "us-east-1", a)
		return err
	})
	return rec, err
}

// policy parses a recorded policy document.
func policy(t *testing.T, r recorder.Resource, field string) []kit.ParsedStatement {
	t.Helper()
	s, ok := r.Inputs[field].(string)
	require.True(t, ok, "%s %s: %s is %T", r.Type, r.Name, field, r.Inputs[field])
	st, err := kit.ParsePolicy(s)
	require.NoError(t, err)
	return st
}

// The bootstrap names its token key by its public half, in the clear: the
// fingerprint of the key itself (the mock's key is a real one), read by the
// fleet driver without the key's secret.
func TestFleetTokenKeyFingerprint(t *testing.T) {
	got := make(chan string, 1)
	var secret bool
	rec := recorder.New("us-east-1")
	require.NoError(t, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		a, err := NewAccount(ctx, "account", "us-east-1", args())
		if err != nil {
			return err
		}
		a.FleetTokenKeyFingerprint.ApplyT(func(fp string) string { got <- fp; return fp })
		secret = pulumi.IsSecret(a.FleetTokenKeyFingerprint)
		return nil
	}))
	want, err := model.KeyFingerprint(recorder.SimulatedTokenKey())
	require.NoError(t, err)
	assert.Equal(t, want, <-got)
	assert.False(t, secret, "the fingerprint is not a secret")
}

func TestAccountResources(t *testing.T) {
	rec, err := run(t, args())
	require.NoError(t, err)
	require.NoError(t, rec.CheckParented(TypeToken))
	counts := map[string]int{}
	for _, r := range rec.Resources() {
		counts[r.Type]++
	}
	assert.Equal(t, map[string]int{
		TypeToken: 1, "aws:kms/key:Key": 1, "aws:kms/alias:Alias": 1,
		"aws:s3/bucketV2:BucketV2": 1, "aws:s3/bucketVersioningV2:BucketVersioningV2": 1,
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": 1,
		"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     1, "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
		"aws:s3/bucketPolicy:BucketPolicy": 1, "aws:iam/openIdConnectProvider:OpenIdConnectProvider": 1,
		"aws:iam/role:Role": 3, "aws:iam/rolePolicy:RolePolicy": 3,
		"tls:index/privateKey:PrivateKey": 2, "tls:index/selfSignedCert:SelfSignedCert": 1,
	}, counts, "every resource the bootstrap creates")
	ca, err := rec.One("tls:index/selfSignedCert:SelfSignedCert", "account-fleet-ca")
	require.NoError(t, err)
	assert.Equal(t, true, ca.Inputs["isCaCertificate"])
	assert.ElementsMatch(t, []any{"cert_signing", "crl_signing"}, ca.Inputs["allowedUses"], "the fleet CA signs, nothing else")
	for _, typ := range []string{"tls:index/privateKey:PrivateKey", "tls:index/selfSignedCert:SelfSignedCert"} {
		for _, r := range rec.ByType(typ) {
			assert.True(t, r.Protect, "%s %s: replacing the fleet CA or token key breaks every region's certificates or tokens", r.Type, r.Name)
		}
	}
	tokenKey, err := rec.One("tls:index/privateKey:PrivateKey", "account-fleet-token-key")
	require.NoError(t, err)
	assert.Equal(t, "RSA", tokenKey.Inputs["algorithm"])
	assert.EqualValues(t, TokenKeyBits, tokenKey.Inputs["rsaBits"], "RS256 with at least the key size the regions accept")

	key, err := rec.One("aws:kms/key:Key", "account-state")
	require.NoError(t, err)
	assert.Equal(t, true, key.Inputs["enableKeyRotation"])
	assert.True(t, key.Protect && key.RetainOnDelete, "the state key cannot be destroyed by accident")
	alias, err := rec.One("aws:kms/alias:Alias", "account-state")
	require.NoError(t, err)
	assert.Equal(t, KeyAlias, alias.Inputs["name"])
	bucket, err := rec.One("aws:s3/bucketV2:BucketV2", "account-state")
	require.NoError(t, err)
	assert.Equal(t, "pulsar-fleet-state-123456789012", bucket.Inputs["bucket"])
	for _, r := range rec.Resources() {
		if strings.HasPrefix(r.Type, "aws:s3/") {
			assert.True(t, r.Protect && r.RetainOnDelete, "%s %s protected", r.Type, r.Name)
		}
	}
	sse, err := rec.One("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "account-state")
	require.NoError(t, err)
	b, _ := json.Marshal(sse.Inputs)
	assert.Contains(t, string(b), `"kmsMasterKeyId":"arn:aws:kms:us-east-1:123456789012:key/account-state"`, "encrypted with the state key")

	oidc, err := rec.One("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "account-github")
	require.NoError(t, err)
	assert.Equal(t, "https://token.actions.githubusercontent.com", oidc.Inputs["url"])
	assert.Equal(t, []any{"sts.amazonaws.com"}, oidc.Inputs["clientIdLists"])
}

func TestRoleTrustIsNarrow(t *testing.T) {
	rec, err := run(t, args())
	require.NoError(t, err)
	for _, tc := range []struct {
		name, role, sub string
		subjects        []string
	}{
		{"account-ci-preview", PreviewRoleName, "token.actions.githubusercontent.com:sub", []string{"repo:acme/pulsar-fleet:pull_request", "repo:acme/pulsar-fleet:ref:refs/heads/main"}},
		{"account-ci-deploy", DeployRoleName, "token.actions.githubusercontent.com:sub", []string{"repo:acme/pulsar-fleet:environment:production"}},
		{"account-operator", OperatorRoleName, "oidc.eks.us-east-1.amazonaws.com/id/MGMT:sub", []string{"system:serviceaccount:pulumi-kubernetes-operator:pulsar-fleet-deployer"}},
	} {
		r, err := rec.One("aws:iam/role:Role", tc.name)
		require.NoError(t, err)
		assert.Equal(t, tc.role, r.Inputs["name"])
		st := policy(t, r, "assumeRolePolicy")
		require.Len(t, st, 1)
		assert.Equal(t, []string{"sts:AssumeRoleWithWebIdentity"}, st[0].Actions)
		assert.ElementsMatch(t, tc.subjects, st[0].Condition["StringEquals"][tc.sub], tc.name)
	}
}

func TestPreviewRoleChangesNothing(t *testing.T) {
	rec, err := run(t, args())
	require.NoError(t, err)
	p, err := rec.One("aws:iam/rolePolicy:RolePolicy", "account-ci-preview")
	require.NoError(t, err)
	for _, st := range policy(t, p, "policy") {
		for _, a := range st.Actions {
			verb := a[strings.Index(a, ":")+1:]
			switch {
			case st.Sid == "StateLocks":
				assert.Equal(t, []string{"arn:aws:s3:::pulsar-fleet-state-123456789012/.pulumi/locks/*"}, st.Resources, "writes only the lock files")
			case strings.HasPrefix(verb, "Get") || strings.HasPrefix(verb, "List") || strings.HasPrefix(verb, "Describe") || a == "kms:Decrypt":
			default:
				t.Errorf("preview role may %s", a)
			}
		}
	}
}

func TestDeployRoleIsBounded(t *testing.T) {
	rec, err := run(t, args())
	require.NoError(t, err)
	p, err := rec.One("aws:iam/rolePolicy:RolePolicy", "account-ci-deploy")
	require.NoError(t, err)
	denied := map[string]bool{}
	for _, st := range policy(t, p, "policy") {
		for _, a := range st.Actions {
			if st.Effect == "Deny" {
				denied[a] = true
				continue
			}
			assert.NotEqual(t, "*", a)
			assert.False(t, strings.HasSuffix(a, ":*"), "%s: no whole service", a)
			assert.NotContains(t, []string{"iam:CreateUser", "iam:CreateAccessKey", "ec2:RunInstances"}, a)
		}
		if st.Sid == "PassRoles" {
			assert.ElementsMatch(t, PassRoleServices, st.Condition["StringEquals"]["iam:PassedToService"])
		}
	}
	for _, a := range []string{"iam:CreateUser", "iam:CreateAccessKey", "s3:DeleteBucket", "kms:ScheduleKeyDeletion"} {
		assert.True(t, denied[a], "%s denied", a)
	}
}

func TestExistingGitHubProviderAndNoOperator(t *testing.T) {
	a := args()
	a.GitHubOIDCProviderARN = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
	a.Operator = nil
	rec, err := run(t, a)
	require.NoError(t, err)
	assert.Empty(t, rec.ByType("aws:iam/openIdConnectProvider:OpenIdConnectProvider"))
	assert.Len(t, rec.ByType("aws:iam/role:Role"), 2)
	r, err := rec.One("aws:iam/role:Role", "account-ci-deploy")
	require.NoError(t, err)
	assert.Equal(t, []string{a.GitHubOIDCProviderARN}, policy(t, r, "assumeRolePolicy")[0].Principal["Federated"])
}

func TestBadArgsRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*Args)
		want   string
	}{
		"bucket":      {func(a *Args) { a.StateBucket = "Pulsar_State" }, `stateBucket "Pulsar_State"`},
		"repository":  {func(a *Args) { a.Repository = "pulsar-fleet" }, `githubRepository "pulsar-fleet": want owner/name`},
		"environment": {func(a *Args) { a.DeployEnvironment = "" }, "deployEnvironment"},
		"provider":    {func(a *Args) { a.GitHubOIDCProviderARN = "github" }, "githubOidcProviderArn"},
		"issuer":      {func(a *Args) { a.Operator.Issuer = "https://oidc.example.com" }, "operator.issuer"},
	} {
		a := args()
		tc.mutate(&a)
		rec, err := run(t, a)
		assert.ErrorContains(t, err, tc.want, name)
		assert.Empty(t, rec.Resources(), "%s: nothing created", name)
	}
}

// The fleet CA at each stage of a rotation: which CAs exist, which one
// signs (the certificate and key the regions sign with), which are
// protected, and the bundle the regions trust, the signing CA first.
func TestFleetCARotation(t *testing.T) {
	pem := func(name string) string {
		return "-----BEGIN CERTIFICATE-----\nsimulated " + name + "\n-----END CERTIFICATE-----\n"
	}
	for _, tc := range []struct {
		name      string
		ca        model.FleetCA
		signer    string
		bundle    []string
		protected map[string]bool
	}{
		{"the first CA", model.FleetCA{}, "account-fleet-ca", []string{"account-fleet-ca"}, map[string]bool{"account-fleet-ca": true}},
		{"trust the second", model.FleetCA{Generation: 2, Stage: model.CATrust}, "account-fleet-ca",
			[]string{"account-fleet-ca", "account-fleet-ca-2"}, map[string]bool{"account-fleet-ca": true, "account-fleet-ca-2": true}},
		{"the second signs", model.FleetCA{Generation: 2, Stage: model.CASign}, "account-fleet-ca-2",
			[]string{"account-fleet-ca-2", "account-fleet-ca"}, map[string]bool{"account-fleet-ca-2": true, "account-fleet-ca": false}},
		{"the second alone", model.FleetCA{Generation: 2}, "account-fleet-ca-2", []string{"account-fleet-ca-2"}, map[string]bool{"account-fleet-ca-2": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := args()
			a.FleetCA = tc.ca
			type got struct{ cert, bundle string }
			out := make(chan got, 1)
			var keySecret bool
			rec := recorder.New("us-east-1")
			require.NoError(t, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
				acc, err := NewAccount(ctx, "account", "us-east-1", a)
				if err != nil {
					return err
				}
				keySecret = pulumi.IsSecret(acc.FleetCAKeyPEM)
				pulumi.All(acc.FleetCACertPEM, acc.FleetCABundlePEM).ApplyT(func(v []any) int {
					out <- got{v[0].(string), v[1].(string)}
					return 0
				})
				return nil
			}))
			g := <-out
			assert.Equal(t, pem(tc.signer), g.cert, "the signing CA's certificate")
			var bundle string
			for _, n := range tc.bundle {
				bundle += pem(n)
			}
			assert.Equal(t, bundle, g.bundle, "every CA held, the signing one first")
			assert.True(t, keySecret, "the signing key stays a secret")
			protected := map[string]bool{}
			for _, typ := range []string{"tls:index/privateKey:PrivateKey", "tls:index/selfSignedCert:SelfSignedCert"} {
				for _, r := range rec.ByType(typ) {
					if strings.Contains(r.Name, "fleet-ca") {
						protected[r.Name] = r.Protect
					}
				}
			}
			assert.Equal(t, tc.protected, protected, "the CAs held, protected but the one a rotation retires")
		})
	}
	a := args()
	a.FleetCA = model.FleetCA{Generation: 1, Stage: model.CASign}
	_, err := run(t, a)
	assert.ErrorContains(t, err, `fleetCa.stage "sign": a rotation declares the new CA's generation`)
}
