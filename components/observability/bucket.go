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

// Lifecycle is the metrics bucket's lifecycle for a retention: the
// compactor deletes blocks past retention, and versioning keeps what it
// deleted for a week; stale multipart uploads are aborted; anything left a
// month past the longest retention expires.
func (r MetricsRetention) Lifecycle() []kit.LifecycleRule {
	return []kit.LifecycleRule{{ID: "metrics", ExpirationDays: r.BackstopDays(), NoncurrentDays: 7, AbortMultipartDays: 1}}
}

// metricsStore is the region's metrics bucket, its key and the three
// roles, the mirrors it keeps of other regions' metrics, the history
// stores' buckets and roles, and its replication into the mirrors others
// keep of it.
type metricsStore struct {
	bucket *s3.BucketV2
	key    *kms.Key
	roles  map[string]*iam.Role
	// mirrors are the mirror buckets by mirrored stack.
	mirrors map[string]*kit.KeyedBucket
	// history are the history stores' buckets and roles, by store name.
	history map[string]HistoryBucket
}

// newMetricsStore registers the bucket, hardened like the offload bucket,
// the history stores' buckets and roles, and the replication into
// Config.MirrorTo.
func newMetricsStore(ctx *pulumi.Context, name string, cfg Config, deps Deps, parent pulumi.ResourceOption) (*metricsStore, error) {
	tags := kit.Tags(cfg.Tags)
	hb, err := keyedMetricsBucket(ctx, name+"-metrics", "Thanos metrics bucket "+name, cfg, parent)
	if err != nil {
		return nil, err
	}
	ms := &metricsStore{bucket: hb.Bucket, key: hb.Key, roles: map[string]*iam.Role{}, mirrors: map[string]*kit.KeyedBucket{}, history: map[string]HistoryBucket{}}
	for _, a := range BucketAccesses {
		if ms.roles[a.ServiceAccount], err = bucketRole(ctx, name+"-"+a.ServiceAccount, a, hb.Bucket.Arn, hb.Key.Arn, deps, tags, parent); err != nil {
			return nil, err
		}
	}
	for _, h := range cfg.History() {
		if err := ms.historyStore(ctx, name, h, cfg, deps, parent); err != nil {
			return nil, err
		}
	}
	if len(cfg.MirrorTo) > 0 {
		if _, err := kit.NewReplication(ctx, name+"-metrics", mirrorReplication(cfg, deps, hb, tags), parent); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

// historyStore registers a history store's read-only role on its bucket:
// over a mirror, the mirror bucket this region keeps; over a peer's
// bucket, the bucket and key its stack exports.
func (ms *metricsStore) historyStore(ctx *pulumi.Context, name string, h HistoryStore, cfg Config, deps Deps, parent pulumi.ResourceOption) error {
	bucket, arn, key := deps.PeerBuckets[h.Stack].Name, deps.PeerBuckets[h.Stack].ARN, deps.PeerBuckets[h.Stack].KMSKeyARN
	if h.Mirror {
		mb, err := keyedMetricsBucket(ctx, name+"-metrics-mirror-"+h.Stack, "Thanos metrics of "+h.Stack+", mirrored in "+name, cfg, parent)
		if err != nil {
			return err
		}
		ms.mirrors[h.Stack] = mb
		bucket, arn, key = mb.Bucket.Bucket, mb.Bucket.Arn, mb.Key.Arn
	}
	role, err := bucketRole(ctx, name+"-"+h.Name(), BucketAccess{ServiceAccount: h.Name()}, arn, key, deps, kit.Tags(cfg.Tags), parent)
	if err != nil {
		return err
	}
	ms.history[h.Name()] = HistoryBucket{BucketName: bucket, RoleARN: role.Arn}
	return nil
}

// keyedMetricsBucket is a metrics bucket (the region's or a mirror) with
// its key and the retention's lifecycle, protected like the offload
// bucket.
func keyedMetricsBucket(ctx *pulumi.Context, name, description string, cfg Config, parent pulumi.ResourceOption) (*kit.KeyedBucket, error) {
	hb, err := kit.NewKeyedBucket(ctx, name, description, kit.Tags(cfg.Tags), cfg.Protect, parent)
	if err != nil {
		return nil, err
	}
	err = kit.NewLifecycle(ctx, name, hb.Bucket.ID(), cfg.Retention.Lifecycle(), parent, pulumi.DependsOn([]pulumi.Resource{hb.Versioning}))
	return hb, err
}

// bucketRole is a Thanos service account's role on a bucket and its key.
func bucketRole(ctx *pulumi.Context, name string, a BucketAccess, bucketARN, keyARN pulumi.StringInput, deps Deps, tags pulumi.StringMap, parent pulumi.ResourceOption) (*iam.Role, error) {
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: kit.IRSATrust(deps.OIDCProviderARN, deps.OIDCIssuer, Namespace, a.ServiceAccount).JSON(),
		Description:      pulumi.Sprintf("Thanos %s: metrics bucket", a.ServiceAccount), Tags: tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	_, err = iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{Role: role.Name, Policy: a.BucketPolicy(bucketARN, keyARN).JSON()}, parent)
	return role, err
}

// mirrorReplication copies every object of the metrics bucket, and every
// delete, into each mirror: the compactor deletes the blocks it replaced,
// and a mirror that kept them would serve them for the whole backstop
// (the mirror's own versioning keeps a deleted block a week). STANDARD
// like the source. With S3 Replication Time Control: 99.99% of objects
// within 15 minutes, so a sidecar's block is whole in the mirror before
// MirrorConsistencyDelay passes (Thanos exempts the compactor's blocks from
// that delay; docs/operations.md says what that costs).
func mirrorReplication(cfg Config, deps Deps, hb *kit.KeyedBucket, tags pulumi.StringMap) kit.Replication {
	r := kit.Replication{Description: "S3 replication of the Thanos metrics bucket into its mirrors", Region: cfg.Region,
		Bucket: hb.Bucket, KeyARN: hb.Key.Arn, Versioning: hb.Versioning, Copy: kit.ReplicaCopy{StorageClass: "STANDARD", RTC: true, Deletes: true}, Tags: tags}
	for _, m := range cfg.MirrorTo {
		b := deps.Mirrors[m.Stack]
		r.Targets = append(r.Targets, kit.ReplicaTarget{Stack: m.Stack, Region: m.Region, BucketARN: b.BucketARN, KMSKeyARN: b.KMSKeyARN})
	}
	return r
}
