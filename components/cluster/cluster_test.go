package cluster

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

func args() Config {
	return Config{
		Name: "pulsar-us-east-1", KubernetesVersion: "1.35",
		SystemPool:     SystemPool{InstanceTypes: []string{"c6g.2xlarge", "c7g.2xlarge"}, Arch: "arm64", Min: 2, Desired: 2, Max: 4},
		StorageClasses: []StorageClass{{Name: "pulsar-journal", ThroughputMiB: 250, IOPS: 6000}, {Name: "gp3-encrypted", ThroughputMiB: 125, IOPS: 3000, Default: true}},
		Tags:           map[string]string{"team": "streaming"},
	}
}

func deps() Deps {
	return Deps{
		VpcID: pulumi.String("vpc-1"), PrivateSubnetIDs: pulumi.ToStringArray([]string{"s1", "s2", "s3"}),
		PublicSubnetIDs: pulumi.ToStringArray([]string{"p1", "p2", "p3"}),
	}
}

func run(t *testing.T, a Config) *recorder.Recorder {
	t.Helper()
	rec := recorder.New("us-east-1")
	require.NoError(t, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "c", a, deps())
		return err
	}))
	return rec
}

func TestClusterSecureDefaults(t *testing.T) {
	rec := run(t, args())
	require.NoError(t, rec.CheckParented(TypeToken))
	eks, err := rec.One("eks:index:Cluster", "c")
	require.NoError(t, err)
	comp, _ := rec.Component(TypeToken)
	assert.Equal(t, comp.URN, eks.Parent)
	assert.Equal(t, "pulsar-us-east-1", eks.Inputs["name"])
	assert.Equal(t, true, eks.Inputs["endpointPrivateAccess"])
	assert.Equal(t, false, eks.Inputs["endpointPublicAccess"], "private API endpoint by default")
	assert.Nil(t, eks.Inputs["publicAccessCidrs"])
	assert.ElementsMatch(t, []any{"api", "audit", "authenticator", "controllerManager", "scheduler"}, eks.Inputs["enabledClusterLogTypes"])
	assert.Equal(t, true, eks.Inputs["createOidcProvider"])
	assert.Equal(t, "API", eks.Inputs["authenticationMode"])
	assert.Equal(t, []any{"s1", "s2", "s3"}, eks.Inputs["privateSubnetIds"])
	assert.Equal(t, true, eks.Input("vpcCniOptions.enableNetworkPolicy"), "NetworkPolicies are enforced")
	key, err := rec.One("aws:kms/key:Key", "c-secrets")
	require.NoError(t, err)
	assert.Equal(t, true, key.Inputs["enableKeyRotation"])
	assert.Equal(t, "arn:aws:kms:us-east-1:123456789012:key/c-secrets", eks.Inputs["encryptionConfigKeyArn"], "secrets encrypted with the cluster's key")

	mng, err := rec.One("eks:index:ManagedNodeGroup", "c-system")
	require.NoError(t, err)
	assert.Equal(t, "ON_DEMAND", mng.Inputs["capacityType"])
	assert.Equal(t, "AL2023_ARM_64_STANDARD", mng.Inputs["amiType"])
	assert.Equal(t, "1.35", mng.Inputs["version"], "the system nodes follow the control plane's version")
	assert.Equal(t, "1.35", eks.Inputs["version"])
	lt, err := rec.One("aws:ec2/launchTemplate:LaunchTemplate", "c-system")
	require.NoError(t, err)
	assert.Equal(t, "required", lt.Input("metadataOptions.httpTokens"), "IMDSv2 only")
	assert.Equal(t, 1.0, lt.Input("metadataOptions.httpPutResponseHopLimit"), "pods cannot reach the node role")
	ebs := lt.Inputs["blockDeviceMappings"].([]any)[0].(map[string]any)["ebs"].(map[string]any)
	assert.Equal(t, "true", ebs["encrypted"])
	assert.Equal(t, 50.0, ebs["volumeSize"])
	assert.Equal(t, lt.ID, mng.Input("launchTemplate.id"), "the node group uses the hardened template")
	assert.Equal(t, []any{map[string]any{"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}}, mng.Inputs["taints"])
	assert.Equal(t, eks.URN, mng.Input("cluster"), "the node group joins this cluster")

	sc, err := rec.One("kubernetes:storage.k8s.io/v1:StorageClass", "c-pulsar-journal")
	require.NoError(t, err)
	params := sc.Inputs["parameters"].(map[string]any)
	assert.Equal(t, "true", params["encrypted"])
	assert.Equal(t, "gp3", params["type"])
	assert.Equal(t, "250", params["throughput"])
	assert.Equal(t, "Retain", sc.Inputs["reclaimPolicy"])
	assert.NotEmpty(t, sc.Provider, "Kubernetes resources use the cluster's provider")

	addon, err := rec.One("aws:eks/addon:Addon", "c-ebs-csi")
	require.NoError(t, err)
	assert.Equal(t, "aws-ebs-csi-driver", addon.Inputs["addonName"])
	ms, err := rec.One("aws:eks/addon:Addon", "c-metrics-server")
	require.NoError(t, err, "the HPAs need metrics.k8s.io")
	assert.Equal(t, "metrics-server", ms.Inputs["addonName"])
	assert.Equal(t, addon.Inputs["clusterName"], ms.Inputs["clusterName"])
	role, err := rec.One("aws:iam/role:Role", "c-ebs-csi")
	require.NoError(t, err)
	trust := role.Inputs["assumeRolePolicy"].(string)
	require.NoError(t, kit.CheckPolicyJSON(trust))
	assert.Contains(t, trust, "system:serviceaccount:kube-system:ebs-csi-controller-sa")
	var attached []string
	for _, a := range rec.ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		if strings.HasPrefix(a.Name, "c-system-node-") {
			attached = append(attached, a.Inputs["policyArn"].(string))
		}
	}
	assert.ElementsMatch(t, model.NodeManagedPolicies, attached)
}

// Every add-on is declared at a version EKS names for the declared
// Kubernetes version (the newest build for the VPC CNI and kube-proxy, as
// before, the default for the others), so moving the version moves each
// of them in the same `up`. CoreDNS is the program's own add-on, after the system nodes
// that run it, and kept running if the add-on is ever deleted.
func TestAddonsFollowTheKubernetesVersion(t *testing.T) {
	for _, version := range []string{"1.34", "1.35"} {
		t.Run(version, func(t *testing.T) {
			a := args()
			a.KubernetesVersion = version
			rec := run(t, a)
			want := func(addon string) string {
				return recorder.SimulatedAddonVersion(addon, version, slices.Contains(NewestBuildAddons, addon))
			}
			eks, err := rec.One("eks:index:Cluster", "c")
			require.NoError(t, err)
			assert.Equal(t, want(AddonVPCCNI), eks.Input("vpcCniOptions.addonVersion"))
			assert.Equal(t, want(AddonKubeProxy), eks.Input("kubeProxyAddonOptions.version"))
			assert.Equal(t, false, eks.Input("corednsAddonOptions.enabled"), "CoreDNS is the program's add-on, not pulumi-eks'")
			seen := []string{AddonVPCCNI, AddonKubeProxy}
			for _, addon := range rec.ByType("aws:eks/addon:Addon") {
				name := addon.Inputs["addonName"].(string)
				assert.Equal(t, want(name), addon.Inputs["addonVersion"], name)
				assert.Contains(t, addon.Dependencies, eks.URN, "%s waits for the control plane", name)
				seen = append(seen, name)
			}
			assert.ElementsMatch(t, Addons, seen, "every add-on the cluster runs has its version declared")
			dns, err := rec.One("aws:eks/addon:Addon", "c-coredns")
			require.NoError(t, err)
			mng, _ := rec.One("eks:index:ManagedNodeGroup", "c-system")
			assert.Contains(t, dns.Dependencies, mng.URN, "its pods need the system nodes")
			assert.Equal(t, true, dns.Inputs["preserve"], "deleting the add-on leaves the cluster's DNS running")
			assert.Equal(t, "OVERWRITE", dns.Inputs["resolveConflictsOnCreate"], "it takes over the CoreDNS EKS installed")
		})
	}
}

// A pinned add-on keeps its version whatever EKS publishes; the others
// still follow the lookup.
func TestAddonPins(t *testing.T) {
	a := args()
	a.AddonVersions = map[string]string{AddonVPCCNI: "v1.20.4-eksbuild.1", AddonCoreDNS: "v1.12.1-eksbuild.2"}
	rec := run(t, a)
	eks, err := rec.One("eks:index:Cluster", "c")
	require.NoError(t, err)
	assert.Equal(t, "v1.20.4-eksbuild.1", eks.Input("vpcCniOptions.addonVersion"))
	assert.Equal(t, recorder.SimulatedAddonVersion(AddonKubeProxy, a.KubernetesVersion, true), eks.Input("kubeProxyAddonOptions.version"))
	dns, err := rec.One("aws:eks/addon:Addon", "c-coredns")
	require.NoError(t, err)
	assert.Equal(t, "v1.12.1-eksbuild.2", dns.Inputs["addonVersion"])
	csi, err := rec.One("aws:eks/addon:Addon", "c-ebs-csi")
	require.NoError(t, err)
	assert.Equal(t, recorder.SimulatedAddonVersion(AddonEBSCSI, a.KubernetesVersion, false), csi.Inputs["addonVersion"])
}

func TestClusterPublicEndpointOnlyFromListedCIDRs(t *testing.T) {
	a := args()
	a.PublicAccessCIDRs = []string{"203.0.113.0/24"}
	rec := run(t, a)
	eks, _ := rec.One("eks:index:Cluster", "c")
	assert.Equal(t, true, eks.Inputs["endpointPublicAccess"])
	assert.Equal(t, []any{"203.0.113.0/24"}, eks.Inputs["publicAccessCidrs"])
}

func TestClusterBadInput(t *testing.T) {
	for name, mut := range map[string]func(*Config, *Deps){
		"cidr":           func(a *Config, _ *Deps) { a.PublicAccessCIDRs = []string{"everyone"} },
		"version":        func(a *Config, _ *Deps) { a.KubernetesVersion = "v33" },
		"system arch":    func(a *Config, _ *Deps) { a.SystemPool.Arch = "sparc" },
		"system sizes":   func(a *Config, _ *Deps) { a.SystemPool.Min, a.SystemPool.Desired, a.SystemPool.Max = 3, 2, 4 },
		"gp3 iops":       func(a *Config, _ *Deps) { a.StorageClasses[0].IOPS = 100 },
		"no network":     func(_ *Config, d *Deps) { d.VpcID = nil },
		"no instances":   func(a *Config, _ *Deps) { a.SystemPool.InstanceTypes = nil },
		"unknown add-on": func(a *Config, _ *Deps) { a.AddonVersions = map[string]string{"kube-dns": "v1.0.0-eksbuild.1"} },
		"empty pin":      func(a *Config, _ *Deps) { a.AddonVersions = map[string]string{AddonCoreDNS: ""} },
	} {
		t.Run(name, func(t *testing.T) {
			a, d := args(), deps()
			mut(&a, &d)
			rec := recorder.New("us-east-1")
			err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error { _, err := New(ctx, "c", a, d); return err })
			require.Error(t, err)
			assert.Empty(t, rec.Resources())
		})
	}
}

// Without the network's outputs nothing registers, and the error names
// every missing one.
func TestClusterMissingDeps(t *testing.T) {
	rec := recorder.New("us-east-1")
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error { _, err := New(ctx, "c", args(), Deps{}); return err })
	require.Error(t, err)
	for _, dep := range []string{"vpcId", "privateSubnetIds", "publicSubnetIds"} {
		assert.ErrorContains(t, err, dep)
	}
	assert.ErrorContains(t, err, `cluster "c"`)
	assert.Empty(t, rec.Resources())
}

