package network

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
)

func TestLayout(t *testing.T) {
	for _, tc := range []struct {
		cidr            string
		zones           int
		private, public []string
	}{
		{"10.10.0.0/16", 3, []string{"10.10.0.0/18", "10.10.64.0/18", "10.10.128.0/18"}, []string{"10.10.192.0/22", "10.10.196.0/22", "10.10.200.0/22"}},
		{"10.20.0.0/18", 3, []string{"10.20.0.0/20", "10.20.16.0/20", "10.20.32.0/20"}, []string{"10.20.48.0/24", "10.20.49.0/24", "10.20.50.0/24"}},
		{"10.30.0.0/16", 4, []string{"10.30.0.0/19", "10.30.32.0/19", "10.30.64.0/19", "10.30.96.0/19"}, []string{"10.30.224.0/23", "10.30.226.0/23", "10.30.228.0/23", "10.30.230.0/23"}},
		{"10.40.0.0/16", 1, []string{"10.40.0.0/17"}, []string{"10.40.128.0/19"}},
	} {
		zones := []string{"a", "b", "c", "d"}[:tc.zones]
		priv, pub, err := Layout(tc.cidr, zones)
		require.NoError(t, err, tc.cidr)
		var gotPriv, gotPub []string
		for i := range zones {
			gotPriv, gotPub = append(gotPriv, priv[i].CIDR), append(gotPub, pub[i].CIDR)
			assert.Equal(t, zones[i], priv[i].Zone)
			assert.True(t, pub[i].Public)
		}
		assert.Equal(t, tc.private, gotPriv, tc.cidr)
		assert.Equal(t, tc.public, gotPub, tc.cidr)
	}
	for _, bad := range []struct {
		cidr  string
		zones int
	}{{"10.0.0.0/27", 3}, {"10.0.0.1/16", 3}, {"fd00::/48", 3}, {"nope", 3}, {"10.0.0.0/16", 0}} {
		_, _, err := Layout(bad.cidr, []string{"a", "b", "c"}[:bad.zones])
		assert.Error(t, err, bad.cidr)
	}
}

func args() Config {
	return Config{Region: "us-east-1", CIDR: "10.10.0.0/16", Zones: []string{"us-east-1a", "us-east-1b", "us-east-1c"},
		ClusterName: "pulsar-us-east-1", Tags: map[string]string{"team": "streaming"}}
}

func run(t *testing.T, a Config) *recorder.Recorder {
	t.Helper()
	rec := recorder.New("us-east-1")
	require.NoError(t, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "net", a, Deps{})
		return err
	}))
	return rec
}

func TestNetworkResources(t *testing.T) {
	rec := run(t, args())
	require.NoError(t, rec.CheckParented(TypeToken))
	comp, err := rec.Component(TypeToken)
	require.NoError(t, err)
	for _, r := range rec.Resources() {
		if r.Type != TypeToken {
			assert.Equal(t, comp.URN, r.Parent, "%s %s parented to the network", r.Type, r.Name)
		}
	}
	subnets := rec.ByType("aws:ec2/subnet:Subnet")
	require.Len(t, subnets, 6)
	perZone := map[string]int{}
	for _, s := range subnets {
		perZone[s.Inputs["availabilityZone"].(string)]++
		tags := s.Inputs["tags"].(map[string]any)
		assert.Equal(t, "streaming", tags["team"])
		assert.Equal(t, "shared", tags["kubernetes.io/cluster/pulsar-us-east-1"])
		if tags["pulsar-fleet.io/subnet-visibility"] == "private" {
			assert.Equal(t, "pulsar-us-east-1", tags["karpenter.sh/discovery"], "Karpenter discovers private subnets")
			assert.Equal(t, "1", tags["kubernetes.io/role/internal-elb"])
		} else {
			assert.Nil(t, tags["karpenter.sh/discovery"], "nodes never land in public subnets")
			assert.Equal(t, false, s.Input("mapPublicIpOnLaunch"), "no public IPs on launch")
			assert.Equal(t, "1", tags["kubernetes.io/role/elb"])
		}
	}
	assert.Equal(t, map[string]int{"us-east-1a": 2, "us-east-1b": 2, "us-east-1c": 2}, perZone)
	assert.Len(t, rec.ByType("aws:ec2/natGateway:NatGateway"), 3, "one NAT gateway per zone")
	eps := rec.ByType("aws:ec2/vpcEndpoint:VpcEndpoint")
	require.Len(t, eps, 1)
	assert.Equal(t, "com.amazonaws.us-east-1.s3", eps[0].Inputs["serviceName"])
	assert.Equal(t, "Gateway", eps[0].Inputs["vpcEndpointType"])
	assert.Len(t, eps[0].Inputs["routeTableIds"], 3, "the S3 endpoint serves every private route table")
	for _, rt := range rec.ByType("aws:ec2/routeTable:RouteTable") {
		routes := rt.Inputs["routes"].([]any)
		require.Len(t, routes, 1)
		route := routes[0].(map[string]any)
		if rt.Name == "net-public" {
			assert.NotEmpty(t, route["gatewayId"])
		} else {
			assert.NotEmpty(t, route["natGatewayId"], "private subnets egress through NAT")
		}
	}
}

func TestSingleNAT(t *testing.T) {
	a := args()
	a.NATGateways = NATSingle
	rec := run(t, a)
	nats := rec.ByType("aws:ec2/natGateway:NatGateway")
	require.Len(t, nats, 1)
	assert.Len(t, rec.ByType("aws:ec2/eip:Eip"), 1)
	assert.Len(t, rec.ByType("aws:ec2/routeTable:RouteTable"), 4, "each private subnet still has its route table")
}

func TestNetworkBadInputRegistersNothing(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"nat mode":     func(a *Config) { a.NATGateways = "none" },
		"cidr":         func(a *Config) { a.CIDR = "10.0.0.0/29" },
		"no zones":     func(a *Config) { a.Zones = nil },
		"cluster name": func(a *Config) { a.ClusterName = "" },
	} {
		t.Run(name, func(t *testing.T) {
			a := args()
			mut(&a)
			rec := recorder.New("us-east-1")
			err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error { _, err := New(ctx, "net", a, Deps{}); return err })
			require.Error(t, err)
			assert.Empty(t, rec.Resources())
		})
	}
}
