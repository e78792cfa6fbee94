package pulsar

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/internal/upstream"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

func placement(pool string, spot bool) Placement {
	p := Placement{NodeSelector: map[string]string{"pulsar-fleet.io/pool": pool},
		Tolerations: []Toleration{{Key: "pulsar-fleet.io/pool", Operator: "Equal", Value: pool, Effect: "NoSchedule"}},
		SpreadKeys:  []SpreadKey{{Key: "topology.kubernetes.io/zone", WhenUnsatisfiable: "DoNotSchedule"}}}
	if spot {
		p.SpreadKeys = append(p.SpreadKeys, SpreadKey{Key: "pulsar-fleet.io/capacity-spread", WhenUnsatisfiable: "ScheduleAnyway"})
	}
	return p
}

// Config shaped like a 35k primary plan.
func testConfig() Config {
	bookies := placement("bookie", true)
	bookies.DoNotDisrupt = true
	return Config{
		Cluster: "us-east-1", Zones: []string{"us-east-1a", "us-east-1b", "us-east-1c"},
		Quorum:    Quorum{Ensemble: 3, WriteQuorum: 3, AckQuorum: 2, MinRacksPerWriteQuorum: 2},
		ZooKeeper: Pod{Replicas: 3, CPUMillis: 4000, MemoryMiB: 8192, HeapMiB: 4915, Placement: placement("critical", false)},
		BookieSets: []BookieSet{{Storage: model.StorageEBS,
			Pod:        Pod{Replicas: 6, CPUMillis: 7000, MemoryMiB: 27443, HeapMiB: 5488, DirectMiB: 10977, Placement: bookies},
			JournalGiB: 100, LedgersGiB: 2048, JournalClass: "pulsar-journal", LedgersClass: "pulsar-ledgers"}},
		Autorecovery: Pod{Replicas: 3, CPUMillis: 500, MemoryMiB: 1024, HeapMiB: 512, DirectMiB: 256, Placement: placement("critical", false)},
		Brokers:      Pod{Replicas: 3, CPUMillis: 7000, MemoryMiB: 12697, HeapMiB: 3809, DirectMiB: 6348, Placement: placement("broker", true)},
		Proxies:      Pod{Replicas: 3, CPUMillis: 7000, MemoryMiB: 12697, HeapMiB: 3809, DirectMiB: 6348, Placement: placement("critical", false)},
		BrokerMax:    6, ProxyMax: 6,
		ZooKeeperGiB: 50, ZooKeeperClass: "gp3-encrypted",
		TTLSeconds: 86400, RetentionMinutes: 120,
		Tuning: Tuning{DefaultNumPartitions: 8, MaxConcurrentLookupRequest: 5000, MaxConcurrentTopicLoadRequest: 5000,
			ReplicationProducerQueueSize: 1000, ReplicationConnectionsPerBroker: 1, DispatcherMaxReadBatchSize: 100,
			MaxUnackedMessagesPerConsumer: 50000, MaxUnackedMessagesPerSub: 200000, DeduplicationEntriesInterval: 1000, ExtensibleLoadManager: true},
		Offload: Offload{Region: "us-east-1", MaxBlockBytes: 64_000_000, ReadBufferBytes: 1_000_000,
			ThresholdBytes: 10 << 30, AfterSeconds: 900, DeletionLagMs: 14_400_000, RolloverMinutes: 60, MaxThreads: 2, PrefetchRounds: 1, TieredReadsFirst: true},
		Peers: []GeoPeer{
			{Cluster: "us-west-2", WebURL: "https://pulsar-us-west-2.streaming.example.com", BrokerURL: "pulsar+ssl://pulsar-us-west-2.streaming.example.com:6651", ReplicateTo: true},
			{Cluster: "eu-west-1", WebURL: "https://pulsar-eu-west-1.streaming.example.com", BrokerURL: "pulsar+ssl://pulsar-eu-west-1.streaming.example.com:6651"},
		},
		Tenant: "fleet", Namespaces: []string{"orders", "events"},
		CriticalPlacement: placement("critical", false),
		Exposure:          Exposure{Scheme: "internet-facing", PrivateCIDRs: []string{"10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16"}},
	}
}

// onNVMe moves the test config's bookies to instance storage.
func onNVMe(a Config, diskGiB int) Config {
	set := a.BookieSets[0]
	set.Storage, set.LocalDiskGiB = model.StorageNVMe, diskGiB
	a.BookieSets = []BookieSet{set}
	return a
}

// testDeps are the outputs the chart values carry.
func testDeps() Deps {
	return Deps{BrokerRoleARN: pulumi.String("arn:aws:iam::123456789012:role/broker"), OffloadBucket: pulumi.String("offload-bucket"),
		PrivateCertificateARN: pulumi.String("arn:aws:acm:us-east-1:123456789012:certificate/private"),
		TokenKey:              pulumi.ToSecret(pulumi.String(recorder.SimulatedTokenKey())).(pulumi.StringOutput)}
}

// chartKey is a configuration that keeps the chart's signing key.
func chartKey(a Config) Config {
	a.SigningKey = model.SigningKeyChart
	return a
}