// Every configured principal gets an access entry and one policy
// association with its scope; names follow the principal, not the order.
func TestAccessEntries(t *testing.T) {
	a := args()
	a.Access = []model.AccessGrant{
		{PrincipalARN: "arn:aws:iam::123456789012:role/platform-admins", Policy: model.AccessClusterAdmin},
		{PrincipalARN: "arn:aws:iam::123456789012:role/streaming-oncall", Policy: model.AccessEdit, Namespaces: []string{"pulsar"}},
		{PrincipalARN: "arn:aws:iam::123456789012:role/pulsar-fleet-ci-preview", Policy: model.AccessView},
		{PrincipalARN: "arn:aws:iam::123456789012:role/pulsar-fleet-ci-deploy", Policy: model.AccessClusterAdmin},
		{PrincipalARN: "arn:aws:iam::210987654321:role/pulsar-fleet-operator", Policy: model.AccessClusterAdmin},
	}
	rec := run(t, a)
	require.NoError(t, rec.CheckParented(TypeToken))
	entries := rec.ByType("aws:eks/accessEntry:AccessEntry")
	assocs := rec.ByType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
	require.Len(t, entries, len(a.Access))
	require.Len(t, assocs, len(a.Access))
	eks, err := rec.One("eks:index:Cluster", "c")
	require.NoError(t, err)
	for _, g := range a.Access {
		name := "c-access-" + AccessName(g.PrincipalARN)
		e, err := rec.One("aws:eks/accessEntry:AccessEntry", name)
		require.NoError(t, err, name)
		assert.Equal(t, g.PrincipalARN, e.Inputs["principalArn"])
		assert.Equal(t, "pulsar-us-east-1", e.Inputs["clusterName"])
		assert.Equal(t, "STANDARD", e.Inputs["type"])
		assert.Contains(t, e.Dependencies, eks.URN, "entries wait for the cluster")
		p, err := rec.One("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", name+"-"+string(g.Policy))
		require.NoError(t, err)
		assert.Equal(t, g.PrincipalARN, p.Inputs["principalArn"])
		assert.Equal(t, g.Policy.ARN(), p.Inputs["policyArn"])
		if len(g.Namespaces) > 0 {
			assert.Equal(t, map[string]any{"type": "namespace", "namespaces": []any{"pulsar"}}, p.Inputs["accessScope"])
		} else {
			assert.Equal(t, map[string]any{"type": "cluster"}, p.Inputs["accessScope"])
		}
	}
	assert.Equal(t, "210987654321-pulsar-fleet-operator", AccessName("arn:aws:iam::210987654321:role/ops/pulsar-fleet-operator"))
}

