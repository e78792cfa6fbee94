package k8s

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Admits as the API defines it: unselected pods take anything; a selected
// pod takes what a rule of an ingress policy admits, by pod, namespace or
// address; an egress-only policy isolates no ingress.
func TestAdmits(t *testing.T) {
	web := map[string]string{"app": "web"}
	pod := func(ns string, labels map[string]string, ip string) Endpoint {
		return Endpoint{Namespace: ns, Labels: labels, IP: ip}
	}
	dst := pod("a", web, "")
	monitoring := pod("monitoring", map[string]string{"app": "prometheus"}, "10.0.1.1")
	sameNS := pod("a", map[string]string{"app": "client"}, "10.0.1.2")
	controlPlane := Endpoint{IP: "10.0.9.9"}
	outside := Endpoint{IP: "192.0.2.1"}
	egressOnly := IngressPolicy("egress", "a", LabelSelector{})
	egressOnly.Spec.PolicyTypes = []string{"Egress"}
	for _, tc := range []struct {
		name     string
		policies []NetworkPolicy
		src      Endpoint
		port     int
		want     bool
	}{
		{"no policy: open", nil, outside, 80, true},
		{"a policy in another namespace: open", []NetworkPolicy{DefaultDeny("deny", "b")}, outside, 80, true},
		{"default deny", []NetworkPolicy{DefaultDeny("deny", "a")}, sameNS, 80, false},
		{"egress-only default deny isolates no ingress", []NetworkPolicy{egressOnly}, outside, 80, true},
		{"empty policyTypes means ingress", []NetworkPolicy{{Metadata: Meta{Name: "p", Namespace: "a"}}}, outside, 80, false},
		{"pods of the policy's namespace", []NetworkPolicy{IngressPolicy("p", "a", Pods(web), AllowTCP([]NetworkPolicyPeer{PodPeer(map[string]string{"app": "client"})}, 80))}, sameNS, 80, true},
		{"same labels, other namespace", []NetworkPolicy{IngressPolicy("p", "a", Pods(web), AllowTCP([]NetworkPolicyPeer{PodPeer(map[string]string{"app": "prometheus"})}, 80))}, monitoring, 80, false},
		{"a namespace peer", []NetworkPolicy{IngressPolicy("p", "a", Pods(web), AllowTCP([]NetworkPolicyPeer{NamespacePeer("monitoring")}, 80))}, monitoring, 80, true},
		{"a namespace peer, another port", []NetworkPolicy{IngressPolicy("p", "a", Pods(web), AllowTCP([]NetworkPolicyPeer{NamespacePeer("monitoring")}, 80))}, monitoring, 81, false},
		{"an address in the block", []NetworkPolicy{IngressPolicy("p", "a", Pods(web), AllowTCP(CIDRPeers([]string{"10.0.0.0/16"}), 443))}, controlPlane, 443, true},
		{"a pod's address in the block", []NetworkPolicy{IngressPolicy("p", "a", Pods(web), AllowTCP(CIDRPeers([]string{"10.0.0.0/16"}), 443))}, monitoring, 443, true},
		{"an address outside the block", []NetworkPolicy{IngressPolicy("p", "a", Pods(web), AllowTCP(CIDRPeers([]string{"10.0.0.0/16"}), 443))}, outside, 443, false},
		{"an address-only source is no pod", []NetworkPolicy{IngressPolicy("p", "a", Pods(web), AllowTCP([]NetworkPolicyPeer{NamespacePeer("a")}))}, controlPlane, 443, false},
		{"a rule without peers admits anyone", []NetworkPolicy{IngressPolicy("p", "a", Pods(web), AllowTCP(nil, 443))}, outside, 443, true},
		{"no peers from no blocks", []NetworkPolicy{IngressPolicy("p", "a", Pods(web), AllowTCP(CIDRPeers(nil), 443))}, outside, 443, true},
	} {
		assert.Equal(t, tc.want, Admits(tc.policies, tc.src, dst, tc.port), tc.name)
	}
	assert.Empty(t, IngressFromBlocks("door", "a", Pods(web), nil, 443), "no blocks, no door")
	door := IngressFromBlocks("door", "a", Pods(web), []string{"10.0.0.0/16"}, 443)
	assert.True(t, Admits(door, controlPlane, dst, 443))
	assert.False(t, Admits(door, outside, dst, 443))
	assert.False(t, Admits(door, controlPlane, dst, 444))
}