// The value paths the program sets are the committed list for chart
// 4.7.0 (internal/upstream checks that list against the released chart).
func TestValuesOnlyUseChartPaths(t *testing.T) {
	var all []string
	for _, a := range []Config{testConfig(), onNVMe(testConfig(), 3186), interim(), chartKey(testConfig())} {
		v, err := Compute(a, testDeps())
		require.NoError(t, err)
		paths, err := kit.Paths(v, upstream.PulsarChart.FreeFormKey)
		require.NoError(t, err)
		require.Greater(t, len(paths), 50)
		all = append(all, paths...)
		nvme, err := ComputeNVMe(a)
		require.NoError(t, err)
		if nvme != nil {
			paths, err := kit.Paths(*nvme, upstream.PulsarChart.FreeFormKey)
			require.NoError(t, err)
			all = append(all, paths...)
		}
	}
	upstream.AssertUsedPaths(t, upstream.PulsarChart, all)
}

func TestConfigDataKeysAreReal(t *testing.T) {
	broker, bookie := upstream.BrokerKeys(), upstream.BookKeeperKeys()
	v, err := Compute(testConfig(), testDeps())
	require.NoError(t, err)
	assert.Empty(t, CheckConfigKeys(v.Broker.ConfigData, broker), "broker keys")
	assert.Empty(t, CheckConfigKeys(v.BookKeeper.ConfigData, bookie), "bookkeeper keys")
	assert.Empty(t, CheckConfigKeys(v.Autorecovery.ConfigData, bookie), "autorecovery uses bookkeeper.conf")
	assert.Empty(t, CheckConfigKeys(v.ZooKeeper.ConfigData, nil), "zookeeper: JVM only")
	assert.Empty(t, CheckConfigKeys(v.Proxy.ConfigData, nil), "proxy: JVM only")
	// Teeth: the seeds' broker keys fail.
	assert.Equal(t, []string{"maxConcurrentLookupRequests", "s3ManagedLedgerOffloadBucketStorageClass"},
		CheckConfigKeys(map[string]string{"maxConcurrentLookupRequests": "1", "s3ManagedLedgerOffloadBucketStorageClass": "x", "maxConcurrentLookupRequest": "1"}, broker))
	// The prefix adds a real key (commented out or absent in the file),
	// never an unknown one.
	assert.Equal(t, []string{"PULSAR_PREFIX_tlsKeystore", "PULSAR_PREFIX_tlsProvider_Factory"},
		CheckConfigKeys(map[string]string{"PULSAR_PREFIX_tlsKeyStore": "x", "PULSAR_PREFIX_tlsCertificatePath": "x",
			"PULSAR_PREFIX_tlsKeystore": "x", "PULSAR_PREFIX_tlsProvider_Factory": "x"}, bookie))
}

// Autorecovery's BookKeeper client speaks TLS to the bookies with the
// region's CA (the render tier checks the chart mounts every file it
// names).
func TestAutorecoverySpeaksTLSToBookies(t *testing.T) {
	v, err := Compute(testConfig(), testDeps())
	require.NoError(t, err)
	cfg := v.Autorecovery.ConfigData
	assert.Equal(t, "org.apache.bookkeeper.tls.TLSContextFactory", cfg["PULSAR_PREFIX_tlsProviderFactoryClass"])
	assert.Equal(t, CAFile, cfg["PULSAR_PREFIX_tlsTrustStore"])
	assert.Equal(t, "PEM", cfg["PULSAR_PREFIX_tlsTrustStoreType"])
	assert.Equal(t, "/pulsar/certs/autorecovery/tls.crt", cfg["PULSAR_PREFIX_tlsCertificatePath"])
	assert.True(t, v.Autorecovery.RestartPodsOnConfigMapChange, "a running region's autorecovery restarts to take the settings")
	assert.True(t, v.Broker.RestartPodsOnConfigMapChange, "brokers take a phase's tuning")
	assert.True(t, v.Proxy.RestartPodsOnConfigMapChange, "proxies take their settings")
}

func TestNoInventedKeyIsEmitted(t *testing.T) {
	for _, a := range []Config{testConfig(), onNVMe(testConfig(), 3186)} {
		v, err := Compute(a, testDeps())
		require.NoError(t, err)
		nvme, err := ComputeNVMe(a)
		require.NoError(t, err)
		b, err := json.Marshal([]any{v, nvme})
		require.NoError(t, err)
		for _, k := range InventedKeys {
			assert.NotContains(t, string(b), `"`+k+`"`, "invented key %s emitted", k)
		}
	}
}