// Bad access is refused before anything registers, naming the principal.
func TestAccessRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		grant model.AccessGrant
		want  string
	}{
		"policy": {model.AccessGrant{PrincipalARN: "arn:aws:iam::123456789012:role/x", Policy: "superuser"}, "want one of clusterAdmin, admin, edit, view"},
		"arn":    {model.AccessGrant{PrincipalARN: "arn:aws:sts::123456789012:assumed-role/x/y", Policy: model.AccessView}, "want an IAM role or user ARN"},
		"scope":  {model.AccessGrant{PrincipalARN: "arn:aws:iam::123456789012:role/x", Policy: model.AccessClusterAdmin, Namespaces: []string{"a"}}, "cluster-wide only"},
	} {
		a := args()
		a.Access = []model.AccessGrant{tc.grant}
		rec := recorder.New("us-east-1")
		err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
			_, err := New(ctx, "c", a, deps())
			return err
		})
		assert.ErrorContains(t, err, tc.want, name)
		assert.Empty(t, rec.Resources(), "%s: nothing registered", name)
	}
}

// Ready lists every resource of the cluster, each once: what depends on
// the whole cluster depends on exactly its children, every run.
func TestReadyIsEveryChild(t *testing.T) {
	rec := recorder.New("us-east-1")
	var ready []pulumi.Resource
	require.NoError(t, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		c, err := New(ctx, "c", args(), deps())
		if err == nil {
			ready = c.Ready
		}
		return err
	}))
	comp, err := rec.Component(TypeToken)
	require.NoError(t, err)
	children := rec.DirectChildren(comp.URN)
	assert.Len(t, ready, len(children), "one Ready entry per child")
	seen := map[pulumi.Resource]bool{}
	for _, r := range ready {
		assert.False(t, seen[r], "listed once")
		seen[r] = true
	}
}

