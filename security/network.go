package security

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// networkIsolated: the cluster enforces NetworkPolicies (the VPC CNI's
// policy agent), and the Pulsar release's policies keep ZooKeeper and the
// bookies from every pod outside the namespace, and the bookies from the
// proxies, which face clients; and keep the namespace's pods from sending
// on plaintext ports outside it, the instance metadata service included.
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
		ns := str(r.Inputs["namespace"])
		if other := str(values["namespace"]); other != "" && other != ns {
			out = append(out, fail(res(r), "values.namespace %q puts the chart's objects outside the release's namespace %q, which the program's NetworkPolicies and the check's rules cover", other, ns))
		}
		if !servesClients(values) {
			continue
		}
		all, bad := namespacePolicies(v, ns)
		out = append(out, bad...)
		out = append(out, isolation(res(r), ns, all)...)
		out = append(out, egressLimited(res(r), ns, str(r.Inputs["name"]), vpcHosts(v), all)...)
	}
	return out
}

// namespacePolicies are every NetworkPolicy in ns (every namespace for
// ""), wherever declared (a release's extraDeploy, a Pulumi resource):
// policies add up. One that does not read as a NetworkPolicy (a named
// port, say) is a finding, not skipped.
func namespacePolicies(v *view, ns string) ([]pulsar.NetworkPolicy, []Finding) {
	var out []pulsar.NetworkPolicy
	var bad []Finding
	for _, o := range v.objectsOfKind("NetworkPolicy") {
		if ns != "" && o.Namespace() != ns {
			continue
		}
		p, ok := decodePolicy(o.Object)
		if !ok {
			bad = append(bad, fail(o.String(), "a NetworkPolicy in %s the check cannot read (want numeric ports): it may admit anything", o.Namespace()))
			continue
		}
		out = append(out, p)
	}
	return out, bad
}

// egressLimited probes what the namespace's pods send: none of the
// chart's components, nor the program's jobs, sends on a plaintext or
// unused port to an address outside the namespace (the internet, the
// VPC, the instance metadata service) or to another namespace's pods.
func egressLimited(where, ns, release string, vpc []string, policies []pulsar.NetworkPolicy) []Finding {
	sources := map[string]pulsar.Endpoint{
		"the program's job pods": {Namespace: ns, Labels: map[string]string{model.LabelPartOf: model.PartOf}},
	}
	for _, c := range []string{pulsar.CompZooKeeper, pulsar.CompBookie, pulsar.CompBroker, pulsar.CompProxy, pulsar.CompAutorecovery, pulsar.CompToolset} {
		// The labels the chart gives its pods.
		sources[c+" pods"] = pulsar.Endpoint{Namespace: ns, Labels: map[string]string{pulsar.LabelApp: pulsar.ChartName, pulsar.LabelRelease: release, "cluster": release, pulsar.LabelComponent: c}}
	}
	type destination struct {
		name string
		at   pulsar.Endpoint
	}
	destinations := []destination{
		{"203.0.113.9 (any address)", pulsar.Endpoint{IP: "203.0.113.9"}},
		{"10.0.0.5 (a private address)", pulsar.Endpoint{IP: "10.0.0.5"}},
		{"169.254.169.254 (the instance metadata service)", pulsar.Endpoint{IP: "169.254.169.254"}},
		{"a pod in another namespace", pulsar.Endpoint{Namespace: "default", Labels: map[string]string{"app": "anything"}, IP: "10.0.0.6"}},
	}
	for _, ip := range vpc {
		destinations = append(destinations, destination{ip + " (the VPC)", pulsar.Endpoint{IP: ip}})
	}
	var out []Finding
	for _, who := range slices.Sorted(maps.Keys(sources)) {
	probe:
		for _, d := range destinations {
			for _, port := range []int{22, 80, 2181, 3181, 6650, 8080, 9999} {
				if pulsar.Sends(policies, sources[who], d.at, "TCP", port) {
					out = append(out, fail(where, "%s in %s send to %s on port %d: the egress policies admit more than DNS and TLS on 443 and 6651", who, ns, d.name, port))
					break probe
				}
			}
		}
	}
	return out
}