func TestDurabilityAndPlacement(t *testing.T) {
	v, err := Compute(testConfig(), testDeps())
	require.NoError(t, err)
	b := v.Broker.ConfigData
	assert.Equal(t, "3", b["managedLedgerDefaultEnsembleSize"])
	assert.Equal(t, "3", b["managedLedgerDefaultWriteQuorum"])
	assert.Equal(t, "2", b["managedLedgerDefaultAckQuorum"])
	assert.Equal(t, "true", b["bookkeeperClientRackawarePolicyEnabled"])
	assert.Equal(t, "2", b["bookkeeperClientMinNumRacksPerWriteQuorum"])
	assert.Equal(t, "true", b["bookkeeperClientEnforceMinNumRacksPerWriteQuorum"], "racks enforced")
	assert.Equal(t, "true", b["brokerDeduplicationEnabled"])
	assert.Equal(t, ExtensibleLoadManager, b["loadManagerClassName"])
	assert.Equal(t, "-Xms3809m -Xmx3809m -XX:MaxDirectMemorySize=6348m", b["PULSAR_MEM"])
	assert.Equal(t, "true", v.BookKeeper.ConfigData["journalSyncData"], "acknowledged entries are fsynced")
	assert.Equal(t, RackawarePolicy, v.Autorecovery.ConfigData["ensemblePlacementPolicy"])
	assert.Equal(t, RackAffinityMapping, v.Autorecovery.ConfigData["reppDnsResolverClass"])
	assert.True(t, v.Components.Autorecovery)
	assert.Equal(t, "true", v.BookKeeper.Annotations["karpenter.sh/do-not-disrupt"], "consolidation never takes a bookie")
	for name, w := range map[string]Workload{"zookeeper": v.ZooKeeper.Workload, "bookie": *v.BookKeeper.Workload, "broker": v.Broker.Workload, "proxy": v.Proxy.Workload} {
		require.NotEmpty(t, w.TopologySpreadConstraints, name)
		assert.Equal(t, "topology.kubernetes.io/zone", w.TopologySpreadConstraints[0].TopologyKey, name)
		assert.Equal(t, "DoNotSchedule", w.TopologySpreadConstraints[0].WhenUnsatisfiable, name)
	}
	for name, pdb := range map[string]PDB{"zookeeper": v.ZooKeeper.PDB, "bookie": *v.BookKeeper.PDB, "broker": v.Broker.PDB, "proxy": v.Proxy.PDB} {
		assert.Equal(t, PDB{UsePolicy: true, MaxUnavailable: 1}, pdb, name)
	}
	assert.Equal(t, map[string]string{"pulsar-fleet.io/pool": "critical"}, v.ZooKeeper.NodeSelector, "ZooKeeper on the on-demand pool")
	assert.Equal(t, map[string]string{"pulsar-fleet.io/pool": "critical"}, v.Proxy.NodeSelector, "proxies on the on-demand pool")
	assert.Equal(t, map[string]string{"pulsar-fleet.io/pool": "broker"}, v.Broker.NodeSelector)
	assert.Equal(t, 300, v.Broker.Autoscaling.Behavior.ScaleDown.StabilizationWindowSeconds)
	assert.Equal(t, 0, v.Broker.Autoscaling.Behavior.ScaleUp.StabilizationWindowSeconds)
	assert.Equal(t, StorageOffload{Driver: "aws-s3", Bucket: pulumi.String("offload-bucket"), Region: "us-east-1",
		MaxBlockSizeInBytes: "64000000", ReadBufferSizeInBytes: "1000000", ManagedLedgerOffloadDeletionLagMs: "14400000",
		ManagedLedgerOffloadAutoTriggerSizeThresholdBytes: "10737418240"}, v.Broker.StorageOffload)
	assert.True(t, v.Auth.Authentication.Enabled && v.Auth.Authentication.JWT.Enabled && v.Auth.Authorization.Enabled)
	assert.False(t, v.VictoriaMetrics.Enabled, "the bundled VictoriaMetrics stack is off; kube-prometheus-stack scrapes")
	assert.Equal(t, "pulsar-journal", v.BookKeeper.Volumes.Journal.StorageClassName)
}

func TestNVMeBookiesAreNeverRolled(t *testing.T) {
	a := onNVMe(testConfig(), 0)
	_, err := Compute(a, testDeps())
	require.ErrorContains(t, err, "nvme bookies need LocalDiskGiB", "the instance store a bookie fills must be known")
	a = onNVMe(testConfig(), 3186)
	main, err := Compute(a, testDeps())
	require.NoError(t, err)
	assert.False(t, main.Components.BookKeeper, "the main release runs no instance-storage bookies")
	assert.Equal(t, BookKeeper{Component: "nvme-bookie", Workload: &Workload{}}, main.BookKeeper, "only the name of the set the brokers wait for, and no monitor")
	vm, err := kit.ToMap(main)
	require.NoError(t, err)
	b, err := json.Marshal(vm["bookkeeper"])
	require.NoError(t, err)
	assert.JSONEq(t, `{"component": "nvme-bookie", "podMonitor": {"enabled": false}}`, string(b))
	nv, err := ComputeNVMe(a)
	require.NoError(t, err)
	require.NotNil(t, nv)
	v := struct {
		BookKeeper   BookKeeper
		Autorecovery Autorecovery
	}{nv.BookKeeper, main.Autorecovery}
	assert.False(t, v.BookKeeper.Volumes.Persistence)
	assert.Equal(t, "OnDelete", v.BookKeeper.UpdateStrategy.Type, "a rolling update would wipe every bookie in turn")
	assert.Equal(t, "0", v.Autorecovery.ConfigData["lostBookieRecoveryDelay"], "lost instance storage is re-replicated at once")
	// Kubelet must never be the one to act on a full instance store: the
	// bookie is read-only before kubelet's hard eviction, and it requests
	// the disk it fills, so it is the last pod kubelet would evict.
	assert.Equal(t, "3186Gi", v.BookKeeper.Resources.Requests["ephemeral-storage"])
	assert.Equal(t, "0.88", v.BookKeeper.ConfigData["diskUsageThreshold"])
	assert.Equal(t, "0.85", v.BookKeeper.ConfigData["diskUsageWarnThreshold"])
	assert.Less(t, NVMeDiskUsageReadOnly, 1-KubeletNodefsEvictionAvailable, "read-only before kubelet evicts")
	assert.GreaterOrEqual(t, NVMeDiskUsageWarn, sizing.DefaultDiskUsableFraction, "no warning at the planned fill")
	assert.Less(t, NVMeDiskUsageWarn, NVMeDiskUsageReadOnly)
	ebs, err := Compute(testConfig(), testDeps())
	require.NoError(t, err)
	assert.NotContains(t, ebs.BookKeeper.ConfigData, "diskUsageThreshold", "EBS volumes are not kubelet's to evict")
	assert.NotContains(t, ebs.BookKeeper.Resources.Requests, "ephemeral-storage")
}

