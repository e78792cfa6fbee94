// Package tieredstorage builds a region's Pulsar offload bucket: versioned,
// KMS-encrypted with a bucket key, public access blocked, owner-enforced,
// TLS-only, access-logged; a lifecycle that moves every object to
// Intelligent-Tiering on day 0 (Pulsar's offloader cannot choose a storage
// class), archive tiers where the phase calls for them, cross-region
// replication to peer buckets with KMS re-encryption, and the broker role
// that alone may read and write it.
package tieredstorage

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
)

// TypeToken is the component's type.
var TypeToken = kit.Type("tieredstorage", "TieredStorage")

// Intelligent-Tiering minimums (AWS): archive tiers need at least 90 and 180
// days without access, at most 730.
const (
	MinArchiveAccessDays     = 90
	MinDeepArchiveAccessDays = 180
	MaxArchiveDays           = 730
)

// Destination is a peer region's offload bucket that receives replicas.
type Destination struct {
	// Stack and Region name the peer.
	Stack, Region string
}

// Config configures the offload bucket.
type Config struct {
	// Region is the bucket's region.
	Region string
	// ArchiveTiers enables the Archive Access and Deep Archive Access tiers
	// after ArchiveAccessDays and DeepArchiveAccessDays without access.
	ArchiveTiers          bool
	ArchiveAccessDays     int
	DeepArchiveAccessDays int
	// NoncurrentVersionDays expires overwritten or deleted versions.
	NoncurrentVersionDays int
	// AbortMultipartDays aborts incomplete multipart uploads (the offloader
	// writes blocks as multipart parts; a crashed broker leaves some).
	AbortMultipartDays int
	// ExpireDays expires current objects after the longest namespace
	// retention: a safety net for replicas, whose deletes do not replicate.
	ExpireDays int
	// AccessLogging writes server access logs to a log bucket.
	AccessLogging bool
	// Destinations receive replicas (empty: no replication).
	Destinations []Destination
	// ReplicationTimeControl enables S3 RTC (15-minute SLA).
	ReplicationTimeControl bool
	// BrokerNamespace and BrokerServiceAccount are the only identity the
	// offload role trusts.
	BrokerNamespace, BrokerServiceAccount string
	// Protect marks the bucket, its hardening and its KMS key protected:
	// offloaded ledgers are the only copy of older messages.
	Protect bool
	Tags    map[string]string
}

// WithDefaults fills the defaults.
func (a Config) WithDefaults() Config {
	if a.ArchiveAccessDays == 0 {
		a.ArchiveAccessDays = MinArchiveAccessDays
	}
	if a.DeepArchiveAccessDays == 0 {
		a.DeepArchiveAccessDays = MinDeepArchiveAccessDays
	}
	if a.NoncurrentVersionDays == 0 {
		a.NoncurrentVersionDays = 7
	}
	if a.AbortMultipartDays == 0 {
		a.AbortMultipartDays = 1
	}
	if a.ExpireDays == 0 {
		a.ExpireDays = 400
	}
	return a
}

// Validate checks the plain arguments.
func (a Config) Validate() error {
	a = a.WithDefaults()
	var errs []error
	if a.Region == "" {
		errs = append(errs, errors.New("region: empty"))
	}
	if a.ArchiveTiers {
		if a.ArchiveAccessDays < MinArchiveAccessDays || a.ArchiveAccessDays > MaxArchiveDays {
			errs = append(errs, fmt.Errorf("archiveAccessDays %d: Intelligent-Tiering Archive Access needs %d..%d days", a.ArchiveAccessDays, MinArchiveAccessDays, MaxArchiveDays))
		}
		if a.DeepArchiveAccessDays < MinDeepArchiveAccessDays || a.DeepArchiveAccessDays > MaxArchiveDays || a.DeepArchiveAccessDays <= a.ArchiveAccessDays {
			errs = append(errs, fmt.Errorf("deepArchiveAccessDays %d: Deep Archive Access needs %d..%d days and more than archiveAccessDays %d",
				a.DeepArchiveAccessDays, MinDeepArchiveAccessDays, MaxArchiveDays, a.ArchiveAccessDays))
		}
	}
	if a.NoncurrentVersionDays < 1 {
		errs = append(errs, fmt.Errorf("noncurrentVersionDays %d: at least 1", a.NoncurrentVersionDays))
	}
	if a.AbortMultipartDays < 1 {
		errs = append(errs, fmt.Errorf("abortMultipartDays %d: at least 1", a.AbortMultipartDays))
	}
	if a.ArchiveTiers && a.ExpireDays <= a.DeepArchiveAccessDays {
		errs = append(errs, fmt.Errorf("expireDays %d: must exceed deepArchiveAccessDays %d or archived objects expire first", a.ExpireDays, a.DeepArchiveAccessDays))
	}
	if a.ReplicationTimeControl && len(a.Destinations) == 0 {
		errs = append(errs, errors.New("replicationTimeControl: replication is enabled but there is no destination peer stack"))
	}
	seen := map[string]bool{}
	for _, d := range a.Destinations {
		switch {
		case d.Stack == "" || d.Region == "":
			errs = append(errs, errors.New("destinations: each needs a stack and a region"))
		case d.Region == a.Region:
			errs = append(errs, fmt.Errorf("destination %s: region %s is this bucket's region; cross-region replication needs another region", d.Stack, d.Region))
		case seen[d.Stack]:
			errs = append(errs, fmt.Errorf("destination %s: listed twice", d.Stack))
		}
		seen[d.Stack] = true
	}
	if a.BrokerNamespace == "" || a.BrokerServiceAccount == "" {
		errs = append(errs, errors.New("brokerNamespace and brokerServiceAccount: the offload role must trust exactly one service account"))
	}
	return errors.Join(errs...)
}

