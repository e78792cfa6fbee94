package observability

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// KnownMetrics are the metric names dashboards and alerts may use, each
// with where it comes from. Every expression is parsed and checked against
// this list, and the remote-write keep filter is built from the names the
// expressions really use.
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
	"bookie_ledger_dir__pulsar_data_bookkeeper_ledgers_usage": "BookKeeper LedgerDirsMonitor: ledger disk usage (%) of /pulsar/data/bookkeeper/ledgers",
	"auditor_NUM_UNDER_REPLICATED_LEDGERS":                    "BookKeeper auditor (ReplicationStats): under-replicated ledgers per audit, summary",
	"auditor_NUM_LEDGERS_HAVING_NO_REPLICA_OF_AN_ENTRY":       "BookKeeper auditor (ReplicationStats): ledgers with an entry that has no replica left",
	"karpenter_interruption_received_messages_total":          "Karpenter: interruption queue messages received, message_type label",
	"karpenter_nodes_allocatable":                             "Karpenter: allocatable resources of its nodes",
	"node_network_transmit_bytes_total":                       "node-exporter: bytes sent per interface",
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
// writes. Pulsar's pod monitors label targets with job <namespace>/<name>.
func AlertGroups(pulsarNamespace string) []Group {
	job := func(component string) string { return fmt.Sprintf(`job="%s/pulsar-%s"`, pulsarNamespace, component) }
	crit := map[string]string{"severity": "critical"}
	warn := map[string]string{"severity": "warning"}
	ann := func(summary, desc string) map[string]string {
		return map[string]string{"summary": summary, "description": desc}
	}
	return []Group{
		{Name: "pulsar-availability", Rules: []Rule{
			{Alert: "PulsarBrokerDown", Expr: fmt.Sprintf(`up{%s} == 0`, job("broker")), For: "2m", Labels: crit,
				Annotations: ann("Pulsar broker down", "Broker {{ $labels.pod }} in {{ $labels.cluster }} has been unreachable for 2 minutes.")},
			{Alert: "ZooKeeperQuorumLost", Expr: fmt.Sprintf(`sum(up{%[1]s}) <= count(up{%[1]s}) / 2`, job("zookeeper")), For: "1m", Labels: crit,
				Annotations: ann("ZooKeeper quorum lost", "Half or more of the ZooKeeper servers in {{ $labels.cluster }} are down: metadata writes and topic ownership stop.")},
			{Alert: "PulsarPublishLatencyHigh", Expr: `max by (cluster) (pulsar_broker_publish_latency{quantile="0.99"}) > 250`, For: "10m", Labels: warn,
				Annotations: ann("Publish latency p99 above 250 ms", "p99 publish latency in {{ $labels.cluster }} is {{ $value }} ms.")},
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
				Annotations: ann("Geo-replication backlog growing", "Replication from {{ $labels.cluster }} to {{ $labels.remote_cluster }} has fallen behind and keeps growing.")},
		}},
		{Name: "capacity", Rules: []Rule{
			{Alert: "SpotInterruptionRateHigh", Expr: `sum by (cluster) (increase(karpenter_interruption_received_messages_total{message_type="spot_interrupted"}[1h])) > 5`, For: "0m", Labels: warn,
				Annotations: ann("Spot interruptions above 5 per hour", "{{ $value }} spot interruptions in the last hour in {{ $labels.cluster }}: diversify the pools or raise the on-demand share.")},
		}},
	}
}

// Panel is one dashboard panel.
type Panel struct {
	Title   string
	Unit    string
	Targets []Target
}

// Target is one query of a panel.
type Target struct {
	Expr   string
	Legend string
}

// Dashboard is a Grafana dashboard provisioned as code.
type Dashboard struct {
	UID    string
	Title  string
	Panels []Panel
}

