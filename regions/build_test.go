package regions_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/region"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

func spec(t *testing.T, stack string) (regions.Spec, *sizing.Catalog) {
	t.Helper()
	files, err := stacks.StackFiles("..")
	require.NoError(t, err)
	fleet, err := stacks.FleetFromFiles(files)
	require.NoError(t, err)
	c, ok := fleet.Get(stack)
	require.True(t, ok)
	s, err := c.RegionSpec(fleet, "organization")
	require.NoError(t, err)
	cat, err := sizing.DefaultCatalog()
	require.NoError(t, err)
	return s, cat
}

func peerOutputs(stack string) map[string]any {
	return map[string]any{
		regions.OutputOffloadBucketARN:         "arn:aws:s3:::" + stack + "-offload",
		regions.OutputOffloadKMSKeyARN:         "arn:aws:kms:" + stack + ":123456789012:key/k",
		regions.OutputNATPublicIPs:             []any{"198.51.100.1"},
		regions.OutputProxyNLBARN:              "arn:aws:elasticloadbalancing:" + stack + ":123456789012:loadbalancer/net/x/y",
		regions.OutputTransitGateway:           "tgw-" + stack,
		regions.OutputTransitGatewayRouteTable: "tgw-rtb-" + stack,
		regions.OutputMetricsBucket:            stack + "-metrics-x",
		regions.OutputMetricsBucketARN:         "arn:aws:s3:::" + stack + "-metrics-x",
		regions.OutputMetricsBucketKMSKey:      "arn:aws:kms:" + stack + ":123456789012:key/metrics",
		regions.OutputMetricsMirrors: map[string]any{"us-east-1": map[string]any{
			"bucketArn": "arn:aws:s3:::" + stack + "-metrics-mirror-us-east-1", "kmsKeyArn": "arn:aws:kms:" + stack + ":123456789012:key/m"}},
	}
}

// buildPrimary builds the us-east-1 spec under mocks, its peers' outputs
// simulated, and returns what it registered.
func buildPrimary(t *testing.T, s regions.Spec, cat *sizing.Catalog) *recorder.Recorder {
	t.Helper()
	rec := recorder.New(s.Region)
	rec.StackOutputs["us-west-2"] = peerOutputs("us-west-2")
	rec.StackOutputs["eu-west-1"] = peerOutputs("eu-west-1")
	require.NoError(t, rec.Run("pulsar-fleet", "us-east-1", nil, nil, func(ctx *pulumi.Context) error {
		_, err := regions.Build(ctx, s, cat)
		return err
	}))
	return rec
}

func TestBuildParentsEverythingUnderTheRegion(t *testing.T) {
	s, cat := spec(t, "us-east-1")
	rec := buildPrimary(t, s, cat)
	require.NoError(t, rec.CheckParented(region.TypeToken))
	root, err := rec.Component(region.TypeToken)
	require.NoError(t, err)
	var kids []string
	for _, c := range rec.DirectChildren(root.URN) {
		kids = append(kids, c.Type)
	}
	assert.Subset(t, kids, []string{"pulsar-fleet:network:Network", "pulsar-fleet:cluster:Cluster", "pulsar-fleet:capacity:Capacity",
		"pulsar-fleet:tieredstorage:TieredStorage", "pulumi:pulumi:StackReference"})

	// Objects placed in the Pulsar namespace wait for it: on a first up the
	// client ConfigMap would otherwise race the namespace.
	var ns recorder.Resource
	for _, n := range rec.ByType("kubernetes:core/v1:Namespace") {
		if n.Input("metadata.name") == regions.PulsarNamespace {
			ns = n
		}
	}
	require.NotEmpty(t, ns.URN, "the Pulsar namespace")
	cm, err := rec.One("kubernetes:core/v1:ConfigMap", s.Stack+"-client")
	require.NoError(t, err)
	assert.Contains(t, cm.Dependencies, ns.URN, "the client ConfigMap waits for the Pulsar namespace")
}

