package capacity

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s/k8stest"
	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/internal/crdschema"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/internal/reference"
	"github.com/pulsar-fleet/pulsar-fleet/internal/upstream"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

func pools() []Pool {
	return []Pool{
		{Name: "critical", InstanceTypes: []string{"c6g.2xlarge", "c7g.2xlarge", "m6i.2xlarge"}, Arches: []model.Arch{"amd64", "arm64"}, Nodes: 6, OnDemandNodes: 6,
			RequireOnDemandBase: true, LimitCPU: 90, LimitMemoryGiB: 360, Consolidation: "WhenEmptyOrUnderutilized", ConsolidateAfter: "10m",
			ExpireAfter: "720h", TerminationGracePeriod: "1h", DisruptionBudgetNodes: "1", CapacityReservationIDs: []string{"cr-0123456789abcdef0"}},
		{Name: "broker", InstanceTypes: []string{"c6g.2xlarge", "c7g.2xlarge", "m6g.2xlarge", "c6i.2xlarge", "m7g.2xlarge"}, Arches: []model.Arch{"amd64", "arm64"},
			SpotShare: 0.7, Nodes: 9, OnDemandNodes: 3, RequireOnDemandBase: true, RequireDiversification: true, LimitCPU: 120, LimitMemoryGiB: 480,
			Consolidation: "WhenEmptyOrUnderutilized", ConsolidateAfter: "15m", ExpireAfter: "720h", TerminationGracePeriod: "30m", DisruptionBudgetNodes: "10%"},
		{Name: "bookie", InstanceTypes: []string{"i4g.2xlarge", "im4gn.2xlarge", "i4i.2xlarge"}, Arches: []model.Arch{"amd64", "arm64"}, SpotShare: 0.7,
			Nodes: 6, OnDemandNodes: 6, LocalNVMe: true, RequireOnDemandBase: true, RequireDiversification: true, LimitCPU: 90, LimitMemoryGiB: 900,
			Consolidation: "WhenEmpty", ConsolidateAfter: "1h", ExpireAfter: "Never", TerminationGracePeriod: "2h", DisruptionBudgetNodes: "1"},
	}
}

func args() Config {
	return Config{
		ClusterName: "pulsar-us-east-1", Region: "us-east-1", Zones: []string{"us-east-1a", "us-east-1b", "us-east-1c"},
		Pools: pools(), Tags: map[string]string{"team": "streaming"}, ControllerNodeSelector: map[string]string{"pulsar-fleet.io/pool": "system"},
	}
}

// wired are the cluster's outputs, but the provider (run registers it).
func wired() Deps {
	return Deps{
		ClusterSecurityGroupID: pulumi.String("sg-cluster"),
		OIDCProviderARN:        pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X"),
		OIDCIssuer:             pulumi.String("oidc.eks.us-east-1.amazonaws.com/id/X"),
	}
}

func run(t *testing.T, a Config) (*recorder.Recorder, error) {
	t.Helper()
	rec := recorder.New("us-east-1")
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetesProvider(ctx)
		if err != nil {
			return err
		}
		d := wired()
		d.Provider = p
		_, err = New(ctx, "cap", a, d)
		return err
	})
	return rec, err
}

func TestSpreadDomains(t *testing.T) {
	for _, tc := range []struct {
		nodes, od int
		wantOD    []string
		wantSpot  []string
	}{
		{3, 1, []string{"1"}, []string{"2", "3"}},
		{10, 3, []string{"1", "2", "3"}, []string{"4", "5", "6", "7", "8", "9", "10"}},
		{9, 1, []string{"1"}, []string{"2", "3", "4", "5", "6", "7", "8", "9"}},
		{6, 3, []string{"1"}, []string{"2"}},
		{105, 32, []string{"1"}, []string{"2", "3"}},
	} {
		od, spot := SpreadDomains(tc.nodes, tc.od)
		assert.Equal(t, tc.wantOD, od, "%d/%d", tc.od, tc.nodes)
		assert.Equal(t, tc.wantSpot, spot, "%d/%d", tc.od, tc.nodes)
		// Never fewer on-demand domains than the planned share.
		assert.GreaterOrEqual(t, float64(len(od))/float64(len(od)+len(spot))+1e-9, float64(tc.od)/float64(tc.nodes))
	}
}

