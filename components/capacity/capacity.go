// Package capacity runs Karpenter v1 on a region's cluster: the controller
// (chart 1.14.1, CRDs from the karpenter-crd chart), its IAM through IRSA,
// the node role with its four managed policies and access entry, the native
// interruption queue (SQS + EventBridge rules for spot interruption
// warnings, rebalance recommendations, scheduled health events and instance
// state changes), and the EC2NodeClasses and NodePools the phase plan calls
// for. Karpenter's queue replaces the seed's aws-node-termination-handler:
// the two must not both act on the same interruption events.
package capacity

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// TypeToken is the component's type.
var TypeToken = kit.Type("capacity", "Capacity")

// Chart coordinates of Karpenter.
const (
	ChartRepo          = "oci://public.ecr.aws/karpenter"
	ChartVersion       = "1.14.1"
	Namespace          = "kube-system"
	ServiceAccountName = "karpenter"
	defaultRootGiB     = 80
	defaultReplicas    = 2
	interruptionTTL    = 300
)

// Config configures Karpenter and the node pools: plain values only.
type Config struct {
	// ClusterName is the EKS cluster name.
	ClusterName string
	// Region is the AWS region.
	Region string
	// Zones the pools may launch in.
	Zones []string
	// Pools are the planned node pools.
	Pools []Pool
	// AMIAlias selects the node AMI (default DefaultAMIAlias).
	AMIAlias string
	// RootVolumeGiB is every node's encrypted gp3 root volume.
	RootVolumeGiB int
	// ControllerNodeSelector and ControllerTolerations pin the controller to
	// the system node group.
	ControllerNodeSelector map[string]string
	ControllerTolerations  []Toleration
	// Tags are added to AWS resources and propagated to nodes.
	Tags map[string]string
	// Charts is where the Karpenter charts come from (empty: the public
	// repository).
	Charts model.ChartSource
}

// Deps are the cluster's outputs Karpenter needs.
type Deps struct {
	// ClusterSecurityGroupID is the security group the node classes give
	// every node.
	ClusterSecurityGroupID pulumi.StringInput
	// OIDCProviderARN and OIDCIssuer are the cluster's OIDC provider, which
	// the controller's role trusts (IRSA).
	OIDCProviderARN pulumi.StringInput
	OIDCIssuer      pulumi.StringInput
	// Provider talks to the cluster; the charts and Karpenter's resources
	// use it.
	Provider *kubernetes.Provider
	// DependsOn are resources the chart must wait for (the cluster).
	DependsOn []pulumi.Resource
}

// Validate reports the cluster outputs that are missing. DependsOn is
// optional.
func (d Deps) Validate() error {
	return kit.Missing(map[string]any{
		"provider": d.Provider, "clusterSecurityGroupId": d.ClusterSecurityGroupID,
		"oidcProviderArn": d.OIDCProviderARN, "oidcIssuer": d.OIDCIssuer,
	})
}

// WithDefaults fills the defaults: DefaultAMIAlias and 80 GiB root volumes.
func (c Config) WithDefaults() Config {
	if c.AMIAlias == "" {
		c.AMIAlias = DefaultAMIAlias
	}
	if c.RootVolumeGiB == 0 {
		c.RootVolumeGiB = defaultRootGiB
	}
	return c
}

// Validate checks the configuration and computes the plan to prove it.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	if err := c.Charts.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.ClusterName == "" {
		errs = append(errs, errors.New("clusterName: empty"))
	}
	if c.Region == "" {
		errs = append(errs, errors.New("region: empty"))
	}
	if len(c.Zones) == 0 {
		errs = append(errs, errors.New("zones: at least one"))
	}
	if len(c.Pools) == 0 {
		errs = append(errs, errors.New("pools: at least one"))
	}
	names := map[string]bool{}
	for _, p := range c.Pools {
		if names[p.Name] {
			errs = append(errs, fmt.Errorf("pool %s: listed twice", p.Name))
		}
		names[p.Name] = true
	}
	if _, err := computePlan(c, nodeClassInputs{}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Compute is the pure plan (for tests and the preview). Its node classes
// carry no role nor security group: those are outputs of other resources,
// which New fills in.
func Compute(c Config) (Plan, error) {
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return Plan{}, err
	}
	return computePlan(c, nodeClassInputs{})
}