// A peer that is not deployed yet (no outputs) fails with the stack and the
// output named.
func TestMissingPeerOutputNamesStackAndOutput(t *testing.T) {
	s, cat := spec(t, "us-east-1")
	rec := recorder.New(s.Region)
	rec.StackOutputs["eu-west-1"] = peerOutputs("eu-west-1")
	err := rec.Run("pulsar-fleet", "us-east-1", nil, nil, func(ctx *pulumi.Context) error {
		_, err := regions.Build(ctx, s, cat)
		return err
	})
	require.Error(t, err)
	assert.Regexp(t, `stack us-west-2 has no output "(offloadBucketArn|offloadKmsKeyArn|natPublicIps|transitGatewayId|transitGatewayRouteTableId)": deploy us-west-2 first`, err.Error())
}

func TestComponentConfigsFollowThePlan(t *testing.T) {
	s, cat := spec(t, "us-west-2")
	plan, err := regions.PlanFor(s, cat)
	require.NoError(t, err)
	a, err := regions.ComponentConfigs(s, plan, cat)
	require.NoError(t, err)
	require.NoError(t, a.Validate())
	byName := map[string]int{}
	for i, p := range a.Capacity.Pools {
		byName[p.Name] = i
	}
	broker := a.Capacity.Pools[byName[regions.PoolBroker]]
	assert.Equal(t, plan.Brokers.Alternatives, broker.InstanceTypes, "broker pool types come from the plan")
	assert.Equal(t, plan.Brokers.Count, broker.Nodes)
	assert.Equal(t, 0.9, broker.SpotShare, "secondary: 90% spot")
	assert.Equal(t, plan.PoolLimits[sizing.PoolBroker].CPU, broker.LimitCPU)
	critical := a.Capacity.Pools[byName[regions.PoolCritical]]
	assert.Zero(t, critical.SpotShare, "ZooKeeper and proxies on-demand only")
}

// A chart source takes every release's chart from the team's mirror.
func TestChartSourceReachesEveryRelease(t *testing.T) {
	for _, tc := range []struct {
		source    string
		karpenter string
		pulsar    string
		repo      any
	}{
		{"", "oci://public.ecr.aws/karpenter/karpenter", "pulsar", "https://pulsar.apache.org/charts"},
		{"/opt/charts", "/opt/charts/karpenter", "/opt/charts/pulsar", nil},
		{"oci://registry.example.com/mirror", "oci://registry.example.com/mirror/karpenter", "oci://registry.example.com/mirror/pulsar", nil},
	} {
		s, cat := spec(t, "us-east-1")
		s.ChartSource = model.ChartSource(tc.source)
		rec := buildPrimary(t, s, cat)
		charts := map[string]recorder.Resource{}
		for _, r := range rec.ByType("kubernetes:helm.sh/v3:Release") {
			charts[r.Inputs["name"].(string)] = r
		}
		require.Len(t, charts, 5, "karpenter-crd, karpenter, pulsar, kube-prometheus-stack, cert-manager")
		if tc.source == "" {
			assert.Equal(t, "https://charts.jetstack.io", charts["cert-manager"].Inputs["repositoryOpts"].(map[string]any)["repo"])
		} else {
			assert.Contains(t, charts["cert-manager"].Inputs["chart"], tc.source+"/cert-manager", "cert-manager from the mirror too")
		}
		assert.Equal(t, tc.karpenter, charts["karpenter"].Inputs["chart"], tc.source)
		assert.Equal(t, tc.pulsar, charts["pulsar"].Inputs["chart"], tc.source)
		if tc.repo == nil {
			assert.Nil(t, charts["pulsar"].Inputs["repositoryOpts"], tc.source)
		} else {
			assert.Equal(t, tc.repo, charts["pulsar"].Inputs["repositoryOpts"].(map[string]any)["repo"])
		}
	}
}

