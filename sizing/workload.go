// Package sizing is the capacity and cost planner. It is pure Go with no
// Pulumi imports: it turns a workload (message rate, size, quorums, TTL,
// retention, tiered storage, fan-out, geo-replication, zones) into a fleet
// (bookie, broker, proxy and ZooKeeper counts and instance types), checks the
// fleet against physical limits and zone failures, and prices it.
//
// The storage step is the DataStax production sizing method, reproduced
// exactly; everything after it (network, disk bandwidth, CPU, zone headroom,
// instance choice, spot split, cost, failure check) is what that method leaves
// out. Every number downstream (Helm replica counts, JVM memory, Karpenter
// pool limits, offload thresholds) comes from here.
package sizing

import (
	"fmt"
	"math"
	"time"
)

// FieldError is a validation error that names the input, the bad value and
// what is allowed. The CLI maps Field to its flag name.
type FieldError struct {
	Field   string
	Value   any
	Allowed string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %v is not allowed: want %s", e.Field, e.Value, e.Allowed)
}

// OffloadPolicy is the tiered-storage policy of a cluster. The zero value
// means no tiered storage (the DataStax method's assumption).
type OffloadPolicy struct {
	Enabled bool
	// ThresholdBytes is the per-topic backlog size that triggers an automatic
	// offload (managedLedgerOffloadAutoTriggerSizeThresholdBytes).
	ThresholdBytes int64
	// After is how long a closed ledger stays on bookies before it is
	// offloaded regardless of size (managedLedgerOffloadThresholdInSeconds).
	After time.Duration
	// DeletionLag is how long offloaded data stays on bookies after the
	// offload (managedLedgerOffloadDeletionLagMs).
	DeletionLag time.Duration
	// LedgerRollover is the longest a ledger stays open; only closed ledgers
	// offload (managedLedgerMaxLedgerRolloverTimeMinutes).
	LedgerRollover time.Duration
	// MaxBlockBytes is the S3 multipart block size of the offloader
	// (s3ManagedLedgerOffloadMaxBlockSizeInBytes).
	MaxBlockBytes int64
	// ReadBufferBytes is the offloader's read buffer
	// (s3ManagedLedgerOffloadReadBufferSizeInBytes).
	ReadBufferBytes int64
}

// Workload is the load one Pulsar cluster (one region) must carry.
type Workload struct {
	// ProduceRate is the messages per second that clients publish in this region.
	ProduceRate float64
	// ReplicatedInRate is the messages per second that arrive from other
	// regions by geo-replication; they are stored and dispatched here too.
	ReplicatedInRate float64
	// MessageBytes is the average message size in bytes (uncompressed).
	MessageBytes int64
	// Ensemble, WriteQuorum and AckQuorum are the BookKeeper quorums.
	Ensemble, WriteQuorum, AckQuorum int
	// TTL is how long an unacknowledged message may stay in the backlog.
	TTL time.Duration
	// Retention is how long acknowledged messages are kept.
	Retention time.Duration
	// Offload is the tiered-storage policy; it shortens how long bookies hold data.
	Offload OffloadPolicy
	// ConsumerFanout is the average number of subscriptions that read each message.
	ConsumerFanout float64
	// GeoReplicationTargets is how many other regions this region's produced
	// traffic is geo-replicated to.
	GeoReplicationTargets int
	// GeoReplicatedShare is the share of produced traffic in geo-replicated
	// namespaces (0 means all of it).
	GeoReplicatedShare float64
	// CompressionRatio is what producer batching with compression saves:
	// stored and sent bytes are MessageBytes / CompressionRatio (0 or 1:
	// uncompressed). The CPU per message does not change; compression runs
	// on the clients.
	CompressionRatio float64
	// Zones is the number of availability zones the cluster spans.
	Zones int
	// TargetUtilization is the planned steady-state utilization of each
	// limited resource (network, disk bandwidth, CPU), in (0, 1].
	TargetUtilization float64
	// BookieDiskBytes is the ledger disk per bookie on EBS. Bookies on
	// local-NVMe instance types use the instance's NVMe capacity instead.
	BookieDiskBytes int64
	// DiskUsableFraction is the fraction of a ledger disk that may hold data
	// (the DataStax method uses 0.85; BookKeeper turns read-only at 0.95).
	DiskUsableFraction float64
}

