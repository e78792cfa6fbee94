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
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
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

// Args configure Karpenter and the node pools.
type Args struct {
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

	// Wiring from the cluster component.
	ClusterSecurityGroupID pulumi.StringInput
	OIDCProviderARN        pulumi.StringInput
	OIDCIssuer             pulumi.StringInput
	Provider               *kubernetes.Provider
	// DependsOn are resources the chart must wait for (the cluster).
	DependsOn []pulumi.Resource

	// NodeRoleName is set by NewCapacity (the role it creates).
	NodeRoleName pulumi.StringInput
}

func (a Args) withDefaults() Args {
	if a.AMIAlias == "" {
		a.AMIAlias = DefaultAMIAlias
	}
	if a.RootVolumeGiB == 0 {
		a.RootVolumeGiB = defaultRootGiB
	}
	return a
}

// Validate checks the plain arguments and computes the plan to prove it.
func (a Args) Validate() error {
	a = a.withDefaults()
	var errs []error
	if a.ClusterName == "" {
		errs = append(errs, errors.New("clusterName: empty"))
	}
	if a.Region == "" {
		errs = append(errs, errors.New("region: empty"))
	}
	if len(a.Zones) == 0 {
		errs = append(errs, errors.New("zones: at least one"))
	}
	if len(a.Pools) == 0 {
		errs = append(errs, errors.New("pools: at least one"))
	}
	names := map[string]bool{}
	for _, p := range a.Pools {
		if names[p.Name] {
			errs = append(errs, fmt.Errorf("pool %s: listed twice", p.Name))
		}
		names[p.Name] = true
	}
	if _, err := computePlan(a); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Compute is the pure plan (for tests and the preview).
func Compute(a Args) (Plan, error) {
	a = a.withDefaults()
	if err := a.Validate(); err != nil {
		return Plan{}, err
	}
	return computePlan(a)
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

// NewCapacity registers Karpenter and the pools.
func NewCapacity(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Capacity, error) {
	args = args.withDefaults()
	if err := args.Validate(); err != nil {
		return nil, kit.Wrap("capacity", name, err)
	}
	if args.Provider == nil || args.ClusterSecurityGroupID == nil || args.OIDCProviderARN == nil || args.OIDCIssuer == nil {
		return nil, kit.Wrap("capacity", name, errors.New("provider, clusterSecurityGroupId and the OIDC provider are required (from the cluster component)"))
	}
	c := &Capacity{}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, kit.Wrap("capacity", name, err)
	}
	parent := pulumi.Parent(c)
	k8s := []pulumi.ResourceOption{parent, pulumi.Provider(args.Provider)}
	tags := kit.Tags(args.Tags)
	fail := func(err error) (*Capacity, error) { return nil, kit.Wrap("capacity", name, err) }

	// Interruption queue and the four EventBridge rules feeding it.
	queue, err := sqs.NewQueue(ctx, name+"-interruptions", &sqs.QueueArgs{
		Name:                    pulumi.String(args.ClusterName),
		MessageRetentionSeconds: pulumi.Int(interruptionTTL),
		SqsManagedSseEnabled:    pulumi.Bool(true),
		Tags:                    tags,
	}, parent)
	if err != nil {
		return fail(err)
	}
	var ruleARNs []pulumi.StringInput
	for _, r := range InterruptionRules() {
		pattern, err := json.Marshal(r.Pattern)
		if err != nil {
			return fail(err)
		}
		rule, err := cloudwatch.NewEventRule(ctx, name+"-"+r.Name, &cloudwatch.EventRuleArgs{
			Description:  pulumi.String(r.Description),
			EventPattern: pulumi.String(string(pattern)),
			Tags:         tags,
		}, parent)
		if err != nil {
			return fail(err)
		}
		if _, err := cloudwatch.NewEventTarget(ctx, name+"-"+r.Name, &cloudwatch.EventTargetArgs{
			Rule: rule.Name, Arn: queue.Arn, TargetId: pulumi.String("KarpenterInterruptionQueueTarget"),
		}, parent); err != nil {
			return fail(err)
		}
		ruleARNs = append(ruleARNs, rule.Arn)
	}
	if _, err := sqs.NewQueuePolicy(ctx, name+"-interruptions", &sqs.QueuePolicyArgs{
		QueueUrl: queue.Url,
		Policy:   QueuePolicy(queue.Arn, ruleARNs).JSON(),
	}, parent); err != nil {
		return fail(err)
	}

	// Node role: the four managed policies, and an access entry so nodes join.
	nodeRole, err := iam.NewRole(ctx, name+"-node", &iam.RoleArgs{
		AssumeRolePolicy: kit.ServiceTrust("ec2.amazonaws.com").JSON(),
		Description:      pulumi.Sprintf("Karpenter nodes of %s", args.ClusterName),
		Tags:             tags,
	}, parent)
	if err != nil {
		return fail(err)
	}
	for _, p := range model.NodeManagedPolicies {
		// Named by policy; the alias keeps the name the attachment had
		// when it was named by its index in the old list, so existing
		// stacks update in place instead of detaching the policy.
		alias := pulumi.Aliases([]pulumi.Alias{{Name: pulumi.String(fmt.Sprintf("%s-node-%d", name, legacyNodePolicyIndex[p]))}})
		if _, err := iam.NewRolePolicyAttachment(ctx, name+"-node-"+model.PolicyName(p), &iam.RolePolicyAttachmentArgs{
			Role: nodeRole.Name, PolicyArn: pulumi.String(p),
		}, parent, alias); err != nil {
			return fail(err)
		}
	}
	access, err := eks.NewAccessEntry(ctx, name+"-node", &eks.AccessEntryArgs{
		ClusterName: pulumi.String(args.ClusterName), PrincipalArn: nodeRole.Arn, Type: pulumi.String("EC2_LINUX"), Tags: tags,
	}, parent)
	if err != nil {
		return fail(err)
	}

	// Controller role through IRSA, scoped to the karpenter service account.
	controllerRole, err := iam.NewRole(ctx, name+"-controller", &iam.RoleArgs{
		AssumeRolePolicy: kit.IRSATrust(args.OIDCProviderARN, args.OIDCIssuer, Namespace, ServiceAccountName).JSON(),
		Description:      pulumi.Sprintf("Karpenter controller of %s", args.ClusterName),
		Tags:             tags,
	}, parent)
	if err != nil {
		return fail(err)
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-controller", &iam.RolePolicyArgs{
		Role:   controllerRole.Name,
		Policy: ControllerPolicy(args.ClusterName, args.Region, queue.Arn, nodeRole.Arn).JSON(),
	}, parent); err != nil {
		return fail(err)
	}

	crds, err := helmv3.NewRelease(ctx, name+"-crd", &helmv3.ReleaseArgs{
		Name: pulumi.String("karpenter-crd"), Chart: pulumi.String(ChartRepo + "/karpenter-crd"), Version: pulumi.String(ChartVersion),
		Namespace: pulumi.String(Namespace), MaxHistory: pulumi.Int(10),
	}, append(k8s, pulumi.DependsOn(args.DependsOn))...)
	if err != nil {
		return fail(err)
	}
	values, err := kit.ToMap(ChartValues(args, queue.Name, controllerRole.Arn))
	if err != nil {
		return fail(err)
	}
	controller, err := helmv3.NewRelease(ctx, name, &helmv3.ReleaseArgs{
		Name: pulumi.String("karpenter"), Chart: pulumi.String(ChartRepo + "/karpenter"), Version: pulumi.String(ChartVersion),
		Namespace: pulumi.String(Namespace), SkipCrds: pulumi.Bool(true), Values: values,
		Atomic: pulumi.Bool(true), CleanupOnFail: pulumi.Bool(true), MaxHistory: pulumi.Int(10), Timeout: pulumi.Int(600),
	}, append(k8s, pulumi.DependsOn(append([]pulumi.Resource{crds, access}, args.DependsOn...)))...)
	if err != nil {
		return fail(err)
	}

	args.NodeRoleName = nodeRole.Name
	plan, err := computePlan(args)
	if err != nil {
		return fail(err)
	}
	var classes []pulumi.Resource
	for _, nc := range plan.NodeClasses {
		spec, err := kit.ToMap(nc.Spec)
		if err != nil {
			return fail(err)
		}
		r, err := apiextensions.NewCustomResource(ctx, name+"-"+nc.Metadata.Name, &apiextensions.CustomResourceArgs{
			ApiVersion:  pulumi.String(nc.APIVersion),
			Kind:        pulumi.String(nc.Kind),
			Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String(nc.Metadata.Name)},
			OtherFields: kubernetes.UntypedArgs{"spec": spec},
		}, append(k8s, pulumi.DependsOn([]pulumi.Resource{crds, controller}))...)
		if err != nil {
			return fail(err)
		}
		classes = append(classes, r)
	}
	c.Ready = append(c.Ready, classes...)
	for _, np := range plan.NodePools {
		spec, err := kit.ToMap(np.Spec)
		if err != nil {
			return fail(err)
		}
		r, err := apiextensions.NewCustomResource(ctx, name+"-"+np.Metadata.Name, &apiextensions.CustomResourceArgs{
			ApiVersion:  pulumi.String(np.APIVersion),
			Kind:        pulumi.String(np.Kind),
			Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String(np.Metadata.Name), Labels: pulumi.ToStringMap(np.Metadata.Labels)},
			OtherFields: kubernetes.UntypedArgs{"spec": spec},
		}, append(k8s, pulumi.DependsOn(append([]pulumi.Resource{crds, controller}, classes...)))...)
		if err != nil {
			return fail(err)
		}
		c.Ready = append(c.Ready, r)
	}

	c.NodeRoleName = nodeRole.Name
	c.ControllerRoleARN = controllerRole.Arn
	c.QueueName = queue.Name
	c.QueueARN = queue.Arn
	c.Placements = plan.Placements
	pools := pulumi.StringArray{}
	for _, np := range plan.NodePools {
		pools = append(pools, pulumi.String(np.Metadata.Name))
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"nodeRoleName": c.NodeRoleName, "controllerRoleArn": c.ControllerRoleARN,
		"interruptionQueue": c.QueueName, "nodePools": pools,
	}); err != nil {
		return fail(err)
	}
	return c, nil
}

// legacyNodePolicyIndex is each node policy's index in the list the node
// role's attachments were once named by ("<name>-node-<index>").
var legacyNodePolicyIndex = map[string]int{model.PolicyCNI: 0, model.PolicyWorkerNode: 1, model.PolicyECRReadOnly: 2, model.PolicySSMManagedCore: 3}
