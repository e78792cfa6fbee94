package sizing

import (
	"fmt"
	"strings"
	"time"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// BrokerTuning is the per-phase broker configuration the seeds ask for,
// expressed with Pulsar's real broker.conf keys (see docs/pulsar-settings.md
// for the seed key each replaces).
type BrokerTuning struct {
	DefaultNumPartitions            int  `json:"defaultNumPartitions"`
	MaxConcurrentLookupRequest      int  `json:"maxConcurrentLookupRequest"`
	MaxConcurrentTopicLoadRequest   int  `json:"maxConcurrentTopicLoadRequest"`
	ExtensibleLoadManager           bool `json:"extensibleLoadManager"`
	ReplicationProducerQueueSize    int  `json:"replicationProducerQueueSize"`
	ReplicationConnectionsPerBroker int  `json:"replicationConnectionsPerBroker"`
	DispatcherMaxReadBatchSize      int  `json:"dispatcherMaxReadBatchSize"`
	MaxUnackedMessagesPerConsumer   int  `json:"maxUnackedMessagesPerConsumer"`
	MaxUnackedMessagesPerSub        int  `json:"maxUnackedMessagesPerSubscription"`
	DeduplicationEntriesInterval    int  `json:"brokerDeduplicationEntriesInterval"`
	OffloadMaxThreads               int  `json:"managedLedgerOffloadMaxThreads"`
	OffloadPrefetchRounds           int  `json:"managedLedgerOffloadPrefetchRounds"`
	// TieredStorageFirst reads offloaded ledgers from S3 rather than from
	// the bookies still holding them (managedLedgerDataReadPriority).
	TieredStorageFirst bool `json:"tieredStorageFirst"`
}

// ClientSettings are the producer and client settings the seeds recommend
// per phase (model.ClientSettings).
type ClientSettings = model.ClientSettings

// Phase is one scaling phase: the global workload the fleet must carry and
// the policies (tiered storage, tuning) that go with it. Only workload facts
// and policies are written here; every count is computed by Plan.
type Phase struct {
	Name string `json:"name"`
	// Rate is the global publish rate across all regions, messages/second.
	Rate         float64 `json:"rate"`
	MessageBytes int64   `json:"messageBytes"`
	// CompressionRatio and GeoReplicatedShare are the workload's (see
	// Workload); zero keeps the presets: uncompressed, all replicated.
	CompressionRatio   float64       `json:"compressionRatio,omitempty"`
	GeoReplicatedShare float64       `json:"geoReplicatedShare,omitempty"`
	ConsumerFanout     float64       `json:"consumerFanout"`
	TTL                time.Duration `json:"ttl"`
	Retention          time.Duration `json:"retention"`
	Offload            OffloadPolicy `json:"offload"`
	// BookieDiskBytes is the gp3 ledger volume per bookie when bookies use EBS.
	BookieDiskBytes int64 `json:"bookieDiskBytes"`
	// ArchiveTiers turns on the S3 Intelligent-Tiering archive tiers
	// (Archive Access after 90 days, Deep Archive Access after 180 days).
	ArchiveTiers bool           `json:"archiveTiers"`
	Tuning       BrokerTuning   `json:"tuning"`
	Client       ClientSettings `json:"client"`
	Assumptions  string         `json:"assumptions"`
}

// PhaseNames lists the phases in order of growth.
var PhaseNames = model.Strings(model.PhaseNames)

// PhaseNamesHelp is PhaseNames for error messages.
var PhaseNamesHelp = strings.Join(PhaseNames, ", ")

// Phases returns the five phases. Workload assumptions: 1 KB average
// messages (the seeds' examples), two subscriptions per message, a 24 h TTL
// and the seeds' 2 h retention (defaultRetentionTimeInMinutes: 120), served
// from S3 once offloaded. The tiered-storage
// deletion lag shrinks as the rate grows: the lag multiplies bookie storage
// by the whole ingest rate (a 72 h lag at 100M msg/s would need ~78 PB of
// bookie disk in the primary alone); the seeds' lags are compared in the docs.
func Phases() []Phase {
	base := func(name string, rate float64, disk int64) Phase {
		return Phase{
			Name: name, Rate: rate, MessageBytes: 1 * KB, ConsumerFanout: 2,
			TTL: 24 * time.Hour, Retention: 2 * time.Hour, BookieDiskBytes: disk,
			Offload: OffloadPolicy{Enabled: true, After: 15 * time.Minute, DeletionLag: 4 * time.Hour,
				LedgerRollover: time.Hour, MaxBlockBytes: 64 * MB, ReadBufferBytes: 1 * MB, ThresholdBytes: 10 * GiB},
			Tuning: BrokerTuning{DefaultNumPartitions: 8, MaxConcurrentLookupRequest: 5000, MaxConcurrentTopicLoadRequest: 5000,
				ReplicationProducerQueueSize: 1000, ReplicationConnectionsPerBroker: 1, DispatcherMaxReadBatchSize: 100,
				MaxUnackedMessagesPerConsumer: 50000, MaxUnackedMessagesPerSub: 200000, DeduplicationEntriesInterval: 1000,
				OffloadMaxThreads: 2, OffloadPrefetchRounds: 1},
			Client: ClientSettings{NumIoThreads: 4, ConnectionsPerBroker: 2, OperationTimeoutMs: 30000, BatchingEnabled: true,
				BatchingMaxPublishDelayMicros: 5000, BatchingMaxMessages: 500, MaxPendingMessages: 1000, MaxPendingMessagesAcrossParts: 50000,
				BlockIfQueueFull: true, SendTimeoutMs: 30000, CompressionType: "LZ4"},
		}
	}
	p35 := base("35k", 35_000, 2*TiB)
	p35.Assumptions = "35,000 msg/s = 3.0B messages/day; seed initial setup: 10 GiB offload threshold, 64 MB blocks, 5 ms batching"

	p100 := base("100k", 100_000, 2*TiB)
	p100.Offload.ThresholdBytes = 5 * GiB
	p100.Assumptions = "seed phase 1: 5 GiB offload threshold, deduplication, rack-aware placement"

	p1m := base("1m", 1_000_000, 4*TiB)
	p1m.Offload = OffloadPolicy{Enabled: true, After: 10 * time.Minute, DeletionLag: 2 * time.Hour, LedgerRollover: 30 * time.Minute,
		MaxBlockBytes: 128 * MB, ReadBufferBytes: 1 * MB, ThresholdBytes: 5 * GiB}
	p1m.Tuning.ExtensibleLoadManager = true
	p1m.Tuning.OffloadMaxThreads, p1m.Tuning.OffloadPrefetchRounds = 10, 3
	p1m.Tuning.ReplicationProducerQueueSize, p1m.Tuning.ReplicationConnectionsPerBroker = 5000, 2
	p1m.Client = ClientSettings{NumIoThreads: 6, ConnectionsPerBroker: 3, OperationTimeoutMs: 30000, BatchingEnabled: true,
		BatchingMaxPublishDelayMicros: 2000, BatchingMaxMessages: 1000, MaxPendingMessages: 10000, MaxPendingMessagesAcrossParts: 20000,
		BlockIfQueueFull: true, SendTimeoutMs: 15000, CompressionType: "LZ4"}
	p1m.Assumptions = "seed phase 2: 128 MB blocks, 10 offload threads, 2 ms batching, 15 s send timeout; extensible load manager from here on"

	p10m := base("10m", 10_000_000, 4*TiB)
	p10m.Offload = p1m.Offload
	p10m.Offload.DeletionLag, p10m.Offload.ThresholdBytes = time.Hour, 10*GiB
	p10m.Tuning = p1m.Tuning
	p10m.Tuning.DefaultNumPartitions = 16
	p10m.Tuning.MaxConcurrentLookupRequest, p10m.Tuning.MaxConcurrentTopicLoadRequest = 50000, 50000
	p10m.Tuning.ReplicationProducerQueueSize, p10m.Tuning.ReplicationConnectionsPerBroker = 10000, 4
	p10m.Client = p1m.Client
	p10m.Assumptions = "seed phase 3: 16 partitions, 50,000 concurrent lookups and topic loads, replication queue 10,000 with 4 connections per broker"

	p100m := base("100m", 100_000_000, 4*TiB)
	p100m.Offload = OffloadPolicy{Enabled: true, After: 10 * time.Minute, DeletionLag: 30 * time.Minute, LedgerRollover: 30 * time.Minute,
		MaxBlockBytes: 256 * MiB, ReadBufferBytes: 1 * MiB, ThresholdBytes: 20 * GiB}
	p100m.ArchiveTiers = true
	p100m.Tuning = p10m.Tuning
	p100m.Tuning.OffloadMaxThreads = 20
	p100m.Tuning.TieredStorageFirst = true
	p100m.Tuning.DispatcherMaxReadBatchSize = 500
	p100m.Tuning.MaxUnackedMessagesPerConsumer, p100m.Tuning.MaxUnackedMessagesPerSub = 100000, 200000
	p100m.Tuning.DeduplicationEntriesInterval = 10000
	p100m.Client = p1m.Client
	p100m.Client.SendTimeoutMs, p100m.Client.MaxPendingMessages, p100m.Client.MaxPendingMessagesAcrossParts = 60000, 100000, 100000
	p100m.Assumptions = "seed phase 4: 20 GiB offload threshold, 256 MiB blocks, 20 offload threads, archive tiers, 60 s send timeout, 100,000 pending messages"

	return []Phase{p35, p100, p1m, p10m, p100m}
}

// PhaseByName returns the named phase or an error listing the allowed names.
func PhaseByName(name string) (Phase, error) {
	for _, p := range Phases() {
		if p.Name == name {
			return p, nil
		}
	}
	return Phase{}, &FieldError{Field: "phase", Value: fmt.Sprintf("%q", name), Allowed: "one of " + PhaseNamesHelp}
}