// DefaultDiskUsableFraction is the DataStax method's usable share of a disk.
const DefaultDiskUsableFraction = 0.85

// DefaultTargetUtilization is the planned utilization of limited resources.
const DefaultTargetUtilization = 0.6

// WithDefaults fills zero fields with the documented defaults.
func (w Workload) WithDefaults() Workload {
	if w.DiskUsableFraction == 0 {
		w.DiskUsableFraction = DefaultDiskUsableFraction
	}
	if w.TargetUtilization == 0 {
		w.TargetUtilization = DefaultTargetUtilization
	}
	if w.Ensemble == 0 {
		w.Ensemble = w.WriteQuorum
	}
	if w.AckQuorum == 0 && w.WriteQuorum > 1 {
		w.AckQuorum = w.WriteQuorum - 1
	}
	return w
}

// Physical bounds of one region's workload. MaxRate is ten times the
// largest phase's whole fleet (100M msg/s): beyond it a region needs tens of
// thousands of nodes per role, and the arithmetic leaves the range node
// counts are computed in. MaxMessageBytes is Pulsar's default
// maxMessageSize (5 MiB); larger messages are chunked by the client.
const (
	MaxRate         = 1e9
	MaxMessageBytes = 5 * MiB
	// MaxCompressionRatio bounds what batching with compression is credited
	// with; text and JSON reach about 4-10x with zstd or LZ4.
	MaxCompressionRatio = 20
	// MaxFanout is the most subscriptions reading each message that a plan
	// is made for.
	MaxFanout = 1000
	// MaxEnsemble bounds the bookies a ledger is striped over (and so the
	// quorums): beyond it a ledger gains no durability, and each bookie
	// lost leaves more ledgers to re-replicate. A typo such as 300 would
	// otherwise plan hundreds of bookies.
	MaxEnsemble = 9
)