// interim is a transition step from EBS to instance storage: both sets,
// and ZooKeeper on its way from 3 to 5.
func interim() Config {
	a := testConfig()
	nvme := onNVMe(testConfig(), 3186).BookieSets[0]
	nvme.Pod.Replicas = 9
	nvme.Pod.Placement = placement("bookie-nvme", false)
	a.BookieSets = append(a.BookieSets, nvme)
	a.Interim, a.ZooKeeper.Replicas = true, 4
	return a
}

// The instance-storage set is a release of its own: the chart's bookies
// only, reaching the main release's ZooKeeper, under names that never meet
// the main release's; and it coexists with the EBS set between two phases.
func TestNVMeSetIsItsOwnRelease(t *testing.T) {
	a := interim()
	main, err := Compute(a, testDeps())
	require.NoError(t, err)
	assert.True(t, main.Components.BookKeeper, "the EBS set stays in the main release")
	assert.Equal(t, 6, main.BookKeeper.ReplicaCount)
	assert.Equal(t, 4, main.ZooKeeper.ReplicaCount, "an even ensemble only between two phases")
	nv, err := ComputeNVMe(a)
	require.NoError(t, err)
	require.NotNil(t, nv)
	assert.Equal(t, "pulsar-nvme", nv.FullnameOverride)
	assert.Equal(t, Components{BookKeeper: true}, nv.Components, "bookies only")
	assert.Equal(t, 9, nv.BookKeeper.ReplicaCount)
	assert.Equal(t, "zk+hierarchical://pulsar-zookeeper:2281/ledgers", nv.BookKeeper.ConfigData["metadataServiceUri"], "ZooKeeper's TLS port")
	assert.Equal(t, TLS{Enabled: true, Bookie: &Toggle{Enabled: true}, ZooKeeper: &Toggle{Enabled: true}}, nv.TLS)
	assert.Equal(t, Certs{Issuers: &Issuers{CA: IssuerRef{Name: CAIssuer, SecretName: CASecret}}}, nv.Certs,
		"the main release's CA signs these bookies' certificates: the brokers trust one CA")
	assert.Equal(t, map[string]string{"app": "pulsar", "release": "pulsar-nvme", "component": "bookie"},
		nv.BookKeeper.TopologySpreadConstraints[0].LabelSelector.MatchLabels, "spread over the set's own pods")
	assert.False(t, nv.Broker.PodMonitor.Enabled || nv.Proxy.PodMonitor.Enabled || nv.Autorecovery.PodMonitor.Enabled)
	assert.Equal(t, "0", main.Autorecovery.ConfigData["lostBookieRecoveryDelay"], "one set is on instance storage")
	assert.Empty(t, CheckConfigKeys(nv.BookKeeper.ConfigData, upstream.BookKeeperKeys()), "bookkeeper keys")
	none, err := ComputeNVMe(testConfig())
	require.NoError(t, err)
	assert.Nil(t, none, "no instance-storage set, no release")
	assert.Equal(t, "pulsar-bookie", a.BookieSets[0].StatefulSet())
	assert.Equal(t, "pulsar-nvme-bookie", a.BookieSets[1].StatefulSet())
}

func TestHPAOwnsReplicasAndAffinityIsRequired(t *testing.T) {
	v, err := Compute(testConfig(), testDeps())
	require.NoError(t, err)
	// The chart ignores replicaCount while autoscaling is on.
	assert.Zero(t, v.Broker.ReplicaCount)
	assert.Zero(t, v.Proxy.ReplicaCount)
	assert.Equal(t, testConfig().Brokers.Replicas, v.Broker.Autoscaling.MinReplicas)
	for name, w := range map[string]Workload{"zookeeper": v.ZooKeeper.Workload, "bookkeeper": *v.BookKeeper.Workload,
		"autorecovery": v.Autorecovery.Workload, "broker": v.Broker.Workload, "proxy": v.Proxy.Workload} {
		assert.Equal(t, RequiredAntiAffinity, w.Affinity, name)
	}
	assert.False(t, v.Broker.StatefulsetUpgrade.Enabled)
	assert.False(t, v.ZooKeeper.StatefulsetUpgrade.Enabled)
}