// The cluster's Kubernetes provider applies server-side, never deletes what
// it cannot reach, and updates ConfigMaps in place.
func TestKubernetesProviderSettings(t *testing.T) {
	rec := run(t, args())
	p, err := rec.One("pulumi:providers:kubernetes", "c")
	require.NoError(t, err)
	for key, want := range map[string]string{"enableServerSideApply": "true", "deleteUnreachable": "false", "enableConfigMapMutable": "true"} {
		assert.Equal(t, want, fmt.Sprint(p.Inputs[key]), key)
	}
}

// Each volume attributes value is a VolumeAttributesClass of the EBS
// driver named by its values, on 1.34 and later; below, none.
func TestVolumeAttributesClasses(t *testing.T) {
	a := args()
	a.VolumeAttributes = []VolumeAttributes{{ThroughputMiB: 375, IOPS: 3000}, {ThroughputMiB: 375, IOPS: 6000}}
	rec := run(t, a)
	vacs := rec.ByType("kubernetes:storage.k8s.io/v1:VolumeAttributesClass")
	require.Len(t, vacs, 2)
	vac, err := rec.One("kubernetes:storage.k8s.io/v1:VolumeAttributesClass", "c-gp3-375mibs-6000iops")
	require.NoError(t, err)
	assert.Equal(t, "gp3-375mibs-6000iops", vac.Input("metadata.name"))
	assert.Equal(t, "ebs.csi.aws.com", vac.Inputs["driverName"])
	assert.Equal(t, map[string]any{"throughput": "375", "iops": "6000"}, vac.Inputs["parameters"])
	assert.NotEmpty(t, vac.Provider, "through the cluster's provider")
	assert.True(t, vac.RetainOnDelete, "never deleted: retained volumes may name it")

	a.KubernetesVersion = "1.33"
	assert.Empty(t, run(t, a).ByType("kubernetes:storage.k8s.io/v1:VolumeAttributesClass"), "1.33 serves no storage.k8s.io/v1 VolumeAttributesClass")
}
