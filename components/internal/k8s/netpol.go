package k8s

import "github.com/pulsar-fleet/pulsar-fleet/model"

// IngressPolicy isolates the pods pods selects in ns: they take no
// traffic but what rules admit (none: the pods are closed). Egress is
// left open.
func IngressPolicy(name, ns string, pods LabelSelector, rules ...NetworkPolicyRule) NetworkPolicy {
	return NetworkPolicy{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy",
		Metadata: Meta{Name: name, Namespace: ns, Labels: map[string]string{model.LabelPartOf: model.PartOf}},
		Spec:     NetworkPolicySpec{PodSelector: pods, PolicyTypes: []string{"Ingress"}, Ingress: rules}}
}

// EgressPolicy limits where the pods pods selects in ns send: only where
// rules admit (nowhere without rules).
func EgressPolicy(name, ns string, pods LabelSelector, rules ...NetworkPolicyEgressRule) NetworkPolicy {
	return NetworkPolicy{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy",
		Metadata: Meta{Name: name, Namespace: ns, Labels: map[string]string{model.LabelPartOf: model.PartOf}},
		Spec:     NetworkPolicySpec{PodSelector: pods, PolicyTypes: []string{"Egress"}, Egress: rules}}
}

// SendTo admits sending to the peers (anywhere when nil) on the ports of
// protocol (every port and protocol when no port is given).
func SendTo(to []NetworkPolicyPeer, protocol string, ports ...int) NetworkPolicyEgressRule {
	r := NetworkPolicyEgressRule{To: to}
	for _, p := range ports {
		r.Ports = append(r.Ports, NetworkPolicyPort{Protocol: protocol, Port: p})
	}
	return r
}

// DNS admits name lookups (UDP and TCP) to the cluster's resolver only:
// CoreDNS's pods, and the kube-dns Service's address (AWS's policy
// controller adds it for the pods' selector too; listed, it holds
// whichever way an agent matches). Port 53 to any address would be a raw
// channel out.
func DNS() []NetworkPolicyEgressRule {
	to := func() []NetworkPolicyPeer {
		return append([]NetworkPolicyPeer{ClusterDNS()}, CIDRPeers(model.KubeDNSAddresses)...)
	}
	return []NetworkPolicyEgressRule{SendTo(to(), "UDP", model.PortDNS), SendTo(to(), "TCP", model.PortDNS)}
}

// ClusterDNS is CoreDNS's pods in kube-system.
func ClusterDNS() NetworkPolicyPeer {
	return NetworkPolicyPeer{
		NamespaceSelector: &LabelSelector{MatchLabels: map[string]string{model.LabelNamespaceName: model.NamespaceNodeAgents}},
		PodSelector:       &LabelSelector{MatchLabels: map[string]string{model.LabelK8sApp: model.KubeDNSApp}},
	}
}

// TLSEgress limits the pods pods selects in ns to DNS (the cluster's
// resolver) and TLS on 443 to any address: what a controller that talks to the API server and AWS
// APIs alone needs. The instance metadata service (port 80) and every
// plaintext port stay closed.
func TLSEgress(name, ns string, pods LabelSelector) NetworkPolicy {
	return EgressPolicy(name, ns, pods, append(DNS(), SendTo(nil, "TCP", model.PortHTTPS))...)
}

// AnyNamespace is every pod of every namespace.
func AnyNamespace() NetworkPolicyPeer { return NetworkPolicyPeer{NamespaceSelector: &LabelSelector{}} }

// SameNamespace is every pod of the policy's namespace.
func SameNamespace() NetworkPolicyPeer { return NetworkPolicyPeer{PodSelector: &LabelSelector{}} }

// DefaultDeny isolates every pod of ns: what no other policy admits is
// refused.
func DefaultDeny(name, ns string) NetworkPolicy { return IngressPolicy(name, ns, LabelSelector{}) }

// AllowTCP admits from on the TCP ports (from anywhere when from is nil;
// on every port when ports is empty).
func AllowTCP(from []NetworkPolicyPeer, ports ...int) NetworkPolicyRule {
	r := NetworkPolicyRule{From: from}
	for _, p := range ports {
		r.Ports = append(r.Ports, NetworkPolicyPort{Protocol: "TCP", Port: p})
	}
	return r
}

// Pods selects the pods of the policy's namespace with labels.
func Pods(labels map[string]string) LabelSelector { return LabelSelector{MatchLabels: labels} }

// PodPeer is the pods of the policy's namespace with labels.
func PodPeer(labels map[string]string) NetworkPolicyPeer {
	return NetworkPolicyPeer{PodSelector: &LabelSelector{MatchLabels: labels}}
}

// NamespacePeer is every pod of namespace ns.
func NamespacePeer(ns string) NetworkPolicyPeer {
	return NetworkPolicyPeer{NamespaceSelector: &LabelSelector{MatchLabels: map[string]string{model.LabelNamespaceName: ns}}}
}

// CIDRPeer is every address in cidr.
func CIDRPeer(cidr string) NetworkPolicyPeer { return NetworkPolicyPeer{IPBlock: &IPBlock{CIDR: cidr}} }

// CIDRPeers are the blocks as peers (none for none).
func CIDRPeers(cidrs []string) []NetworkPolicyPeer {
	var out []NetworkPolicyPeer
	for _, c := range cidrs {
		out = append(out, CIDRPeer(c))
	}
	return out
}

// FromNamespace admits every pod of namespace ns on the TCP ports.
func FromNamespace(ns string, ports ...int) NetworkPolicyRule {
	return AllowTCP([]NetworkPolicyPeer{NamespacePeer(ns)}, ports...)
}

// IngressFromBlocks is a door for the addresses in cidrs to the pods pods
// selects in ns, on the TCP ports: one policy, or none when cidrs is
// empty (a rule without peers would admit anyone).
func IngressFromBlocks(name, ns string, pods LabelSelector, cidrs []string, ports ...int) []NetworkPolicy {
	if len(cidrs) == 0 {
		return nil
	}
	return []NetworkPolicy{IngressPolicy(name, ns, pods, AllowTCP(CIDRPeers(cidrs), ports...))}
}
