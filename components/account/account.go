// Package account builds, once per AWS account, what the region stacks
// need before their first run: the S3 bucket that holds Pulumi state, the
// KMS key that encrypts stack secrets, GitHub's OIDC provider, and the IAM
// roles the delivery paths assume: a read-only role for pull-request
// previews and drift checks, a deploy role for the main branch's protected
// environment, and optionally the Pulumi Kubernetes Operator's role.
//
// The bootstrap program (bootstrap/) runs it. The state bucket and its key
// are protected: `pulumi destroy` refuses to delete them.
package account

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-tls/sdk/v5/go/tls"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// TypeToken is the component's type.
var TypeToken = kit.Type("account", "Account")

// Fixed names: the stack files and the workflows refer to them.
const (
	KeyAlias         = "alias/pulsar-fleet-state"
	PreviewRoleName  = "pulsar-fleet-ci-preview"
	DeployRoleName   = "pulsar-fleet-ci-deploy"
	OperatorRoleName = "pulsar-fleet-operator"
	// GitHubIssuer is GitHub Actions' OIDC token issuer.
	GitHubIssuer = "token.actions.githubusercontent.com"
)

// GitHubThumbprints are the certificate thumbprints IAM records for
// GitHub's issuer (IAM verifies GitHub's certificate itself since 2023;
// the field is still required).
var GitHubThumbprints = []string{"6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"}

// Operator is where the Pulumi Kubernetes Operator runs: the management
// cluster's OIDC provider and the workspace service account.
type Operator struct {
	OIDCProviderARN string `json:"oidcProviderArn"`
	// Issuer is the provider URL without https://.
	Issuer         string `json:"issuer"`
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
}

// Args configure the account's prerequisites.
type Args struct {
	// StateBucket is the S3 bucket name of the Pulumi backend.
	StateBucket string
	// Repository is the GitHub repository, owner/name.
	Repository string
	// DeployEnvironment is the GitHub environment of the deploy job.
	DeployEnvironment string
	// DriftBranch is the branch whose scheduled drift check runs with the
	// preview role.
	DriftBranch string
	// GitHubOIDCProviderARN reuses an existing provider; empty creates one.
	GitHubOIDCProviderARN string
	// Operator, when set, creates the operator's role.
	Operator *Operator
	// FleetCA is the fleet CA's generation and rotation stage (zero: the
	// first, steady).
	FleetCA model.FleetCA
	Tags    map[string]string
}