func TestComputePools(t *testing.T) {
	plan, err := Compute(args())
	require.NoError(t, err)
	names := []string{}
	for _, np := range plan.NodePools {
		names = append(names, np.Metadata.Name)
	}
	assert.Equal(t, []string{"critical", "broker-on-demand", "broker-spot", "bookie"}, names)
	classes := []string{}
	for _, nc := range plan.NodeClasses {
		classes = append(classes, nc.Metadata.Name)
		assert.Equal(t, "required", nc.Spec.MetadataOptions.HTTPTokens, "IMDSv2 required")
		assert.Equal(t, 1, nc.Spec.MetadataOptions.HTTPPutResponseHopLimit, "pods cannot reach IMDS; they use IRSA")
		assert.True(t, nc.Spec.BlockDeviceMappings[0].EBS.Encrypted)
		assert.Equal(t, "al2023@latest", nc.Spec.AMISelectorTerms[0].Alias)
	}
	assert.Equal(t, []string{"default", "local-nvme", "reserved-critical"}, classes)
	assert.Equal(t, "RAID0", plan.NodeClasses[1].Spec.InstanceStorePolicy)

	req := func(np NodePool, key string) Requirement {
		for _, r := range np.Spec.Template.Spec.Requirements {
			if r.Key == key {
				return r
			}
		}
		t.Fatalf("%s has no requirement %s", np.Metadata.Name, key)
		return Requirement{}
	}
	critical, brokerOD, brokerSpot, bookie := plan.NodePools[0], plan.NodePools[1], plan.NodePools[2], plan.NodePools[3]
	assert.Equal(t, []string{"reserved", "on-demand"}, req(critical, LabelCapacityType).Values, "ZooKeeper and proxies: on-demand (or reserved) only")
	assert.Equal(t, "reserved-critical", critical.Spec.Template.Spec.NodeClassRef.Name)
	assert.Equal(t, []string{"on-demand"}, req(brokerOD, LabelCapacityType).Values)
	assert.Equal(t, []string{"spot"}, req(brokerSpot, LabelCapacityType).Values)
	assert.Equal(t, []string{"amd64", "arm64"}, req(brokerSpot, LabelArch).Values, "Graviton and x86")
	assert.Equal(t, 3, req(brokerSpot, LabelFamily).MinValues, "spot diversified across families")
	assert.Equal(t, 5, req(brokerSpot, LabelInstanceType).MinValues)
	assert.Equal(t, []string{"1"}, req(brokerOD, LabelCapacitySpread).Values)
	assert.Equal(t, []string{"2", "3"}, req(brokerSpot, LabelCapacitySpread).Values)
	assert.Equal(t, []string{"on-demand"}, req(bookie, LabelCapacityType).Values, "instance-store bookies never run on spot")
	assert.Equal(t, "local-nvme", bookie.Spec.Template.Spec.NodeClassRef.Name)
	assert.Equal(t, "WhenEmpty", bookie.Spec.Disruption.ConsolidationPolicy, "bookies are never consolidated to save money")
	assert.Equal(t, []Budget{{Nodes: "1"}}, bookie.Spec.Disruption.Budgets)
	assert.Equal(t, "Never", bookie.Spec.Template.Spec.ExpireAfter)
	assert.Equal(t, map[string]string{"cpu": "120", "memory": "480Gi"}, brokerSpot.Spec.Limits)
	for _, np := range plan.NodePools {
		assert.Equal(t, []Taint{{Key: TaintPool, Value: np.Spec.Template.Metadata.Labels[LabelPool], Effect: "NoSchedule"}}, np.Spec.Template.Spec.Taints)
		assert.Equal(t, []string{"us-east-1a", "us-east-1b", "us-east-1c"}, req(np, LabelZone).Values)
	}

	pl := plan.Placements["broker"]
	assert.Equal(t, map[string]string{LabelPool: "broker"}, pl.NodeSelector)
	assert.Equal(t, []Toleration{{Key: TaintPool, Operator: "Equal", Value: "broker", Effect: "NoSchedule"}}, pl.Tolerations)
	assert.Equal(t, []SpreadKey{{Key: LabelZone, WhenUnsatisfiable: "DoNotSchedule"}, {Key: LabelCapacitySpread, WhenUnsatisfiable: "ScheduleAnyway"}}, pl.SpreadKeys)
	assert.Equal(t, []SpreadKey{{Key: LabelZone, WhenUnsatisfiable: "DoNotSchedule"}}, plan.Placements["bookie"].SpreadKeys)
}

func TestValidationErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*Config)
		want string
	}{
		{"single instance type on spot", func(a *Config) { a.Pools[1].InstanceTypes = []string{"c6g.2xlarge"} }, "pool broker: spot needs diversification"},
		{"spot share leaves no on-demand base", func(a *Config) { a.Pools[1].SpotShare, a.Pools[1].OnDemandNodes = 1, 0 }, "pool broker: spot share 1 leaves no on-demand base"},
		{"spot share out of range", func(a *Config) { a.Pools[1].SpotShare = 1.5 }, "spot share 1.5"},
		{"no limits", func(a *Config) { a.Pools[0].LimitCPU = 0 }, "pool critical: limits"},
		{"consolidation", func(a *Config) { a.Pools[2].Consolidation = "Always" }, "pool bookie: consolidation"},
		{"duplicate pool", func(a *Config) { a.Pools = append(a.Pools, a.Pools[0]) }, "listed twice"},
		{"no zones", func(a *Config) { a.Zones = nil }, "zones"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := args()
			tc.mut(&a)
			rec, err := run(t, a)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			for _, r := range rec.Resources() {
				assert.Equal(t, "pulumi:providers:kubernetes", r.Type, "nothing but the test's provider is registered")
			}
		})
	}
}

func TestCapacityResources(t *testing.T) {
	rec, err := run(t, args())
	require.NoError(t, err)
	comp, err := rec.Component(TypeToken)
	require.NoError(t, err)
	moved, err := rec.CheckMoved(TypeToken, KarpenterTypeToken)
	require.NoError(t, err, "the in-cluster half keeps the URNs it had directly under the component")
	for _, r := range moved {
		assert.True(t, strings.HasPrefix(r.Type, "kubernetes:"), "%s %s: only Kubernetes resources moved", r.Type, r.Name)
	}
	for _, r := range rec.DirectChildren(comp.URN) {
		assert.True(t, r.Type == KarpenterTypeToken || strings.HasPrefix(r.Type, "aws:"), "%s %s: the AWS half", r.Type, r.Name)
	}
	assert.Len(t, rec.Resources(), 2+len(moved)+len(rec.DirectChildren(comp.URN)), "the provider, the component and its two halves")

	queue, err := rec.One("aws:sqs/queue:Queue", "cap-interruptions")
	require.NoError(t, err)
	assert.Equal(t, "pulsar-us-east-1", queue.Inputs["name"])
	assert.Equal(t, true, queue.Inputs["sqsManagedSseEnabled"])
	rules := rec.ByType("aws:cloudwatch/eventRule:EventRule")
	require.Len(t, rules, 4)
	seen := map[string]bool{}
	for _, r := range rules {
		var p EventPattern
		require.NoError(t, json.Unmarshal([]byte(r.Inputs["eventPattern"].(string)), &p))
		seen[p.DetailType[0]] = true
	}
	assert.Equal(t, map[string]bool{"EC2 Spot Instance Interruption Warning": true, "EC2 Instance Rebalance Recommendation": true,
		"AWS Health Event": true, "EC2 Instance State-change Notification": true}, seen)
	targets := rec.ByType("aws:cloudwatch/eventTarget:EventTarget")
	require.Len(t, targets, 4)
	for _, tg := range targets {
		assert.Equal(t, "arn:aws:sqs:us-east-1:123456789012:queue/cap-interruptions", tg.Inputs["arn"], "every rule targets the queue")
	}
	qp, err := rec.One("aws:sqs/queuePolicy:QueuePolicy", "cap-interruptions")
	require.NoError(t, err)
	sts, err := kit.ParsePolicy(qp.Inputs["policy"].(string))
	require.NoError(t, err)
	assert.Equal(t, []string{"events.amazonaws.com", "sqs.amazonaws.com"}, sts[0].Principal["Service"])
	assert.Len(t, sts[0].Condition["ArnEquals"]["aws:SourceArn"], 4, "only the four rules may send")

	var nodePolicies []string
	for _, a := range rec.ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		nodePolicies = append(nodePolicies, a.Inputs["policyArn"].(string))
	}
	assert.ElementsMatch(t, model.NodeManagedPolicies, nodePolicies, "node role: the four managed policies")
	// Attachments are named by policy; each keeps its old index name as an
	// alias, so a stack deployed before updates in place.
	for old, p := range []string{model.PolicyCNI, model.PolicyWorkerNode, model.PolicyECRReadOnly, model.PolicySSMManagedCore} {
		a, err := rec.One("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "cap-node-"+model.PolicyName(p))
		require.NoError(t, err)
		assert.Equal(t, p, a.Inputs["policyArn"])
		assert.Equal(t, []string{fmt.Sprintf("cap-node-%d", old)}, a.Aliases)
	}
	entry, err := rec.One("aws:eks/accessEntry:AccessEntry", "cap-node")
	require.NoError(t, err)
	assert.Equal(t, "EC2_LINUX", entry.Inputs["type"])
	for _, nc := range rec.ByType("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass") {
		assert.Equal(t, "cap-node", nc.Input("spec.role"), "%s: nodes get the node role", nc.Name)
		assert.Equal(t, []any{map[string]any{"id": "sg-cluster"}}, nc.Input("spec.securityGroupSelectorTerms"), "%s: the cluster's security group", nc.Name)
	}

	ctrl, err := rec.One("aws:iam/rolePolicy:RolePolicy", "cap-controller")
	require.NoError(t, err)
	policy := ctrl.Inputs["policy"].(string)
	require.NoError(t, kit.CheckPolicyJSON(policy), "no * action on * resource")
	assert.Contains(t, policy, "arn:aws:sqs:us-east-1:123456789012:queue/cap-interruptions")
	assert.Contains(t, policy, `"iam:PassedToService":["ec2.amazonaws.com"]`)
	trust, _ := rec.One("aws:iam/role:Role", "cap-controller")
	assert.Contains(t, trust.Inputs["assumeRolePolicy"], "system:serviceaccount:kube-system:karpenter")

	release, err := rec.One("kubernetes:helm.sh/v3:Release", "cap")
	require.NoError(t, err)
	assert.Equal(t, "oci://public.ecr.aws/karpenter/karpenter", release.Inputs["chart"])
	assert.Equal(t, "1.14.1", release.Inputs["version"])
	assert.Equal(t, true, release.Inputs["skipCrds"], "CRDs come from the karpenter-crd chart")
	assert.Equal(t, "pulsar-us-east-1", release.Input("values.settings.interruptionQueue"))
	assert.Equal(t, "pulsar-us-east-1", release.Input("values.settings.clusterName"))

	// No Node Termination Handler: Karpenter's queue is the only consumer.
	for _, r := range rec.Resources() {
		assert.NotContains(t, strings.ToLower(r.Name+fmtInputs(r)), "termination-handler")
	}
}

