package pulsar

import (
	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Container ports of the chart's components (its values' `ports`, the
// same in every release): what the NetworkPolicies admit. With TLS on, the
// chart serves ZooKeeper on 2281 only and the brokers' and proxies' binary
// protocol on 6651 only; their web port 8080 stays plaintext, for
// Prometheus (and the chart's own pods, for the brokers).
const (
	portZooKeeperClientTLS = 2281
	portZooKeeperFollower  = 2888
	portZooKeeperElection  = 3888
	portHTTPMetrics        = 8000 // ZooKeeper, bookie and autorecovery HTTP (metrics, health)
	portBookie             = 3181
	portPulsarTLS          = 6651
	portWebHTTP            = 8080 // broker and proxy HTTP: admin, metrics, health
	portWebHTTPS           = 8443
	portHTTPS              = 443
)

// CompToolset is the chart's toolset component (an admin shell pod).
const CompToolset = "toolset"

// NetworkPolicies isolate the Pulsar namespace. Every pod takes no traffic
// but what a policy admits (the node's own traffic, kubelet's probes, is
// always admitted by the VPC CNI's policy agent):
//   - ZooKeeper, on its TLS client port, from the chart's pods of any
//     release (bookies of every set, brokers, autorecovery, init jobs,
//     toolset), and on its quorum and election ports from its own servers
//     only (the quorum checks a peer's certificate against the region's
//     CA, which signs every component's, and no host name);
//   - bookies, from brokers and autorecovery only;
//   - brokers' TLS ports, from the chart's pods (proxies, brokers,
//     toolset, init jobs) and the program's jobs (rack sync,
//     geo-replication); their plaintext web port from the chart's pods
//     only, never the program's jobs (they use TLS);
//   - proxies' TLS ports, from anywhere (the load balancer keeps client
//     IPs); their plaintext web port from Prometheus only;
//   - the metrics ports, from Prometheus' namespace only.
//
// And every pod sends only (egressPolicy): to the namespace's pods, DNS,
// and TLS on 443 and 6651 to any address.
func NetworkPolicies(a Config) []k8s.NetworkPolicy {
	ns := a.Namespace
	chart := k8s.PodPeer(map[string]string{LabelApp: ChartName})
	ours := k8s.PodPeer(map[string]string{model.LabelPartOf: model.PartOf})
	dataPeers := k8s.NetworkPolicyPeer{PodSelector: &k8s.LabelSelector{MatchExpressions: []k8s.LabelSelectorRequirement{
		{Key: LabelComponent, Operator: "In", Values: []string{CompBroker, CompAutorecovery}}}}}
	component := func(c string) k8s.LabelSelector {
		return k8s.Pods(map[string]string{LabelApp: ChartName, LabelComponent: c})
	}
	metrics := func(port int) k8s.NetworkPolicyRule { return k8s.FromNamespace(model.NamespaceMonitoring, port) }
	return []k8s.NetworkPolicy{
		k8s.DefaultDeny("pulsar-default-deny", ns),
		k8s.IngressPolicy("pulsar-zookeeper", ns, component(CompZooKeeper),
			k8s.AllowTCP([]k8s.NetworkPolicyPeer{chart}, portZooKeeperClientTLS),
			k8s.AllowTCP([]k8s.NetworkPolicyPeer{{PodSelector: ptr(component(CompZooKeeper))}}, portZooKeeperFollower, portZooKeeperElection),
			metrics(portHTTPMetrics)),
		k8s.IngressPolicy("pulsar-bookie", ns, component(CompBookie),
			k8s.AllowTCP([]k8s.NetworkPolicyPeer{dataPeers}, portBookie), metrics(portHTTPMetrics)),
		k8s.IngressPolicy("pulsar-autorecovery", ns, component(CompAutorecovery), metrics(portHTTPMetrics)),
		k8s.IngressPolicy("pulsar-broker", ns, component(CompBroker),
			k8s.AllowTCP([]k8s.NetworkPolicyPeer{chart, ours}, portPulsarTLS, portWebHTTPS),
			k8s.AllowTCP([]k8s.NetworkPolicyPeer{chart}, portWebHTTP), metrics(portWebHTTP)),
		k8s.IngressPolicy("pulsar-proxy", ns, component(CompProxy), k8s.AllowTCP(nil, portPulsarTLS, portWebHTTPS), metrics(portWebHTTP)),
		egressPolicy(ns),
	}
}

// egressPolicy limits what the namespace's pods send: anything to each
// other (ZooKeeper, bookies, brokers, proxies, the jobs), DNS, and TLS to
// any address on 443 (S3 for offload, STS for IRSA, the API server for
// rack sync, the peers' private listeners' admin API) and 6651 (the peers'
// private listeners for replication, the client listener for the probe).
// The peers' and AWS's addresses are not known to the program (public
// endpoints, NLB addresses that change), so the door is by port: a
// compromised pod cannot reach a plaintext port anywhere, the instance
// metadata service (port 80) included, nor another namespace but on those
// ports.
func egressPolicy(ns string) k8s.NetworkPolicy {
	rules := append([]k8s.NetworkPolicyEgressRule{k8s.SendTo([]k8s.NetworkPolicyPeer{k8s.SameNamespace()}, "")}, k8s.DNS()...)
	return k8s.EgressPolicy("pulsar-egress", ns, k8s.LabelSelector{}, append(rules, k8s.SendTo(nil, "TCP", portHTTPS, portPulsarTLS))...)
}

// Sends says whether policies let src send to dst on a port of a
// protocol (k8s.Sends).
func Sends(policies []NetworkPolicy, src, dst Endpoint, protocol string, port int) bool {
	return k8s.Sends(policies, src, dst, protocol, port)
}

// NetworkPolicy, its peers and ports, and Endpoint are k8s's, for the
// tests and checks that
// read rendered policies.
type (
	NetworkPolicy     = k8s.NetworkPolicy
	NetworkPolicyPeer = k8s.NetworkPolicyPeer
	NetworkPolicyPort = k8s.NetworkPolicyPort
	Endpoint          = k8s.Endpoint
)

// Admits says whether policies let src reach dst on a TCP port
// (k8s.Admits).
func Admits(policies []NetworkPolicy, src, dst Endpoint, port int) bool {
	return k8s.Admits(policies, src, dst, port)
}