// isolation probes the policies: who outside the namespace reaches
// ZooKeeper (its client, quorum or election port) or a bookie; which pod
// of the namespace but ZooKeeper's own reaches the quorum; whether the
// proxies, which face clients, reach a bookie.
func isolation(where, ns string, policies []pulsar.NetworkPolicy) []Finding {
	pod := func(ns, component string) pulsar.Endpoint {
		return pulsar.Endpoint{Namespace: ns, Labels: map[string]string{pulsar.LabelApp: pulsar.ChartName, pulsar.LabelComponent: component}}
	}
	var out []Finding
	for _, p := range []struct {
		who      string
		src, dst pulsar.Endpoint
		port     int
	}{
		{"a pod in another namespace", pod("default", pulsar.CompBroker), pod(ns, pulsar.CompZooKeeper), 2181},
		{"a pod in another namespace", pod("default", pulsar.CompBroker), pod(ns, pulsar.CompZooKeeper), 2281},
		{"a pod in another namespace", pod("default", pulsar.CompBroker), pod(ns, pulsar.CompZooKeeper), 2888},
		{"a pod in another namespace", pod("default", pulsar.CompBroker), pod(ns, pulsar.CompZooKeeper), 3888},
		{"a broker", pod(ns, pulsar.CompBroker), pod(ns, pulsar.CompZooKeeper), 2888},
		{"a broker", pod(ns, pulsar.CompBroker), pod(ns, pulsar.CompZooKeeper), 3888},
		{"a pod in another namespace", pod("default", pulsar.CompBroker), pod(ns, pulsar.CompBookie), 3181},
		{"a proxy", pod(ns, pulsar.CompProxy), pod(ns, pulsar.CompBookie), 3181},
	} {
		if pulsar.Admits(policies, p.src, p.dst, p.port) {
			out = append(out, fail(where, "%s reaches %s on port %d (NetworkPolicies in %s)", p.who, p.dst.Labels[pulsar.LabelComponent], p.port, ns))
		}
	}
	return out
}

// vpcHosts are an address inside each VPC block of the stack (its
// CIDR's first host), where pods and the VPC's other hosts live.
func vpcHosts(v *view) []string {
	var out []string
	for _, r := range v.byType["aws:ec2/vpc:Vpc"] {
		if b, err := netip.ParsePrefix(str(r.Inputs["cidrBlock"])); err == nil {
			out = append(out, b.Masked().Addr().Next().String())
		}
	}
	return out
}

// decodePolicy reads a NetworkPolicy object.
func decodePolicy(obj any) (pulsar.NetworkPolicy, bool) {
	var p pulsar.NetworkPolicy
	b, err := json.Marshal(obj)
	return p, err == nil && json.Unmarshal(b, &p) == nil
}

// namespacesIsolated: every namespace the program creates isolates all its
// pods (a NetworkPolicy selects each, so what no rule admits is refused),
// and in the namespaces it shares with EKS (kube-system) so does each pod
// it puts there: Karpenter's, and the workloads it adds.
func namespacesIsolated(v *view) []Finding {
	// A policy the check cannot read may admit anything: a finding here
	// too (NETWORK-ISOLATED reports the Pulsar namespace's as well).
	policies, out := namespacePolicies(v, "")
	created := map[string]bool{}
	for _, ns := range v.objectsOfKind("Namespace") {
		created[ns.Name()] = true
		pod := pulsar.Endpoint{Namespace: ns.Name(), Labels: map[string]string{}}
		if who := open(policies, pod); who != "" {
			out = append(out, fail(ns.String(), "namespace %s: a pod no NetworkPolicy isolates takes traffic on every port from %s: want an ingress policy selecting every pod (podSelector {}) that opens only named ports", ns.Name(), who))
		}
		if where := sendsFreely(policies, pod); where != "" {
			out = append(out, fail(ns.String(), "namespace %s: a pod sends to %s: want an egress policy selecting every pod (podSelector {}) that admits only DNS and TLS outside the VPC", ns.Name(), where))
		}
	}
	for _, r := range v.helmReleases("karpenter") {
		ns, name := str(r.Inputs["namespace"]), str(r.Inputs["name"])
		pod := pulsar.Endpoint{Namespace: ns, Labels: map[string]string{model.LabelAppName: "karpenter", model.LabelAppInstance: name}}
		if !created[ns] {
			out = append(out, sharedNamespacePod(res(r), "Karpenter's pods in "+ns, policies, pod)...)
		}
	}
	for _, o := range v.objects {
		labels, ok := podLabels(o)
		if !ok || created[o.Namespace()] {
			continue
		}
		out = append(out, sharedNamespacePod(o.String(), "its pods in "+o.Namespace(), policies, pulsar.Endpoint{Namespace: o.Namespace(), Labels: labels})...)
	}
	return append(out, leaks(v, policies)...)
}