// Sends as the API defines egress: unselected pods send anywhere; a
// selected pod sends what a rule admits, by pod, namespace or address
// (but an ipBlock's except), on a port, a range (endPort) or every port of
// a protocol; a policy with egress rules and no policyTypes limits egress.
func TestSends(t *testing.T) {
	src := Endpoint{Namespace: "a", Labels: map[string]string{"app": "web"}}
	peer := Endpoint{Namespace: "a", Labels: map[string]string{"app": "db"}}
	other := Endpoint{Namespace: "b", Labels: map[string]string{"app": "db"}}
	vpc, imds, internet := Endpoint{IP: "10.0.0.5"}, Endpoint{IP: "169.254.169.254"}, Endpoint{IP: "203.0.113.9"}
	limited := EgressPolicy("egress", "a", LabelSelector{},
		SendTo([]NetworkPolicyPeer{SameNamespace()}, ""), SendTo(nil, "UDP", 53), SendTo(nil, "TCP", 443))
	withRange := EgressPolicy("range", "a", LabelSelector{}, NetworkPolicyEgressRule{
		To:    []NetworkPolicyPeer{{IPBlock: &IPBlock{CIDR: "0.0.0.0/0", Except: []string{"169.254.169.254/32"}}}},
		Ports: []NetworkPolicyPort{{Protocol: "TCP", Port: 8000, EndPort: 8100}, {Protocol: "UDP"}}})
	untyped := limited
	untyped.Spec.PolicyTypes = nil
	ingressOnly := IngressPolicy("in", "a", LabelSelector{})
	// One peer with both selectors is their intersection.
	resolver := EgressPolicy("dns", "a", LabelSelector{}, DNS()...)
	coreDNS := Endpoint{Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}, IP: "10.0.2.2"}
	for _, tc := range []struct {
		name     string
		policies []NetworkPolicy
		dst      Endpoint
		protocol string
		port     int
		want     bool
	}{
		{"no policy", nil, internet, "TCP", 22, true},
		{"an ingress policy limits no egress", []NetworkPolicy{ingressOnly}, internet, "TCP", 22, true},
		{"to the namespace, any port", []NetworkPolicy{limited}, peer, "TCP", 5432, true},
		{"to another namespace", []NetworkPolicy{limited}, other, "TCP", 5432, false},
		{"DNS", []NetworkPolicy{limited}, vpc, "UDP", 53, true},
		{"DNS over TCP not listed", []NetworkPolicy{limited}, vpc, "TCP", 53, false},
		{"TLS anywhere", []NetworkPolicy{limited}, internet, "TCP", 443, true},
		{"plaintext anywhere", []NetworkPolicy{limited}, internet, "TCP", 80, false},
		{"no policyTypes, egress rules", []NetworkPolicy{untyped}, internet, "TCP", 80, false},
		{"in a range", []NetworkPolicy{withRange}, internet, "TCP", 8080, true},
		{"past a range", []NetworkPolicy{withRange}, internet, "TCP", 8101, false},
		{"every UDP port", []NetworkPolicy{withRange}, internet, "UDP", 123, true},
		{"an excepted address", []NetworkPolicy{withRange}, imds, "TCP", 8080, false},
		{"policies add up", []NetworkPolicy{limited, withRange}, vpc, "TCP", 8050, true},
		{"the cluster's resolver", []NetworkPolicy{resolver}, coreDNS, "UDP", 53, true},
		{"a pod of the resolver's namespace without its label", []NetworkPolicy{resolver}, Endpoint{Namespace: "kube-system", Labels: map[string]string{}}, "UDP", 53, false},
		{"a pod with the resolver's label in another namespace", []NetworkPolicy{resolver}, Endpoint{Namespace: "b", Labels: coreDNS.Labels}, "UDP", 53, false},
		{"the resolver's Service address", []NetworkPolicy{resolver}, Endpoint{IP: "172.20.0.10"}, "TCP", 53, true},
		{"another resolver", []NetworkPolicy{resolver}, Endpoint{IP: "8.8.8.8"}, "UDP", 53, false},
	} {
		assert.Equal(t, tc.want, Sends(tc.policies, src, tc.dst, tc.protocol, tc.port), tc.name)
	}
}