// Capacity is the component.
type Capacity struct {
	pulumi.ResourceState

	NodeRoleName      pulumi.StringOutput
	ControllerRoleARN pulumi.StringOutput
	QueueName         pulumi.StringOutput
	QueueARN          pulumi.StringOutput
	// Placements are how workloads land on each pool.
	Placements map[string]Placement
	// Ready are the NodePools and node classes: workloads that need nodes
	// depend on them.
	Ready []pulumi.Resource
}

// New registers Karpenter and the pools.
func New(ctx *pulumi.Context, name string, cfg Config, deps Deps, opts ...pulumi.ResourceOption) (*Capacity, error) {
	c := &Capacity{}
	return kit.Construct(ctx, TypeToken, name, cfg, deps, c, func(cfg Config, parent pulumi.ResourceOption) (pulumi.Map, error) {
		b := &builder{ctx: ctx, name: name, cfg: cfg, deps: deps, parent: parent, tags: kit.Tags(cfg.Tags)}
		plan, err := b.build(c)
		if err != nil {
			return nil, err
		}
		pools := pulumi.StringArray{}
		for _, np := range plan.NodePools {
			pools = append(pools, pulumi.String(np.Metadata.Name))
		}
		return pulumi.Map{
			"nodeRoleName": c.NodeRoleName, "controllerRoleArn": c.ControllerRoleARN,
			"interruptionQueue": c.QueueName, "nodePools": pools,
		}, nil
	}, opts...)
}

// builder registers the component's resources, one kind at a time.
type builder struct {
	ctx    *pulumi.Context
	name   string
	cfg    Config
	deps   Deps
	parent pulumi.ResourceOption
	tags   pulumi.StringMap

	queue          *sqs.Queue
	nodeRole       *iam.Role
	access         *eks.AccessEntry
	controllerRole *iam.Role
}

// build registers the AWS resources in order, then the in-cluster half
// beneath the component, fills the component's outputs and returns the
// plan it registered.
func (b *builder) build(c *Capacity) (Plan, error) {
	for _, step := range []func() error{b.interruptionQueue, b.nodeRoleAndAccess, b.controllerIAM} {
		if err := step(); err != nil {
			return Plan{}, err
		}
	}
	// The node classes give nodes the role registered above; the charts
	// wait for the nodes' access entry.
	k, err := NewKarpenter(b.ctx, b.name, b.cfg, KarpenterDeps{
		Provider: b.deps.Provider, ClusterSecurityGroupID: b.deps.ClusterSecurityGroupID, NodeRoleName: b.nodeRole.Name,
		ControllerRoleARN: b.controllerRole.Arn, QueueName: b.queue.Name,
		DependsOn: append([]pulumi.Resource{b.access}, b.deps.DependsOn...), FormerParent: c,
	}, b.parent)
	if err != nil {
		return Plan{}, err
	}
	plan := k.Plan
	c.Ready = k.Ready
	c.NodeRoleName = b.nodeRole.Name
	c.ControllerRoleARN = b.controllerRole.Arn
	c.QueueName = b.queue.Name
	c.QueueARN = b.queue.Arn
	c.Placements = plan.Placements
	return plan, nil
}

