package pulsar

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Who may reach whom, by the policies alone (tests/netpol_test.go checks
// the same against the pods the real chart renders).
func TestNetworkPolicies(t *testing.T) {
	policies := NetworkPolicies(Config{Namespace: "pulsar"})
	pod := func(ns string, labels ...string) k8s.Endpoint {
		m := map[string]string{}
		for i := 0; i+1 < len(labels); i += 2 {
			m[labels[i]] = labels[i+1]
		}
		return k8s.Endpoint{Namespace: ns, Labels: m}
	}
	comp := func(c string, release ...string) k8s.Endpoint {
		r := "pulsar"
		if len(release) > 0 {
			r = release[0]
		}
		return pod("pulsar", "app", "pulsar", "release", r, "component", c)
	}
	prometheus := pod(model.NamespaceMonitoring, "app.kubernetes.io/name", "prometheus")
	rackSync := pod("pulsar", "app.kubernetes.io/name", RackSyncName, model.LabelPartOf, model.PartOf)
	stranger := pod("default", "app", "pulsar", "component", "broker")
	for _, tc := range []struct {
		name     string
		src, dst k8s.Endpoint
		port     int
		want     bool
	}{
		{"broker to bookie", comp("broker"), comp("bookie"), 3181, true},
		{"broker to an NVMe bookie", comp("broker"), comp("bookie", "pulsar-nvme"), 3181, true},
		{"autorecovery to bookie", comp("recovery"), comp("bookie"), 3181, true},
		{"proxy to bookie", comp("proxy"), comp("bookie"), 3181, false},
		{"toolset to bookie", comp("toolset"), comp("bookie"), 3181, false},
		{"bookie to bookie", comp("bookie"), comp("bookie", "pulsar-nvme"), 3181, false},
		{"prometheus scrapes a bookie", prometheus, comp("bookie"), 8000, true},
		{"prometheus to the bookie port", prometheus, comp("bookie"), 3181, false},
		{"broker to a bookie's HTTP port", comp("broker"), comp("bookie"), 8000, false},
		{"NVMe bookie to ZooKeeper over TLS", comp("bookie", "pulsar-nvme"), comp("zookeeper"), 2281, true},
		{"to ZooKeeper in plaintext", comp("broker"), comp("zookeeper"), 2181, false},
		{"ZooKeeper quorum", comp("zookeeper"), comp("zookeeper"), 2888, true},
		{"ZooKeeper election", comp("zookeeper"), comp("zookeeper"), 3888, true},
		{"broker to ZooKeeper's quorum port", comp("broker"), comp("zookeeper"), 2888, false},
		{"NVMe bookie to ZooKeeper's election port", comp("bookie", "pulsar-nvme"), comp("zookeeper"), 3888, false},
		{"toolset to ZooKeeper's quorum port", comp("toolset"), comp("zookeeper"), 2888, false},
		{"another namespace to ZooKeeper", stranger, comp("zookeeper"), 2281, false},
		{"rack sync to ZooKeeper", rackSync, comp("zookeeper"), 2281, false},
		{"proxy to broker over TLS", comp("proxy"), comp("broker"), 6651, true},
		{"proxy to broker in plaintext", comp("proxy"), comp("broker"), 6650, false},
		{"rack sync to broker admin over TLS", rackSync, comp("broker"), 8443, true},
		{"rack sync to broker admin in plaintext", rackSync, comp("broker"), 8080, false},
		{"another namespace to broker admin", stranger, comp("broker"), 8443, false},
		{"prometheus scrapes a broker", prometheus, comp("broker"), 8080, true},
		{"prometheus to the broker's binary port", prometheus, comp("broker"), 6651, false},
		{"anyone to a proxy", stranger, comp("proxy"), 6651, true},
		{"anyone to a proxy's web port over TLS", stranger, comp("proxy"), 8443, true},
		{"anyone to a proxy in plaintext", stranger, comp("proxy"), 6650, false},
		{"anyone to a proxy's plaintext web port", stranger, comp("proxy"), 8080, false},
		{"prometheus scrapes a proxy", prometheus, comp("proxy"), 8080, true},
		{"anyone to a proxy's other ports", stranger, comp("proxy"), 9999, false},
		{"anyone to the toolset", comp("broker"), comp("toolset"), 8080, false},
		{"anyone to the rack sync job", comp("broker"), rackSync, 8080, false},
		{"prometheus scrapes autorecovery", prometheus, comp("recovery"), 8000, true},
		{"a pod in another namespace is not isolated", comp("broker"), stranger, 8080, true},
	} {
		assert.Equal(t, tc.want, k8s.Admits(policies, tc.src, tc.dst, tc.port), tc.name)
	}

	// What the namespace's pods send: each other anything, DNS, and TLS
	// on 443 and 6651 to any address; nothing plaintext leaves, the
	// instance metadata service included.
	address := func(ip string) k8s.Endpoint { return k8s.Endpoint{IP: ip} }
	s3, imds, peerListener := address("52.216.0.10"), address("169.254.169.254"), address("10.20.3.7")
	coreDNS := pod("kube-system", "k8s-app", "kube-dns")
	for _, tc := range []struct {
		name     string
		src, dst k8s.Endpoint
		protocol string
		port     int
		want     bool
	}{
		{"broker to ZooKeeper", comp("broker"), comp("zookeeper"), "TCP", 2281, true},
		{"NVMe bookie to ZooKeeper", comp("bookie", "pulsar-nvme"), comp("zookeeper"), "TCP", 2281, true},
		{"rack sync to broker admin", rackSync, comp("broker"), "TCP", 8443, true},
		{"broker offloads to S3", comp("broker"), s3, "TCP", 443, true},
		{"broker replicates to a peer's private listener", comp("broker"), peerListener, "TCP", 6651, true},
		{"DNS over UDP", comp("bookie"), coreDNS, "UDP", 53, true},
		{"DNS over TCP", comp("zookeeper"), coreDNS, "TCP", 53, true},
		{"DNS to the kube-dns Service's address", comp("broker"), address("10.100.0.10"), "UDP", 53, true},
		{"a broker to another resolver (a raw channel out)", comp("broker"), address("203.0.113.9"), "UDP", 53, false},
		{"a broker to the instance metadata service", comp("broker"), imds, "TCP", 80, false},
		{"a bookie to the internet in plaintext", comp("bookie"), s3, "TCP", 80, false},
		{"a bookie to SSH anywhere", comp("bookie"), address("203.0.113.9"), "TCP", 22, false},
		{"a broker to another namespace's plaintext port", comp("broker"), stranger, "TCP", 8080, false},
		{"a proxy to a UDP port", comp("proxy"), s3, "UDP", 443, false},
		{"a pod in another namespace is not limited", stranger, address("203.0.113.9"), "TCP", 22, true},
	} {
		assert.Equal(t, tc.want, Sends(policies, tc.src, tc.dst, tc.protocol, tc.port), tc.name)
	}
}