// Without the cluster's outputs nothing registers, and the error names
// every missing one.
func TestCapacityMissingDeps(t *testing.T) {
	rec := recorder.New("us-east-1")
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error { _, err := New(ctx, "cap", args(), Deps{}); return err })
	require.Error(t, err)
	for _, dep := range []string{"provider", "clusterSecurityGroupId", "oidcProviderArn", "oidcIssuer"} {
		assert.ErrorContains(t, err, dep)
	}
	assert.ErrorContains(t, err, `capacity "cap"`)
	assert.Empty(t, rec.Resources())
}

// The in-cluster half builds alone from literal values standing in for the
// AWS half: only Kubernetes resources, under it, with no alias; the node
// classes carry the role and security group given.
func TestKarpenterAlone(t *testing.T) {
	rec := recorder.New("us-east-1")
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetesProvider(ctx)
		if err != nil {
			return err
		}
		_, err = NewKarpenter(ctx, "cap", args(), KarpenterDeps{Provider: p, ClusterSecurityGroupID: pulumi.String("sg-literal"),
			NodeRoleName: pulumi.String("literal-node-role"), ControllerRoleARN: pulumi.String("arn:aws:iam::123456789012:role/literal"),
			QueueName: pulumi.String("literal-queue")})
		return err
	})
	require.NoError(t, err)
	classes := 0
	for _, r := range rec.Resources() {
		if r.Type == KarpenterTypeToken || r.Type == "pulumi:providers:kubernetes" {
			continue
		}
		assert.Contains(t, r.URN, "::"+KarpenterTypeToken+"$", "%s %s under the in-cluster half", r.Type, r.Name)
		assert.True(t, strings.HasPrefix(r.Type, "kubernetes:"), "%s %s: the in-cluster half registers only Kubernetes resources", r.Type, r.Name)
		assert.Empty(t, r.FormerURNs, "%s %s: built alone, nothing moved", r.Type, r.Name)
		if r.Type == "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass" {
			classes++
			assert.Equal(t, "literal-node-role", r.Input("spec.role"))
		}
	}
	assert.Positive(t, classes)
	release, err := rec.One("kubernetes:helm.sh/v3:Release", "cap")
	require.NoError(t, err)
	assert.Equal(t, "literal-queue", release.Input("values.settings.interruptionQueue"))
	policy, err := rec.One("kubernetes:networking.k8s.io/v1:NetworkPolicy", "cap-karpenter")
	require.NoError(t, err)
	assert.Equal(t, Namespace, policy.Input("metadata.namespace"))
	assert.Equal(t, map[string]any{model.LabelAppName: "karpenter", model.LabelAppInstance: "karpenter"}, policy.Input("spec.podSelector.matchLabels"))
	assert.Equal(t, []any{map[string]any{"from": []any{map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{model.LabelNamespaceName: model.NamespaceMonitoring}}}},
		"ports": []any{map[string]any{"protocol": "TCP", "port": float64(MetricsPort)}}}}, policy.Input("spec.ingress"))
}

