package tieredstorage

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
)

func args() Config {
	return Config{
		Region: "us-east-1", ArchiveTiers: true, AccessLogging: true, ReplicationTimeControl: true,
		BrokerNamespace: "pulsar", BrokerServiceAccount: "pulsar-broker-acct",
		Destinations: []Destination{{Stack: "us-west-2", Region: "us-west-2"}, {Stack: "eu-west-1", Region: "eu-west-1"}},
	}
}

// deps stand in for the cluster's OIDC provider and the peers' outputs.
func deps() Deps {
	return Deps{
		OIDCProviderARN: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X"),
		OIDCIssuer:      pulumi.String("oidc.eks.us-east-1.amazonaws.com/id/X"),
		Peers: map[string]PeerBucket{
			"us-west-2": {BucketARN: pulumi.String("arn:aws:s3:::peer-west"), KMSKeyARN: pulumi.String("arn:aws:kms:us-west-2:123456789012:key/west")},
			"eu-west-1": {BucketARN: pulumi.String("arn:aws:s3:::peer-dr"), KMSKeyARN: pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/dr")},
		},
	}
}

func run(t *testing.T, a Config) (*recorder.Recorder, error) {
	t.Helper()
	return runWith(t, a, deps())
}

func runWith(t *testing.T, a Config, d Deps) (*recorder.Recorder, error) {
	t.Helper()
	rec := recorder.New(a.Region)
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "ts", a, d)
		return err
	})
	return rec, err
}

func one(t *testing.T, rec *recorder.Recorder, typ, name string) recorder.Resource {
	t.Helper()
	r, err := rec.One(typ, name)
	require.NoError(t, err)
	return r
}

func TestBucketHardening(t *testing.T) {
	rec, err := run(t, args())
	require.NoError(t, err)
	require.NoError(t, rec.CheckParented(TypeToken))
	comp, _ := rec.Component(TypeToken)
	for _, r := range rec.Resources() {
		if r.Type != TypeToken {
			assert.Equal(t, comp.URN, r.Parent, "%s %s", r.Type, r.Name)
		}
	}
	sse := one(t, rec, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "ts")
	rule := sse.Inputs["rules"].([]any)[0].(map[string]any)
	assert.Equal(t, true, rule["bucketKeyEnabled"])
	def := rule["applyServerSideEncryptionByDefault"].(map[string]any)
	assert.Equal(t, "aws:kms", def["sseAlgorithm"])
	assert.Equal(t, "arn:aws:kms:us-east-1:123456789012:key/ts", def["kmsMasterKeyId"])
	assert.Equal(t, "Enabled", one(t, rec, "aws:s3/bucketVersioningV2:BucketVersioningV2", "ts").Input("versioningConfiguration.status"))
	bpa := one(t, rec, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "ts")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		assert.Equal(t, true, bpa.Inputs[k], k)
	}
	assert.Equal(t, "BucketOwnerEnforced", one(t, rec, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "ts").Input("rule.objectOwnership"))
	pol, err := kit.ParsePolicy(one(t, rec, "aws:s3/bucketPolicy:BucketPolicy", "ts").Inputs["policy"].(string))
	require.NoError(t, err)
	assert.Equal(t, "Deny", pol[0].Effect)
	assert.Equal(t, []string{"false"}, pol[0].Condition["Bool"]["aws:SecureTransport"], "TLS only")

	lc := one(t, rec, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "ts")
	ids := map[string]map[string]any{}
	for _, r := range lc.Inputs["rules"].([]any) {
		m := r.(map[string]any)
		ids[m["id"].(string)] = m
	}
	tr := ids["to-intelligent-tiering"]["transitions"].([]any)[0].(map[string]any)
	assert.Equal(t, 0.0, tr["days"])
	assert.Equal(t, "INTELLIGENT_TIERING", tr["storageClass"])
	assert.Equal(t, 7.0, ids["expire-noncurrent"]["noncurrentVersionExpiration"].(map[string]any)["noncurrentDays"])
	assert.Equal(t, 1.0, ids["abort-incomplete-multipart"]["abortIncompleteMultipartUpload"].(map[string]any)["daysAfterInitiation"])

	it := one(t, rec, "aws:s3/bucketIntelligentTieringConfiguration:BucketIntelligentTieringConfiguration", "ts")
	assert.Equal(t, []any{map[string]any{"accessTier": "ARCHIVE_ACCESS", "days": 90.0}, map[string]any{"accessTier": "DEEP_ARCHIVE_ACCESS", "days": 180.0}}, it.Inputs["tierings"])
	assert.NotEmpty(t, rec.ByType("aws:s3/bucketLoggingV2:BucketLoggingV2"), "access logging on")
}

