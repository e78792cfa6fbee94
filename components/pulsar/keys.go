package pulsar

import (
	"sort"
	"strings"
)

// InventedKeys are configuration keys the seeds use that exist in neither
// Pulsar, BookKeeper nor the chart (see docs/pulsar-settings.md for what
// replaced each). Tests fail if any is emitted.
var InventedKeys = []string{
	"additionalBkConfigs", "additionalClusterConfigs", "additionalConfig", "enableEphemeralStorageForSpot",
	"s3ManagedLedgerOffloadBucketStorageClass", "s3ManagedLedgerOffloadReadPriority", "s3ManagedLedgerOffloadUseAcceleratedEndpoint",
	"s3ManagedLedgerOffloadReplicationEnabled", "tieredStorageConfiguration", "minNumRegionsForDurability", "enforceMinNumRegionsForDurability",
	"maxConcurrentLookupRequests", "maxConcurrentTopicLoadRequests", "bookkeeperClientRackawareEnabledForBroker",
	"bookkeeperClientRegionawareEnabledForBroker", "brokerDeduplicationEntryTTLSeconds", "replicationRateAtPrimaryThreshold",
	"replicationRateAtSecondaryThreshold", "useTransactionalCompaction", "numWorkerThreads", "digestType", "topicRegionMap",
	"capacityReservationOptions",
}

// EnvKeys are configData entries that set the JVM through the environment,
// not config keys.
var EnvKeys = map[string]bool{"PULSAR_MEM": true, "PULSAR_GC": true, "BOOKIE_MEM": true}

// PrefixedKeys are PULSAR_PREFIX_ keys (real keys the conf files omit),
// with the upstream class that defines them.
var PrefixedKeys = map[string]string{
	"minNumRacksPerWriteQuorum":        "org.apache.bookkeeper.conf.ClientConfiguration#MIN_NUM_RACKS_PER_WRITE_QUORUM",
	"enforceMinNumRacksPerWriteQuorum": "org.apache.bookkeeper.conf.ClientConfiguration#ENFORCE_MIN_NUM_RACKS_PER_WRITE_QUORUM",
	// The chart renders these two from broker.storageOffload; the broker's
	// offload policies read them (OffloadPoliciesImpl fields of that name).
	"managedLedgerOffloadThresholdInBytes":    "org.apache.pulsar.common.policies.data.OffloadPoliciesImpl#managedLedgerOffloadThresholdInBytes",
	"managedLedgerOffloadDeletionLagInMillis": "org.apache.pulsar.common.policies.data.OffloadPoliciesImpl#managedLedgerOffloadDeletionLagInMillis",
	// The PEM certificate a BookKeeper client presents (the chart sets it
	// for the bookies too); bookkeeper.conf does not list it.
	"tlsCertificatePath": "org.apache.bookkeeper.conf.AbstractConfiguration#TLS_CERTIFICATE_PATH",
}

// CheckConfigKeys reports the keys of cfg that are neither in real, nor
// JVM environment settings, nor PULSAR_PREFIX_ keys of a key in real or a
// documented one (the prefix adds a key the file lacks or has only
// commented out).
func CheckConfigKeys(cfg map[string]string, real map[string]bool) []string {
	var bad []string
	for k := range cfg {
		bare, prefixed := strings.CutPrefix(k, "PULSAR_PREFIX_")
		switch {
		case EnvKeys[k], real[k]:
		case prefixed && (real[bare] || PrefixedKeys[bare] != ""):
		default:
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	return bad
}
