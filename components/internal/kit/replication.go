package kit

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ReplicaTarget is a bucket another bucket replicates into: the stack that
// owns it, its region, its ARN and the key S3 encrypts the copies with.
type ReplicaTarget struct {
	Stack, Region        string
	BucketARN, KMSKeyARN pulumi.StringInput
}

// ReplicaCopy is how the copies are written: their storage class, S3
// Replication Time Control (a 15-minute SLA), and whether deletes (the
// delete markers of a versioned bucket) reach them.
type ReplicaCopy struct {
	StorageClass string
	RTC, Deletes bool
}

// Replication is one bucket's cross-region replication: the bucket, its
// key and region, and the copies' targets.
type Replication struct {
	// Description is the role's.
	Description string
	Region      string
	Bucket      *s3.BucketV2
	KeyARN      pulumi.StringInput
	// Versioning must exist before the configuration (S3 refuses it on an
	// unversioned bucket).
	Versioning pulumi.Resource
	Targets    []ReplicaTarget
	Copy       ReplicaCopy
	Tags       pulumi.StringMap
}

// NewReplication registers the replication role (only S3 replicating this
// bucket, in the key's account, may assume it), its least-privilege policy
// and the bucket's replication configuration, one rule per target. The
// role and policy are named name+"-replication", the configuration name.
// The targets are in the same account: their keys' default policies let
// the role's own policy grant it their use, and their buckets need no
// policy of their own for it.
func NewReplication(ctx *pulumi.Context, name string, r Replication, opts ...pulumi.ResourceOption) (*s3.BucketReplicationConfig, error) {
	role, err := iam.NewRole(ctx, name+"-replication", &iam.RoleArgs{
		AssumeRolePolicy: ScopedServiceTrust("s3.amazonaws.com", AccountOf(r.KeyARN), r.Bucket.Arn).JSON(),
		Description:      pulumi.String(r.Description), Tags: r.Tags,
	}, opts...)
	if err != nil {
		return nil, err
	}
	pol, err := iam.NewRolePolicy(ctx, name+"-replication", &iam.RolePolicyArgs{
		Role: role.Name, Policy: ReplicationPolicy(r.Region, r.Bucket.Arn, r.KeyARN, r.Targets, r.Copy.Deletes).JSON(),
	}, opts...)
	if err != nil {
		return nil, err
	}
	rules := s3.BucketReplicationConfigRuleArray{}
	for i, t := range r.Targets {
		rules = append(rules, ReplicationRule(i, t, r.Copy))
	}
	return s3.NewBucketReplicationConfig(ctx, name, &s3.BucketReplicationConfigArgs{
		Bucket: r.Bucket.ID(), Role: role.Arn, Rules: rules,
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{r.Versioning, pol}))...)
}

// ReplicationPolicy is a replication role's least-privilege policy: read
// the bucket's versions, replicate into each target, decrypt with the
// bucket's key (through S3 in its region only) and encrypt with each
// target's key (through S3 in the target's region only); replicate
// delete markers only where deletes reach the copies.
func ReplicationPolicy(region string, bucketARN, keyARN pulumi.StringInput, targets []ReplicaTarget, deletes bool) PolicyDocument {
	var objects []pulumi.StringInput
	for _, t := range targets {
		objects = append(objects, pulumi.Sprintf("%s/*", t.BucketARN))
	}
	replicate := []string{"s3:ReplicateObject", "s3:ReplicateTags"}
	if deletes {
		replicate = append(replicate, "s3:ReplicateDelete")
	}
	docs := []Statement{
		{Sid: "SourceBucket", Actions: []string{"s3:GetReplicationConfiguration", "s3:ListBucket"}, Resources: []pulumi.StringInput{bucketARN}},
		{Sid: "SourceObjects", Actions: []string{"s3:GetObjectVersionAcl", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"},
			Resources: []pulumi.StringInput{pulumi.Sprintf("%s/*", bucketARN)}},
		{Sid: "DestinationObjects", Actions: replicate, Resources: objects},
		{Sid: "DecryptSource", Actions: []string{"kms:Decrypt"}, Resources: []pulumi.StringInput{keyARN},
			Conditions: []Condition{viaS3(region)}},
	}
	for _, t := range targets {
		docs = append(docs, Statement{Sid: "EncryptDestination" + sanitizeSid(t.Stack), Actions: []string{"kms:Encrypt", "kms:GenerateDataKey"},
			Resources: []pulumi.StringInput{t.KMSKeyARN}, Conditions: []Condition{viaS3(t.Region)}})
	}
	return PolicyDocument{Statements: docs}
}

// viaS3 limits a key permission to requests S3 makes in a region.
func viaS3(region string) Condition {
	return Condition{Test: "StringLike", Variable: pulumi.String("kms:ViaService"), Values: Strings("s3." + region + ".amazonaws.com")}
}

// ReplicationRule replicates everything, SSE-KMS objects included, to one
// target, re-encrypted with the target's key, with replication metrics
// (an event past 15 minutes).
func ReplicationRule(priority int, t ReplicaTarget, c ReplicaCopy) *s3.BucketReplicationConfigRuleArgs {
	dest := &s3.BucketReplicationConfigRuleDestinationArgs{
		Bucket:                  t.BucketARN,
		StorageClass:            pulumi.String(c.StorageClass),
		EncryptionConfiguration: &s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs{ReplicaKmsKeyId: t.KMSKeyARN},
		Metrics: &s3.BucketReplicationConfigRuleDestinationMetricsArgs{
			Status: pulumi.String("Enabled"), EventThreshold: &s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs{Minutes: pulumi.Int(15)},
		},
	}
	if c.RTC {
		dest.ReplicationTime = &s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs{
			Status: pulumi.String("Enabled"), Time: &s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs{Minutes: pulumi.Int(15)},
		}
	}
	return &s3.BucketReplicationConfigRuleArgs{
		Id: pulumi.String("to-" + t.Stack), Status: pulumi.String("Enabled"), Priority: pulumi.Int(priority),
		Filter:                  &s3.BucketReplicationConfigRuleFilterArgs{Prefix: pulumi.String("")},
		DeleteMarkerReplication: &s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs{Status: pulumi.String(enabled(c.Deletes))},
		SourceSelectionCriteria: &s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs{
			SseKmsEncryptedObjects: &s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs{Status: pulumi.String("Enabled")},
		},
		Destination: dest,
	}
}

func enabled(on bool) string {
	if on {
		return "Enabled"
	}
	return "Disabled"
}
