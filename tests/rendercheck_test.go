package tests

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
)

// find returns the rendered object of a kind and name (nil when absent).
func find(objs []manifests.Object, kind, name string) map[string]any {
	for _, o := range objs {
		if o.Kind() == kind && o.Name() == name {
			return o.Object
		}
	}
	return nil
}

func field(obj map[string]any, path ...string) map[string]any {
	for _, p := range path {
		next, _ := obj[p].(map[string]any)
		if next == nil {
			return map[string]any{}
		}
		obj = next
	}
	return obj
}

func data(obj map[string]any) map[string]any { return field(obj, "data") }
func spec(obj map[string]any) map[string]any { return field(obj, "spec") }
func podSpec(obj map[string]any) map[string]any {
	return field(obj, "spec", "template", "spec")
}

// num reads an integer from rendered YAML (int) or JSON (float64).
func num(v any) (int, bool) {
	switch t := v.(type) {
	case int:
		return t, true
	case float64:
		return int(t), true
	case string:
		n, err := strconv.Atoi(t)
		return n, err == nil
	}
	return 0, false
}

// component is one Pulsar StatefulSet and the design it must follow.
type component struct {
	name     string // the StatefulSet, its ConfigMap and PDB
	pod      pulsar.Pod
	replicas int // 0: the HPA owns the count
	pdb      bool
}

func pulsarComponents(d regions.RegionDesign) []component {
	a, p := d.Components.Pulsar, d.Plan
	out := []component{
		{"pulsar-zookeeper", a.ZooKeeper, a.ZooKeeper.Replicas, true},
		{"pulsar-recovery", a.Autorecovery, p.Autorecovery, false},
		{"pulsar-broker", a.Brokers, 0, true},
		{"pulsar-proxy", a.Proxies, 0, true},
	}
	for _, set := range a.BookieSets {
		out = append(out, component{set.StatefulSet(), set.Pod, set.Pod.Replicas, true})
	}
	return out
}

// pulsarProblems compares the rendered Pulsar release with the design: one
// line per difference.
func pulsarProblems(d regions.RegionDesign, objs []manifests.Object) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	a, p := d.Components.Pulsar, d.Plan
	want := map[string]string{
		"managedLedgerDefaultEnsembleSize":                      strconv.Itoa(p.Quorum.Ensemble),
		"managedLedgerDefaultWriteQuorum":                       strconv.Itoa(p.Quorum.WriteQuorum),
		"managedLedgerDefaultAckQuorum":                         strconv.Itoa(p.Quorum.AckQuorum),
		"bookkeeperClientRackawarePolicyEnabled":                "true",
		"bookkeeperClientEnforceMinNumRacksPerWriteQuorum":      "true",
		"bookkeeperClientMinNumRacksPerWriteQuorum":             strconv.Itoa(p.Quorum.MinRacksPerWriteQuorum),
		"brokerDeduplicationEnabled":                            "true",
		"managedLedgerOffloadDriver":                            "aws-s3",
		"s3ManagedLedgerOffloadBucket":                          d.Stack + "-offload", // the mocks name a bucket after its resource
		"s3ManagedLedgerOffloadRegion":                          d.Region,
		"PULSAR_PREFIX_managedLedgerOffloadThresholdInBytes":    strconv.FormatInt(a.Offload.ThresholdBytes, 10),
		"PULSAR_PREFIX_managedLedgerOffloadDeletionLagInMillis": strconv.FormatInt(a.Offload.DeletionLagMs, 10),
		"managedLedgerOffloadThresholdInSeconds":                strconv.FormatInt(a.Offload.AfterSeconds, 10),
	}
	conf := data(find(objs, "ConfigMap", "pulsar-broker"))
	for k, v := range want {
		if got := fmt.Sprint(conf[k]); got != v {
			bad("broker.conf %s = %q, the design says %q", k, got, v)
		}
	}
	for _, set := range a.BookieSets {
		bk := data(find(objs, "ConfigMap", set.StatefulSet()))
		if bk["journalSyncData"] != "true" {
			bad("%s bookkeeper.conf journalSyncData = %v, want true", set.StatefulSet(), bk["journalSyncData"])
		}
		// The journal files the planner sized the journal volume for.
		for k, v := range map[string]int{"journalMaxSizeMB": model.JournalFileMiB, "journalMaxBackups": model.JournalBackups} {
			if bk[k] != strconv.Itoa(v) {
				bad("%s bookkeeper.conf %s = %v, the planner sizes the journal for %d", set.StatefulSet(), k, bk[k], v)
			}
		}
		if set.Storage == model.StorageNVMe && bk["diskUsageThreshold"] != "0.88" {
			bad("%s bookkeeper.conf diskUsageThreshold = %v on NVMe bookies, want 0.88", set.StatefulSet(), bk["diskUsageThreshold"])
		}
		// Every set reaches the one metadata store: the chart's own
		// bookies get this from the chart, a set in its own release from
		// the program.
		if bk["metadataServiceUri"] != pulsar.MetadataServiceURI() {
			bad("%s bookkeeper.conf metadataServiceUri = %v, want %s", set.StatefulSet(), bk["metadataServiceUri"], pulsar.MetadataServiceURI())
		}
	}
	for _, c := range pulsarComponents(d) {
		out = append(out, componentProblems(objs, c)...)
	}
	for _, h := range []struct {
		name     string
		min, max int
	}{{"pulsar-broker", p.BrokerHPA.Min, p.BrokerHPA.Max}, {"pulsar-proxy", p.ProxyHPA.Min, p.ProxyHPA.Max}} {
		s := spec(find(objs, "HorizontalPodAutoscaler", h.name))
		lo, _ := num(s["minReplicas"])
		hi, _ := num(s["maxReplicas"])
		if lo != h.min || hi != h.max {
			bad("HorizontalPodAutoscaler %s: %d..%d, the plan says %d..%d", h.name, lo, hi, h.min, h.max)
		}
	}
	return out
}