// sharedNamespacePod judges a pod the program puts in a namespace it
// shares with EKS: policies isolate it, and limit what it sends.
func sharedNamespacePod(where, who string, policies []pulsar.NetworkPolicy, pod pulsar.Endpoint) []Finding {
	var out []Finding
	if from := open(policies, pod); from != "" {
		out = append(out, fail(where, "%s: no NetworkPolicy isolates them: they take traffic on every port from %s", who, from))
	}
	if to := sendsFreely(policies, pod); to != "" {
		out = append(out, fail(where, "%s send to %s: want an egress policy that admits only DNS and TLS outside the VPC", who, to))
	}
	return out
}

// sendsFreely names a place outside the VPC a pod can send to on a port
// no egress rule should open ("" for none): the instance metadata
// service, or SSH to an internet address.
func sendsFreely(policies []pulsar.NetworkPolicy, pod pulsar.Endpoint) string {
	switch {
	case pulsar.Sends(policies, pod, pulsar.Endpoint{IP: "169.254.169.254"}, "TCP", 80):
		return "the instance metadata service (169.254.169.254:80)"
	case pulsar.Sends(policies, pod, pulsar.Endpoint{IP: "203.0.113.9"}, "TCP", 22):
		return "the internet on port 22"
	}
	return ""
}

// leaks judges every egress rule of every NetworkPolicy the program makes,
// whatever pods it selects (the charts' pods, which the preview does not
// show, included): a rule that lets pods send outside
// the stack's VPC (no peers, or an address block not inside a VPC block)
// admits DNS (53) and TLS (TCP 443, and 6651 in a namespace that runs a
// Pulsar release) only, each port named. The instance metadata service
// and every plaintext port outside the VPC stay closed.
func leaks(v *view, policies []pulsar.NetworkPolicy) []Finding {
	vpc := vpcBlocks(v)
	pulsarNS := map[string]bool{}
	for _, r := range v.helmReleases("pulsar") {
		pulsarNS[str(r.Inputs["namespace"])] = true
	}
	var out []Finding
	for _, p := range policies {
		ns := p.Metadata.Namespace
		for i, r := range p.Spec.Egress {
			if !sendsOutside(r.To, vpc) {
				continue
			}
			where := "NetworkPolicy " + ns + "/" + p.Metadata.Name
			if bad := outsidePort(r.Ports, pulsarNS[ns]); bad != "" {
				out = append(out, fail(where, "egress rule %d sends outside the VPC on %s: want only DNS (53) to the cluster's resolver and TLS (TCP 443%s) outside it, each port named", i, bad, map[bool]string{true: ", 6651"}[pulsarNS[ns]]))
			} else if namesDNS(r.Ports) && !toClusterResolver(r.To) {
				out = append(out, fail(where, "egress rule %d sends DNS (53) to addresses beyond the cluster's resolver: port 53 anywhere is a raw channel out; want CoreDNS's pods and the kube-dns Service's address %v only", i, model.KubeDNSAddresses))
			}
		}
	}
	return out
}

