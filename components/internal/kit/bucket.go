package kit

import (
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
