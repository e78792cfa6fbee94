package model

import (
	"encoding/json"
	"fmt"
)

// The end-to-end probe's result reaches Route53 through CloudWatch: the
// probe prints one JSON line when it has produced and consumed a message,
// Fluent Bit merges that line into the pod's log record (merge_log), and
// two metric filters on the region's log group turn it into the metrics
// below. An alarm on Success backs the region's Route53 health check, so
// a region whose brokers accept connections but cannot store messages
// drops out of the global name.
const (
	// ProbeResultField is the result line's marker field; ProbeResultOK
	// its value on success (the probe prints nothing of it on failure).
	ProbeResultField = "pulsarFleetProbe"
	ProbeResultOK    = "ok"
	// ProbeLatencyField is the time in milliseconds from the message's
	// publish time (stamped by the producer's client as it sends) to the
	// consumer's receipt, on the probe pod's clock: publish, persist on an
	// ack quorum, and dispatch through the proxy, without the clients'
	// JVM start. -1 when the consumer's output named no publish time.
	ProbeLatencyField = "latencyMs"
	// ProbeMetricNamespace holds the probe's CloudWatch metrics: Success
	// (1 per successful run) and LatencyMs.
	ProbeMetricNamespace = "PulsarFleet/Probe"
	ProbeMetricSuccess   = "Success"
	ProbeMetricLatency   = "LatencyMs"
	// ProbeContainer is the probe pod's container: the filters count only
	// its lines (Fluent Bit adds the kubernetes metadata they match).
	ProbeContainer = "probe"
)

// ProbeResultLine is the line the probe prints on success.
func ProbeResultLine(latencyMs int64) string {
	b, _ := json.Marshal(map[string]any{ProbeResultField: ProbeResultOK, ProbeLatencyField: latencyMs})
	return string(b)
}

// ProbeResultPrintf is the shell printf of ProbeResultLine, its one
// argument the latency in milliseconds.
func ProbeResultPrintf() string {
	return fmt.Sprintf(`printf '{"%s":"%s","%s":%%d}\n'`, ProbeResultField, ProbeResultOK, ProbeLatencyField)
}

// ProbeSuccessPattern and ProbeLatencyPattern are the metric filters'
// JSON patterns: a successful run of the probe container in the Pulsar
// namespace (no other pod's line counts), and its latency (the filter's
// value is $.latencyMs).
func ProbeSuccessPattern(namespace string) string {
	return fmt.Sprintf(`{ $.%s = "%s" && $.kubernetes.namespace_name = "%s" && $.kubernetes.container_name = "%s" }`,
		ProbeResultField, ProbeResultOK, namespace, ProbeContainer)
}

// ProbeLatencyPattern matches a successful run that reports its latency.
func ProbeLatencyPattern(namespace string) string {
	return fmt.Sprintf(`{ $.%s = "%s" && $.%s >= 0 && $.kubernetes.namespace_name = "%s" && $.kubernetes.container_name = "%s" }`,
		ProbeResultField, ProbeResultOK, ProbeLatencyField, namespace, ProbeContainer)
}

// ProbeLatencyValue is the latency filter's metric value.
func ProbeLatencyValue() string { return "$." + ProbeLatencyField }

// ProbeAlarmName is the region's probe alarm, which its Route53 health
// check watches.
func ProbeAlarmName(stack string) string { return "pulsar-fleet-" + stack + "-probe" }