func TestJobs(t *testing.T) {
	objs, err := ExtraObjects(testConfig())
	require.NoError(t, err)
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o["kind"].(string)]++
	}
	assert.Equal(t, map[string]int{"ServiceAccount": 3, "Role": 1, "RoleBinding": 1, "ClusterRole": 1, "ClusterRoleBinding": 1, "CronJob": 2, "Job": 1, "NetworkPolicy": 7}, kinds)
	script := GeoScript(testConfig())
	assert.Contains(t, script, "apply_cluster eu-west-1 https://pulsar-eu-west-1.streaming.example.com pulsar+ssl://pulsar-eu-west-1.streaming.example.com:6651")
	assert.Contains(t, script, "--allowed-clusters us-east-1,eu-west-1,us-west-2")
	assert.Contains(t, script, "namespaces set-clusters fleet/orders --clusters us-east-1,us-west-2", "replicates only to the configured regions")
	assert.Contains(t, script, "namespaces create fleet/events --clusters us-east-1,us-west-2")
	assert.NotContains(t, script, "{{", "extraDeploy is rendered through tpl")
	assert.NotContains(t, rackSyncScript, "{{")
	assert.NotContains(t, ProbeScript("pulsar-us-east-1.streaming.example.com"), "{{")
	assert.Contains(t, script, "namespaces grant-permission public/default --role probe-us-east-1 --actions produce,consume", "the probe's own role")
	assert.Contains(t, script, "--admin-roles admin-us-east-1")
	// Without peers the Job still grants the probe its namespace; with the
	// chart's key the probe uses the admin token, and no peers, no Job.
	a := testConfig()
	a.Peers = nil
	assert.Contains(t, GeoScript(a), "--role probe-us-east-1")
	a = chartKey(a)
	assert.NotContains(t, GeoScript(a), "probe")
	objs, err = ExtraObjects(a)
	require.NoError(t, err)
	for _, o := range objs {
		assert.NotEqual(t, "Job", o["kind"], "chart key and no peers: no metadata job")
	}
}

// The probe is a client of the proxy: it produces and consumes through the
// proxies' Service, within a deadline shorter than its schedule, with no
// Kubernetes API token, and the brokers' and proxies' policies admit it.
func TestProbe(t *testing.T) {
	objs, err := ExtraObjects(testConfig())
	require.NoError(t, err)
	var job map[string]any
	for _, o := range objs {
		if o["kind"] == "CronJob" && o["metadata"].(map[string]any)["name"] == ProbeName {
			job = o
		}
	}
	require.NotNil(t, job)
	r := recorder.Resource{Inputs: job}
	assert.Equal(t, "* * * * *", r.Input("spec.schedule"))
	assert.Equal(t, "Forbid", r.Input("spec.concurrencyPolicy"))
	assert.Less(t, ProbeDeadlineSeconds, 60, "a run ends before the next is due")
	assert.EqualValues(t, ProbeDeadlineSeconds, r.Input("spec.jobTemplate.spec.activeDeadlineSeconds"))
	assert.EqualValues(t, 0, r.Input("spec.jobTemplate.spec.backoffLimit"), "a failed run is a failure, not a retry")
	pod := recorder.Resource{Inputs: r.Input("spec.jobTemplate.spec.template").(map[string]any)}
	assert.Equal(t, ProbeName, pod.Input("spec.serviceAccountName"))
	c := pod.Input("spec.containers").([]any)[0].(map[string]any)
	script := c["command"].([]any)[2].(string)
	assert.Contains(t, script, `PULSAR_HOST="pulsar-proxy.${NAMESPACE}.svc.cluster.local"`, "through the proxy")
	assert.Contains(t, script, "brokerServiceUrl=pulsar+ssl://${PULSAR_HOST}:6651/", "over TLS")
	assert.Contains(t, script, "webServiceUrl=https://${PULSAR_HOST}:443/", "the proxies' Service serves https on 443")
	assert.Contains(t, GeoScript(testConfig()), "webServiceUrl=https://${PULSAR_HOST}:8443/", "the brokers' on 8443")
	assert.Less(t, strings.Index(script, " consume "), strings.Index(script, " produce "), "subscribed before it produces")
	env := map[string]string{}
	for _, e := range c["env"].([]any) {
		env[e.(map[string]any)["name"].(string)] = e.(map[string]any)["value"].(string)
	}
	assert.Equal(t, ProbeTopic, env["TOPIC"])
	labels := pod.Input("metadata.labels").(map[string]any)
	assert.Equal(t, model.PartOf, labels[model.LabelPartOf], "labelled as the program's own pod")
}

