package capacity

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Labels and taints the Pulsar component selects on. They are exported as
// typed values (Placement) so nothing repeats the strings.
const (
	// The labels and taints live in model; these names keep the
	// component's vocabulary. Pods spread across LabelCapacitySpread's
	// domains, which holds the planned spot/on-demand ratio.
	LabelPool           = model.LabelPool
	LabelCapacitySpread = model.LabelCapacitySpread
	TaintPool           = model.TaintPool
	LabelCapacityType   = model.LabelCapacityType
	LabelArch           = model.LabelArch
	LabelZone           = model.LabelZone
	LabelInstanceType   = model.LabelInstanceType
	LabelFamily         = model.LabelFamily

	CapacitySpot     = model.CapacitySpot
	CapacityOnDemand = model.CapacityOnDemand
	CapacityReserved = model.CapacityReserved

	// NodeClassDefault uses EBS only; NodeClassNVMe adds a RAID0 of the
	// instance's local NVMe as ephemeral storage.
	NodeClassDefault = "default"
	NodeClassNVMe    = "local-nvme"

	// DefaultAMIAlias selects the latest EKS-optimized AL2023 AMI. Pin a
	// version (al2023@vYYYYMMDD) to control when nodes drift to a new AMI.
	DefaultAMIAlias = "al2023@latest"
)

// Pool is one planned node pool (before the spot/on-demand split).
type Pool struct {
	// Name is critical, broker or bookie.
	Name string
	// InstanceTypes are the types the plan allows (first is the planned one).
	InstanceTypes []string
	// Arches are the CPU architectures among InstanceTypes.
	Arches []model.Arch
	// SpotShare is the planned fraction of spot nodes.
	SpotShare float64
	// Nodes and OnDemandNodes are the planned node counts.
	Nodes, OnDemandNodes int
	// LocalNVMe uses the local-NVMe node class.
	LocalNVMe bool
	// RequireOnDemandBase rejects a split that leaves no on-demand node.
	RequireOnDemandBase bool
	// RequireDiversification rejects a spot pool with too few types.
	RequireDiversification bool
	// LimitCPU and LimitMemoryGiB cap the pool (from the plan, with headroom).
	LimitCPU, LimitMemoryGiB int
	// Consolidation is WhenEmptyOrUnderutilized or WhenEmpty.
	Consolidation string
	// ConsolidateAfter and ExpireAfter are Karpenter durations.
	ConsolidateAfter, ExpireAfter string
	// TerminationGracePeriod bounds draining on disruption.
	TerminationGracePeriod string
	// DisruptionBudgetNodes is how many nodes may be disrupted at once.
	DisruptionBudgetNodes string
	// CapacityReservationIDs let the pool use On-Demand Capacity
	// Reservations (critical pool only).
	CapacityReservationIDs []string
	// DoNotDisrupt marks the pool's pods karpenter.sh/do-not-disrupt.
	DoNotDisrupt bool
	// Untainted pools take any workload that tolerates nothing (the
	// general pool for monitoring and other platform pods).
	Untainted bool
}

// Placement is k8s.Placement (shared by the components).
type Placement = k8s.Placement

// SpreadKey is k8s.SpreadKey (shared by the components).
type SpreadKey = k8s.SpreadKey

// Toleration is k8s.Toleration (shared by the components).
type Toleration = k8s.Toleration

// PlacementFor returns how pods land on a pool.
func PlacementFor(p Pool) Placement {
	pl := Placement{
		NodeSelector: map[string]string{LabelPool: p.Name},
		SpreadKeys:   []SpreadKey{{Key: LabelZone, WhenUnsatisfiable: "DoNotSchedule"}},
		DoNotDisrupt: p.DoNotDisrupt,
	}
	if !p.Untainted {
		pl.Tolerations = []Toleration{{Key: TaintPool, Operator: "Equal", Value: p.Name, Effect: "NoSchedule"}}
	}
	if p.split() {
		pl.SpreadKeys = append(pl.SpreadKeys, SpreadKey{Key: LabelCapacitySpread, WhenUnsatisfiable: "ScheduleAnyway"})
	}
	return pl
}

func (p Pool) spotAllowed() bool { return p.SpotShare > 0 && !p.LocalNVMe }

