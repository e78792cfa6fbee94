package security

import (
	"encoding/json"

	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
)

// networkIsolated: the cluster enforces NetworkPolicies (the VPC CNI's
// policy agent), and the Pulsar release's policies keep ZooKeeper and the
// bookies from every pod outside the namespace, and the bookies from the
// proxies, which face clients.
func networkIsolated(v *view) []Finding {
	releases := v.helmReleases("pulsar")
	if len(releases) == 0 {
		return nil
	}
	var out []Finding
	for _, c := range v.byType["eks:index:Cluster"] {
		if get(c.Inputs, "vpcCniOptions.enableNetworkPolicy") != true {
			out = append(out, fail(res(c), "vpcCniOptions.enableNetworkPolicy is not true: NetworkPolicies would be stored and not enforced"))
		}
	}
	for _, r := range releases {
		values, _ := r.Inputs["values"].(map[string]any)
		if !servesClients(values) {
			continue
		}
		out = append(out, isolation(res(r), str(r.Inputs["namespace"]), policiesIn(values))...)
	}
	return out
}

// isolation probes the policies: who outside the namespace, or which
// client-facing pod, reaches ZooKeeper or a bookie.
func isolation(where, ns string, policies []pulsar.NetworkPolicy) []Finding {
	pod := func(ns, component string) pulsar.Endpoint {
		return pulsar.Endpoint{Namespace: ns, Labels: map[string]string{"app": pulsar.ChartName, "component": component}}
	}
	var out []Finding
	for _, p := range []struct {
		who      string
		src, dst pulsar.Endpoint
		port     int
	}{
		{"a pod in another namespace", pod("default", pulsar.CompBroker), pod(ns, pulsar.CompZooKeeper), 2181},
		{"a pod in another namespace", pod("default", pulsar.CompBroker), pod(ns, pulsar.CompBookie), 3181},
		{"a proxy", pod(ns, pulsar.CompProxy), pod(ns, pulsar.CompBookie), 3181},
	} {
		if pulsar.Admits(policies, p.src, p.dst, p.port) {
			out = append(out, fail(where, "%s reaches %s on port %d (NetworkPolicies in %s)", p.who, p.dst.Labels["component"], p.port, ns))
		}
	}
	return out
}

// policiesIn are the NetworkPolicies among a release's extraDeploy.
func policiesIn(values map[string]any) []pulsar.NetworkPolicy {
	objs, _ := values["extraDeploy"].([]any)
	var out []pulsar.NetworkPolicy
	for _, o := range objs {
		if get(o, "kind") != "NetworkPolicy" {
			continue
		}
		var p pulsar.NetworkPolicy
		if b, err := json.Marshal(o); err == nil && json.Unmarshal(b, &p) == nil {
			out = append(out, p)
		}
	}
	return out
}