// TieredStorage is the component.
type TieredStorage struct {
	pulumi.ResourceState

	BucketName    pulumi.StringOutput
	BucketARN     pulumi.StringOutput
	KMSKeyARN     pulumi.StringOutput
	BrokerRoleARN pulumi.StringOutput
	// Ready is what a workload using the bucket must wait for.
	Ready []pulumi.Resource
}

// PeerBucket is a destination stack's bucket and key (its stack outputs).
type PeerBucket struct {
	BucketARN pulumi.StringInput
	KMSKeyARN pulumi.StringInput
}

// Deps are the cluster's OIDC provider, which the broker role trusts, and
// each destination's bucket and key.
type Deps struct {
	OIDCProviderARN pulumi.StringInput
	OIDCIssuer      pulumi.StringInput
	// Peers are the destinations' buckets, keyed by stack.
	Peers map[string]PeerBucket
}

// Validate reports a missing OIDC provider.
func (d Deps) Validate() error {
	return kit.Missing(map[string]any{"oidcProviderArn": d.OIDCProviderARN, "oidcIssuer": d.OIDCIssuer})
}

// ValidateFor reports a destination whose bucket or key is missing.
func (d Deps) ValidateFor(c Config) error {
	var errs []error
	for _, dest := range c.Destinations {
		if p := d.Peers[dest.Stack]; p.BucketARN == nil || p.KMSKeyARN == nil {
			errs = append(errs, fmt.Errorf("destination %s: bucket and key ARNs are required (from its stack outputs)", dest.Stack))
		}
	}
	return errors.Join(errs...)
}

// targets are the destinations with their buckets and keys.
func (d Deps) targets(c Config) []kit.ReplicaTarget {
	out := make([]kit.ReplicaTarget, 0, len(c.Destinations))
	for _, dest := range c.Destinations {
		p := d.Peers[dest.Stack]
		out = append(out, kit.ReplicaTarget{Stack: dest.Stack, Region: dest.Region, BucketARN: p.BucketARN, KMSKeyARN: p.KMSKeyARN})
	}
	return out
}

// New registers the bucket, its policies and roles.
func New(ctx *pulumi.Context, name string, cfg Config, deps Deps, opts ...pulumi.ResourceOption) (*TieredStorage, error) {
	ts := &TieredStorage{}
	return kit.Construct(ctx, TypeToken, name, cfg, deps, ts, func(cfg Config, parent pulumi.ResourceOption) (pulumi.Map, error) {
		b := builder{ctx: ctx, name: name, cfg: cfg, deps: deps, parent: parent, tags: kit.Tags(cfg.Tags)}
		if err := b.build(ts); err != nil {
			return nil, err
		}
		return pulumi.Map{
			"bucketName": ts.BucketName, "bucketArn": ts.BucketARN, "kmsKeyArn": ts.KMSKeyARN, "brokerRoleArn": ts.BrokerRoleARN,
		}, nil
	}, opts...)
}

// builder registers the component's resources.
type builder struct {
	ctx    *pulumi.Context
	name   string
	cfg    Config
	deps   Deps
	parent pulumi.ResourceOption
	tags   pulumi.StringMap

	key        *kms.Key
	bucket     *s3.BucketV2
	versioning pulumi.Resource
}

func (b *builder) build(ts *TieredStorage) error {
	if err := b.keyAndBucket(); err != nil {
		return err
	}
	if err := b.lifecycle(); err != nil {
		return err
	}
	if b.cfg.AccessLogging {
		if err := accessLogging(b.ctx, b.name, b.bucket, b.tags, []pulumi.ResourceOption{b.parent}); err != nil {
			return err
		}
	}
	brokerRole, err := b.brokerRole()
	if err != nil {
		return err
	}
	ready := []pulumi.Resource{b.bucket, brokerRole}
	if len(b.cfg.Destinations) > 0 {
		repl, err := b.replication()
		if err != nil {
			return err
		}
		ready = append(ready, repl)
	}
	ts.BucketName = b.bucket.Bucket
	ts.BucketARN = b.bucket.Arn
	ts.KMSKeyARN = b.key.Arn
	ts.BrokerRoleARN = brokerRole.Arn
	ts.Ready = ready
	return nil
}

func (b *builder) keyAndBucket() error {
	kb, err := kit.NewKeyedBucket(b.ctx, b.name, "Pulsar offload bucket "+b.name, b.tags, b.cfg.Protect, b.parent)
	if err != nil {
		return err
	}
	b.key, b.bucket, b.versioning = kb.Key, kb.Bucket, kb.Versioning
	return nil
}