func (p Pool) split() bool { return p.spotAllowed() && p.SpotShare < 1 }

// ---- Karpenter v1 resources, typed after the CRD schemas ----

// ObjectMeta is the metadata the program sets.
type ObjectMeta struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// NodePool is karpenter.sh/v1 NodePool.
type NodePool struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Metadata   ObjectMeta   `json:"metadata"`
	Spec       NodePoolSpec `json:"spec"`
}

// NodePoolSpec is the NodePool spec.
type NodePoolSpec struct {
	Template   NodeClaimTemplate `json:"template"`
	Disruption Disruption        `json:"disruption"`
	Limits     map[string]string `json:"limits,omitempty"`
	Weight     int               `json:"weight,omitempty"`
}

// NodeClaimTemplate is the template of the pool's NodeClaims.
type NodeClaimTemplate struct {
	Metadata TemplateMeta  `json:"metadata"`
	Spec     NodeClaimSpec `json:"spec"`
}

// TemplateMeta labels the pool's nodes.
type TemplateMeta struct {
	Labels map[string]string `json:"labels,omitempty"`
}

// NodeClaimSpec is what every node of the pool gets.
type NodeClaimSpec struct {
	NodeClassRef           NodeClassRef  `json:"nodeClassRef"`
	Requirements           []Requirement `json:"requirements"`
	Taints                 []Taint       `json:"taints,omitempty"`
	ExpireAfter            string        `json:"expireAfter,omitempty"`
	TerminationGracePeriod string        `json:"terminationGracePeriod,omitempty"`
}

// NodeClassRef points at an EC2NodeClass.
type NodeClassRef struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
	Name  string `json:"name"`
}

// Requirement is a node selector requirement with Karpenter's minValues.
type Requirement struct {
	Key       string   `json:"key"`
	Operator  string   `json:"operator"`
	Values    []string `json:"values,omitempty"`
	MinValues int      `json:"minValues,omitempty"`
}

// Taint is a node taint.
type Taint struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Effect string `json:"effect"`
}

// Disruption is the pool's disruption policy.
type Disruption struct {
	ConsolidationPolicy string   `json:"consolidationPolicy"`
	ConsolidateAfter    string   `json:"consolidateAfter"`
	Budgets             []Budget `json:"budgets,omitempty"`
}

// Budget limits concurrent disruptions.
type Budget struct {
	Nodes   string   `json:"nodes"`
	Reasons []string `json:"reasons,omitempty"`
}

// EC2NodeClass is karpenter.k8s.aws/v1 EC2NodeClass. Role and the security
// group id are outputs of other resources, so they are pulumi inputs.
type EC2NodeClass struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Metadata   ObjectMeta       `json:"metadata"`
	Spec       EC2NodeClassSpec `json:"spec"`
}

// EC2NodeClassSpec is the node class spec.
type EC2NodeClassSpec struct {
	Role                             pulumi.StringInput   `json:"role"`
	AMISelectorTerms                 []AMISelectorTerm    `json:"amiSelectorTerms"`
	SubnetSelectorTerms              []SelectorTerm       `json:"subnetSelectorTerms"`
	SecurityGroupSelectorTerms       []SelectorTerm       `json:"securityGroupSelectorTerms"`
	CapacityReservationSelectorTerms []ReservationTerm    `json:"capacityReservationSelectorTerms,omitempty"`
	MetadataOptions                  MetadataOptions      `json:"metadataOptions"`
	BlockDeviceMappings              []BlockDeviceMapping `json:"blockDeviceMappings"`
	InstanceStorePolicy              string               `json:"instanceStorePolicy,omitempty"`
	Tags                             map[string]string    `json:"tags,omitempty"`
	DetailedMonitoring               bool                 `json:"detailedMonitoring,omitempty"`
}

// AMISelectorTerm selects the AMI by alias.
type AMISelectorTerm struct {
	Alias string `json:"alias"`
}

// SelectorTerm selects subnets or security groups by tags or id.
type SelectorTerm struct {
	Tags map[string]string  `json:"tags,omitempty"`
	ID   pulumi.StringInput `json:"id,omitempty"`
}

// ReservationTerm selects a capacity reservation by id.
type ReservationTerm struct {
	ID string `json:"id"`
}

