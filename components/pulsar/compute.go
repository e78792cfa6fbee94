package pulsar

import (
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Chart coordinates.
const (
	ChartRepo    = "https://pulsar.apache.org/charts"
	ChartName    = "pulsar"
	ChartVersion = "4.7.0"
	AppVersion   = "4.0.12"
)

// Pod labels the chart puts on every component (app and release come from
// the chart and release name, component from <component>.component).
const (
	LabelApp       = "app"
	LabelRelease   = "release"
	LabelComponent = "component"
)

// Chart component names (the `component` label values).
const (
	CompZooKeeper    = "zookeeper"
	CompBookie       = "bookie"
	CompAutorecovery = "recovery"
	CompBroker       = "broker"
	CompProxy        = "proxy"
)

// Classes of the placement-policy plumbing (real Pulsar/BookKeeper classes).
const (
	RackawarePolicy       = "org.apache.bookkeeper.client.RackawareEnsemblePlacementPolicy"
	RackAffinityMapping   = "org.apache.pulsar.bookie.rackawareness.BookieRackAffinityMapping"
	ExtensibleLoadManager = "org.apache.pulsar.broker.loadbalance.extensions.ExtensibleLoadManagerImpl"
	TransferShedder       = "org.apache.pulsar.broker.loadbalance.extensions.scheduler.TransferShedder"
)

// Placement is k8s.Placement (shared by the components).
type Placement = k8s.Placement

// SpreadKey is k8s.SpreadKey (shared by the components).
type SpreadKey = k8s.SpreadKey

// Pod is one component's pods.
type Pod struct {
	Replicas  int
	CPUMillis int64
	MemoryMiB int64
	HeapMiB   int64
	DirectMiB int64
	Placement Placement
}

// Quorum is the BookKeeper quorum and rack rule.
type Quorum struct {
	Ensemble, WriteQuorum, AckQuorum int
	MinRacksPerWriteQuorum           int
}

// Offload is the tiered-storage setup for the brokers.
type Offload struct {
	// Region is the bucket's region. The bucket itself is a dependency
	// (Deps.OffloadBucket).
	Region          string
	MaxBlockBytes   int64
	ReadBufferBytes int64
	ThresholdBytes  int64
	// AfterSeconds offloads closed ledgers after this long regardless of
	// size (managedLedgerOffloadThresholdInSeconds).
	AfterSeconds     int64
	DeletionLagMs    int64
	RolloverMinutes  int
	MaxThreads       int
	PrefetchRounds   int
	TieredReadsFirst bool
}

// Tuning is the per-phase broker tuning.
type Tuning struct {
	DefaultNumPartitions            int
	MaxConcurrentLookupRequest      int
	MaxConcurrentTopicLoadRequest   int
	ExtensibleLoadManager           bool
	ReplicationProducerQueueSize    int
	ReplicationConnectionsPerBroker int
	DispatcherMaxReadBatchSize      int
	MaxUnackedMessagesPerConsumer   int
	MaxUnackedMessagesPerSub        int
	DeduplicationEntriesInterval    int
}

// GeoPeer is another region's Pulsar cluster.
type GeoPeer struct {
	// Cluster is the peer's Pulsar cluster name.
	Cluster string
	// WebURL and BrokerURL are its stable regional endpoints.
	WebURL, BrokerURL string
	// ReplicateTo marks peers this region's namespaces replicate to.
	ReplicateTo bool
}

// Config configures the Pulsar release: plain values only (the outputs of
// other components it needs are its Deps).
type Config struct {
	// Charts is where the Pulsar chart comes from (empty: the public
	// repository).
	Charts model.ChartSource
	// Cluster is this region's Pulsar cluster name.
	Cluster                                   string
	Namespace                                 string
	Zones                                     []string
	Quorum                                    Quorum
	ZooKeeper, Autorecovery, Brokers, Proxies Pod
	// BookieSets are the bookies: one set, or two while a transition moves
	// the data from one storage to the other (Interim).
	BookieSets []BookieSet
	// Interim marks a state between two phases (a transition step): two
	// bookie sets may coexist and ZooKeeper may have an even number of
	// servers while it grows or shrinks one at a time.
	Interim bool
	// BrokerMax and ProxyMax are the autoscalers' maxima.
	BrokerMax, ProxyMax int
	ZooKeeperGiB        int
	ZooKeeperClass      string
	TTLSeconds          int64
	RetentionMinutes    int64
	Tuning              Tuning
	Offload             Offload
	// Geo-replication.
	Peers      []GeoPeer
	Tenant     string
	Namespaces []string
	// CriticalPlacement places jobs (init, rack sync, geo-replication).
	CriticalPlacement Placement
	// Exposure is how clients reach the proxies.
	Exposure Exposure
	// ProbeHost is the client listener's name, which the end-to-end probe
	// connects to as clients do ("": the proxies' in-cluster Service).
	ProbeHost string
	// SigningKey signs the region's tokens: the fleet key (the program
	// mints them from Deps.TokenKey, the default) or the chart's own.
	SigningKey model.SigningKey
	// QuorumTLS is the ZooKeeper quorum's stage (default: TLS only).
	QuorumTLS model.QuorumTLS
}

// Defaults in one place.
const (
	DefaultNamespace = "pulsar"
	Fullname         = "pulsar"
	ReleaseName      = "pulsar"
	// GeoTokensSecret holds, per peer cluster, the token this region's
	// replicator presents there: minted by the program from the fleet key,
	// or (with the chart's key) one that peer issued by hand.
	GeoTokensSecret = "pulsar-geo-replication-tokens"
	pulsarImage     = "apachepulsar/pulsar-all:" + AppVersion
)

// WithDefaults fills the defaults: the namespace, the fleet signing key
// and a TLS-only ZooKeeper quorum.
func (a Config) WithDefaults() Config {
	if a.Namespace == "" {
		a.Namespace = DefaultNamespace
	}
	if a.SigningKey == "" {
		a.SigningKey = model.SigningKeyFleet
	}
	if a.QuorumTLS == "" {
		a.QuorumTLS = model.QuorumTLSOnly
	}
	return a
}

// Validate checks the plain configuration: the plan must be able to hold
// its own quorum, the tiered-storage thresholds must make sense, and the
// exposure must be a known scheme.
func (a Config) Validate() error {
	a = a.WithDefaults()
	var errs []error
	if err := a.Charts.Validate(); err != nil {
		errs = append(errs, err)
	}
	bad := func(f string, v ...any) { errs = append(errs, fmt.Errorf(f, v...)) }
	if !a.SigningKey.Valid() {
		errs = append(errs, model.Invalid("signingKey", a.SigningKey, model.SigningKeys))
	}
	if !a.QuorumTLS.Valid() {
		errs = append(errs, model.Invalid("quorumTls", a.QuorumTLS, model.QuorumTLSStages))
	}
	q := a.Quorum
	if !(q.Ensemble >= q.WriteQuorum && q.WriteQuorum >= q.AckQuorum && q.AckQuorum >= 1) {
		bad("quorum ensemble=%d writeQuorum=%d ackQuorum=%d: want ensemble >= write >= ack >= 1", q.Ensemble, q.WriteQuorum, q.AckQuorum)
	}
	if q.MinRacksPerWriteQuorum < 1 || q.MinRacksPerWriteQuorum > len(a.Zones) {
		bad("minRacksPerWriteQuorum %d: want 1..%d (the zones are the racks)", q.MinRacksPerWriteQuorum, len(a.Zones))
	}
	errs = append(errs, validateSets(a.BookieSets, a.Interim, q.Ensemble)...)
	switch {
	case a.ZooKeeper.Replicas < 3:
		bad("zookeeper replicas %d: want at least 3", a.ZooKeeper.Replicas)
	case a.ZooKeeper.Replicas%2 == 0 && !a.Interim:
		bad("zookeeper replicas %d: want an odd number (an even one only between two phases)", a.ZooKeeper.Replicas)
	}
	for name, p := range map[string]Pod{"brokers": a.Brokers, "proxies": a.Proxies, "autorecovery": a.Autorecovery} {
		if p.Replicas < 1 {
			bad("%s replicas %d: at least 1", name, p.Replicas)
		}
	}
	if a.BrokerMax < a.Brokers.Replicas || a.ProxyMax < a.Proxies.Replicas {
		bad("autoscaling maxima (brokers %d, proxies %d) below the planned replicas (%d, %d)", a.BrokerMax, a.ProxyMax, a.Brokers.Replicas, a.Proxies.Replicas)
	}
	pods := map[string]Pod{"zookeeper": a.ZooKeeper, "brokers": a.Brokers, "proxies": a.Proxies}
	for _, set := range a.BookieSets {
		pods[string(set.Storage)+" bookies"] = set.Pod
	}
	for name, p := range pods {
		if p.CPUMillis <= 0 || p.MemoryMiB <= 0 || p.HeapMiB <= 0 {
			bad("%s resources: cpu %dm, memory %dMi, heap %dMi must be positive", name, p.CPUMillis, p.MemoryMiB, p.HeapMiB)
		}
		if p.HeapMiB+p.DirectMiB > p.MemoryMiB {
			bad("%s JVM: heap %dMi + direct %dMi exceed the pod's %dMi", name, p.HeapMiB, p.DirectMiB, p.MemoryMiB)
		}
	}
	o := a.Offload
	if o.MaxBlockBytes < 5<<20 {
		bad("offload maxBlockSize %d: at least 5MiB (the S3 multipart minimum)", o.MaxBlockBytes)
	}
	if o.ThresholdBytes < o.MaxBlockBytes {
		bad("offload threshold %d bytes is below the block size %d bytes: offloads would be partial blocks", o.ThresholdBytes, o.MaxBlockBytes)
	}
	if o.Region == "" {
		bad("offload region: empty")
	}
	if a.Cluster == "" {
		bad("cluster: empty")
	}
	for _, p := range a.Peers {
		if p.Cluster == a.Cluster {
			bad("peer %s: is this cluster", p.Cluster)
		}
		if !strings.HasPrefix(p.BrokerURL, "pulsar+ssl://") || !strings.HasPrefix(p.WebURL, "https://") {
			bad("peer %s: geo-replication goes over TLS (want pulsar+ssl:// and https:// URLs)", p.Cluster)
		}
	}
	if len(a.Namespaces) == 0 || a.Tenant == "" {
		bad("tenant and namespaces: the replicated namespaces must be named")
	}
	if err := ValidateExposure(a.Exposure); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func labels(component string) map[string]string {
	return map[string]string{LabelApp: ChartName, LabelRelease: ReleaseName, LabelComponent: component}
}

func workload(component string, p Pod, config map[string]string) Workload {
	return workloadOf(labels(component), p, config)
}

// workloadOf is a component's workload whose pods carry podLabels.
func workloadOf(podLabels map[string]string, p Pod, config map[string]string) Workload {
	w := Workload{
		ReplicaCount: p.Replicas,
		Resources: Resources{
			Requests: map[string]string{"cpu": fmt.Sprintf("%dm", p.CPUMillis), "memory": fmt.Sprintf("%dMi", p.MemoryMiB)},
			Limits:   map[string]string{"cpu": fmt.Sprintf("%dm", p.CPUMillis), "memory": fmt.Sprintf("%dMi", p.MemoryMiB)},
		},
		ConfigData:   config,
		NodeSelector: p.Placement.NodeSelector,
		Tolerations:  p.Placement.Tolerations,
		PodMonitor:   Toggle{Enabled: true},
		Affinity:     RequiredAntiAffinity,
	}
	for _, k := range p.Placement.SpreadKeys {
		w.TopologySpreadConstraints = append(w.TopologySpreadConstraints, SpreadConstraint{
			MaxSkew: 1, TopologyKey: k.Key, WhenUnsatisfiable: k.WhenUnsatisfiable,
			LabelSelector: LabelSelector{MatchLabels: podLabels},
		})
	}
	if p.Placement.DoNotDisrupt {
		w.Annotations = map[string]string{"karpenter.sh/do-not-disrupt": "true"}
	}
	return w
}

func jvm(p Pod) string {
	s := fmt.Sprintf("-Xms%dm -Xmx%dm", p.HeapMiB, p.HeapMiB)
	if p.DirectMiB > 0 {
		s += fmt.Sprintf(" -XX:MaxDirectMemorySize=%dm", p.DirectMiB)
	}
	return s
}

func itoa[T ~int | ~int64](v T) string { return strconv.FormatInt(int64(v), 10) }

// BrokerConfig is the broker.conf overrides: quorums, rack-aware placement
// enforced over zones, deduplication, the phase's tuning and offload timing.
// Every key is a real broker.conf key (checked in tests).
func BrokerConfig(a Config) map[string]string {
	q, t, o := a.Quorum, a.Tuning, a.Offload
	c := map[string]string{
		"PULSAR_MEM":                                       jvm(a.Brokers),
		"managedLedgerDefaultEnsembleSize":                 itoa(q.Ensemble),
		"managedLedgerDefaultWriteQuorum":                  itoa(q.WriteQuorum),
		"managedLedgerDefaultAckQuorum":                    itoa(q.AckQuorum),
		"bookkeeperClientRackawarePolicyEnabled":           "true",
		"bookkeeperClientRegionawarePolicyEnabled":         "false",
		"bookkeeperClientMinNumRacksPerWriteQuorum":        itoa(q.MinRacksPerWriteQuorum),
		"bookkeeperClientEnforceMinNumRacksPerWriteQuorum": "true",
		"brokerDeduplicationEnabled":                       "true",
		"brokerDeduplicationEntriesInterval":               itoa(t.DeduplicationEntriesInterval),
		"allowAutoTopicCreationType":                       "partitioned",
		"defaultNumPartitions":                             itoa(t.DefaultNumPartitions),
		"maxConcurrentLookupRequest":                       itoa(t.MaxConcurrentLookupRequest),
		"maxConcurrentTopicLoadRequest":                    itoa(t.MaxConcurrentTopicLoadRequest),
		"replicationProducerQueueSize":                     itoa(t.ReplicationProducerQueueSize),
		"replicationConnectionsPerBroker":                  itoa(t.ReplicationConnectionsPerBroker),
		"dispatcherMaxReadBatchSize":                       itoa(t.DispatcherMaxReadBatchSize),
		"maxUnackedMessagesPerConsumer":                    itoa(t.MaxUnackedMessagesPerConsumer),
		"maxUnackedMessagesPerSubscription":                itoa(t.MaxUnackedMessagesPerSub),
		"topicLevelPoliciesEnabled":                        "true",
		"systemTopicEnabled":                               "true",
		"brokerDeleteInactiveTopicsEnabled":                "false",
		"ttlDurationDefaultInSeconds":                      itoa(a.TTLSeconds),
		"defaultRetentionTimeInMinutes":                    itoa(a.RetentionMinutes),
		"defaultRetentionSizeInMB":                         "-1",
		"managedLedgerCacheSizeMB":                         itoa(a.Brokers.DirectMiB / 5),
		"managedLedgerMaxLedgerRolloverTimeMinutes":        itoa(o.RolloverMinutes),
		"managedLedgerOffloadThresholdInSeconds":           itoa(o.AfterSeconds),
		"managedLedgerOffloadMaxThreads":                   itoa(o.MaxThreads),
		"managedLedgerOffloadPrefetchRounds":               itoa(o.PrefetchRounds),
	}
	if o.TieredReadsFirst {
		c["managedLedgerDataReadPriority"] = "tiered-storage-first"
	}
	if t.ExtensibleLoadManager {
		c["loadManagerClassName"] = ExtensibleLoadManager
		c["loadBalancerLoadSheddingStrategy"] = TransferShedder
	}
	return c
}

// BookieConfig is the bookkeeper.conf overrides of the bookies. The journal
// is always fsynced (journalSyncData true): an acknowledged entry is on disk.
func BookieConfig(set BookieSet) map[string]string {
	cache := set.Pod.DirectMiB / 4
	c := map[string]string{
		"PULSAR_MEM":                        jvm(set.Pod),
		"journalSyncData":                   "true",
		"journalMaxSizeMB":                  itoa(model.JournalFileMiB),
		"journalWriteBufferSizeKB":          "1024",
		"dbStorage_writeCacheMaxSizeMb":     itoa(cache),
		"dbStorage_readAheadCacheMaxSizeMb": itoa(cache),
	}
	if set.Storage == model.StorageNVMe {
		// The instance store is the node's ephemeral storage, which kubelet
		// guards too: it evicts (and so wipes) pods when less than
		// KubeletNodefsEvictionAvailable of it is free. The bookie turns
		// read-only first.
		c["diskUsageWarnThreshold"] = ratio(NVMeDiskUsageWarn)
		c["diskUsageLwmThreshold"] = ratio(NVMeDiskUsageWarn)
		c["diskUsageThreshold"] = ratio(NVMeDiskUsageReadOnly)
	}
	return c
}

// Disk guards of local-NVMe bookies, as fractions of the disk.
// KubeletNodefsEvictionAvailable is kubelet's default hard eviction
// threshold (nodefs.available<10%), which the EC2NodeClasses keep.
// A test keeps warn >= the plan's usable share and read-only below
// kubelet's eviction point.
const (
	NVMeDiskUsageWarn              = 0.85
	NVMeDiskUsageReadOnly          = 0.88
	KubeletNodefsEvictionAvailable = 0.10
)

func ratio(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// AutorecoveryConfig places re-replicated copies with the same rack rule
// as the brokers: zones as racks, read from the bookie rack mapping. The two
// PULSAR_PREFIX_ keys are BookKeeper ClientConfiguration keys absent from
// Pulsar's bookkeeper.conf (org.apache.bookkeeper.conf.ClientConfiguration
// MIN_NUM_RACKS_PER_WRITE_QUORUM, ENFORCE_MIN_NUM_RACKS_PER_WRITE_QUORUM).
func AutorecoveryConfig(a Config) map[string]string {
	// Instance-store bookies lose their data with their node: re-replicate
	// at once (whenever a set is on instance storage). EBS bookies come back
	// with their volume: wait 5 minutes before copying terabytes that are
	// about to reappear.
	delay := "300"
	if a.HasSet(model.StorageNVMe) {
		delay = "0"
	}
	cfg := map[string]string{
		"BOOKIE_MEM":                                     jvm(a.Autorecovery),
		"ensemblePlacementPolicy":                        RackawarePolicy,
		"reppDnsResolverClass":                           RackAffinityMapping,
		"PULSAR_PREFIX_minNumRacksPerWriteQuorum":        itoa(a.Quorum.MinRacksPerWriteQuorum),
		"PULSAR_PREFIX_enforceMinNumRacksPerWriteQuorum": "true",
		"lostBookieRecoveryDelay":                        delay,
		"auditorPeriodicBookieCheckInterval":             "3600",
	}
	maps.Copy(cfg, AutorecoveryTLS())
	return cfg
}

// Where the chart mounts the autorecovery pods' certificate (its
// pulsar.autorecovery.certs.volumeMounts: the tls-recovery Certificate's
// Secret, with TLS on for ZooKeeper; "autorecovery", not the component's
// name), beside the region's CA.
const (
	autorecoveryCertDir = "/pulsar/certs/autorecovery"
	bookieTLSFactory    = "org.apache.bookkeeper.tls.TLSContextFactory"
)

// AutorecoveryTLS has autorecovery's BookKeeper client speak TLS to the
// bookies, as the chart has the brokers do (bookkeeperTLS*) but not
// autorecovery: the replication workers copy whole ledgers between
// bookies, the largest flow of message data inside a region. The keys are
// bookkeeper.conf's (the client reads the tls* keys a bookie reads; with
// the factory set, it asks every bookie for TLS), trusting the region's CA
// and presenting autorecovery's certificate, both in PEM and re-read every
// 5 minutes as cert-manager renews them. PULSAR_PREFIX_, as the chart's
// bookie settings: the keys are commented out in bookkeeper.conf.
func AutorecoveryTLS() map[string]string {
	return map[string]string{
		"PULSAR_PREFIX_tlsProviderFactoryClass":            bookieTLSFactory,
		"PULSAR_PREFIX_tlsClientAuthentication":            "true",
		"PULSAR_PREFIX_tlsCertificatePath":                 autorecoveryCertDir + "/tls.crt",
		"PULSAR_PREFIX_tlsKeyStoreType":                    "PEM",
		"PULSAR_PREFIX_tlsKeyStore":                        autorecoveryCertDir + "/tls.key",
		"PULSAR_PREFIX_tlsTrustStoreType":                  "PEM",
		"PULSAR_PREFIX_tlsTrustStore":                      CAFile,
		"PULSAR_PREFIX_tlsCertFilesRefreshDurationSeconds": "300",
	}
}

func hpa(min, max int) Autoscaling {
	return Autoscaling{
		Enabled: true, MinReplicas: min, MaxReplicas: max,
		Metrics: []HPAMetric{{Type: "Resource", Resource: ResourceMetric{
			Name: "cpu", Target: MetricTarget{Type: "Utilization", AverageUtilization: 70}}}},
		// Fast up (double every 30 s if needed), slow down (300 s window,
		// one pod per 2 minutes).
		Behavior: HPABehavior{
			ScaleUp: ScalingRules{StabilizationWindowSeconds: 0, SelectPolicy: "Max",
				Policies: []ScalingPolicy{{Type: "Percent", Value: 100, PeriodSeconds: 30}}},
			ScaleDown: ScalingRules{StabilizationWindowSeconds: 300,
				Policies: []ScalingPolicy{{Type: "Pods", Value: 1, PeriodSeconds: 120}}},
		},
	}
}

// Compute is the pure function from the configuration to the chart
// values. Of deps it reads only the two outputs the values carry: the
// broker's role ARN (its service account's IRSA annotation) and the offload
// bucket.
func Compute(a Config, deps Deps) (Values, error) {
	a = a.WithDefaults()
	if err := a.Validate(); err != nil {
		return Values{}, err
	}
	v := baseValues(a)
	v.ZooKeeper = ZooKeeper{
		Workload: workload(CompZooKeeper, a.ZooKeeper, map[string]string{"PULSAR_MEM": jvm(a.ZooKeeper)}),
		PDB:      PDB{UsePolicy: true, MaxUnavailable: 1},
		Volumes:  ZooKeeperDisks{Data: Volume{Size: fmt.Sprintf("%dGi", a.ZooKeeperGiB), StorageClassName: a.ZooKeeperClass}},
		// Fresh installs of chart >= 4.6.0 only: no pre-upgrade cleanup.
		StatefulsetUpgrade: Upgrade{Enabled: false},
	}
	v.ZooKeeper.AdditionalCommand, v.ZooKeeper.ExtraVolumes, v.ZooKeeper.ExtraMounts = quorumTLS(a.QuorumTLS)
	v.BookKeeper = mainBookies(a)
	v.Components.BookKeeper = a.HasSet(model.StorageEBS)
	v.Autorecovery = Autorecovery{Workload: workload(CompAutorecovery, a.Autorecovery, AutorecoveryConfig(a)), RestartPodsOnConfigMapChange: true}
	v.Broker = brokerValues(a, deps)
	v.Proxy = Proxy{
		Workload:                     workload(CompProxy, a.Proxies, map[string]string{"PULSAR_MEM": jvm(a.Proxies)}),
		PDB:                          PDB{UsePolicy: true, MaxUnavailable: 1},
		Autoscaling:                  hpa(a.Proxies.Replicas, a.ProxyMax),
		RestartPodsOnConfigMapChange: true,
	}
	// The HPAs own the broker and proxy counts (from the plan's minimum).
	v.Broker.ReplicaCount, v.Proxy.ReplicaCount = 0, 0
	objs, err := ExtraObjects(a)
	if err != nil {
		return Values{}, err
	}
	v.ExtraDeploy = objs
	return v, nil
}

// baseValues are the chart-wide values: the components, anti-affinity,
// persistence, JWT authentication and authorization, and the placement of
// the chart's jobs.
func baseValues(a Config) Values {
	crit := a.CriticalPlacement
	roles := RolesOf(a)
	on := &Toggle{Enabled: true}
	// With the fleet key the program has made the key and token Secrets
	// before the release: the chart's hook would make its own.
	generate := GenerateSecrets{Enabled: a.SigningKey == model.SigningKeyChart}
	if generate.Enabled {
		generate.NodeSelector, generate.Tolerations = crit.NodeSelector, crit.Tolerations
	}
	return Values{
		FullnameOverride: Fullname,
		ClusterName:      a.Cluster,
		Components:       Components{ZooKeeper: true, BookKeeper: true, Autorecovery: true, Broker: true, Proxy: true, Toolset: true},
		Affinity:         GlobalAffinity{AntiAffinity: true},
		Volumes:          GlobalVolumes{Persistence: true},
		TLS:              TLS{Enabled: true, Proxy: on, Broker: on, Bookie: on, ZooKeeper: on},
		Certs:            Certs{InternalIssuer: InternalIssuer{Enabled: true, Type: "selfsigning", Duration: CADuration, RenewBefore: CARenewBefore}},
		Auth: Auth{
			Authentication: Authentication{Enabled: true, JWT: JWT{Enabled: true, UsingSecretKey: false, GenerateSecrets: generate}},
			Authorization:  Toggle{Enabled: true},
			SuperUsers:     SuperUsers{Broker: roles.Broker, Proxy: roles.Proxy, Client: roles.Admin},
		},
		PulsarMetadata:  Scheduling{NodeSelector: crit.NodeSelector, Tolerations: crit.Tolerations},
		Toolset:         Scheduling{NodeSelector: crit.NodeSelector, Tolerations: crit.Tolerations},
		VictoriaMetrics: Toggle{Enabled: false},
	}
}

// bookKeeperValues are one set's values: EBS volumes, or local NVMe.
func bookKeeperValues(set BookieSet) BookKeeper {
	bk := BookKeeper{
		Workload:       ptr(workloadOf(set.labels(), set.Pod, BookieConfig(set))),
		PDB:            &PDB{UsePolicy: true, MaxUnavailable: 1},
		UpdateStrategy: &UpdateStrategy{Type: "RollingUpdate"},
	}
	if set.Storage == model.StorageNVMe {
		// emptyDir on the node's RAID0 of instance storage: a restarted pod
		// starts empty (the chart reformats it) and autorecovery refills it,
		// so restarts must be one at a time, by hand, after under-replicated
		// ledgers reach zero: OnDelete, never a rolling update.
		bk.Volumes = &BookieDisks{Persistence: false}
		bk.UpdateStrategy.Type = "OnDelete"
		// The disk is the node's ephemeral storage: request what the plan
		// fills, so Karpenter picks a type with room and kubelet ranks the
		// bookie last to evict.
		disk := fmt.Sprintf("%dGi", set.LocalDiskGiB)
		bk.Resources.Requests["ephemeral-storage"] = disk
		bk.Resources.Limits["ephemeral-storage"] = disk
	} else {
		bk.Volumes = &BookieDisks{Persistence: true,
			Journal: &Volume{Size: fmt.Sprintf("%dGi", set.JournalGiB), StorageClassName: set.JournalClass},
			Ledgers: &Volume{Size: fmt.Sprintf("%dGi", set.LedgersGiB), StorageClassName: set.LedgersClass}}
	}
	return bk
}

func ptr[T any](v T) *T { return &v }

// brokerValues are the brokers' values: autoscaling, the IRSA role of
// their service account, tiered storage to the bucket, and the peers'
// geo-replication tokens.
func brokerValues(a Config, deps Deps) Broker {
	o := a.Offload
	b := Broker{
		Workload:                     workload(CompBroker, a.Brokers, BrokerConfig(a)),
		RestartPodsOnConfigMapChange: true,
		PDB:                          PDB{UsePolicy: true, MaxUnavailable: 1},
		Autoscaling:                  hpa(a.Brokers.Replicas, a.BrokerMax),
		// Fresh installs of chart >= 4.6.0 only: no pre-upgrade cleanup.
		StatefulsetUpgrade: Upgrade{Enabled: false},
		ServiceAccount:     ServiceAccount{Annotations: map[string]pulumi.StringInput{model.AnnotationIRSARole: deps.BrokerRoleARN}},
		StorageOffload: StorageOffload{
			Driver: "aws-s3", Bucket: deps.OffloadBucket, Region: o.Region,
			MaxBlockSizeInBytes: itoa(o.MaxBlockBytes), ReadBufferSizeInBytes: itoa(o.ReadBufferBytes),
			ManagedLedgerOffloadDeletionLagMs:                 itoa(o.DeletionLagMs),
			ManagedLedgerOffloadAutoTriggerSizeThresholdBytes: itoa(o.ThresholdBytes),
		},
	}
	if len(a.Peers) > 0 {
		// Optional only where operators provision it by hand (the chart's
		// key): the program makes it with the fleet key.
		b.ExtraVolumes = []PodVolume{{Name: "geo-replication-tokens",
			Secret: &SecretVolume{SecretName: GeoTokensSecret, Optional: a.SigningKey == model.SigningKeyChart}}}
		b.ExtraMounts = []VolumeMount{{Name: "geo-replication-tokens", MountPath: "/pulsar/geo", ReadOnly: true}}
	}
	return b
}

func sortedPeers(ps []GeoPeer) []GeoPeer {
	out := append([]GeoPeer(nil), ps...)
	sort.Slice(out, func(i, j int) bool { return out[i].Cluster < out[j].Cluster })
	return out
}