// sendsOutside says whether a rule's peers reach an address outside the
// VPC blocks: no peers (anywhere), or a block not inside one. Pod and
// namespace selectors are the cluster's pods.
func sendsOutside(to []pulsar.NetworkPolicyPeer, vpc []netip.Prefix) bool {
	if len(to) == 0 {
		return true
	}
	for _, f := range to {
		if f.IPBlock == nil {
			continue
		}
		b, err := netip.ParsePrefix(f.IPBlock.CIDR)
		if err != nil || !slices.ContainsFunc(vpc, func(p netip.Prefix) bool { return p.Bits() <= b.Bits() && p.Contains(b.Addr()) }) {
			return true
		}
	}
	return false
}

// namesDNS says whether ports include DNS.
func namesDNS(ports []pulsar.NetworkPolicyPort) bool {
	return slices.ContainsFunc(ports, func(p pulsar.NetworkPolicyPort) bool { return p.Port == model.PortDNS })
}

// toClusterResolver says whether every peer is pods of the cluster (a
// selector) or the kube-dns Service's address: none, or another block,
// lets port 53 reach another resolver.
func toClusterResolver(to []pulsar.NetworkPolicyPeer) bool {
	return !sendsOutside(to, kubeDNSPrefixes)
}

// kubeDNSPrefixes are model.KubeDNSAddresses, parsed once.
var kubeDNSPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, a := range model.KubeDNSAddresses {
		out = append(out, netip.MustParsePrefix(a))
	}
	return out
}()

// outsidePort is the first port a rule admits beyond DNS and TLS ("" for
// none): every port when none is named, a range, another protocol.
func outsidePort(ports []pulsar.NetworkPolicyPort, pulsarTLS bool) string {
	if len(ports) == 0 {
		return "every port"
	}
	for _, p := range ports {
		proto := cmp.Or(p.Protocol, "TCP")
		switch {
		case p.Port == 0:
			return "every " + proto + " port"
		case p.EndPort > 0 && p.EndPort != p.Port:
			return fmt.Sprintf("%s %d-%d", proto, p.Port, p.EndPort)
		case p.Port == model.PortDNS && (proto == "TCP" || proto == "UDP"):
		case proto == "TCP" && (p.Port == model.PortHTTPS || pulsarTLS && p.Port == model.PortPulsarTLS):
		default:
			return fmt.Sprintf("%s %d", proto, p.Port)
		}
	}
	return ""
}

// vpcBlocks are the stack's VPC blocks: the VPC's and those associated
// with it (added zones).
func vpcBlocks(v *view) []netip.Prefix {
	var out []netip.Prefix
	for _, t := range []string{"aws:ec2/vpc:Vpc", "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation"} {
		for _, r := range v.byType[t] {
			if b, err := netip.ParsePrefix(str(r.Inputs["cidrBlock"])); err == nil {
				out = append(out, b.Masked())
			}
		}
	}
	return out
}

// open says who reaches a pod on a port no one serves (""; nobody): a
// pod of a namespace of no one's, from outside every VPC, or from inside
// a block some policy admits (VPC pods' addresses are in those blocks).
func open(policies []pulsar.NetworkPolicy, pod pulsar.Endpoint) string {
	sources := []string{"192.0.2.1"}
	for _, p := range policies {
		for _, r := range p.Spec.Ingress {
			for _, f := range r.From {
				if f.IPBlock == nil {
					continue
				}
				if b, err := netip.ParsePrefix(f.IPBlock.CIDR); err == nil {
					addr := b.Masked().Addr()
					if b.Bits() < addr.BitLen() {
						addr = addr.Next()
					}
					sources = append(sources, addr.String())
				}
			}
		}
	}
	for _, ip := range sources {
		outsider := pulsar.Endpoint{Namespace: "pulsar-fleet-check-outsider", IP: ip}
		if pulsar.Admits(policies, outsider, pod, 1) {
			return "any pod or address (from " + ip + ")"
		}
	}
	return ""
}

// podLabels are a workload's pod labels; false for a kind that runs no pod.
func podLabels(o manifests.Object) (map[string]string, bool) {
	t, ok := podTemplate(o)
	if !ok {
		return nil, false
	}
	labels := map[string]string{}
	m, _ := get(t, "metadata.labels").(map[string]any)
	for k, val := range m {
		labels[k] = str(val)
	}
	return labels, true
}
