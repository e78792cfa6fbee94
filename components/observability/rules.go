package observability

import (
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// KnownMetrics are the metric names dashboards and alerts may use, each
// with where it comes from. Every expression is parsed and checked against
// this list.
var KnownMetrics = map[string]string{
	"up":                            "Prometheus: scrape target health",
	"pulsar_rate_in":                "Pulsar broker (namespace/topic metrics): messages/s in",
	"pulsar_rate_out":               "Pulsar broker (namespace/topic metrics): messages/s out",
	"pulsar_throughput_in":          "Pulsar broker: bytes/s in",
	"pulsar_throughput_out":         "Pulsar broker: bytes/s out",
	"pulsar_msg_backlog":            "Pulsar broker: backlog (entries)",
	"pulsar_subscription_back_log":  "Pulsar broker (subscription metrics): backlog per subscription",
	"pulsar_storage_size":           "Pulsar broker: storage size (bytes)",
	"pulsar_storage_offloaded_size": "Pulsar broker: bytes offloaded to tiered storage",
	"pulsar_broker_publish_latency": "Pulsar broker: publish latency summary (ms), quantile label (ServerCnx PUBLISH_LATENCY)",
	"pulsar_replication_backlog":    "Pulsar broker (replication metrics): messages pending replication, remote_cluster label",
	"pulsar_replication_rate_out":   "Pulsar broker (replication metrics): messages/s replicated out",
	"bookie_SERVER_STATUS":          "BookKeeper bookie: 1 writable, 0 read-only",
	"bookie_ledger_dir__pulsar_data_bookkeeper_ledgers_usage":  "BookKeeper LedgerDirsMonitor: ledger disk usage (%) of /pulsar/data/bookkeeper/ledgers",
	"auditor_NUM_UNDER_REPLICATED_LEDGERS":                     "BookKeeper auditor (ReplicationStats): under-replicated ledgers per audit, summary",
	"auditor_NUM_LEDGERS_HAVING_NO_REPLICA_OF_AN_ENTRY":        "BookKeeper auditor (ReplicationStats): ledgers with an entry that has no replica left",
	"karpenter_interruption_received_messages_total":           "Karpenter: interruption queue messages received, message_type label",
	"karpenter_nodes_allocatable":                              "Karpenter: allocatable resources of its nodes",
	"node_network_transmit_bytes_total":                        "node-exporter: bytes sent per interface",
	"pulsar_subscription_msg_rate_out":                         "Pulsar broker (subscription metrics): messages/s dispatched, topic and subscription labels (TopicStats)",
	"pulsar_replication_rate_in":                               "Pulsar broker (replication metrics): messages/s received from remote_cluster (TopicStats)",
	"pulsar_replication_delay_in_seconds":                      "Pulsar broker (replication metrics): age of the oldest message not yet replicated to remote_cluster (TopicStats)",
	"bookie_journal_JOURNAL_ADD_ENTRY":                         "BookKeeper journal: add-entry latency summary in ms, success and quantile labels (JournalStats)",
	"bookie_journal_JOURNAL_SYNC":                              "BookKeeper journal: fsync latency summary in ms (JournalStats)",
	"bookkeeper_server_ADD_ENTRY_REQUEST":                      "BookKeeper server: add-entry request latency summary in ms (RequestStats)",
	"bookie_flush":                                             "BookKeeper DbLedgerStorage: flush latency summary in ms (DbLedgerStorageStats)",
	"quorum_size":                                              "ZooKeeper (Prometheus metrics provider): ensemble size (QuorumZooKeeperServer)",
	"outstanding_requests":                                     "ZooKeeper: queued requests (ZooKeeperServer)",
	"updatelatency":                                            "ZooKeeper: update latency summary in ms, quantile label (ServerMetrics)",
	"readlatency":                                              "ZooKeeper: read latency summary in ms, quantile label (ServerMetrics)",
	"znode_count":                                              "ZooKeeper: znodes (ZooKeeperServer)",
	"num_alive_connections":                                    "ZooKeeper: client connections (ZooKeeperServer)",
	"karpenter_nodeclaims_disrupted_total":                     "Karpenter: node claims disrupted, reason, nodepool and capacity_type labels",
	"kube_pod_status_phase":                                    "kube-state-metrics: pod phase (phase label)",
	"kube_node_status_condition":                               "kube-state-metrics: node conditions (condition, status labels)",
	"kube_node_labels":                                         "kube-state-metrics: node labels allowed by --metric-labels-allowlist (label_topology_kubernetes_io_zone, KubeStateMetrics.MetricLabelsAllowlist)",
	"kube_cronjob_status_last_successful_time":                 "kube-state-metrics: a CronJob's last successful run (cronjob, namespace labels)",
	"kube_cronjob_created":                                     "kube-state-metrics: when a CronJob was created",
	"thanos_shipper_uploads_total":                             "Thanos sidecar (pkg/shipper): blocks uploaded",
	"thanos_shipper_upload_failures_total":                     "Thanos sidecar (pkg/shipper): failed block uploads",
	"thanos_compact_halted":                                    "Thanos compactor (cmd/thanos/compact.go): 1 when it halted on an error",
	"thanos_objstore_bucket_last_successful_upload_time":       "Thanos objstore client: time of the last successful upload (the mixin's ThanosCompactHasNotRun)",
	"thanos_store_nodes_grpc_connections":                      "Thanos querier (pkg/query/endpointset.go): open gRPC connections to StoreAPIs, store_type label",
	"thanos_bucket_store_blocks_last_loaded_timestamp_seconds": "Thanos store gateway (pkg/store/bucket.go): when it last loaded a block (0 before its first)",
	"process_start_time_seconds":                               "every Go process (client_golang's process collector): when it started",
}

// Rule is one alerting rule.
type Rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// Group is a rule group.
type Group struct {
	Name  string `json:"name"`
	Rules []Rule `json:"rules"`
}

// DiskWarnThresholdPercent is the chart's bookkeeper diskUsageWarnThreshold
// (0.9) as a percentage (a test reads the chart to keep them equal).
const DiskWarnThresholdPercent = 90

// AlertGroups are the alerts on the failures that lose messages or stop
// writes, linking their runbooks by RunbookURL. Pulsar's pod monitors
// label targets with job <namespace>/<name>.
func AlertGroups(pulsarNamespace string) []Group { return alertGroups(pulsarNamespace, "") }

// alertGroups are AlertGroups with runbook links under runbookBase ("":
// repository-relative).
func alertGroups(pulsarNamespace, runbookBase string) []Group {
	job := func(component string) string { return fmt.Sprintf(`job="%s/pulsar-%s"`, pulsarNamespace, component) }
	crit := map[string]string{"severity": "critical"}
	warn := map[string]string{"severity": "warning"}
	ann := func(summary, desc string) map[string]string {
		return map[string]string{"summary": summary, "description": desc}
	}
	groups := []Group{
		{Name: "zones", Rules: []Rule{
			// For 1 minute: it must fire before the symptoms it mutes
			// (broker down after 2 minutes).
			{Alert: "ZoneUnavailable", Expr: zoneUnavailableExpr, For: "1m", Labels: crit,
				Annotations: ann("Half or more of a zone's nodes are not Ready", "Zone {{ $labels.zone }} of {{ $externalLabels.cluster }} has lost half or more of its nodes: the other two zones carry every write.")},
		}},
		{Name: "pulsar-availability", Rules: []Rule{
			{Alert: "PulsarBrokerDown", Expr: fmt.Sprintf(`up{%s} == 0`, job("broker")), For: "2m", Labels: crit,
				Annotations: ann("Pulsar broker down", "Broker {{ $labels.pod }} in {{ $externalLabels.cluster }} has been unreachable for 2 minutes.")},
			{Alert: "ZooKeeperQuorumLost", Expr: fmt.Sprintf(`sum(up{%[1]s}) <= count(up{%[1]s}) / 2`, job("zookeeper")), For: "1m", Labels: crit,
				Annotations: ann("ZooKeeper quorum lost", "Half or more of the ZooKeeper servers in {{ $externalLabels.cluster }} are down: metadata writes and topic ownership stop.")},
			{Alert: "PulsarProbeFailing", Expr: probeFailingExpr(pulsarNamespace), For: "0m", Labels: crit,
				Annotations: ann("The end-to-end probe cannot produce and consume", "No run of the probe in {{ $externalLabels.cluster }} has produced and consumed a message for 5 minutes: clients of this region are likely failing too.")},
			{Alert: "PulsarPublishLatencyHigh", Expr: `max by (cluster) (pulsar_broker_publish_latency{quantile="0.99"}) > 250`, For: "10m", Labels: warn,
				Annotations: ann("Publish latency p99 above 250 ms", "p99 publish latency in {{ $externalLabels.cluster }} is {{ $value }} ms.")},
		}},
		{Name: "pulsar-durability", Rules: []Rule{
			{Alert: "BookieReadOnly", Expr: `bookie_SERVER_STATUS == 0`, For: "5m", Labels: crit,
				Annotations: ann("Bookie is read-only", "Bookie {{ $labels.pod }} stopped accepting writes (disk full or errors).")},
			{Alert: "BookieDiskUsageHigh", Expr: fmt.Sprintf(`bookie_ledger_dir__pulsar_data_bookkeeper_ledgers_usage > %d`, DiskWarnThresholdPercent), For: "15m", Labels: warn,
				Annotations: ann("Bookie ledger disk above the warning threshold", "Bookie {{ $labels.pod }} ledger disk is {{ $value }}% full; at 95% it turns read-only.")},
			{Alert: "UnderReplicatedLedgers", Expr: `max(auditor_NUM_UNDER_REPLICATED_LEDGERS{quantile="1.0"}) > 0`, For: "30m", Labels: crit,
				Annotations: ann("Under-replicated ledgers", "The auditor found {{ $value }} under-replicated ledgers for 30 minutes: another bookie loss could lose data.")},
			{Alert: "LedgerEntryWithoutReplica", Expr: `max(auditor_NUM_LEDGERS_HAVING_NO_REPLICA_OF_AN_ENTRY) > 0`, For: "0m", Labels: crit,
				Annotations: ann("Ledger entry with no replica", "{{ $value }} ledgers have an entry with every replica missing: data loss.")},
		}},
		{Name: "pulsar-backlog", Rules: []Rule{
			{Alert: "SubscriptionBacklogHigh", Expr: `max by (cluster, namespace, topic, subscription) (pulsar_subscription_back_log) > 1000000`, For: "15m", Labels: warn,
				Annotations: ann("Subscription backlog above 1M messages", "Subscription {{ $labels.subscription }} on {{ $labels.topic }} holds {{ $value }} messages.")},
			{Alert: "GeoReplicationBacklogGrowing", Expr: `sum by (cluster, remote_cluster) (deriv(pulsar_replication_backlog[15m])) > 0 and sum by (cluster, remote_cluster) (pulsar_replication_backlog) > 100000`,
				For: "15m", Labels: warn,
				Annotations: ann("Geo-replication backlog growing", "Replication from {{ $externalLabels.cluster }} to {{ $labels.remote_cluster }} has fallen behind and keeps growing.")},
		}},
		{Name: "capacity", Rules: []Rule{
			{Alert: "SpotInterruptionRateHigh", Expr: `sum by (cluster) (increase(karpenter_interruption_received_messages_total{message_type="spot_interrupted"}[1h])) > 5`, For: "0m", Labels: warn,
				Annotations: ann("Spot interruptions above 5 per hour", "{{ $value }} spot interruptions in the last hour in {{ $externalLabels.cluster }}: diversify the pools or raise the on-demand share.")},
		}},
		thanosGroup(warn, crit, ann),
	}
	for i := range groups {
		for j := range groups[i].Rules {
			r := &groups[i].Rules[j]
			r.Annotations["runbook_url"] = runbookLink(runbookBase, r.Alert)
		}
	}
	return groups
}

// thanosGroup watches the global view itself (after the Thanos mixin's
// alerts): a sidecar that cannot upload loses the region's history once
// Prometheus' local retention passes it; a halted compactor stops
// downsampling and retention, so the bucket only grows; a querier that
// lost a store it had serves a view with a region or a replica missing; a
// history store that loads no block stops the view's copy of its
// region's history.
func thanosGroup(warn, crit map[string]string, ann func(summary, desc string) map[string]string) Group {
	compact := fmt.Sprintf(`job="%s/%s", pod=~"%s-.*"`, Namespace, ThanosMonitorName, CompactName)
	queriers := fmt.Sprintf(`job="%s/%s", pod=~"(%s|%s)-.*"`, Namespace, ThanosMonitorName, RegionalQueryName, GlobalQueryName)
	history := fmt.Sprintf(`job="%s/%s", pod=~"%s-(mirror|peer)-.*"`, Namespace, ThanosMonitorName, StoreName)
	return Group{Name: "thanos", Rules: []Rule{
		{Alert: "ThanosSidecarUploadFailing", Expr: `sum by (pod) (rate(thanos_shipper_upload_failures_total[5m])) > 0`, For: "15m", Labels: crit,
			Annotations: ann("Thanos sidecar cannot upload blocks", "Sidecar {{ $labels.pod }} in {{ $externalLabels.cluster }} has failed to upload blocks for 15 minutes: history older than Prometheus' local retention will be missing from the global view.")},
		{Alert: "ThanosSidecarNoUpload", Expr: `sum by (pod) (increase(thanos_shipper_uploads_total[3h])) == 0`, For: "0m", Labels: warn,
			Annotations: ann("Thanos sidecar has uploaded nothing for 3 hours", "Sidecar {{ $labels.pod }} in {{ $externalLabels.cluster }} cuts a block every 2 hours and has uploaded none in 3.")},
		{Alert: "ThanosCompactHalted", Expr: fmt.Sprintf(`max by (pod) (thanos_compact_halted{%s}) == 1`, compact), For: "5m", Labels: warn,
			Annotations: ann("Thanos compactor halted", "The compactor in {{ $externalLabels.cluster }} halted on an error: downsampling and retention have stopped and the metrics bucket only grows.")},
		{Alert: "ThanosCompactHasNotRun", Expr: fmt.Sprintf(`(time() - max by (pod) (max_over_time(thanos_objstore_bucket_last_successful_upload_time{%s}[24h]))) / 3600 > 24`, compact),
			For: "0m", Labels: warn,
			Annotations: ann("Thanos compactor has written nothing for 24 hours", "The compactor in {{ $externalLabels.cluster }} has not uploaded a compacted block for a day.")},
		{Alert: "ThanosHistoryStale", Expr: fmt.Sprintf(`time() - max by (pod) (thanos_bucket_store_blocks_last_loaded_timestamp_seconds{%[1]s}) > 4 * 3600 `+
			`and on (pod) time() - max by (pod) (process_start_time_seconds{%[1]s}) > 4 * 3600`, history),
			For: "15m", Labels: warn,
			Annotations: ann("A history store has loaded no block for 4 hours", "History store {{ $labels.pod }} in {{ $externalLabels.cluster }} has loaded no new block for 4 hours, where its region uploads one every 2: the global view's copy of that region's history, which it serves while the region is down, ends there.")},
		{Alert: "ThanosQueryStoreLost", Expr: fmt.Sprintf(`sum by (pod) (thanos_store_nodes_grpc_connections{%[1]s}) < max by (pod) (max_over_time(sum by (pod) (thanos_store_nodes_grpc_connections{%[1]s})[6h:5m]))`, queriers),
			For: "10m", Labels: warn,
			Annotations: ann("Thanos querier lost a store", "Querier {{ $labels.pod }} in {{ $externalLabels.cluster }} reaches fewer stores than it did in the last 6 hours: the view it serves misses a region, a replica or history.")},
	}}
}

// probeFailingExpr fires when the probe has not succeeded for 5 minutes,
// or, created more than 15 minutes ago, never has (kube-state-metrics has
// no last-success series until the first success).
func probeFailingExpr(ns string) string {
	sel := fmt.Sprintf(`namespace="%s", cronjob="%s"`, ns, model.ProbeName)
	last := fmt.Sprintf(`max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{%s})`, sel)
	return fmt.Sprintf(`time() - %[1]s > 300 or (time() - max by (namespace, cronjob) (kube_cronjob_created{%[2]s}) > 900 unless %[1]s)`, last, sel)
}

// RunbookDoc is the document that holds a section per alert.
const RunbookDoc = "docs/operations.md"

// RunbookURL is an alert's runbook: its section of RunbookDoc, by the
// heading's anchor (the alert's name in lower case).
func RunbookURL(alert string) string { return RunbookDoc + "#" + strings.ToLower(alert) }

// runbookLink is RunbookURL under where the repository is browsed.
func runbookLink(base, alert string) string {
	if base == "" {
		return RunbookURL(alert)
	}
	return strings.TrimSuffix(base, "/") + "/" + RunbookURL(alert)
}

// zoneUnavailableExpr is the share of a zone's nodes that are not Ready,
// per cluster and zone: kube-state-metrics' readiness joined with the
// node's zone label (allowed by KubeStateMetrics.MetricLabelsAllowlist).
const zoneUnavailableExpr = `sum by (cluster, zone) (label_replace((kube_node_status_condition{condition="Ready",status="true"} == bool 0) ` +
	`* on (cluster, node) group_left (label_topology_kubernetes_io_zone) max by (cluster, node, label_topology_kubernetes_io_zone) (kube_node_labels), "zone", "$1", "label_topology_kubernetes_io_zone", "(.+)")) ` +
	`/ count by (cluster, zone) (label_replace(max by (cluster, node, label_topology_kubernetes_io_zone) (kube_node_labels), "zone", "$1", "label_topology_kubernetes_io_zone", "(.+)")) >= 0.5`

// Inhibition mutes an alert's symptoms while it fires in the same cluster.
type Inhibition struct {
	Source  string
	Targets []string
}

// Inhibitions keep one zone's loss, or a lost ZooKeeper quorum, from
// paging for each of their symptoms. LedgerEntryWithoutReplica (data
// lost) and ZooKeeperQuorumLost (a cause) are never muted.
var Inhibitions = []Inhibition{
	{Source: "ZoneUnavailable", Targets: []string{"PulsarBrokerDown", "BookieReadOnly", "UnderReplicatedLedgers", "PulsarPublishLatencyHigh", "SubscriptionBacklogHigh", "ThanosQueryStoreLost"}},
	{Source: "ZooKeeperQuorumLost", Targets: []string{"PulsarBrokerDown", "PulsarPublishLatencyHigh", "SubscriptionBacklogHigh", "GeoReplicationBacklogGrowing", "PulsarProbeFailing"}},
}

// NeverInhibited are the alerts no inhibition may mute.
var NeverInhibited = []string{"LedgerEntryWithoutReplica", "ZooKeeperQuorumLost"}

// InhibitRules are Alertmanager's form of Inhibitions.
func InhibitRules() []InhibitRule {
	var out []InhibitRule
	for _, in := range Inhibitions {
		out = append(out, InhibitRule{SourceMatchers: []string{fmt.Sprintf("alertname = %q", in.Source)},
			TargetMatchers: []string{fmt.Sprintf("alertname =~ %q", strings.Join(in.Targets, "|"))}, Equal: []string{"cluster"}})
	}
	return out
}

// Expressions lists every PromQL expression of the alerts and dashboards.
func Expressions(pulsarNamespace string) []string {
	var out []string
	for _, g := range AlertGroups(pulsarNamespace) {
		for _, r := range g.Rules {
			out = append(out, r.Expr)
		}
	}
	for _, d := range Dashboards() {
		for _, p := range d.Panels {
			for _, t := range p.Targets {
				out = append(out, t.Expr)
			}
		}
	}
	return out
}

// MetricNames parses expressions with the Prometheus parser and returns the
// metric names they select, failing on a syntax error or an unknown name.
func MetricNames(exprs []string) ([]string, error) {
	seen := map[string]bool{}
	for _, e := range exprs {
		ast, err := parser.ParseExpr(e)
		if err != nil {
			return nil, fmt.Errorf("expression %q: %w", e, err)
		}
		var bad error
		parser.Inspect(ast, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				name := vs.Name
				if _, known := KnownMetrics[name]; !known {
					bad = fmt.Errorf("expression %q: metric %q is not in KnownMetrics", e, name)
				}
				seen[name] = true
			}
			return nil
		})
		if bad != nil {
			return nil, bad
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}
