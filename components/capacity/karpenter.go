package capacity

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// KarpenterTypeToken is the type of Karpenter's in-cluster half.
var KarpenterTypeToken = kit.Type("capacity", "Karpenter")

// KarpenterDeps are what Karpenter's in-cluster half needs from the AWS
// half (or, in a test, literal values standing in for it).
type KarpenterDeps struct {
	// Provider talks to the cluster.
	Provider *kubernetes.Provider
	// ClusterSecurityGroupID and NodeRoleName go into every EC2NodeClass.
	ClusterSecurityGroupID pulumi.StringInput
	NodeRoleName           pulumi.StringInput
	// ControllerRoleARN (IRSA) and QueueName (interruptions) configure the
	// controller.
	ControllerRoleARN pulumi.StringInput
	QueueName         pulumi.StringInput
	// DependsOn are what the charts wait for (the cluster, the nodes'
	// access entry).
	DependsOn []pulumi.Resource
	// FormerParent is the Capacity component these resources were
	// registered under before the in-cluster half became a component of
	// its own; their aliases keep a running stack's NodePools and releases
	// in place. Nil for a component built alone.
	FormerParent pulumi.Resource
}

// Validate reports the outputs that are missing. DependsOn and
// FormerParent are optional.
func (d KarpenterDeps) Validate() error {
	return kit.Missing(map[string]any{
		"provider": d.Provider, "clusterSecurityGroupId": d.ClusterSecurityGroupID, "nodeRoleName": d.NodeRoleName,
		"controllerRoleArn": d.ControllerRoleARN, "queueName": d.QueueName,
	})
}

// Karpenter is the in-cluster half of capacity: the karpenter-crd and
// karpenter releases, then the plan's EC2NodeClasses and NodePools.
type Karpenter struct {
	pulumi.ResourceState

	// Plan is the plan registered (node classes with their inputs).
	Plan Plan
	// Ready are the node classes, then the NodePools.
	Ready []pulumi.Resource
}

// NewKarpenter registers Karpenter's charts and the plan's pools in the
// cluster. It needs no AWS resource of its own, so it can be built alone
// against any API server.
func NewKarpenter(ctx *pulumi.Context, name string, cfg Config, deps KarpenterDeps, opts ...pulumi.ResourceOption) (*Karpenter, error) {
	k := &Karpenter{}
	return kit.Construct(ctx, KarpenterTypeToken, name, cfg, deps, k, func(cfg Config, parent pulumi.ResourceOption) (pulumi.Map, error) {
		b := &inCluster{ctx: ctx, name: name, cfg: cfg, deps: deps,
			opts: []pulumi.ResourceOption{parent, pulumi.Provider(deps.Provider), kit.MovedFrom(deps.FormerParent)}}
		if err := b.charts(); err != nil {
			return nil, err
		}
		if _, err := kit.NetworkPolicies(ctx, name, NetworkPolicies(), b.opts...); err != nil {
			return nil, err
		}
		plan, err := computePlan(cfg, nodeClassInputs{role: deps.NodeRoleName, securityGroupID: deps.ClusterSecurityGroupID})
		if err != nil {
			return nil, err
		}
		if k.Ready, err = b.karpenterResources(plan); err != nil {
			return nil, err
		}
		k.Plan = plan
		pools := pulumi.StringArray{}
		for _, np := range plan.NodePools {
			pools = append(pools, pulumi.String(np.Metadata.Name))
		}
		return pulumi.Map{"nodePools": pools}, nil
	}, opts...)
}

// MetricsPort is where the controller serves metrics (the chart's
// controller.metrics.port); its health port takes only kubelet's probes.
const MetricsPort = 8080

// NetworkPolicies isolate the controller's pods in kube-system, which the
// program shares with EKS' own and so does not isolate whole: Prometheus
// scrapes the metrics port, and nothing else reaches them (Karpenter v1
// serves no webhook). They send DNS, and TLS on 443 only: the API server
// and the AWS APIs (EC2, SQS, SSM, pricing, IAM, EKS, STS), all HTTPS.
// The instance metadata service stays closed: the controller reads it
// only for its region when AWS_REGION is unset (ControllerEnv sets it),
// and takes its credentials from IRSA.
func NetworkPolicies() []k8s.NetworkPolicy {
	pods := k8s.Pods(map[string]string{model.LabelAppName: "karpenter", model.LabelAppInstance: "karpenter"})
	return []k8s.NetworkPolicy{
		k8s.IngressPolicy("karpenter", Namespace, pods, k8s.FromNamespace(model.NamespaceMonitoring, MetricsPort)),
		k8s.TLSEgress("karpenter-egress", Namespace, pods),
	}
}