// Prometheus scrapes Karpenter's metrics; nothing else reaches its pods,
// and the other pods of kube-system are left as they are.
func TestKarpenterNetworkPolicies(t *testing.T) {
	policies := NetworkPolicies()
	karpenter := k8s.Endpoint{Namespace: Namespace, Labels: map[string]string{model.LabelAppName: "karpenter", model.LabelAppInstance: "karpenter"}}
	coredns := k8s.Endpoint{Namespace: Namespace, Labels: map[string]string{"k8s-app": "kube-dns"}}
	prometheus := k8s.Endpoint{Namespace: model.NamespaceMonitoring, Labels: map[string]string{model.LabelAppName: "prometheus"}}
	stranger := k8s.Endpoint{Namespace: "pulsar", Labels: map[string]string{"component": "broker"}}
	assert.True(t, k8s.Admits(policies, prometheus, karpenter, MetricsPort))
	assert.False(t, k8s.Admits(policies, prometheus, karpenter, 8081))
	assert.False(t, k8s.Admits(policies, stranger, karpenter, MetricsPort))
	assert.False(t, k8s.Admits(policies, k8s.Endpoint{Namespace: Namespace}, karpenter, MetricsPort))
	assert.True(t, k8s.Admits(policies, stranger, coredns, 53), "kube-system's other pods are not isolated by the program")
	k8stest.AssertTLSOnlyEgress(t, policies, karpenter)
	assert.True(t, k8s.Sends(policies, coredns, k8s.Endpoint{IP: "169.254.169.254"}, "TCP", 80), "kube-system's other pods send as EKS sets them up")
}

