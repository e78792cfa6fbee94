package model

import "regexp"

// kubernetesName is an RFC 1123 label: namespaces, service accounts,
// Secrets and the other names the program sets or takes from config.
var kubernetesName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// IsKubernetesName reports whether s is a valid Kubernetes (RFC 1123
// label) name.
func IsKubernetesName(s string) bool { return kubernetesName.MatchString(s) }

// Labels, taints and tags the components select on, and the ports and
// health path clients use: each string once.
const (
	// LabelPool names the pool a node belongs to (system, critical,
	// broker, bookie, general); TaintPool keeps every other workload off it.
	LabelPool = "pulsar-fleet.io/pool"
	TaintPool = LabelPool
	// LabelCapacitySpread splits a pool's nodes into spread domains owned by
	// its on-demand or its spot NodePool.
	LabelCapacitySpread = "pulsar-fleet.io/capacity-spread"

	LabelCapacityType = "karpenter.sh/capacity-type"
	// LabelNodePool is the Karpenter NodePool that made a node;
	// LabelNodeGroup the EKS managed node group (the system nodes).
	LabelNodePool     = "karpenter.sh/nodepool"
	LabelNodeGroup    = "eks.amazonaws.com/nodegroup"
	LabelArch         = "kubernetes.io/arch"
	LabelZone         = "topology.kubernetes.io/zone"
	LabelRegion       = "topology.kubernetes.io/region"
	LabelInstanceType = "node.kubernetes.io/instance-type"
	LabelFamily       = "karpenter.k8s.aws/instance-family"

	// TagKarpenterDiscovery marks the subnets and security groups
	// Karpenter's EC2NodeClasses select.
	TagKarpenterDiscovery = "karpenter.sh/discovery"

	// LabelPartOf with PartOf marks the program's own objects and pods
	// (jobs beside the charts'), which NetworkPolicies select.
	LabelPartOf = "app.kubernetes.io/part-of"
	PartOf      = "pulsar-fleet"
	// LabelAppName, LabelAppInstance (the Helm release) and
	// LabelAppComponent are the recommended labels the charts put on their
	// pods, and the program on its own: what NetworkPolicies and monitors
	// select.
	LabelAppName      = "app.kubernetes.io/name"
	LabelAppInstance  = "app.kubernetes.io/instance"
	LabelAppComponent = "app.kubernetes.io/component"
	// LabelNamespaceName is the label Kubernetes puts on every namespace
	// with its name (NetworkPolicy namespace selectors).
	LabelNamespaceName = "kubernetes.io/metadata.name"
	// NamespaceMonitoring is where Prometheus runs: the only namespace
	// whose pods may scrape the Pulsar components' metrics ports.
	NamespaceMonitoring = "monitoring"
	// NamespaceNodeAgents holds the node agents that need the host's
	// namespaces and paths (node-exporter), beside EKS' own.
	NamespaceNodeAgents = "kube-system"
	// AnnotationIRSARole names the IAM role a service account's pods assume
	// (EKS IAM Roles for Service Accounts).
	AnnotationIRSARole = "eks.amazonaws.com/role-arn"
	// AnnotationLBInternal and AnnotationLBScheme make an AWS load
	// balancer internal ("true"; "internal") or internet-facing (the
	// scheme "internet-facing"): the program sets them, and
	// `pulsar-fleet check` reads them.
	AnnotationLBInternal = "service.beta.kubernetes.io/aws-load-balancer-internal"
	AnnotationLBScheme   = "service.beta.kubernetes.io/aws-load-balancer-scheme"
	// LoadBalancerControllerClass is the AWS Load Balancer Controller's
	// loadBalancerClass: only under it does AnnotationLBScheme count (the
	// in-tree controller, which this program uses, reads
	// AnnotationLBInternal).
	LoadBalancerControllerClass = "service.k8s.aws/nlb"
	// AnnotationTrustChecksum on a pod template is the SHA-256 of the CA
	// certificates its pods trust: a process that reads them only at
	// start (Thanos' queriers) restarts when they change.
	AnnotationTrustChecksum = "pulsar-fleet.io/trust-checksum"
	// ProbeName is the end-to-end probe CronJob in the Pulsar namespace,

	// which the PulsarProbeFailing alert watches.
	ProbeName = "pulsar-fleet-probe"
)

// Pod Security Admission: the labels and levels a namespace enforces.
const (
	LabelPSAEnforce = "pod-security.kubernetes.io/enforce"
	LabelPSAWarn    = "pod-security.kubernetes.io/warn"
	LabelPSAAudit   = "pod-security.kubernetes.io/audit"
	PSARestricted   = "restricted"
	PSABaseline     = "baseline"
)

// PodSecurityLabels enforce a level, and warn and audit at restricted, so
// that what keeps a namespace from restricted shows in every apply.
func PodSecurityLabels(enforce string) map[string]string {
	return map[string]string{LabelPSAEnforce: enforce, LabelPSAWarn: PSARestricted, LabelPSAAudit: PSARestricted}
}

// Load-balanced ports (TLS terminates at the NLB): the Pulsar protocol,
// the only one on the client listener, and the web API (admin, lookups,
// the proxies' health path), on the private listener only.
const (
	PortPulsarTLS = 6651
	PortHTTPS     = 443
	HealthPath    = "/status.html"
)

// PortDNS is where pods look names up (UDP and TCP): every egress policy
// admits it, to the cluster's resolver only.
const PortDNS = 53

// The cluster's resolver: CoreDNS's pods (the EKS add-on's label) behind
// the kube-dns Service.
const (
	LabelK8sApp = "k8s-app"
	KubeDNSApp  = "kube-dns"
)

// KubeDNSAddresses are the kube-dns Service's address in either range EKS
// gives Services when the cluster names none (10.100.0.0/16 or
// 172.20.0.0/16; the program names none, and a cluster's range never
// changes): EKS gives it the range's .10. A policy agent sees a pod's
// lookups to that address before it is translated to a CoreDNS pod's.
var KubeDNSAddresses = []string{"10.100.0.10/32", "172.20.0.10/32"}

// WebPorts are the ports that serve HTTP, Pulsar's admin API among it (the
// proxies' and brokers' web ports, and the usual front ports): no
// internet-facing load balancer leads to one.
var WebPorts = []int{80, PortHTTPS, 8080, 8443}