// Validate checks every field and names the first bad one. Quorums must hold
// ensemble >= write quorum >= ack quorum >= 1.
func (w Workload) Validate() error {
	switch {
	case !(w.ProduceRate > 0) || w.ProduceRate > MaxRate:
		return &FieldError{"rate", w.ProduceRate, fmt.Sprintf("a positive number of messages per second, at most %g for one region", float64(MaxRate))}
	case !(w.ReplicatedInRate >= 0) || w.ReplicatedInRate > MaxRate:
		return &FieldError{"replicatedInRate", w.ReplicatedInRate, fmt.Sprintf("zero or a positive number of messages per second, at most %g", float64(MaxRate))}
	case w.MessageBytes <= 0 || w.MessageBytes > MaxMessageBytes:
		return &FieldError{"messageSize", w.MessageBytes, "a positive size such as 1KB, at most 5MiB (Pulsar's maxMessageSize; larger messages are chunked)"}
	case w.WriteQuorum < 1:
		return &FieldError{"writeQuorum", w.WriteQuorum, "at least 1 (3 for zero-loss across zones)"}
	case w.AckQuorum < 1 || w.AckQuorum > w.WriteQuorum:
		return &FieldError{"ackQuorum", w.AckQuorum, fmt.Sprintf("1..%d (ack quorum <= write quorum %d)", w.WriteQuorum, w.WriteQuorum)}
	case w.Ensemble < w.WriteQuorum:
		return &FieldError{"ensemble", w.Ensemble, fmt.Sprintf("at least the write quorum %d (ensemble >= write >= ack >= 1)", w.WriteQuorum)}
	case w.Ensemble > MaxEnsemble:
		return &FieldError{"ensemble", w.Ensemble, fmt.Sprintf("at most %d bookies per ledger (ensemble >= write >= ack >= 1)", MaxEnsemble)}
	case w.TTL <= 0:
		return &FieldError{"ttl", w.TTL, "a positive duration such as 3h"}
	case w.Retention < 0:
		return &FieldError{"retention", w.Retention, "zero or a positive duration"}
	case !(w.ConsumerFanout >= 0 && w.ConsumerFanout <= MaxFanout):
		return &FieldError{"fanout", w.ConsumerFanout, fmt.Sprintf("0 to %d subscriptions per message", MaxFanout)}
	case w.GeoReplicationTargets < 0:
		return &FieldError{"geoReplicas", w.GeoReplicationTargets, "zero or more regions"}
	case !(w.GeoReplicatedShare >= 0 && w.GeoReplicatedShare <= 1):
		return &FieldError{"geoReplicatedShare", w.GeoReplicatedShare, "a fraction in (0, 1] (0: all)"}
	case w.CompressionRatio != 0 && !(w.CompressionRatio >= 1 && w.CompressionRatio <= MaxCompressionRatio):
		return &FieldError{"compressionRatio", w.CompressionRatio, fmt.Sprintf("1 (none) to %g", float64(MaxCompressionRatio))}
	case w.Zones < 1:
		return &FieldError{"zones", w.Zones, "at least 1 availability zone (3 for zone-loss tolerance)"}
	case !(w.TargetUtilization > 0 && w.TargetUtilization <= 1):
		return &FieldError{"targetUtilization", w.TargetUtilization, "a fraction in (0, 1]"}
	case w.BookieDiskBytes <= 0:
		return &FieldError{"bookieDisk", w.BookieDiskBytes, "a positive size such as 4TB"}
	case !(w.DiskUsableFraction > 0 && w.DiskUsableFraction <= 1):
		return &FieldError{"diskUsableFraction", w.DiskUsableFraction, "a fraction in (0, 1]"}
	}
	if o := w.Offload; o.Enabled {
		switch {
		case o.MaxBlockBytes <= 0:
			return &FieldError{"offload.maxBlockSize", o.MaxBlockBytes, "a positive size (S3 multipart needs at least 5MiB)"}
		case o.MaxBlockBytes < 5*MiB:
			return &FieldError{"offload.maxBlockSize", o.MaxBlockBytes, "at least 5MiB (the S3 multipart minimum part size)"}
		case o.ThresholdBytes < o.MaxBlockBytes:
			return &FieldError{"offload.threshold", o.ThresholdBytes, fmt.Sprintf("at least the offload block size %d bytes: a smaller threshold offloads partial blocks", o.MaxBlockBytes)}
		case o.After < 0 || o.DeletionLag < 0 || o.LedgerRollover <= 0:
			return &FieldError{"offload", fmt.Sprintf("after=%s deletionLag=%s rollover=%s", o.After, o.DeletionLag, o.LedgerRollover), "non-negative after and deletion lag, positive ledger rollover"}
		}
	}
	return nil
}

// StoredRate is the messages per second this cluster's bookies persist.
func (w Workload) StoredRate() float64 { return w.ProduceRate + w.ReplicatedInRate }

// IngressBytes is the bytes per second that brokers receive to persist.
func (w Workload) IngressBytes() float64 { return w.StoredRate() * w.StoredMessageBytes() }

// StoredMessageBytes is one message as it is sent and stored: compressed
// by the producer's batches when CompressionRatio is set.
func (w Workload) StoredMessageBytes() float64 {
	if w.CompressionRatio <= 1 {
		return float64(w.MessageBytes)
	}
	return float64(w.MessageBytes) / w.CompressionRatio
}

// GeoReplicatedBytes is the bytes per second this region sends to its
// geo-replication targets: its produced traffic in replicated namespaces,
// once per target.
func (w Workload) GeoReplicatedBytes() float64 {
	share := w.GeoReplicatedShare
	if share == 0 {
		share = 1
	}
	return float64(w.GeoReplicationTargets) * w.ProduceRate * share * w.StoredMessageBytes()
}