// lifecycle registers the lifecycle rules and the Intelligent-Tiering
// archive configuration.
func (b *builder) lifecycle() error {
	if err := kit.NewLifecycle(b.ctx, b.name, b.bucket.ID(), Lifecycle(b.cfg), b.parent, pulumi.DependsOn([]pulumi.Resource{b.versioning})); err != nil {
		return err
	}
	it := IntelligentTiering(b.cfg)
	if it == nil {
		return nil
	}
	tierings := s3.BucketIntelligentTieringConfigurationTieringArray{}
	for _, t := range it.Tierings {
		tierings = append(tierings, &s3.BucketIntelligentTieringConfigurationTieringArgs{AccessTier: pulumi.String(t.AccessTier), Days: pulumi.Int(t.Days)})
	}
	_, err := s3.NewBucketIntelligentTieringConfiguration(b.ctx, b.name, &s3.BucketIntelligentTieringConfigurationArgs{
		Bucket: b.bucket.ID(), Name: pulumi.String(it.Name), Status: pulumi.String("Enabled"), Tierings: tierings,
	}, b.parent)
	return err
}

// brokerRole is the offloader's role, trusted only by the broker service
// account.
func (b *builder) brokerRole() (*iam.Role, error) {
	role, err := iam.NewRole(b.ctx, b.name+"-broker", &iam.RoleArgs{
		AssumeRolePolicy: kit.IRSATrust(b.deps.OIDCProviderARN, b.deps.OIDCIssuer, b.cfg.BrokerNamespace, b.cfg.BrokerServiceAccount).JSON(),
		Description:      pulumi.String("Pulsar brokers' tiered-storage offloader"),
		Tags:             b.tags,
	}, b.parent)
	if err != nil {
		return nil, err
	}
	_, err = iam.NewRolePolicy(b.ctx, b.name+"-broker", &iam.RolePolicyArgs{
		Role: role.Name, Policy: OffloaderPolicy(b.bucket.Arn, b.key.Arn).JSON(),
	}, b.parent)
	return role, err
}

// replication replicates the bucket into each destination's bucket, re-encrypted
// with the destination region's key, into Intelligent-Tiering. Delete
// markers are not replicated: a delete in the source (retention expiry, or
// a mistake) must not reach the disaster-recovery copy, which expires on its
// own lifecycle instead.
func (b *builder) replication() (pulumi.Resource, error) {
	return kit.NewReplication(b.ctx, b.name, kit.Replication{
		Description: "S3 cross-region replication of the Pulsar offload bucket", Region: b.cfg.Region,
		Bucket: b.bucket, KeyARN: b.key.Arn, Versioning: b.versioning, Targets: b.deps.targets(b.cfg),
		Copy: kit.ReplicaCopy{StorageClass: "INTELLIGENT_TIERING", RTC: b.cfg.ReplicationTimeControl}, Tags: b.tags,
	}, b.parent)
}

// accessLogging creates a log bucket (SSE-S3: server access logging cannot
// write with SSE-KMS) that only the S3 logging service may write, for this
// bucket only, and points the offload bucket's logs at it.
func accessLogging(ctx *pulumi.Context, name string, src *s3.BucketV2, tags pulumi.StringMap, opts []pulumi.ResourceOption) error {
	logs, err := s3.NewBucketV2(ctx, name+"-logs", &s3.BucketV2Args{Tags: tags}, opts...)
	if err != nil {
		return err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name+"-logs", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: logs.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("AES256")},
		}},
	}, opts...); err != nil {
		return err
	}
	if _, err := s3.NewBucketPublicAccessBlock(ctx, name+"-logs", &s3.BucketPublicAccessBlockArgs{
		Bucket: logs.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}, opts...); err != nil {
		return err
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, name+"-logs", &s3.BucketOwnershipControlsArgs{
		Bucket: logs.ID(), Rule: &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, opts...); err != nil {
		return err
	}
	versioning, err := s3.NewBucketVersioningV2(ctx, name+"-logs", &s3.BucketVersioningV2Args{
		Bucket: logs.ID(), VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, opts...)
	if err != nil {
		return err
	}
	rules := []kit.LifecycleRule{{ID: "expire-logs", ExpirationDays: 90, NoncurrentDays: 7}}
	if err := kit.NewLifecycle(ctx, name+"-logs", logs.ID(), rules, append(opts, pulumi.DependsOn([]pulumi.Resource{versioning}))...); err != nil {
		return err
	}
	if _, err := s3.NewBucketPolicy(ctx, name+"-logs", &s3.BucketPolicyArgs{
		Bucket: logs.ID(), Policy: LogBucketPolicy(logs.Arn, src.Arn).JSON(),
	}, opts...); err != nil {
		return err
	}
	_, err = s3.NewBucketLoggingV2(ctx, name, &s3.BucketLoggingV2Args{
		Bucket: src.ID(), TargetBucket: logs.ID(), TargetPrefix: pulumi.String("offload/"),
	}, opts...)
	return err
}