// MetadataOptions are the instance metadata settings.
type MetadataOptions struct {
	HTTPEndpoint            string `json:"httpEndpoint"`
	HTTPProtocolIPv6        string `json:"httpProtocolIPv6"`
	HTTPPutResponseHopLimit int    `json:"httpPutResponseHopLimit"`
	HTTPTokens              string `json:"httpTokens"`
}

// BlockDeviceMapping is a root or data volume.
type BlockDeviceMapping struct {
	DeviceName string    `json:"deviceName"`
	EBS        EBSVolume `json:"ebs"`
	RootVolume bool      `json:"rootVolume,omitempty"`
}

// EBSVolume is an EBS volume.
type EBSVolume struct {
	VolumeSize          string `json:"volumeSize"`
	VolumeType          string `json:"volumeType"`
	Encrypted           bool   `json:"encrypted"`
	DeleteOnTermination bool   `json:"deleteOnTermination"`
}

// Plan is every Karpenter resource the component creates.
type Plan struct {
	NodeClasses []EC2NodeClass
	NodePools   []NodePool
	Placements  map[string]Placement
}

// SpreadDomains splits the capacity-spread label values between the
// on-demand and the spot NodePool so that pods spread evenly across the
// values land on on-demand nodes in (at least) the planned proportion:
// the smallest n <= 10 with k/n >= onDemand/nodes.
func SpreadDomains(nodes, onDemand int) (od, spot []string) {
	share := float64(onDemand) / float64(nodes)
	bestN, bestK, bestGap := 1, 1, math.Inf(1)
	for n := 2; n <= 10; n++ {
		k := int(math.Ceil(share*float64(n) - 1e-9))
		if k < 1 || k >= n {
			continue
		}
		if gap := float64(k)/float64(n) - share; gap < bestGap-1e-9 {
			bestN, bestK, bestGap = n, k, gap
		}
	}
	for i := 1; i <= bestN; i++ {
		if i <= bestK {
			od = append(od, strconv.Itoa(i))
		} else {
			spot = append(spot, strconv.Itoa(i))
		}
	}
	return od, spot
}

