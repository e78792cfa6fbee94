package network

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
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

// A zone added to the running region takes its subnets from a secondary
// CIDR of its own: the other zones' subnets are exactly what they were,
// and the new subnets wait for the CIDR's association.
func TestAddedZone(t *testing.T) {
	before, err := Compute(args())
	require.NoError(t, err)
	a := args()
	a.AddedZones = []model.AddedZone{{Zone: "us-east-1d", CIDR: "10.11.0.0/16"}}
	after, err := Compute(a)
	require.NoError(t, err)
	assert.Equal(t, before.Private, after.Private, "no subnet of the first zones changes")
	assert.Equal(t, before.Public, after.Public)
	assert.Equal(t, []Block{{Zone: "us-east-1d", CIDR: "10.11.0.0/16",
		Private: Subnet{Zone: "us-east-1d", CIDR: "10.11.0.0/17"}, Public: Subnet{Zone: "us-east-1d", CIDR: "10.11.128.0/19", Public: true}}}, after.Added)
	assert.Equal(t, []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"}, after.NATZones)

	rec := recorder.New("us-east-1")
	var private, added int
	require.NoError(t, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		n, err := New(ctx, "net", a, Deps{})
		if err != nil {
			return err
		}
		pulumi.All(n.PrivateSubnetIDs, n.AddedSubnetIDs).ApplyT(func(v []any) int {
			private, added = len(v[0].([]string)), len(v[1].([]string))
			return 0
		})
		return nil
	}))
	assert.Equal(t, 3, private, "the control plane and system nodes keep their subnets")
	assert.Equal(t, 1, added)
	assocs := rec.ByType("aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation")
	require.Len(t, assocs, 1)
	assert.Equal(t, "10.11.0.0/16", assocs[0].Inputs["cidrBlock"])
	subnets := rec.ByType("aws:ec2/subnet:Subnet")
	require.Len(t, subnets, 8)
	cidrs := map[string]string{}
	for _, s := range subnets {
		cidrs[s.Name] = s.Inputs["cidrBlock"].(string)
		if s.Inputs["availabilityZone"] == "us-east-1d" {
			assert.Contains(t, s.Dependencies, assocs[0].URN, "%s waits for its CIDR", s.Name)
			tags := s.Inputs["tags"].(map[string]any)
			assert.Equal(t, "shared", tags["kubernetes.io/cluster/pulsar-us-east-1"], "the load balancers and Karpenter find it")
		}
	}
	for _, s := range append(before.Private, before.Public...) {
		kind := "private"
		if s.Public {
			kind = "public"
		}
		assert.Equal(t, s.CIDR, cidrs["net-"+kind+"-"+s.Zone], "%s %s keeps its name and CIDR", kind, s.Zone)
	}
	assert.Equal(t, "10.11.0.0/17", cidrs["net-private-us-east-1d"])
	assert.Len(t, rec.ByType("aws:ec2/natGateway:NatGateway"), 4, "the added zone has its NAT gateway")
	eps := rec.ByType("aws:ec2/vpcEndpoint:VpcEndpoint")
	require.Len(t, eps, 1)
	assert.Len(t, eps[0].Inputs["routeTableIds"], 4, "the S3 endpoint serves the added zone too")
}

func TestAddedZoneErrors(t *testing.T) {
	for _, tc := range []struct {
		added []model.AddedZone
		want  string
	}{
		{[]model.AddedZone{{Zone: "us-east-1a", CIDR: "10.11.0.0/16"}}, `addedZones[0].zone "us-east-1a": want a zone the region does not span yet`},
		{[]model.AddedZone{{Zone: "us-east-1d", CIDR: "10.10.128.0/17"}}, "overlaps no other of the VPC (10.10.0.0/16)"},
		{[]model.AddedZone{{Zone: "us-east-1d", CIDR: "10.11.0.0/16"}, {Zone: "us-east-1f", CIDR: "10.11.0.0/18"}}, "addedZones[1].cidr \"10.11.0.0/18\": want a block that overlaps no other of the VPC (10.11.0.0/16)"},
		{[]model.AddedZone{{Zone: "us-east-1d", CIDR: "192.168.0.0/16"}}, "a block of 10.0.0.0/8 (the VPC CIDR's range) or of 100.64.0.0/10"},
		{[]model.AddedZone{{Zone: "us-east-1d", CIDR: "10.11.0.1/16"}}, "an IPv4 network address from /16 to /20"},
		{[]model.AddedZone{{Zone: "us-east-1d", CIDR: "10.11.0.0/22"}}, "an IPv4 network address from /16 to /20"},
	} {
		a := args()
		a.AddedZones = tc.added
		err := a.Validate()
		require.Error(t, err, tc.added)
		assert.Contains(t, err.Error(), tc.want)
		rec := recorder.New("us-east-1")
		require.Error(t, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error { _, err := New(ctx, "net", a, Deps{}); return err }))
		assert.Empty(t, rec.Resources(), "nothing half-created")
	}
}

// With peers, the region's transit gateway is attached to every private
// subnet (the added zone's too), and each private route table sends the
// peers' blocks to it inline, after the attachment exists; the public
// route table does not. Without peers there is no gateway.
func TestTransitGatewayToPeers(t *testing.T) {
	a := args()
	a.AddedZones = []model.AddedZone{{Zone: "us-east-1d", CIDR: "10.11.0.0/16"}}
	a.PeerCIDRs = []string{"10.20.0.0/16", "10.30.0.0/16"}
	rec := run(t, a)
	tgw, err := rec.One("aws:ec2transitgateway/transitGateway:TransitGateway", "net")
	require.NoError(t, err)
	assert.Equal(t, "disable", tgw.Inputs["autoAcceptSharedAttachments"], "nobody attaches to it but this stack")
	att, err := rec.One("aws:ec2transitgateway/vpcAttachment:VpcAttachment", "net")
	require.NoError(t, err)
	assert.Len(t, att.Inputs["subnetIds"], 4, "one private subnet per zone, the added zone's included")
	tables := 0
	for _, rt := range rec.ByType("aws:ec2/routeTable:RouteTable") {
		routes := rt.Inputs["routes"].([]any)
		if rt.Name == "net-public" {
			assert.Len(t, routes, 1, "the public route table has only the internet gateway")
			continue
		}
		tables++
		require.Len(t, routes, 3, rt.Name)
		for i, cidr := range a.PeerCIDRs {
			r := routes[i+1].(map[string]any)
			assert.Equal(t, cidr, r["cidrBlock"], rt.Name)
			assert.Equal(t, tgw.ID, r["transitGatewayId"], rt.Name)
		}
		assert.Contains(t, rt.Dependencies, att.URN, "%s: routes to the gateway wait for its attachment", rt.Name)
	}
	assert.Equal(t, 4, tables)

	rec = run(t, args())
	assert.Empty(t, rec.ByType("aws:ec2transitgateway/transitGateway:TransitGateway"))
	assert.Empty(t, rec.ByType("aws:ec2transitgateway/vpcAttachment:VpcAttachment"))
	for _, rt := range rec.ByType("aws:ec2/routeTable:RouteTable") {
		assert.Len(t, rt.Inputs["routes"], 1, rt.Name)
	}
}

func TestPeerCIDRsAreNetworks(t *testing.T) {
	a := args()
	a.PeerCIDRs = []string{"10.20.0.1/16"}
	assert.ErrorContains(t, a.Validate(), `peerCidrs[0] "10.20.0.1/16": want an IPv4 network address`)
}
