package kit

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// HardenedBucket is an S3 bucket with what every bucket of the program
// carries: versioning, SSE-KMS with a bucket key, all public access
// blocked, ACLs disabled, and a policy that denies requests without TLS.
type HardenedBucket struct {
	Bucket     *s3.BucketV2
	Versioning *s3.BucketVersioningV2
}

// BucketArgs configure a hardened bucket.
type BucketArgs struct {
	// Name fixes the bucket name; empty lets Pulumi name it.
	Name string
	// KeyARN is the KMS key of the default encryption.
	KeyARN pulumi.StringInput
	Tags   pulumi.StringMap
}

// NewHardenedBucket registers the bucket and its hardening as siblings
// (opts carry the parent and any protection).
func NewHardenedBucket(ctx *pulumi.Context, name string, args BucketArgs, opts ...pulumi.ResourceOption) (*HardenedBucket, error) {
	ba := &s3.BucketV2Args{Tags: args.Tags}
	if args.Name != "" {
		ba.Bucket = pulumi.String(args.Name)
	}
	bucket, err := s3.NewBucketV2(ctx, name, ba, opts...)
	if err != nil {
		return nil, err
	}
	versioning, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket: bucket.ID(), VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm: pulumi.String("aws:kms"), KmsMasterKeyId: args.KeyARN,
			},
			BucketKeyEnabled: pulumi.Bool(true),
		}},
	}, opts...); err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket: bucket.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}, opts...); err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(), Rule: &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, opts...); err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(), Policy: TLSOnlyPolicy(bucket.Arn).JSON(),
	}, opts...); err != nil {
		return nil, err
	}
	return &HardenedBucket{Bucket: bucket, Versioning: versioning}, nil
}

// TLSOnlyPolicy denies every request to the bucket that is not over TLS.
func TLSOnlyPolicy(bucketARN pulumi.StringInput) PolicyDocument {
	return PolicyDocument{Statements: []Statement{{
		Sid: "DenyInsecureTransport", Effect: "Deny", Actions: []string{"s3:*"},
		Resources:  []pulumi.StringInput{bucketARN, pulumi.Sprintf("%s/*", bucketARN)},
		Principals: []Principal{{Type: "AWS", Identifiers: Strings("*")}},
		Conditions: []Condition{{Test: "Bool", Variable: pulumi.String("aws:SecureTransport"), Values: Strings("false")}},
	}}}
}

// KeyedBucket is a hardened bucket with its own KMS key.
type KeyedBucket struct {
	*HardenedBucket
	Key *kms.Key
}

// NewKeyedBucket registers a rotating KMS key (30-day deletion window) and
// a hardened bucket encrypted with it, both named name and protected when
// protect is set. The bucket depends on its key, so a teardown deletes the
// bucket first and the key after.
func NewKeyedBucket(ctx *pulumi.Context, name, description string, tags pulumi.StringMap, protect bool, opts ...pulumi.ResourceOption) (*KeyedBucket, error) {
	opts = append(opts, pulumi.Protect(protect))
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description: pulumi.String(description), EnableKeyRotation: pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30), Tags: tags,
	}, opts...)
	if err != nil {
		return nil, err
	}
	hb, err := NewHardenedBucket(ctx, name, BucketArgs{KeyARN: key.Arn, Tags: tags},
		append(opts, pulumi.DependsOn([]pulumi.Resource{key}))...)
	if err != nil {
		return nil, err
	}
	return &KeyedBucket{HardenedBucket: hb, Key: key}, nil
}

// LifecycleRule is one rule of a bucket's lifecycle, typed so tests read
// it without the SDK. Zero fields are left out.
type LifecycleRule struct {
	ID string
	// TransitionDays/TransitionClass move current objects.
	TransitionDays  *int
	TransitionClass string
	// ExpirationDays expires current objects.
	ExpirationDays int
	// NoncurrentDays expires noncurrent versions.
	NoncurrentDays int
	// AbortMultipartDays aborts incomplete multipart uploads.
	AbortMultipartDays int
}

func (r LifecycleRule) args() *s3.BucketLifecycleConfigurationV2RuleArgs {
	out := &s3.BucketLifecycleConfigurationV2RuleArgs{
		Id: pulumi.String(r.ID), Status: pulumi.String("Enabled"),
		Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
	}
	if r.TransitionDays != nil {
		out.Transitions = s3.BucketLifecycleConfigurationV2RuleTransitionArray{&s3.BucketLifecycleConfigurationV2RuleTransitionArgs{
			Days: pulumi.Int(*r.TransitionDays), StorageClass: pulumi.String(r.TransitionClass),
		}}
	}
	if r.ExpirationDays > 0 {
		out.Expiration = &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(r.ExpirationDays)}
	}
	if r.NoncurrentDays > 0 {
		out.NoncurrentVersionExpiration = &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(r.NoncurrentDays)}
	}
	if r.AbortMultipartDays > 0 {
		out.AbortIncompleteMultipartUpload = &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(r.AbortMultipartDays)}
	}
	return out
}

// NewLifecycle registers a bucket's lifecycle rules. S3 requires
// versioning before rules on noncurrent versions: pass the versioning
// resource in opts as a dependency.
func NewLifecycle(ctx *pulumi.Context, name string, bucket pulumi.StringInput, rules []LifecycleRule, opts ...pulumi.ResourceOption) error {
	args := s3.BucketLifecycleConfigurationV2RuleArray{}
	for _, r := range rules {
		args = append(args, r.args())
	}
	_, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{Bucket: bucket, Rules: args}, opts...)
	return err
}