func TestReplicationPointsAtPeers(t *testing.T) {
	rec, err := run(t, args())
	require.NoError(t, err)
	repls := rec.ByType("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
	require.Len(t, repls, 1, "replication only on the source bucket")
	rules := repls[0].Inputs["rules"].([]any)
	require.Len(t, rules, 2)
	var dests []string
	for _, r := range rules {
		m := r.(map[string]any)
		d := m["destination"].(map[string]any)
		dests = append(dests, d["bucket"].(string))
		assert.Equal(t, "Disabled", m["deleteMarkerReplication"].(map[string]any)["status"], "deletes do not reach the DR copy")
		assert.NotEmpty(t, d["encryptionConfiguration"].(map[string]any)["replicaKmsKeyId"], "re-encrypted with the destination region's key")
		assert.Equal(t, "Enabled", d["metrics"].(map[string]any)["status"])
		assert.Equal(t, "Enabled", d["replicationTime"].(map[string]any)["status"], "RTC on when configured")
	}
	assert.Equal(t, []string{"arn:aws:s3:::peer-west", "arn:aws:s3:::peer-dr"}, dests)

	a := args()
	a.Destinations, a.ReplicationTimeControl = nil, false
	rec, err = run(t, a)
	require.NoError(t, err)
	assert.Empty(t, rec.ByType("aws:s3/bucketReplicationConfig:BucketReplicationConfig"), "no peers, no replication")
}

func TestPoliciesAreLeastPrivilege(t *testing.T) {
	rec, err := run(t, args())
	require.NoError(t, err)
	for _, name := range []string{"ts-broker", "ts-replication"} {
		doc := one(t, rec, "aws:iam/rolePolicy:RolePolicy", name).Inputs["policy"].(string)
		require.NoError(t, kit.CheckPolicyJSON(doc), name)
		sts, err := kit.ParsePolicy(doc)
		require.NoError(t, err)
		for _, st := range sts {
			for _, r := range st.Resources {
				assert.NotEqual(t, "*", r, "%s %s names its resources", name, st.Sid)
			}
		}
		assert.Contains(t, doc, "arn:aws:s3:::ts", name+" names the bucket")
		assert.Contains(t, doc, "arn:aws:kms:us-east-1:123456789012:key/ts", name+" names the key")
	}
	repl := one(t, rec, "aws:iam/rolePolicy:RolePolicy", "ts-replication").Inputs["policy"].(string)
	assert.Contains(t, repl, "arn:aws:s3:::peer-west/*")
	assert.Contains(t, repl, "arn:aws:kms:eu-west-1:123456789012:key/dr")
	// The replication role is S3's only for this bucket of this account
	// (no confused deputy).
	replTrust, err := kit.ParsePolicy(one(t, rec, "aws:iam/role:Role", "ts-replication").Inputs["assumeRolePolicy"].(string))
	require.NoError(t, err)
	require.Len(t, replTrust, 1)
	assert.Equal(t, map[string]map[string][]string{
		"StringEquals": {"aws:SourceAccount": {"123456789012"}},
		"ArnLike":      {"aws:SourceArn": {"arn:aws:s3:::ts"}},
	}, replTrust[0].Condition)
	trust := one(t, rec, "aws:iam/role:Role", "ts-broker").Inputs["assumeRolePolicy"].(string)
	assert.Contains(t, trust, `"system:serviceaccount:pulsar:pulsar-broker-acct"`, "trusted only by the broker service account")
	assert.Equal(t, 1, strings.Count(trust, "sts:AssumeRoleWithWebIdentity"))
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*Config)
		want string
	}{
		{"replication with no peer", func(a *Config) { a.Destinations = nil }, "replication is enabled but there is no destination peer stack"},
		{"peer in the same region", func(a *Config) { a.Destinations[0].Region = "us-east-1" }, "cross-region replication needs another region"},
		{"archive below minimum", func(a *Config) { a.ArchiveAccessDays = 30 }, "Archive Access needs 90..730 days"},
		{"deep archive below minimum", func(a *Config) { a.DeepArchiveAccessDays = 120 }, "Deep Archive Access needs 180..730 days"},
		{"no trusted service account", func(a *Config) { a.BrokerServiceAccount = "" }, "exactly one service account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := args()
			tc.mut(&a)
			rec, err := run(t, a)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, rec.Resources())
		})
	}
}

// Missing outputs of the cluster or of a destination stack register
// nothing, and the error names what is missing.
func TestMissingDependencies(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*Deps)
		want string
	}{
		{"peer key", func(d *Deps) { d.Peers["eu-west-1"] = PeerBucket{BucketARN: pulumi.String("arn:aws:s3:::peer-dr")} }, "destination eu-west-1: bucket and key ARNs are required"},
		{"peer absent", func(d *Deps) { delete(d.Peers, "us-west-2") }, "destination us-west-2: bucket and key ARNs are required"},
		{"oidc", func(d *Deps) { d.OIDCIssuer = nil }, "missing dependencies: oidcIssuer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := deps()
			tc.mut(&d)
			rec, err := runWith(t, args(), d)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, rec.Resources())
		})
	}
}
