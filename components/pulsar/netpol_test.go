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
}