// componentProblems checks one StatefulSet: replicas, resources, JVM,
// pool, zone spread, anti-affinity and its PDB.
func componentProblems(objs []manifests.Object, c component) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(c.name+": "+format, args...)) }
	sts := find(objs, "StatefulSet", c.name)
	if sts == nil {
		return []string{"no StatefulSet " + c.name}
	}
	n, set := num(spec(sts)["replicas"])
	switch {
	case c.replicas == 0 && set:
		bad("%s replicas = %d while its HPA owns the count", c.name, n)
	case c.replicas > 0 && n != c.replicas:
		bad("%s replicas = %d, the plan says %d", c.name, n, c.replicas)
	}
	ps := podSpec(sts)
	containers, _ := ps["containers"].([]any)
	if len(containers) == 0 {
		return append(out, c.name+": no container")
	}
	res := field(containers[0].(map[string]any), "resources", "requests")
	if res["cpu"] != fmt.Sprintf("%dm", c.pod.CPUMillis) || res["memory"] != fmt.Sprintf("%dMi", c.pod.MemoryMiB) {
		bad("requests %v, the plan says %dm CPU, %dMi", res, c.pod.CPUMillis, c.pod.MemoryMiB)
	}
	cm := data(find(objs, "ConfigMap", c.name))
	jvm := fmt.Sprint(cm["PULSAR_MEM"], " ", cm["BOOKIE_MEM"])
	if !strings.Contains(jvm, fmt.Sprintf("-Xmx%dm", c.pod.HeapMiB)) {
		bad("JVM %q lacks the planned heap -Xmx%dm", jvm, c.pod.HeapMiB)
	}
	sel := map[string]any{}
	for k, v := range c.pod.Placement.NodeSelector {
		sel[k] = v
	}
	if len(sel) == 0 || !reflect.DeepEqual(ps["nodeSelector"], sel) {
		bad("nodeSelector %v, the design's pool is %v", ps["nodeSelector"], sel)
	}
	if !hasZoneSpread(ps) {
		bad("no topology spread across zones")
	}
	if req, _ := field(ps, "affinity", "podAntiAffinity")["requiredDuringSchedulingIgnoredDuringExecution"].([]any); len(req) == 0 {
		bad("anti-affinity is not required")
	}
	if !c.pdb {
		return out
	}
	pdb := spec(find(objs, "PodDisruptionBudget", c.name))
	if mu, _ := num(pdb["maxUnavailable"]); mu != 1 {
		bad("PodDisruptionBudget %s maxUnavailable = %v, want 1", c.name, pdb["maxUnavailable"])
	}
	if !subset(field(pdb, "selector", "matchLabels"), field(sts, "spec", "template", "metadata", "labels")) {
		bad("PodDisruptionBudget %s selects none of its pods", c.name)
	}
	return out
}

func hasZoneSpread(ps map[string]any) bool {
	cs, _ := ps["topologySpreadConstraints"].([]any)
	for _, c := range cs {
		if m, _ := c.(map[string]any); m["topologyKey"] == "topology.kubernetes.io/zone" {
			return true
		}
	}
	return false
}

// subset reports whether every label of want is in have (and want is not
// empty).
func subset(want, have map[string]any) bool {
	if len(want) == 0 {
		return false
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// selectsSomething reports whether a PodMonitor selects a pod template,
// or a ServiceMonitor a Service, among objs (in its namespaces).
func selectsSomething(m manifests.Object, objs []manifests.Object) bool {
	s := field(m.Object, "spec")
	want := field(s, "selector", "matchLabels")
	namespaces := map[string]bool{m.Namespace(): true}
	if names, ok := field(s, "namespaceSelector")["matchNames"].([]any); ok {
		namespaces = map[string]bool{}
		for _, n := range names {
			namespaces[fmt.Sprint(n)] = true
		}
	}
	for _, o := range objs {
		if !namespaces[o.Namespace()] {
			continue
		}
		var labels map[string]any
		switch {
		case m.Kind() == "ServiceMonitor" && o.Kind() == "Service":
			labels = field(o.Object, "metadata", "labels")
		case m.Kind() == "PodMonitor" && (o.Kind() == "StatefulSet" || o.Kind() == "Deployment" || o.Kind() == "DaemonSet"):
			labels = field(o.Object, "spec", "template", "metadata", "labels")
		default:
			continue
		}
		if subset(want, labels) {
			return true
		}
	}
	return false
}