// The controller is told its region, so it never reads the instance
// metadata service, which its egress policy closes.
func TestControllerKnowsItsRegion(t *testing.T) {
	v := ChartValues(args(), pulumi.String("q"), pulumi.String("arn:aws:iam::123456789012:role/k"))
	assert.Equal(t, []k8s.EnvVar{{Name: "AWS_REGION", Value: args().Region}}, v.Controller.Env)
}

// Without the AWS half's outputs nothing registers, and the error names
// every missing one.
func TestKarpenterMissingDeps(t *testing.T) {
	rec := recorder.New("us-east-1")
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		_, err := NewKarpenter(ctx, "cap", args(), KarpenterDeps{})
		return err
	})
	for _, dep := range []string{"provider", "clusterSecurityGroupId", "nodeRoleName", "controllerRoleArn", "queueName"} {
		assert.ErrorContains(t, err, dep)
	}
	assert.Empty(t, rec.Resources())
}

func fmtInputs(r recorder.Resource) string { b, _ := json.Marshal(r.Inputs); return string(b) }

// Every NodePool and EC2NodeClass the component emits validates against the
// Karpenter 1.14.1 CRD schemas.
func TestEmittedResourcesMatchCRDs(t *testing.T) {
	np, err := crdschema.Load(reference.Path(t, "crds/karpenter.sh_nodepools.yaml"), "v1")
	require.NoError(t, err)
	nc, err := crdschema.Load(reference.Path(t, "crds/karpenter.k8s.aws_ec2nodeclasses.yaml"), "v1")
	require.NoError(t, err)
	rec, err := run(t, args())
	require.NoError(t, err)
	count := 0
	for _, r := range rec.Resources() {
		var v *crdschema.Validator
		switch r.Type {
		case "kubernetes:karpenter.sh/v1:NodePool":
			v = np
		case "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass":
			v = nc
		default:
			continue
		}
		count++
		require.NoError(t, v.Validate(r.Inputs), r.Name)
	}
	assert.Equal(t, 7, count)

	// The validator catches an unknown field and a wrong type.
	bad := map[string]any{"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": map[string]any{"name": "x"},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"nodeClassRef": map[string]any{"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "d"},
			"requirements": []any{}, "provisionerRef": "v1alpha5"}}}}
	assert.ErrorContains(t, np.Validate(bad), "provisionerRef")
	bad["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["provisionerRef"] = nil
	delete(bad["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any), "provisionerRef")
	bad["spec"].(map[string]any)["weight"] = "heavy"
	assert.ErrorContains(t, np.Validate(bad), "weight")
}

// The value paths the program sets are the committed list for chart
// 1.14.1 (internal/upstream checks that list against the released chart).
func TestChartValuesExist(t *testing.T) {
	paths, err := kit.Paths(ChartValues(args(), pulumi.String("q"), pulumi.String("arn")), upstream.KarpenterChart.FreeFormKey)
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	upstream.AssertUsedPaths(t, upstream.KarpenterChart, paths)
}
