package observability

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
)

// BucketAccess is what one Thanos component may do in the metrics bucket.
type BucketAccess struct {
	// ServiceAccount is the Kubernetes service account that assumes the
	// role (namespace monitoring).
	ServiceAccount string
	// Write allows uploads; Delete allows deleting blocks (the compactor).
	Write, Delete bool
}

// BucketAccesses are the three roles on the metrics bucket: the sidecars
// upload, the store gateway reads, the compactor rewrites and deletes.
var BucketAccesses = []BucketAccess{
	{ServiceAccount: PrometheusServiceAccount, Write: true},
	{ServiceAccount: StoreName},
	{ServiceAccount: CompactName, Write: true, Delete: true},
}

// BucketPolicy is an access's least-privilege policy on the bucket and its
// key.
func (a BucketAccess) BucketPolicy(bucketARN, keyARN pulumi.StringInput) kit.PolicyDocument {
	objects := []string{"s3:GetObject"}
	keyOps := []string{"kms:Decrypt", "kms:DescribeKey"}
	if a.Write {
		objects = append(objects, "s3:AbortMultipartUpload", "s3:PutObject")
		keyOps = append(keyOps, "kms:Encrypt", "kms:GenerateDataKey")
	}
	if a.Delete {
		objects = append(objects, "s3:DeleteObject")
	}
	return kit.PolicyDocument{Statements: []kit.Statement{
		{Sid: "MetricsBucket", Actions: []string{"s3:GetBucketLocation", "s3:ListBucket"}, Resources: []pulumi.StringInput{bucketARN}},
		{Sid: "MetricsObjects", Actions: objects, Resources: []pulumi.StringInput{pulumi.Sprintf("%s/*", bucketARN)}},
		{Sid: "MetricsKey", Actions: keyOps, Resources: []pulumi.StringInput{keyARN}},
	}}
}

// BucketLifecycle is the metrics bucket's lifecycle: the compactor deletes
// blocks past retention, and versioning keeps what it deleted for a week;
// stale multipart uploads are aborted; anything left a month past the
// longest retention expires.
type BucketLifecycle struct {
	NoncurrentDays, AbortMultipartDays, ExpireDays int
}

// Lifecycle is the bucket's lifecycle for a retention.
func (r MetricsRetention) Lifecycle() BucketLifecycle {
	return BucketLifecycle{NoncurrentDays: 7, AbortMultipartDays: 1, ExpireDays: r.BackstopDays()}
}

// metricsStore is the region's metrics bucket, its key and the three
// roles.
type metricsStore struct {
	bucket *s3.BucketV2
	roles  map[string]*iam.Role
}

// newMetricsStore registers the bucket, hardened like the offload bucket.
func newMetricsStore(ctx *pulumi.Context, name string, cfg Config, deps Deps, parent pulumi.ResourceOption) (*metricsStore, error) {
	tags := kit.Tags(cfg.Tags)
	key, err := kms.NewKey(ctx, name+"-metrics", &kms.KeyArgs{
		Description: pulumi.Sprintf("Thanos metrics bucket %s", name), EnableKeyRotation: pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30), Tags: tags,
	}, parent, pulumi.Protect(cfg.Protect))
	if err != nil {
		return nil, err
	}
	hb, err := kit.NewHardenedBucket(ctx, name+"-metrics", kit.BucketArgs{KeyARN: key.Arn, Tags: tags},
		parent, pulumi.Protect(cfg.Protect), pulumi.DependsOn([]pulumi.Resource{key}))
	if err != nil {
		return nil, err
	}
	lc := cfg.Retention.Lifecycle()
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name+"-metrics", &s3.BucketLifecycleConfigurationV2Args{
		Bucket: hb.Bucket.ID(), Rules: s3.BucketLifecycleConfigurationV2RuleArray{&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id: pulumi.String("metrics"), Status: pulumi.String("Enabled"),
			Filter:                         &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
			Expiration:                     &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(lc.ExpireDays)},
			NoncurrentVersionExpiration:    &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(lc.NoncurrentDays)},
			AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(lc.AbortMultipartDays)},
		}},
	}, parent, pulumi.DependsOn([]pulumi.Resource{hb.Versioning})); err != nil {
		return nil, err
	}
	ms := &metricsStore{bucket: hb.Bucket, roles: map[string]*iam.Role{}}
	for _, a := range BucketAccesses {
		role, err := iam.NewRole(ctx, name+"-"+a.ServiceAccount, &iam.RoleArgs{
			AssumeRolePolicy: kit.IRSATrust(deps.OIDCProviderARN, deps.OIDCIssuer, Namespace, a.ServiceAccount).JSON(),
			Description:      pulumi.Sprintf("Thanos %s: metrics bucket", a.ServiceAccount), Tags: tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := iam.NewRolePolicy(ctx, name+"-"+a.ServiceAccount, &iam.RolePolicyArgs{
			Role: role.Name, Policy: a.BucketPolicy(hb.Bucket.Arn, key.Arn).JSON(),
		}, parent); err != nil {
			return nil, err
		}
		ms.roles[a.ServiceAccount] = role
	}
	return ms, nil
}
