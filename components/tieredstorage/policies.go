package tieredstorage

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
)

// LifecycleRule is one rule of the offload bucket's lifecycle.
type LifecycleRule = kit.LifecycleRule

// Lifecycle is the offload bucket's lifecycle: every object to
// INTELLIGENT_TIERING on day 0 (Pulsar's offloader writes STANDARD and has
// no storage-class setting; the seed's s3ManagedLedgerOffloadBucketStorageClass
// does not exist), expire noncurrent versions, abort stale multipart
// uploads, and expire anything older than the longest retention.
func Lifecycle(a Config) []LifecycleRule {
	a = a.WithDefaults()
	zero := 0
	return []LifecycleRule{
		{ID: "to-intelligent-tiering", TransitionDays: &zero, TransitionClass: "INTELLIGENT_TIERING"},
		{ID: "expire-noncurrent", NoncurrentDays: a.NoncurrentVersionDays},
		{ID: "abort-incomplete-multipart", AbortMultipartDays: a.AbortMultipartDays},
		{ID: "expire-after-retention", ExpirationDays: a.ExpireDays},
	}
}

// ITConfig is an Intelligent-Tiering archive configuration.
type ITConfig struct {
	Name     string
	Tierings []Tiering
}

// Tiering is one archive tier.
type Tiering struct {
	AccessTier string
	Days       int
}

// IntelligentTiering is the archive configuration, or nil when the phase
// keeps objects in the instant-access tiers.
func IntelligentTiering(a Config) *ITConfig {
	a = a.WithDefaults()
	if !a.ArchiveTiers {
		return nil
	}
	return &ITConfig{Name: "archive", Tierings: []Tiering{
		{AccessTier: "ARCHIVE_ACCESS", Days: a.ArchiveAccessDays},
		{AccessTier: "DEEP_ARCHIVE_ACCESS", Days: a.DeepArchiveAccessDays},
	}}
}

// TLSOnlyPolicy denies every request to the bucket that is not over TLS.
var TLSOnlyPolicy = kit.TLSOnlyPolicy

// LogBucketPolicy lets the S3 logging service write the source bucket's
// access logs, over TLS only.
func LogBucketPolicy(logsARN, sourceARN pulumi.StringInput) kit.PolicyDocument {
	doc := TLSOnlyPolicy(logsARN)
	doc.Statements = append(doc.Statements, kit.Statement{
		Sid: "S3ServerAccessLogs", Actions: []string{"s3:PutObject"},
		Resources:  []pulumi.StringInput{pulumi.Sprintf("%s/offload/*", logsARN)},
		Principals: []kit.Principal{{Type: "Service", Identifiers: kit.Strings("logging.s3.amazonaws.com")}},
		Conditions: []kit.Condition{{Test: "ArnLike", Variable: pulumi.String("aws:SourceArn"), Values: []pulumi.StringInput{sourceARN}}},
	})
	return doc
}

// OffloaderPolicy grants exactly what Pulsar's S3 offloader (jclouds) does:
// multipart writes and reads of ledger objects, deletes after retention,
// listing for cleanup, and the bucket key's data-key operations.
func OffloaderPolicy(bucketARN, keyARN pulumi.StringInput) kit.PolicyDocument {
	return kit.PolicyDocument{Statements: []kit.Statement{
		{Sid: "OffloadBucket", Actions: []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"},
			Resources: []pulumi.StringInput{bucketARN}},
		{Sid: "OffloadObjects", Actions: []string{"s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"},
			Resources: []pulumi.StringInput{pulumi.Sprintf("%s/*", bucketARN)}},
		{Sid: "OffloadKey", Actions: []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"},
			Resources: []pulumi.StringInput{keyARN}},
	}}
}
