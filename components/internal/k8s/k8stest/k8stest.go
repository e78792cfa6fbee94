// Package k8stest holds assertions the components' tests share about the
// Kubernetes objects they make.
package k8stest

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// EgressCase is what a pod may send: to dst on a port of a protocol.
type EgressCase struct {
	Name     string
	Dst      k8s.Endpoint
	Protocol string
	Port     int
	Want     bool
}

// To is a case: pod sends to dst on port of protocol when want.
func To(name string, dst k8s.Endpoint, protocol string, port int, want bool) EgressCase {
	return EgressCase{Name: name, Dst: dst, Protocol: protocol, Port: port, Want: want}
}

// AssertEgress asserts each case for pod.
func AssertEgress(t testing.TB, policies []k8s.NetworkPolicy, pod k8s.Endpoint, cases []EgressCase) {
	t.Helper()
	for _, c := range cases {
		assert.Equal(t, c.Want, k8s.Sends(policies, pod, c.Dst, c.Protocol, c.Port), "%v to %s", pod.Labels, c.Name)
	}
}

// AssertTLSOnlyEgress asserts that policies let pod send DNS to the
// cluster's resolver and TLS on 443 to an API server's address, and
// nothing else: not DNS elsewhere, not another port of the API server, not
// plaintext to the internet, not the instance metadata service, not
// Prometheus' API, not SSH inside the VPC.
func AssertTLSOnlyEgress(t testing.TB, policies []k8s.NetworkPolicy, pod k8s.Endpoint) {
	t.Helper()
	apiServer := k8s.Endpoint{IP: "10.20.7.9"}
	internet := k8s.Endpoint{IP: "198.51.100.9"}
	metadata := k8s.Endpoint{IP: "169.254.169.254"}
	prometheus := k8s.Endpoint{Namespace: model.NamespaceMonitoring, Labels: map[string]string{model.LabelAppName: "prometheus"}, IP: "10.20.1.1"}
	coreDNS := k8s.Endpoint{Namespace: model.NamespaceNodeAgents, Labels: map[string]string{model.LabelK8sApp: model.KubeDNSApp}, IP: "10.20.2.2"}
	AssertEgress(t, policies, pod, []EgressCase{
		{"the API server", apiServer, "TCP", model.PortHTTPS, true},
		{"CoreDNS over UDP", coreDNS, "UDP", model.PortDNS, true},
		{"CoreDNS over TCP", coreDNS, "TCP", model.PortDNS, true},
		{"the kube-dns Service's address", k8s.Endpoint{IP: "172.20.0.10"}, "UDP", model.PortDNS, true},
		{"another address of the Service range", k8s.Endpoint{IP: "172.20.0.11"}, "UDP", model.PortDNS, false},
		{"another resolver, or anything on port 53", internet, "UDP", model.PortDNS, false},
		{"a VPC address on port 53", apiServer, "TCP", model.PortDNS, false},
		{"CoreDNS on another port", coreDNS, "TCP", 9153, false},
		{"the API server on another port", apiServer, "TCP", 6443, false},
		{"the internet in plaintext", internet, "TCP", 80, false},
		{"the instance metadata service", metadata, "TCP", 80, false},
		{"Prometheus' API", prometheus, "TCP", 9090, false},
		{"a pod of the VPC over SSH", apiServer, "TCP", 22, false},
	})
}