// The private path in the committed fleet: the primary reads, so joins,
// both peers; the secondary reads, so joins, the DR region (its global
// view reads every region's Thanos endpoint). Every joined block
// is routed to the region's transit gateway and admitted by its private
// listener, and peers are registered at their private names.
func TestPrivatePathBetweenJoinedRegions(t *testing.T) {
	for _, tc := range []struct {
		stack      string
		joins      []string
		peerCIDRs  []string
		privateNet []string
	}{
		{"us-east-1", []string{"us-west-2", "eu-west-1"}, []string{"10.30.0.0/16", "10.20.0.0/16"}, []string{"10.10.0.0/16", "10.30.0.0/16", "10.20.0.0/16"}},
		{"us-west-2", []string{"eu-west-1"}, []string{"10.10.0.0/16", "10.30.0.0/16"}, []string{"10.20.0.0/16", "10.10.0.0/16", "10.30.0.0/16"}},
		{"eu-west-1", nil, []string{"10.10.0.0/16", "10.20.0.0/16"}, []string{"10.30.0.0/16", "10.10.0.0/16", "10.20.0.0/16"}},
	} {
		t.Run(tc.stack, func(t *testing.T) {
			s, cat := spec(t, tc.stack)
			plan, err := regions.PlanFor(s, cat)
			require.NoError(t, err)
			a, err := regions.ComponentConfigs(s, plan, cat)
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.peerCIDRs, a.Network.PeerCIDRs, "routed to the transit gateway")
			assert.ElementsMatch(t, tc.privateNet, a.Pulsar.Exposure.PrivateCIDRs, "admitted by the private listener")
			var joins []string
			for _, p := range a.Interconnect.Peers {
				joins = append(joins, p.Stack)
			}
			assert.ElementsMatch(t, tc.joins, joins, "the stack joins those it reads")
			for _, p := range a.Pulsar.Peers {
				name := "pulsar-private-" + p.Cluster + ".streaming.example.com"
				assert.Equal(t, "https://"+name, p.WebURL)
				assert.Equal(t, "pulsar+ssl://"+name+":6651", p.BrokerURL)
			}
			assert.Equal(t, []string{"pulsar-private-" + tc.stack + ".streaming.example.com"}, a.PrivateCertificate.Names)
			assert.ElementsMatch(t, tc.privateNet, a.Observability.EndpointCIDRs, "the Thanos endpoint admits the joined VPCs too")
			assert.Equal(t, "pulsar-"+tc.stack+".streaming.example.com", a.Pulsar.ProbeHost, "the probe goes through the client listener")
		})
	}
}

// A stack whose tokens were minted from one fleet key (read by the
// program from its own last outputs) refuses another bootstrap key unless
// its file accepts it by fingerprint: nothing minted from the key (the
// public key's Secret, the tokens) is registered. The same key, or a stack deployed before the
// fingerprint, goes through.
func TestFleetKeyChangeIsRefused(t *testing.T) {
	s, cat := spec(t, "us-east-1")
	require.Equal(t, "organization/pulsar-fleet/us-east-1", s.Self)
	current, err := model.KeyFingerprint(recorder.SimulatedTokenKey())
	require.NoError(t, err)
	const other = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	for _, tc := range []struct {
		name, deployed, accept, want string
	}{
		{"the same key", current, "", ""},
		{"deployed before the fingerprint", "", "", ""},
		{"another key, unannounced", other, "", "its Pulsar tokens were minted from the fleet key " + other},
		{"another key, accepted", other, current, ""},
		{"another key, a third accepted", other, "sha256:" + strings.Repeat("2", 64), `add acceptKeyFingerprint: "` + current + `" to pulsar-fleet:tokens in this stack's file`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := s
			s.AcceptKeyFingerprint = tc.accept
			rec := recorder.New(s.Region)
			rec.StackOutputs["us-west-2"] = peerOutputs("us-west-2")
			rec.StackOutputs["eu-west-1"] = peerOutputs("eu-west-1")
			s.DeployedKeyFingerprint = tc.deployed
			err := rec.Run("pulsar-fleet", "us-east-1", nil, nil, func(ctx *pulumi.Context) error {
				_, err := regions.Build(ctx, s, cat)
				return err
			})
			_, keyErr := rec.One("kubernetes:core/v1:Secret", "us-east-1-token-key")
			if tc.want == "" {
				require.NoError(t, err)
				assert.NoError(t, keyErr, "the public key's Secret")
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "stack us-east-1")
			assert.Error(t, keyErr, "nothing minted from the refused key is registered")
		})
	}
}