var (
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	repoName   = regexp.MustCompile(`^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$`)
	gitRef     = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,200}$`)
	oidcARN    = regexp.MustCompile(`^arn:aws:iam::[0-9]{12}:oidc-provider/.+$`)
)

// Validate checks the arguments, naming each bad field and what it takes.
func (a Args) Validate() error {
	var errs []error
	bad := func(field, value, want string) { errs = append(errs, fmt.Errorf("%s %q: want %s", field, value, want)) }
	if !bucketName.MatchString(a.StateBucket) {
		bad("stateBucket", a.StateBucket, "an S3 bucket name (3-63 lowercase letters, digits, '.', '-')")
	}
	if !repoName.MatchString(a.Repository) {
		bad("githubRepository", a.Repository, "owner/name of the GitHub repository")
	}
	if !gitRef.MatchString(a.DeployEnvironment) {
		bad("deployEnvironment", a.DeployEnvironment, "the GitHub environment of the deploy job, e.g. production")
	}
	if !gitRef.MatchString(a.DriftBranch) {
		bad("driftBranch", a.DriftBranch, "a branch name, e.g. main")
	}
	if a.GitHubOIDCProviderARN != "" && !oidcARN.MatchString(a.GitHubOIDCProviderARN) {
		bad("githubOidcProviderArn", a.GitHubOIDCProviderARN, "an IAM OIDC provider ARN, or empty to create one")
	}
	if err := a.FleetCA.Validate("fleetCa"); err != nil {
		errs = append(errs, err)
	}
	if o := a.Operator; o != nil {
		if !oidcARN.MatchString(o.OIDCProviderARN) {
			bad("operator.oidcProviderArn", o.OIDCProviderARN, "the management cluster's IAM OIDC provider ARN")
		}
		if o.Issuer == "" || strings.HasPrefix(o.Issuer, "https://") || strings.HasPrefix(o.Issuer, "http://") {
			bad("operator.issuer", o.Issuer, "the provider URL without https://")
		}
		if !model.IsKubernetesName(o.Namespace) || !model.IsKubernetesName(o.ServiceAccount) {
			bad("operator.namespace/serviceAccount", o.Namespace+"/"+o.ServiceAccount, "Kubernetes names")
		}
	}
	return errors.Join(errs...)
}

// Account is the component.
type Account struct {
	pulumi.ResourceState

	BackendURL      pulumi.StringOutput
	SecretsProvider pulumi.StringOutput
	PreviewRoleARN  pulumi.StringOutput
	DeployRoleARN   pulumi.StringOutput
	// OperatorRoleARN is empty without Args.Operator.
	OperatorRoleARN pulumi.StringOutput
	// FleetCACertPEM and FleetCAKeyPEM are the fleet CA that signs every
	// region's certificate for the cross-region metrics hop (the key is a
	// Pulumi secret).
	FleetCACertPEM pulumi.StringOutput
	FleetCAKeyPEM  pulumi.StringOutput
	// FleetCABundlePEM are the certificates of every CA the bootstrap
	// holds, the signing one first: the regions trust them all, so a
	// rotation never refuses a region's certificate.
	FleetCABundlePEM pulumi.StringOutput
	// FleetTokenKeyPEM is the fleet's token signing key (RSA, a Pulumi
	// secret): every region mints its Pulsar tokens from it, and every
	// region's brokers verify them with its public half.
	FleetTokenKeyPEM pulumi.StringOutput
	// FleetTokenKeyFingerprint names that key by its public half
	// (model.KeyFingerprint, not a secret): the fleet driver refuses a
	// region's `up` that would move it to another key unannounced.
	FleetTokenKeyFingerprint pulumi.StringOutput
}

// Outputs the region stacks read from the bootstrap stack.
const (
	OutputFleetCACert   = model.OutputFleetCACert
	OutputFleetCAKey    = model.OutputFleetCAKey
	OutputFleetCABundle = model.OutputFleetCABundle
	// OutputFleetCA is the fleet CA setting the bootstrap last ran
	// ({generation, stage}): the next `up` may move it one stage only.
	OutputFleetCA       = model.OutputFleetCA
	OutputFleetTokenKey = model.OutputFleetTokenKey
	// OutputFleetTokenKeyFingerprint is read by the fleet driver.
	OutputFleetTokenKeyFingerprint = model.OutputFleetTokenKeyFingerprint
)

// KeyFingerprint is the fingerprint of a secret key in PEM
// (model.KeyFingerprint), itself not a secret: it names the public half.
func KeyFingerprint(keyPEM pulumi.StringOutput) pulumi.StringOutput {
	fp := keyPEM.ApplyT(func(k string) (string, error) { return model.KeyFingerprint(k) }).(pulumi.StringOutput)
	return pulumi.Unsecret(fp).(pulumi.StringOutput)
}

// TokenKeyBits is the size of the fleet's RSA token signing key: Pulsar's
// tokens here are RS256, which `bin/pulsar tokens` and every client read.
const TokenKeyBits = 2048

// newFleetTokenKey is the fleet's token signing key, protected: replacing
// it invalidates every token of every region at once (its rotation is in
// docs/operations.md).
func newFleetTokenKey(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	pk, err := tls.NewPrivateKey(ctx, name+"-fleet-token-key", &tls.PrivateKeyArgs{Algorithm: pulumi.String("RSA"), RsaBits: pulumi.Int(TokenKeyBits)}, opts...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return pulumi.ToSecret(pk.PrivateKeyPem).(pulumi.StringOutput), nil
}

// FleetCAValidityHours is the fleet CA's life (ten years); its rotation is
// in docs/operations.md, "Rotating the fleet CA".
const FleetCAValidityHours = 10 * 365 * 24

// fleetCA is the signing CA's certificate and key, and the bundle of
// every CA's certificate the regions trust.
type fleetCA struct {
	cert, key, bundle pulumi.StringOutput
}

// newFleetCAs are the CAs of the setting (model.FleetCA.CAs): one, or two
// during a rotation. Each is a self-signed ECDSA P-256 CA, protected but
// the one a rotation retires: replacing a CA that signs breaks every
// region's certificate until each stack's next `up`.
func newFleetCAs(ctx *pulumi.Context, name string, setting model.FleetCA, parent pulumi.ResourceOption) (fleetCA, error) {
	var out fleetCA
	var certs []any
	for _, g := range setting.CAs() {
		cert, key, err := newFleetCA(ctx, name+"-"+g.Name(), parent, pulumi.Protect(g.Protect))
		if err != nil {
			return out, err
		}
		if g.Signs {
			out.cert, out.key = cert, key
		}
		certs = append(certs, cert)
	}
	out.bundle = pulumi.All(certs...).ApplyT(func(pems []any) string {
		var b strings.Builder
		for _, p := range pems {
			b.WriteString(strings.TrimRight(p.(string), "\n") + "\n")
		}
		return b.String()
	}).(pulumi.StringOutput)
	return out, nil
}

// newFleetCA is one self-signed CA named name.
func newFleetCA(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) (cert, key pulumi.StringOutput, err error) {
	pk, err := tls.NewPrivateKey(ctx, name, &tls.PrivateKeyArgs{Algorithm: pulumi.String("ECDSA"), EcdsaCurve: pulumi.String("P256")}, opts...)
	if err != nil {
		return cert, key, err
	}
	ca, err := tls.NewSelfSignedCert(ctx, name, &tls.SelfSignedCertArgs{
		PrivateKeyPem: pk.PrivateKeyPem, IsCaCertificate: pulumi.Bool(true), ValidityPeriodHours: pulumi.Int(FleetCAValidityHours),
		Subject:     &tls.SelfSignedCertSubjectArgs{CommonName: pulumi.String("pulsar-fleet fleet CA"), Organization: pulumi.String("pulsar-fleet")},
		AllowedUses: pulumi.ToStringArray([]string{"cert_signing", "crl_signing"}),
	}, opts...)
	if err != nil {
		return cert, key, err
	}
	return ca.CertPem, pulumi.ToSecret(pk.PrivateKeyPem).(pulumi.StringOutput), nil
}

// NewAccount registers the account's prerequisites.
func NewAccount(ctx *pulumi.Context, name, region string, args Args, opts ...pulumi.ResourceOption) (*Account, error) {
	if err := args.Validate(); err != nil {
		return nil, kit.Wrap("account", name, err)
	}
	a := &Account{}
	if err := ctx.RegisterComponentResource(TypeToken, name, a, opts...); err != nil {
		return nil, kit.Wrap("account", name, err)
	}
	fail := func(err error) (*Account, error) { return nil, kit.Wrap("account", name, err) }
	parent := pulumi.Parent(a)
	keep := []pulumi.ResourceOption{parent, pulumi.Protect(true), pulumi.RetainOnDelete(true)}
	tags := kit.Tags(args.Tags)

	key, err := kms.NewKey(ctx, name+"-state", &kms.KeyArgs{
		Description:       pulumi.String("Pulumi state and stack secrets of pulsar-fleet"),
		EnableKeyRotation: pulumi.Bool(true), DeletionWindowInDays: pulumi.Int(30), Tags: tags,
	}, keep...)
	if err != nil {
		return fail(err)
	}
	if _, err := kms.NewAlias(ctx, name+"-state", &kms.AliasArgs{Name: pulumi.String(KeyAlias), TargetKeyId: key.KeyId}, parent); err != nil {
		return fail(err)
	}
	hb, err := kit.NewHardenedBucket(ctx, name+"-state", kit.BucketArgs{Name: args.StateBucket, KeyARN: key.Arn, Tags: tags}, keep...)
	if err != nil {
		return fail(err)
	}
	roles, err := newRoles(ctx, name, args, hb.Bucket.Arn, key.Arn, tags, parent)
	if err != nil {
		return fail(err)
	}
	ca, err := newFleetCAs(ctx, name, args.FleetCA, parent)
	if err != nil {
		return fail(err)
	}
	a.FleetCACertPEM, a.FleetCAKeyPEM, a.FleetCABundlePEM = ca.cert, ca.key, ca.bundle
	if a.FleetTokenKeyPEM, err = newFleetTokenKey(ctx, name, parent, pulumi.Protect(true)); err != nil {
		return fail(err)
	}
	a.FleetTokenKeyFingerprint = KeyFingerprint(a.FleetTokenKeyPEM)
	a.BackendURL = pulumi.Sprintf("s3://%s?region=%s", hb.Bucket.Bucket, region)
	a.SecretsProvider = pulumi.String("awskms://" + KeyAlias + "?region=" + region).ToStringOutput()
	a.PreviewRoleARN, a.DeployRoleARN, a.OperatorRoleARN = roles.preview, roles.deploy, roles.operator
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{
		"backendUrl": a.BackendURL, "secretsProvider": a.SecretsProvider,
		"previewRoleArn": a.PreviewRoleARN, "deployRoleArn": a.DeployRoleARN, "operatorRoleArn": a.OperatorRoleARN,
		OutputFleetCACert: a.FleetCACertPEM, OutputFleetCAKey: a.FleetCAKeyPEM, OutputFleetCABundle: a.FleetCABundlePEM,
		OutputFleetTokenKey:            a.FleetTokenKeyPEM,
		OutputFleetTokenKeyFingerprint: a.FleetTokenKeyFingerprint,
	}); err != nil {
		return fail(err)
	}
	return a, nil
}

type roleARNs struct{ preview, deploy, operator pulumi.StringOutput }

// newRoles creates GitHub's OIDC provider (unless given) and the roles.
func newRoles(ctx *pulumi.Context, name string, args Args, bucketARN, keyARN pulumi.StringInput, tags pulumi.StringMap, parent pulumi.ResourceOption) (roleARNs, error) {
	var out roleARNs
	providerARN := pulumi.String(args.GitHubOIDCProviderARN).ToStringOutput()
	if args.GitHubOIDCProviderARN == "" {
		p, err := iam.NewOpenIdConnectProvider(ctx, name+"-github", &iam.OpenIdConnectProviderArgs{
			Url: pulumi.String("https://" + GitHubIssuer), ClientIdLists: kit.StringInputs([]string{"sts.amazonaws.com"}),
			ThumbprintLists: kit.StringInputs(GitHubThumbprints), Tags: tags,
		}, parent)
		if err != nil {
			return out, err
		}
		providerARN = p.Arn
	}
	role := func(suffix, roleName string, trust, policy kit.PolicyDocument, maxSession int) (pulumi.StringOutput, error) {
		r, err := iam.NewRole(ctx, name+"-"+suffix, &iam.RoleArgs{
			Name: pulumi.String(roleName), AssumeRolePolicy: trust.JSON(), MaxSessionDuration: pulumi.Int(maxSession),
			Description: pulumi.String("pulsar-fleet " + suffix), Tags: tags,
		}, parent)
		if err != nil {
			return pulumi.StringOutput{}, err
		}
		_, err = iam.NewRolePolicy(ctx, name+"-"+suffix, &iam.RolePolicyArgs{Role: r.ID(), Policy: policy.JSON()}, parent)
		return r.Arn, err
	}
	var err error
	if out.preview, err = role("ci-preview", PreviewRoleName, GitHubTrust(providerARN, PreviewSubjects(args)), PreviewPolicy(bucketARN, keyARN), 3600); err != nil {
		return out, err
	}
	if out.deploy, err = role("ci-deploy", DeployRoleName, GitHubTrust(providerARN, DeploySubjects(args)), DeployPolicy(bucketARN, keyARN), 14400); err != nil {
		return out, err
	}
	if o := args.Operator; o != nil {
		trust := kit.IRSATrust(pulumi.String(o.OIDCProviderARN), pulumi.String(o.Issuer), o.Namespace, o.ServiceAccount)
		if out.operator, err = role("operator", OperatorRoleName, trust, DeployPolicy(bucketARN, keyARN), 14400); err != nil {
			return out, err
		}
	} else {
		out.operator = pulumi.String("").ToStringOutput()
	}
	return out, nil
}