// interruptionQueue registers the interruption queue and the four
// EventBridge rules feeding it.
func (b *builder) interruptionQueue() error {
	queue, err := sqs.NewQueue(b.ctx, b.name+"-interruptions", &sqs.QueueArgs{
		Name:                    pulumi.String(b.cfg.ClusterName),
		MessageRetentionSeconds: pulumi.Int(interruptionTTL),
		SqsManagedSseEnabled:    pulumi.Bool(true),
		Tags:                    b.tags,
	}, b.parent)
	if err != nil {
		return err
	}
	var ruleARNs []pulumi.StringInput
	for _, r := range InterruptionRules() {
		pattern, err := json.Marshal(r.Pattern)
		if err != nil {
			return err
		}
		rule, err := cloudwatch.NewEventRule(b.ctx, b.name+"-"+r.Name, &cloudwatch.EventRuleArgs{
			Description:  pulumi.String(r.Description),
			EventPattern: pulumi.String(string(pattern)),
			Tags:         b.tags,
		}, b.parent)
		if err != nil {
			return err
		}
		if _, err := cloudwatch.NewEventTarget(b.ctx, b.name+"-"+r.Name, &cloudwatch.EventTargetArgs{
			Rule: rule.Name, Arn: queue.Arn, TargetId: pulumi.String("KarpenterInterruptionQueueTarget"),
		}, b.parent); err != nil {
			return err
		}
		ruleARNs = append(ruleARNs, rule.Arn)
	}
	if _, err := sqs.NewQueuePolicy(b.ctx, b.name+"-interruptions", &sqs.QueuePolicyArgs{
		QueueUrl: queue.Url,
		Policy:   QueuePolicy(queue.Arn, ruleARNs).JSON(),
	}, b.parent); err != nil {
		return err
	}
	b.queue = queue
	return nil
}

// nodeRoleAndAccess registers the node role with the four managed
// policies, and an access entry so nodes join.
func (b *builder) nodeRoleAndAccess() error {
	nodeRole, err := iam.NewRole(b.ctx, b.name+"-node", &iam.RoleArgs{
		AssumeRolePolicy: kit.ServiceTrust("ec2.amazonaws.com").JSON(),
		Description:      pulumi.Sprintf("Karpenter nodes of %s", b.cfg.ClusterName),
		Tags:             b.tags,
	}, b.parent)
	if err != nil {
		return err
	}
	for _, p := range model.NodeManagedPolicies {
		// Named by policy; the alias keeps the name the attachment had
		// when it was named by its index in the old list, so existing
		// stacks update in place instead of detaching the policy.
		alias := pulumi.Aliases([]pulumi.Alias{{Name: pulumi.String(fmt.Sprintf("%s-node-%d", b.name, legacyNodePolicyIndex[p]))}})
		if _, err := iam.NewRolePolicyAttachment(b.ctx, b.name+"-node-"+model.PolicyName(p), &iam.RolePolicyAttachmentArgs{
			Role: nodeRole.Name, PolicyArn: pulumi.String(p),
		}, b.parent, alias); err != nil {
			return err
		}
	}
	access, err := eks.NewAccessEntry(b.ctx, b.name+"-node", &eks.AccessEntryArgs{
		ClusterName: pulumi.String(b.cfg.ClusterName), PrincipalArn: nodeRole.Arn, Type: pulumi.String("EC2_LINUX"), Tags: b.tags,
	}, b.parent)
	if err != nil {
		return err
	}
	b.nodeRole, b.access = nodeRole, access
	return nil
}

// controllerIAM registers the controller's role through IRSA, scoped to
// the karpenter service account, and its policy.
func (b *builder) controllerIAM() error {
	controllerRole, err := iam.NewRole(b.ctx, b.name+"-controller", &iam.RoleArgs{
		AssumeRolePolicy: kit.IRSATrust(b.deps.OIDCProviderARN, b.deps.OIDCIssuer, Namespace, ServiceAccountName).JSON(),
		Description:      pulumi.Sprintf("Karpenter controller of %s", b.cfg.ClusterName),
		Tags:             b.tags,
	}, b.parent)
	if err != nil {
		return err
	}
	if _, err := iam.NewRolePolicy(b.ctx, b.name+"-controller", &iam.RolePolicyArgs{
		Role:   controllerRole.Name,
		Policy: ControllerPolicy(b.cfg.ClusterName, b.cfg.Region, b.queue.Arn, b.nodeRole.Arn).JSON(),
	}, b.parent); err != nil {
		return err
	}
	b.controllerRole = controllerRole
	return nil
}

// legacyNodePolicyIndex is each node policy's index in the list the node
// role's attachments were once named by ("<name>-node-<index>").
var legacyNodePolicyIndex = map[string]int{model.PolicyCNI: 0, model.PolicyWorkerNode: 1, model.PolicyECRReadOnly: 2, model.PolicySSMManagedCore: 3}
