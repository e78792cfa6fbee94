package model

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
	LabelArch         = "kubernetes.io/arch"
	LabelZone         = "topology.kubernetes.io/zone"
	LabelInstanceType = "node.kubernetes.io/instance-type"
	LabelFamily       = "karpenter.k8s.aws/instance-family"

	// TagKarpenterDiscovery marks the subnets and security groups
	// Karpenter's EC2NodeClasses select.
	TagKarpenterDiscovery = "karpenter.sh/discovery"
)

// Client-facing ports (TLS terminates at the NLB) and the proxy's health
// path, which Route53 health checks and the NLB probe.
const (
	PortPulsarTLS = 6651
	PortHTTPS     = 443
	HealthPath    = "/status.html"
)