// BookieHold is how long bookies keep a message: TTL plus retention, cut
// short by tiered storage (ledger rollover + offload delay + deletion lag).
func (w Workload) BookieHold() time.Duration {
	hold := w.TTL + w.Retention
	if w.Offload.Enabled {
		if h := w.Offload.LedgerRollover + w.Offload.After + w.Offload.DeletionLag; h < hold {
			hold = h
		}
	}
	return hold
}

// StorageMethod is the DataStax production sizing method, exactly.
type StorageMethod struct {
	// StorageBytes = write quorum x message size x rate x hold seconds.
	StorageBytes float64 `json:"storageBytes"`
	// BookiesForStorage = ceil(storage / (disk x usable)), rounded up to a
	// multiple of the zone count, at least max(3, ensemble).
	BookiesForStorage int `json:"bookiesForStorage"`
	// BrokersForStorage = ceil(bookies / 3), rounded up to a multiple of the
	// zone count, at least 3.
	BrokersForStorage int `json:"brokersForStorage"`
}

// DataStax applies the storage-only method of the DataStax production sizing
// guide to w, using diskBytes per bookie.
func DataStax(w Workload, diskBytes float64) StorageMethod {
	storage := float64(w.WriteQuorum) * w.StoredMessageBytes() * w.StoredRate() * w.BookieHold().Seconds()
	bookies := storageBookies(w, storage, diskBytes)
	brokers := RoundUp(max(ceilDiv(bookies, 3), 3), w.Zones)
	return StorageMethod{StorageBytes: storage, BookiesForStorage: bookies, BrokersForStorage: brokers}
}

// storageBookies is the guide's bookie count for storage bytes on disks of
// diskBytes: within the usable fraction, at least max(3, ensemble), a
// multiple of the zones.
func storageBookies(w Workload, storage, diskBytes float64) int {
	raw := int(math.Ceil(storage / (diskBytes * w.DiskUsableFraction)))
	return RoundUp(max(raw, 3, w.Ensemble), w.Zones)
}

// RoundUp rounds n up to a multiple of m (m >= 1).
func RoundUp(n, m int) int {
	if m <= 1 {
		return n
	}
	return ceilDiv(n, m) * m
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// ceilCount is ceil(x) for a non-negative count, with a tiny tolerance so
// that float noise (3.0000000001) does not add a node.
func ceilCount(x float64) int {
	if x <= 0 {
		return 0
	}
	return int(math.Ceil(x - 1e-9))
}

// BucketSafetyDays is added to the shortest safe bucket lifetime by default.
const BucketSafetyDays = 7

// ArchiveTierMinDays is how long objects must live for the Intelligent-
// Tiering Deep Archive Access tier (180 days without access) to apply.
const ArchiveTierMinDays = 180

// MinBucketDays is the shortest bucket lifetime that cannot expire data
// Pulsar still serves: TTL + retention, in whole days, plus one.
func (w Workload) MinBucketDays() int { return minBucketDays(w.TTL + w.Retention) }

func minBucketDays(d time.Duration) int { return int(math.Ceil(d.Hours()/24)) + 1 }

// MinBucketDays is the shortest safe bucket lifetime of a phase.
func (p Phase) MinBucketDays() int { return minBucketDays(p.TTL + p.Retention) }

// BucketExpireDays returns the offload buckets' lifecycle expiry: the
// configured days (refused when shorter than MinBucketDays) or, when zero,
// MinBucketDays + BucketSafetyDays.
func BucketExpireDays(w Workload, configured int) (int, error) {
	min := w.MinBucketDays()
	switch {
	case configured == 0:
		return min + BucketSafetyDays, nil
	case configured < min:
		return 0, fmt.Errorf("bucket retention %d days would expire offloaded data Pulsar still serves: TTL %s + retention %s needs at least %d days",
			configured, w.TTL, w.Retention, min)
	}
	return configured, nil
}