// inCluster registers the in-cluster resources, one kind at a time.
type inCluster struct {
	ctx  *pulumi.Context
	name string
	cfg  Config
	deps KarpenterDeps
	// opts are every child's: the parent, the provider, the alias.
	opts []pulumi.ResourceOption

	crds       *helmv3.Release
	controller *helmv3.Release
}

// after are the children's options plus a dependency on dependsOn.
func (b *inCluster) after(dependsOn []pulumi.Resource) []pulumi.ResourceOption {
	return append(append([]pulumi.ResourceOption(nil), b.opts...), pulumi.DependsOn(dependsOn))
}

// charts registers the karpenter-crd chart, then the controller's chart
// (which skips the CRDs).
func (b *inCluster) charts() error {
	crdChart, crdRepo := kit.Chart(b.cfg.Charts, "karpenter-crd", ChartRepo)
	crds, err := helmv3.NewRelease(b.ctx, b.name+"-crd", &helmv3.ReleaseArgs{
		Name: pulumi.String("karpenter-crd"), Chart: crdChart, RepositoryOpts: crdRepo, Version: pulumi.String(ChartVersion),
		Namespace: pulumi.String(Namespace), MaxHistory: pulumi.Int(10),
	}, b.after(b.deps.DependsOn)...)
	if err != nil {
		return err
	}
	values, err := kit.ToMap(ChartValues(b.cfg, b.deps.QueueName, b.deps.ControllerRoleARN))
	if err != nil {
		return err
	}
	chart, repo := kit.Chart(b.cfg.Charts, "karpenter", ChartRepo)
	controller, err := helmv3.NewRelease(b.ctx, b.name, &helmv3.ReleaseArgs{
		Name: pulumi.String("karpenter"), Chart: chart, RepositoryOpts: repo, Version: pulumi.String(ChartVersion),
		Namespace: pulumi.String(Namespace), SkipCrds: pulumi.Bool(true), Values: values,
		Atomic: pulumi.Bool(true), CleanupOnFail: pulumi.Bool(true), MaxHistory: pulumi.Int(10), Timeout: pulumi.Int(600),
	}, b.after(append([]pulumi.Resource{crds}, b.deps.DependsOn...))...)
	if err != nil {
		return err
	}
	b.crds, b.controller = crds, controller
	return nil
}

// karpenterResources registers the plan's EC2NodeClasses, then its
// NodePools, and returns them all (the node classes first).
func (b *inCluster) karpenterResources(plan Plan) ([]pulumi.Resource, error) {
	var classes []pulumi.Resource
	for _, nc := range plan.NodeClasses {
		r, err := b.customResource(nc.Metadata, nc.APIVersion, nc.Kind, nc.Spec, nil, []pulumi.Resource{b.crds, b.controller})
		if err != nil {
			return nil, err
		}
		classes = append(classes, r)
	}
	ready := append([]pulumi.Resource(nil), classes...)
	for _, np := range plan.NodePools {
		r, err := b.customResource(np.Metadata, np.APIVersion, np.Kind, np.Spec, pulumi.ToStringMap(np.Metadata.Labels),
			append([]pulumi.Resource{b.crds, b.controller}, classes...))
		if err != nil {
			return nil, err
		}
		ready = append(ready, r)
	}
	return ready, nil
}

// customResource registers one Karpenter resource, named after the
// component and the resource's name.
func (b *inCluster) customResource(meta ObjectMeta, apiVersion, kind string, spec any, labels pulumi.StringMapInput,
	dependsOn []pulumi.Resource) (pulumi.Resource, error) {
	fields, err := kit.ToMap(spec)
	if err != nil {
		return nil, err
	}
	return apiextensions.NewCustomResource(b.ctx, b.name+"-"+meta.Name, &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(apiVersion),
		Kind:        pulumi.String(kind),
		Metadata:    &metav1.ObjectMetaArgs{Name: pulumi.String(meta.Name), Labels: labels},
		OtherFields: kubernetes.UntypedArgs{"spec": fields},
	}, b.after(dependsOn)...)
}
