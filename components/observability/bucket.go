package observability

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
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

// Lifecycle is the metrics bucket's lifecycle for a retention: the
// compactor deletes blocks past retention, and versioning keeps what it
// deleted for a week; stale multipart uploads are aborted; anything left a
// month past the longest retention expires.
func (r MetricsRetention) Lifecycle() []kit.LifecycleRule {
	return []kit.LifecycleRule{{ID: "metrics", ExpirationDays: r.BackstopDays(), NoncurrentDays: 7, AbortMultipartDays: 1}}
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
	hb, err := kit.NewKeyedBucket(ctx, name+"-metrics", "Thanos metrics bucket "+name, tags, cfg.Protect, parent)
	if err != nil {
		return nil, err
	}
	key := hb.Key
	if err := kit.NewLifecycle(ctx, name+"-metrics", hb.Bucket.ID(), cfg.Retention.Lifecycle(), parent, pulumi.DependsOn([]pulumi.Resource{hb.Versioning})); err != nil {
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