// Every component serves TLS from a certificate of the region's CA, and
// the program's jobs speak TLS only, trusting the CA's certificate alone
// (its Secret's key is not mounted) and checking host names.
func TestTLSEverywhere(t *testing.T) {
	v, err := Compute(testConfig(), testDeps())
	require.NoError(t, err)
	on := &Toggle{Enabled: true}
	assert.Equal(t, TLS{Enabled: true, Proxy: on, Broker: on, Bookie: on, ZooKeeper: on}, v.TLS)
	assert.Equal(t, Certs{InternalIssuer: InternalIssuer{Enabled: true, Type: "selfsigning", Duration: "87600h", RenewBefore: "8760h"}}, v.Certs,
		"a CA per region, for ten years: a renewed CA breaks TLS until every certificate is re-issued")
	jobs := 0
	for _, o := range v.ExtraDeploy {
		r := recorder.Resource{Inputs: o}
		var spec any
		switch o["kind"] {
		case "CronJob":
			spec = r.Input("spec.jobTemplate.spec.template.spec")
		case "Job":
			spec = r.Input("spec.template.spec")
		default:
			continue
		}
		jobs++
		pod := recorder.Resource{Inputs: spec.(map[string]any)}
		name := r.Input("metadata.name")
		c := pod.Input("containers").([]any)[0].(map[string]any)
		command := c["command"].([]any)
		script := command[len(command)-1].(string)
		env := map[string]string{}
		for _, e := range c["env"].([]any) {
			env[e.(map[string]any)["name"].(string)] = e.(map[string]any)["value"].(string)
		}
		for _, plain := range []string{"http://", "pulsar://", ":8080", ":6650"} {
			assert.NotContains(t, script, plain, "%s speaks plaintext", name)
			for k, v := range env {
				assert.NotContains(t, v, plain, "%s %s speaks plaintext", name, k)
			}
		}
		// The shell scripts name the CA; the rack sync is given it.
		byEnv := env["PULSAR_CA_FILE"] == CAFile && strings.HasPrefix(env["PULSAR_ADMIN_URL"], "https://") &&
			strings.Contains(script, `ssl.create_default_context(cafile=cafile)`)
		assert.True(t, strings.Contains(script, "tlsTrustCertsFilePath="+CAFile) || byEnv, "%s trusts the CA", name)
		if strings.Contains(script, "PULSAR_CLIENT_CONF") {
			assert.Contains(t, script, "tlsEnableHostnameVerification=true", name)
			assert.Contains(t, script, "tlsAllowInsecureConnection=false", name)
		}
		var ca map[string]any
		for _, vol := range pod.Input("volumes").([]any) {
			if vol.(map[string]any)["name"] == "ca" {
				ca = vol.(map[string]any)["secret"].(map[string]any)
			}
		}
		require.NotNil(t, ca, "%s mounts the CA", name)
		assert.Equal(t, CASecret, ca["secretName"])
		assert.Equal(t, []any{map[string]any{"key": "ca.crt", "path": "ca.crt"}}, ca["items"], "%s: the CA's certificate only, never its key", name)
	}
	assert.Equal(t, 3, jobs, "rack sync, the probe and the geo-replication job")
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*Config)
		want string
	}{
		{"fewer bookies than the ensemble", func(a *Config) { a.BookieSets[0].Pod.Replicas = 2 }, "ebs bookies 2: fewer than the ensemble 3"},
		{"no bookies", func(a *Config) { a.BookieSets = nil }, "bookie sets: none"},
		{"two sets outside a transition", func(a *Config) { *a = interim(); a.Interim = false }, "bookie sets: 2 (ebs, nvme); two coexist only between two phases"},
		{"two sets on one storage", func(a *Config) { a.Interim = true; a.BookieSets = append(a.BookieSets, a.BookieSets[0]) }, "two on ebs storage"},
		{"unknown bookie storage", func(a *Config) { a.BookieSets[0].Storage = "gp2" }, `bookie set storage "gp2": want ebs or nvme`},
		{"ack above write", func(a *Config) { a.Quorum.AckQuorum = 4 }, "want ensemble >= write >= ack >= 1"},
		{"offload threshold below block size", func(a *Config) { a.Offload.ThresholdBytes = 1 << 20 }, "is below the block size"},
		{"heap larger than pod", func(a *Config) { a.Brokers.HeapMiB = 20000 }, "brokers JVM"},
		{"even zookeeper", func(a *Config) { a.ZooKeeper.Replicas = 4 }, "zookeeper replicas 4: want an odd number"},
		{"zookeeper below 3 in a transition", func(a *Config) { a.Interim = true; a.ZooKeeper.Replicas = 2 }, "zookeeper replicas 2: want at least 3"},
		{"plain-text geo-replication", func(a *Config) { a.Peers[0].BrokerURL = "pulsar://x:6650" }, "over TLS"},
		{"racks above zones", func(a *Config) { a.Quorum.MinRacksPerWriteQuorum = 4 }, "minRacksPerWriteQuorum 4"},
		{"unknown exposure scheme", func(a *Config) { a.Exposure.Scheme = "public" }, `exposure scheme "public"`},
		{"no private CIDRs", func(a *Config) { a.Exposure.PrivateCIDRs = nil }, "exposure privateCidrs: at least this region's VPC block"},
		{"the internet on the private listener", func(a *Config) { a.Exposure.PrivateCIDRs = []string{"0.0.0.0/0"} },
			`exposure privateCidrs[0] "0.0.0.0/0": want a VPC's IPv4 network address, not the internet`},
		{"a host on the private listener", func(a *Config) { a.Exposure.PrivateCIDRs = []string{"10.10.0.1/16"} }, `exposure privateCidrs[0] "10.10.0.1/16"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := testConfig()
			tc.mut(&a)
			rec := recorder.New("us-east-1")
			err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
				deps := testDeps()
				deps.CertificateARN = pulumi.String("arn")
				_, err := New(ctx, "p", a, deps)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, rec.Resources(), "nothing registered")
		})
	}
}

func TestReleaseWiring(t *testing.T) {
	rec := recorder.New("us-east-1")
	require.NoError(t, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		prov, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		pool, err := kubernetes.NewProvider(ctx, "stand-in-nodepool", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		cfg := interim()
		cfg.Exposure.ClientCIDRs = []string{"203.0.113.0/24"}
		deps := testDeps()
		deps.Provider, deps.DependsOn, deps.CertManager = prov, []pulumi.Resource{pool}, pool
		deps.CertificateARN = pulumi.String("arn:aws:acm:us-east-1:123456789012:certificate/x")
		deps.NATIPs = pulumi.ToStringArray([]string{"198.51.100.1", "198.51.100.2"})
		_, err = New(ctx, "p", cfg, deps)
		return err
	}))
	comp, err := rec.Component(TypeToken)
	require.NoError(t, err)
	rel, err := rec.One("kubernetes:helm.sh/v3:Release", "p")
	require.NoError(t, err)
	assert.Equal(t, comp.URN, rel.Parent)
	assert.Equal(t, "pulsar", rel.Inputs["chart"])
	assert.Equal(t, "4.7.0", rel.Inputs["version"])
	assert.Equal(t, "https://pulsar.apache.org/charts", rel.Input("repositoryOpts.repo"))
	assert.Equal(t, "pulsar", rel.Inputs["namespace"])
	pools, _ := rec.One("pulumi:providers:kubernetes", "stand-in-nodepool")
	assert.Contains(t, rel.Dependencies, pools.URN, "the release waits for the node pools")
	assert.Equal(t, "offload-bucket", rel.Input("values.broker.storageOffload.bucket"))
	assert.Equal(t, "arn:aws:iam::123456789012:role/broker", rel.Input("values.broker.service_account.annotations").(map[string]any)["eks.amazonaws.com/role-arn"])
	nv, err := rec.One("kubernetes:helm.sh/v3:Release", "p-nvme-bookies")
	require.NoError(t, err)
	assert.Equal(t, "pulsar-nvme", nv.Inputs["name"])
	assert.Equal(t, "pulsar", nv.Inputs["namespace"])
	assert.Contains(t, nv.Dependencies, pools.URN, "the instance-storage bookies wait for the node pools")
	assert.NotContains(t, nv.Dependencies, rel.URN, "and not for the main release, which waits for them")
	assert.Equal(t, true, nv.Input("values.components.bookkeeper"))
	svc, err := rec.One("kubernetes:core/v1:Service", "p-proxy-external")
	require.NoError(t, err)
	ann := svc.Input("metadata.annotations").(map[string]any)
	assert.Equal(t, "nlb", ann["service.beta.kubernetes.io/aws-load-balancer-type"])
	assert.Equal(t, "true", ann["service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled"])
	assert.Equal(t, "arn:aws:acm:us-east-1:123456789012:certificate/x", ann["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"])
	assert.Nil(t, ann["service.beta.kubernetes.io/aws-load-balancer-internal"])
	assert.Equal(t, []any{"198.51.100.1/32", "198.51.100.2/32", "203.0.113.0/24"}, svc.Input("spec.loadBalancerSourceRanges"),
		"the client networks, and the region's NATs, through which its probe comes")
	assert.Equal(t, "pulsarssl", ann["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"])
	assert.Equal(t, []any{map[string]any{"name": "pulsarssl", "port": 6651.0, "targetPort": 6651.0, "protocol": "TCP"}}, svc.Input("spec.ports"),
		"the Pulsar protocol only: the web API (admin) is never on the client listener")
	assert.Contains(t, svc.Dependencies, rel.URN)
	// The private listener: both ports, on an internal NLB with the
	// private name's certificate, for this VPC and the joined ones only.
	priv, err := rec.One("kubernetes:core/v1:Service", "p-proxy-private")
	require.NoError(t, err)
	assert.Equal(t, PrivateName, priv.Input("metadata.name"))
	pann := priv.Input("metadata.annotations").(map[string]any)
	assert.Equal(t, "true", pann["service.beta.kubernetes.io/aws-load-balancer-internal"])
	assert.Equal(t, "pulsarssl,https", pann["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"])
	assert.Equal(t, "arn:aws:acm:us-east-1:123456789012:certificate/private", pann["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"])
	assert.Equal(t, "ssl", pann["service.beta.kubernetes.io/aws-load-balancer-backend-protocol"])
	assert.Equal(t, []any{"10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16"}, priv.Input("spec.loadBalancerSourceRanges"))
	assert.Equal(t, []any{map[string]any{"name": "pulsarssl", "port": 6651.0, "targetPort": 6651.0, "protocol": "TCP"},
		map[string]any{"name": "https", "port": 443.0, "targetPort": 8443.0, "protocol": "TCP"}}, priv.Input("spec.ports"))
	assert.Contains(t, priv.Dependencies, rel.URN)

	// The fleet key's credentials: made before the release, secret, with
	// the names the chart mounts; the chart's hook generates nothing.
	assert.Equal(t, false, rel.Input("values.auth.authentication.jwt.generateSecrets.enabled"))
	assert.Equal(t, map[string]any{"broker": "broker-us-east-1", "proxy": "proxy-us-east-1", "client": "admin-us-east-1"}, rel.Input("values.auth.superUsers"))
	want := map[string]string{"p-token-key": KeySecret, "p-token-broker-us-east-1": "pulsar-token-broker-us-east-1",
		"p-token-proxy-us-east-1": "pulsar-token-proxy-us-east-1", "p-token-admin-us-east-1": "pulsar-token-admin-us-east-1",
		"p-token-probe-us-east-1": "pulsar-token-probe-us-east-1", "p-geo-tokens": GeoTokensSecret}
	got := map[string]string{}
	for _, r := range rec.Resources() {
		if r.Type != "kubernetes:core/v1:Secret" {
			continue
		}
		got[r.Name] = fmt.Sprint(r.Input("metadata.name"))
		assert.Equal(t, "pulsar", r.Input("metadata.namespace"), r.Name)
		assert.Contains(t, rel.Dependencies, r.URN, "the release waits for %s", r.Name)
		assert.NotContains(t, nv.Dependencies, r.URN, "the bookies need no token")
		data := r.Input("data")
		if r.Name != "p-token-key" {
			data = r.Input("stringData")
		}
		assert.Equal(t, "[secret]", data, "%s: its data is a Pulumi secret", r.Name)
	}
	assert.Equal(t, want, got)

	// cert-manager (here the node pools' stand-in) comes before both
	// releases: they declare Certificates and Issuers.
	assert.Contains(t, nv.Dependencies, pools.URN)
	assert.Equal(t, "ssl", ann["service.beta.kubernetes.io/aws-load-balancer-backend-protocol"], "TLS again from the NLB to the proxies")
	var targets []any
	for _, p := range priv.Input("spec.ports").([]any) {
		targets = append(targets, p.(map[string]any)["targetPort"])
	}
	assert.Equal(t, []any{float64(6651), float64(8443)}, targets, "the proxies' TLS ports")
	for _, comp := range []string{"broker", "proxy"} {
		assert.NotContains(t, fmt.Sprint(rel.Input("values."+comp)), "PRIVATEKEY")
	}

	// The region CA keeps its key: the chart's CA Certificate is patched,
	// after the release made it, with that one field.
	patch, err := rec.One("kubernetes:cert-manager.io/v1:CertificatePatch", "p-ca-key-policy")
	require.NoError(t, err)
	assert.Equal(t, comp.URN, patch.Parent)
	assert.Equal(t, map[string]any{"name": CACertificate, "namespace": "pulsar"}, patch.Input("metadata"))
	assert.Equal(t, map[string]any{"privateKey": map[string]any{"rotationPolicy": "Never"}}, patch.Input("spec"), "nothing but the key policy")
	assert.Contains(t, patch.Dependencies, rel.URN, "the release makes the Certificate")
	assert.Equal(t, "pulsar-ca", CACertificate)
}

// With the chart's key, the chart's hook makes the key and the super
// users' tokens, and the program makes no credential.
func TestChartKeyMakesNoCredential(t *testing.T) {
	rec := recorder.New("us-east-1")
	require.NoError(t, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		prov, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		deps := testDeps()
		deps.Provider, deps.TokenKey, deps.CertManager = prov, nil, prov
		deps.CertificateARN = pulumi.String("arn:aws:acm:us-east-1:123456789012:certificate/x")
		_, err = New(ctx, "p", chartKey(testConfig()), deps)
		return err
	}))
	rel, err := rec.One("kubernetes:helm.sh/v3:Release", "p")
	require.NoError(t, err)
	assert.Equal(t, true, rel.Input("values.auth.authentication.jwt.generateSecrets.enabled"))
	assert.Equal(t, map[string]any{"broker": "broker-admin", "proxy": "proxy-admin", "client": "admin"}, rel.Input("values.auth.superUsers"))
	for _, r := range rec.Resources() {
		assert.NotEqual(t, "kubernetes:core/v1:Secret", r.Type, r.Name)
	}
}

// A dependency the wiring forgot is refused by name, before anything of the
// component is registered.
func TestMissingDependencyRegistersNothing(t *testing.T) {
	for _, missing := range []string{"provider", "certificateArn", "brokerRoleArn", "offloadBucket", "tokenKey", "certManager"} {
		t.Run(missing, func(t *testing.T) {
			rec := recorder.New("us-east-1")
			err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
				deps := testDeps()
				deps.CertificateARN = pulumi.String("arn:aws:acm:us-east-1:123456789012:certificate/x")
				if missing != "certManager" {
					cm, err := kubernetes.NewProvider(ctx, "stand-in-cert-manager", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
					if err != nil {
						return err
					}
					deps.CertManager = cm
				}
				if missing != "provider" {
					prov, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
					if err != nil {
						return err
					}
					deps.Provider = prov
				}
				switch missing {
				case "certificateArn":
					deps.CertificateARN = nil
				case "brokerRoleArn":
					deps.BrokerRoleARN = nil
				case "offloadBucket":
					deps.OffloadBucket = nil
				case "tokenKey":
					deps.TokenKey = nil
				}
				_, err := New(ctx, "p", testConfig(), deps)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), `pulsar "p": missing dependencies: `+missing)
			for _, r := range rec.Resources() {
				assert.Equal(t, "pulumi:providers:kubernetes", r.Type, "nothing of the component is registered")
			}
		})
	}
}

// The bookies' journal files are the size the planner sizes the journal
// volume for; journalMaxBackups is the chart's own (its template fixes it,
// and a second key would be a duplicate, which the render tier refuses; it
// also checks the chart's value against model.JournalBackups).
func TestJournalSettings(t *testing.T) {
	v, err := Compute(testConfig(), testDeps())
	require.NoError(t, err)
	c := v.BookKeeper.ConfigData
	assert.Equal(t, strconv.Itoa(model.JournalFileMiB), c["journalMaxSizeMB"])
	assert.NotContains(t, c, "journalMaxBackups")
}