func families(types []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range types {
		f, _, _ := strings.Cut(t, ".")
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// DiversificationError is a pool with spot nodes whose plan leaves too few
// instance types to survive one type's interruptions: the planner found
// fewer than 3 types across 2 families that carry its load.
type DiversificationError struct {
	Pool  string
	Types []string
}

func (e *DiversificationError) Error() string {
	return fmt.Sprintf("pool %s: spot needs diversification: %d instance type(s) in %d famil(ies) %v; want at least 3 types across 2 families "+
		"(run the pool on-demand only, with a spot share of 0)", e.Pool, len(e.Types), len(families(e.Types)), e.Types)
}

// validatePool checks one pool.
func validatePool(p Pool) error {
	var errs []error
	bad := func(f string, a ...any) {
		errs = append(errs, fmt.Errorf("pool %s: "+f, append([]any{p.Name}, a...)...))
	}
	if p.Name == "" {
		bad("name is empty")
	}
	if len(p.InstanceTypes) == 0 {
		bad("no instance types")
	}
	if !(p.SpotShare >= 0 && p.SpotShare <= 1) {
		bad("spot share %v: want a fraction in [0, 1]", p.SpotShare)
	}
	if p.Nodes < 1 || p.OnDemandNodes < 0 || p.OnDemandNodes > p.Nodes {
		bad("nodes %d / on-demand %d: want 1 <= on-demand <= nodes", p.Nodes, p.OnDemandNodes)
	}
	if p.RequireOnDemandBase && (p.OnDemandNodes < 1 || (p.spotAllowed() && p.SpotShare >= 1)) {
		bad("spot share %v leaves no on-demand base: this pool needs at least one on-demand node (lower the share)", p.SpotShare)
	}
	if p.spotAllowed() && p.RequireDiversification {
		if len(p.InstanceTypes) < 3 || len(families(p.InstanceTypes)) < 2 {
			errs = append(errs, &DiversificationError{Pool: p.Name, Types: p.InstanceTypes})
		}
	}
	if p.LimitCPU <= 0 || p.LimitMemoryGiB <= 0 {
		bad("limits cpu %d / memory %dGi: want positive limits from the plan", p.LimitCPU, p.LimitMemoryGiB)
	}
	if p.Consolidation != "WhenEmpty" && p.Consolidation != "WhenEmptyOrUnderutilized" {
		bad("consolidation %q: want WhenEmpty or WhenEmptyOrUnderutilized", p.Consolidation)
	}
	for _, a := range p.Arches {
		if !a.Valid() {
			errs = append(errs, fmt.Errorf("pool %s: %w", p.Name, model.Invalid("arch", a, model.Arches)))
		}
	}
	if len(p.Arches) == 0 {
		bad("no architectures")
	}
	return errors.Join(errs...)
}

// nodeClassInputs are the node classes' outputs of other resources: the
// node role (registered by New) and the cluster's security group. Compute
// leaves them empty.
type nodeClassInputs struct {
	role, securityGroupID pulumi.StringInput
}

// planner turns a config's pools into Karpenter resources.
type planner struct {
	cfg       Config
	in        nodeClassInputs
	classTags map[string]string
}

// computePlan turns pools into node classes, NodePools and placements.
func computePlan(c Config, in nodeClassInputs) (Plan, error) {
	var errs []error
	for _, p := range c.Pools {
		if err := validatePool(p); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Plan{}, err
	}
	pl := planner{cfg: c, in: in, classTags: map[string]string{model.TagKarpenterDiscovery: c.ClusterName}}
	for k, v := range c.Tags {
		pl.classTags[k] = v
	}
	plan := Plan{Placements: map[string]Placement{}}
	plan.NodeClasses = append(plan.NodeClasses, pl.nodeClass(NodeClassDefault, "", nil))
	if slices.ContainsFunc(c.Pools, func(p Pool) bool { return p.LocalNVMe }) {
		plan.NodeClasses = append(plan.NodeClasses, pl.nodeClass(NodeClassNVMe, "RAID0", nil))
	}
	for _, p := range c.Pools {
		class := NodeClassDefault
		if p.LocalNVMe {
			class = NodeClassNVMe
		}
		if len(p.CapacityReservationIDs) > 0 {
			class = "reserved-" + p.Name
			plan.NodeClasses = append(plan.NodeClasses, pl.nodeClass(class, "", p.CapacityReservationIDs))
		}
		plan.Placements[p.Name] = PlacementFor(p)
		plan.NodePools = append(plan.NodePools, pl.nodePools(p, class)...)
	}
	return plan, nil
}

// nodeClass is one EC2NodeClass: IMDSv2 only, an encrypted gp3 root
// volume, the discovery-tagged subnets and the cluster's security group.
func (pl planner) nodeClass(name, storePolicy string, reservations []string) EC2NodeClass {
	c := pl.cfg
	nc := EC2NodeClass{APIVersion: "karpenter.k8s.aws/v1", Kind: "EC2NodeClass", Metadata: ObjectMeta{Name: name},
		Spec: EC2NodeClassSpec{
			Role:                       pl.in.role,
			AMISelectorTerms:           []AMISelectorTerm{{Alias: c.AMIAlias}},
			SubnetSelectorTerms:        []SelectorTerm{{Tags: map[string]string{model.TagKarpenterDiscovery: c.ClusterName}}},
			SecurityGroupSelectorTerms: []SelectorTerm{{ID: pl.in.securityGroupID}},
			MetadataOptions:            MetadataOptions{HTTPEndpoint: "enabled", HTTPProtocolIPv6: "disabled", HTTPPutResponseHopLimit: 1, HTTPTokens: "required"},
			BlockDeviceMappings: []BlockDeviceMapping{{DeviceName: "/dev/xvda", RootVolume: true,
				EBS: EBSVolume{VolumeSize: fmt.Sprintf("%dGi", c.RootVolumeGiB), VolumeType: "gp3", Encrypted: true, DeleteOnTermination: true}}},
			InstanceStorePolicy: storePolicy,
			Tags:                pl.classTags,
			DetailedMonitoring:  true,
		}}
	for _, id := range reservations {
		nc.Spec.CapacityReservationSelectorTerms = append(nc.Spec.CapacityReservationSelectorTerms, ReservationTerm{ID: id})
	}
	return nc
}

// nodePools are a pool's NodePools on the given node class: one, on-demand
// (or reserved) or spot only, or an on-demand and a spot one splitting the
// capacity-spread domains.
func (pl planner) nodePools(p Pool, class string) []NodePool {
	odTypes := []model.CapacityType{CapacityOnDemand}
	if len(p.CapacityReservationIDs) > 0 {
		odTypes = []model.CapacityType{CapacityReserved, CapacityOnDemand}
	}
	switch {
	case !p.spotAllowed():
		return []NodePool{pl.nodePool(p, class, p.Name, odTypes, nil, 1)}
	case !p.split():
		return []NodePool{pl.nodePool(p, class, p.Name, []model.CapacityType{CapacitySpot}, nil, 1)}
	default:
		od, spot := SpreadDomains(p.Nodes, p.OnDemandNodes)
		// Either side may have to carry the whole pool when the other
		// is short (a spot shortage falls back to on-demand), so each
		// gets the pool's full limit.
		return []NodePool{pl.nodePool(p, class, p.Name+"-on-demand", odTypes, od, 1), pl.nodePool(p, class, p.Name+"-spot", []model.CapacityType{CapacitySpot}, spot, 1)}
	}
}

// nodePool is one NodePool of a pool, for the given capacity types and
// capacity-spread domains, with limitShare of the pool's limits.
func (pl planner) nodePool(p Pool, class, name string, capacityTypes []model.CapacityType, spread []string, limitShare float64) NodePool {
	labels := map[string]string{LabelPool: p.Name}
	var taints []Taint
	if !p.Untainted {
		taints = []Taint{{Key: TaintPool, Value: p.Name, Effect: "NoSchedule"}}
	}
	return NodePool{APIVersion: "karpenter.sh/v1", Kind: "NodePool", Metadata: ObjectMeta{Name: name, Labels: map[string]string{LabelPool: p.Name}},
		Spec: NodePoolSpec{
			Template: NodeClaimTemplate{Metadata: TemplateMeta{Labels: labels}, Spec: NodeClaimSpec{
				NodeClassRef:           NodeClassRef{Group: "karpenter.k8s.aws", Kind: "EC2NodeClass", Name: class},
				Requirements:           pl.requirements(p, capacityTypes, spread),
				Taints:                 taints,
				ExpireAfter:            p.ExpireAfter,
				TerminationGracePeriod: p.TerminationGracePeriod,
			}},
			Disruption: Disruption{ConsolidationPolicy: p.Consolidation, ConsolidateAfter: p.ConsolidateAfter,
				Budgets: []Budget{{Nodes: p.DisruptionBudgetNodes}}},
			Limits: map[string]string{
				"cpu":    strconv.Itoa(int(math.Ceil(float64(p.LimitCPU) * limitShare))),
				"memory": fmt.Sprintf("%dGi", int(math.Ceil(float64(p.LimitMemoryGiB)*limitShare))),
			},
		}}
}

// requirements are a NodePool's node requirements: its capacity types,
// the pool's architectures, zones, families and instance types (with
// minValues when spot must be diversified), and its capacity-spread
// domains.
func (pl planner) requirements(p Pool, capacityTypes []model.CapacityType, spread []string) []Requirement {
	reqs := []Requirement{
		{Key: LabelCapacityType, Operator: "In", Values: model.Strings(capacityTypes)},
		{Key: LabelArch, Operator: "In", Values: model.Strings(p.Arches)},
		{Key: LabelZone, Operator: "In", Values: append([]string(nil), pl.cfg.Zones...)},
		{Key: LabelFamily, Operator: "In", Values: families(p.InstanceTypes)},
		{Key: LabelInstanceType, Operator: "In", Values: append([]string(nil), p.InstanceTypes...)},
	}
	if p.RequireDiversification && slices.Contains(capacityTypes, CapacitySpot) {
		reqs[3].MinValues = min(3, len(reqs[3].Values))
		reqs[4].MinValues = min(5, len(reqs[4].Values))
	}
	if len(spread) > 0 {
		reqs = append(reqs, Requirement{Key: LabelCapacitySpread, Operator: "In", Values: spread})
	}
	return reqs
}
