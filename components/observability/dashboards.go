package observability

import (
	"fmt"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Panel is one dashboard panel: a time series of Targets, or, with Text,
// a Markdown text panel.
type Panel struct {
	Title   string
	Unit    string
	Targets []Target
	Text    string
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

// Dashboards are the fleet dashboards, read from the global querier. Every
// expression is parsed and its metrics checked against KnownMetrics.
func Dashboards() []Dashboard {
	return []Dashboard{overview(), backlog(), geoReplication(), bookies(), zookeeper(), capacity(), globalView()}
}

// globalView watches the metrics pipeline itself: what the Thanos alerts
// read, per region.
func globalView() Dashboard {
	return Dashboard{UID: "pulsar-fleet-thanos", Title: "Global metrics view (Thanos)", Panels: []Panel{
		{Title: "Blocks uploaded by the sidecars (3h)", Unit: "short", Targets: []Target{
			{`sum by (cluster, pod) (increase(thanos_shipper_uploads_total[3h]))`, "{{cluster}} {{pod}}"}}},
		{Title: "Failed block uploads (rate)", Unit: "short", Targets: []Target{
			{`sum by (cluster, pod) (rate(thanos_shipper_upload_failures_total[5m]))`, "{{cluster}} {{pod}}"}}},
		{Title: "Compactor halted", Unit: "short", Targets: []Target{
			{`max by (cluster) (thanos_compact_halted)`, "{{cluster}}"}}},
		{Title: "Stores each querier reaches", Unit: "short", Targets: []Target{
			{`sum by (cluster, pod) (thanos_store_nodes_grpc_connections)`, "{{cluster}} {{pod}}"}}},
	}}
}

func overview() Dashboard {
	return Dashboard{UID: "pulsar-fleet-overview", Title: "Pulsar fleet overview", Panels: []Panel{
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
		{Title: "End-to-end probe: seconds since its last success", Unit: "s", Targets: []Target{
			{`max by (cluster) (time() - kube_cronjob_status_last_successful_time{cronjob="` + model.ProbeName + `"})`, "{{cluster}}"}}},
	}}
}

func backlog() Dashboard {
	return Dashboard{UID: "pulsar-fleet-backlog", Title: "Pulsar backlog by topic and subscription", Panels: []Panel{
		{Title: "Backlog by topic (top 20)", Unit: "short", Targets: []Target{
			{`topk(20, sum by (cluster, topic) (pulsar_msg_backlog))`, "{{cluster}} {{topic}}"}}},
		{Title: "Backlog by subscription (top 20)", Unit: "short", Targets: []Target{
			{`topk(20, sum by (cluster, topic, subscription) (pulsar_subscription_back_log))`, "{{cluster}} {{topic}} {{subscription}}"}}},
		{Title: "Dispatch rate by subscription (top 20)", Unit: "short", Targets: []Target{
			{`topk(20, sum by (cluster, topic, subscription) (pulsar_subscription_msg_rate_out))`, "{{cluster}} {{topic}} {{subscription}}"}}},
	}}
}

func geoReplication() Dashboard {
	pair := "{{cluster}} -> {{remote_cluster}}"
	return Dashboard{UID: "pulsar-fleet-geo-replication", Title: "Pulsar geo-replication", Panels: []Panel{
		{Title: "Replication backlog", Unit: "short", Targets: []Target{{`sum by (cluster, remote_cluster) (pulsar_replication_backlog)`, pair}}},
		{Title: "Replication rate", Unit: "short", Targets: []Target{
			{`sum by (cluster, remote_cluster) (pulsar_replication_rate_out)`, pair + " out"},
			{`sum by (cluster, remote_cluster) (pulsar_replication_rate_in)`, pair + " in"}}},
		{Title: "Replication lag (worst topic)", Unit: "s", Targets: []Target{
			{`max by (cluster, remote_cluster) (pulsar_replication_delay_in_seconds)`, pair}}},
	}}
}

// p99 is the 99th percentile of a BookKeeper latency summary (successful
// operations), the worst pod per cluster.
func p99(metric string) []Target {
	return []Target{{fmt.Sprintf(`max by (cluster, pod) (%s{success="true",quantile="0.99"})`, metric), "{{cluster}} {{pod}}"}}
}

func bookies() Dashboard {
	return Dashboard{UID: "pulsar-fleet-bookies", Title: "BookKeeper bookies", Panels: []Panel{
		{Title: "Ledger disk use", Unit: "percent", Targets: []Target{
			{`max by (cluster, pod) (bookie_ledger_dir__pulsar_data_bookkeeper_ledgers_usage)`, "{{cluster}} {{pod}}"}}},
		{Title: "Writable bookies", Unit: "short", Targets: []Target{{`sum by (cluster) (bookie_SERVER_STATUS == bool 1)`, "{{cluster}}"}}},
		{Title: "Journal add latency p99", Unit: "ms", Targets: p99("bookie_journal_JOURNAL_ADD_ENTRY")},
		{Title: "Journal fsync latency p99", Unit: "ms", Targets: p99("bookie_journal_JOURNAL_SYNC")},
		{Title: "Add-entry request latency p99", Unit: "ms", Targets: p99("bookkeeper_server_ADD_ENTRY_REQUEST")},
		{Title: "Ledger storage flush latency p99", Unit: "ms", Targets: p99("bookie_flush")},
		{Title: "Under-replicated ledgers", Unit: "short", Targets: []Target{
			{`max by (cluster) (auditor_NUM_UNDER_REPLICATED_LEDGERS{quantile="1.0"})`, "{{cluster}}"}}},
	}}
}

func zookeeper() Dashboard {
	pod := "{{cluster}} {{pod}}"
	return Dashboard{UID: "pulsar-fleet-zookeeper", Title: "ZooKeeper", Panels: []Panel{
		{Title: "Servers up", Unit: "short", Targets: []Target{{`sum by (cluster) (up{job=~".*zookeeper.*"})`, "{{cluster}}"}}},
		{Title: "Quorum size", Unit: "short", Targets: []Target{{`max by (cluster) (quorum_size)`, "{{cluster}}"}}},
		{Title: "Outstanding requests", Unit: "short", Targets: []Target{{`max by (cluster, pod) (outstanding_requests)`, pod}}},
		{Title: "Update latency p99", Unit: "ms", Targets: []Target{{`max by (cluster, pod) (updatelatency{quantile="0.99"})`, pod}}},
		{Title: "Read latency p99", Unit: "ms", Targets: []Target{{`max by (cluster, pod) (readlatency{quantile="0.99"})`, pod}}},
		{Title: "Znodes", Unit: "short", Targets: []Target{{`max by (cluster) (znode_count)`, "{{cluster}}"}}},
		{Title: "Client connections", Unit: "short", Targets: []Target{{`sum by (cluster) (num_alive_connections)`, "{{cluster}}"}}},
	}}
}

func capacity() Dashboard {
	return Dashboard{UID: "pulsar-fleet-capacity", Title: "Karpenter and spot", Panels: []Panel{
		{Title: "Spot interruptions by type (1h)", Unit: "short", Targets: []Target{
			{`sum by (cluster, message_type) (increase(karpenter_interruption_received_messages_total[1h]))`, "{{cluster}} {{message_type}}"}}},
		{Title: "Nodes by capacity type and pool", Unit: "short", Targets: []Target{
			{`count by (cluster, nodepool, capacity_type) (karpenter_nodes_allocatable{resource_type="cpu"})`, "{{cluster}} {{nodepool}} {{capacity_type}}"}}},
		{Title: "Nodes disrupted (1h)", Unit: "short", Targets: []Target{
			{`sum by (cluster, reason, capacity_type) (increase(karpenter_nodeclaims_disrupted_total[1h]))`, "{{cluster}} {{reason}} {{capacity_type}}"}}},
		{Title: "Pending pods", Unit: "short", Targets: []Target{
			{`sum by (cluster, namespace) (kube_pod_status_phase{phase="Pending"})`, "{{cluster}} {{namespace}}"}}},
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

// PhaseCost is the plan's monthly cost of every region at a phase.
type PhaseCost struct {
	Phase     string
	MsgPerSec int
	// Current marks the phase the region runs at.
	Current bool
	Regions []RegionCost
	// Error is why the phase could not be planned ("" when it was).
	Error string
}

// RegionCost is one region's planned monthly cost.
type RegionCost struct {
	Stack      string
	MonthlyUSD float64
}

// CostDashboard is the fleet's cost per phase, region by region, from the
// capacity plan: one text panel, since the figures are the plan's, not
// measured.
func CostDashboard(costs []PhaseCost) Dashboard {
	var stacks []string
	for _, c := range costs {
		if len(c.Regions) > len(stacks) {
			stacks = stacks[:0]
			for _, r := range c.Regions {
				stacks = append(stacks, r.Stack)
			}
		}
	}
	var b strings.Builder
	b.WriteString("Monthly cost per phase, from `pulsar-fleet plan` (list prices, the plan's spot shares; USD).\n\n")
	b.WriteString("| Phase | fleet msg/s | " + strings.Join(stacks, " | ") + " | total |\n|---|---:|" + strings.Repeat("---:|", len(stacks)+1) + "\n")
	for _, c := range costs {
		phase := c.Phase
		if c.Current {
			phase = "**" + phase + " (now)**"
		}
		fmt.Fprintf(&b, "| %s | %d |", phase, c.MsgPerSec)
		if c.Error != "" {
			fmt.Fprintf(&b, " not plannable: %s |\n", c.Error)
			continue
		}
		total := 0.0
		for _, r := range c.Regions {
			fmt.Fprintf(&b, " %.0f |", r.MonthlyUSD)
			total += r.MonthlyUSD
		}
		fmt.Fprintf(&b, " %.0f |\n", total)
	}
	return Dashboard{UID: "pulsar-fleet-cost", Title: "Cost per phase", Panels: []Panel{
		{Title: "Fleet cost per phase, from the plan", Text: b.String()}}}
}