// Dashboards are the fleet dashboards, read from the global store.
func Dashboards() []Dashboard {
	return []Dashboard{{
		UID: "pulsar-fleet-overview", Title: "Pulsar fleet overview",
		Panels: []Panel{
			{Title: "Message rate", Unit: "short", Targets: []Target{
				{`sum by (cluster) (pulsar_rate_in)`, "{{cluster}} in"}, {`sum by (cluster) (pulsar_rate_out)`, "{{cluster}} out"}}},
			{Title: "Throughput", Unit: "Bps", Targets: []Target{
				{`sum by (cluster) (pulsar_throughput_in)`, "{{cluster}} in"}, {`sum by (cluster) (pulsar_throughput_out)`, "{{cluster}} out"}}},
			{Title: "Backlog", Unit: "short", Targets: []Target{{`sum by (cluster) (pulsar_msg_backlog)`, "{{cluster}}"}}},
			{Title: "Backlog by subscription (top 20)", Unit: "short", Targets: []Target{
				{`topk(20, sum by (cluster, namespace, topic, subscription) (pulsar_subscription_back_log))`, "{{cluster}} {{topic}} {{subscription}}"}}},
			{Title: "Publish latency p50 / p95 / p99", Unit: "ms", Targets: publishLatency()},
			{Title: "Storage size", Unit: "bytes", Targets: []Target{{`sum by (cluster) (pulsar_storage_size)`, "{{cluster}}"}}},
			{Title: "Offloaded to S3", Unit: "bytes", Targets: []Target{{`sum by (cluster) (pulsar_storage_offloaded_size)`, "{{cluster}}"}}},
			{Title: "Geo-replication backlog", Unit: "short", Targets: []Target{
				{`sum by (cluster, remote_cluster) (pulsar_replication_backlog)`, "{{cluster}} -> {{remote_cluster}}"},
				{`sum by (cluster, remote_cluster) (pulsar_replication_rate_out)`, "{{cluster}} -> {{remote_cluster}} rate"}}},
			{Title: "Spot interruptions (1h)", Unit: "short", Targets: []Target{
				{`sum by (cluster, message_type) (increase(karpenter_interruption_received_messages_total[1h]))`, "{{cluster}} {{message_type}}"}}},
			{Title: "Node egress", Unit: "Bps", Targets: []Target{
				{`sum by (cluster) (rate(node_network_transmit_bytes_total{device!="lo"}[5m]))`, "{{cluster}}"}}},
			{Title: "Bookie disk usage", Unit: "percent", Targets: []Target{
				{`max by (cluster) (bookie_ledger_dir__pulsar_data_bookkeeper_ledgers_usage)`, "{{cluster}} max"}}},
			{Title: "Under-replicated ledgers", Unit: "short", Targets: []Target{
				{`max by (cluster) (auditor_NUM_UNDER_REPLICATED_LEDGERS{quantile="1.0"})`, "{{cluster}}"}}},
		},
	}}
}

// PublishLatencyQuantiles are the quantiles the fleet dashboard shows, of
// those the broker's publish latency summary exports (0, 0.5, 0.95, 0.99,
// 0.999, 0.9999 and 1: ServerCnx PUBLISH_LATENCY).
var PublishLatencyQuantiles = map[string]string{"p50": "0.5", "p95": "0.95", "p99": "0.99"}

// publishLatency is one target per quantile, the worst broker of each
// cluster.
func publishLatency() []Target {
	var out []Target
	for _, name := range []string{"p50", "p95", "p99"} {
		q := PublishLatencyQuantiles[name]
		out = append(out, Target{fmt.Sprintf(`max by (cluster) (pulsar_broker_publish_latency{quantile="%s"})`, q), "{{cluster}} " + name})
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

// KeepRegex is the remote-write keep filter: exactly the metrics the
// dashboards and alerts use (anchored by Prometheus).
func KeepRegex(pulsarNamespace string) (string, error) {
	names, err := MetricNames(Expressions(pulsarNamespace))
	if err != nil {
		return "", err
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n)
	}
	return strings.Join(quoted, "|"), nil
}
