package interconnect

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
)

func args() Config {
	return Config{Stack: "us-east-1", Region: "us-east-1", CIDRs: []string{"10.10.0.0/16", "10.11.0.0/16"},
		Peers: []Peer{{Stack: "us-west-2", Region: "us-west-2", CIDRs: []string{"10.20.0.0/16"}},
			{Stack: "eu-west-1", Region: "eu-west-1", CIDRs: []string{"10.30.0.0/16"}}},
		Tags: map[string]string{"team": "streaming"}}
}

func deps() Deps {
	return Deps{Gateway: Gateway{ID: pulumi.String("tgw-east"), RouteTableID: pulumi.String("tgw-rtb-east")},
		Peers: map[string]Gateway{
			"us-west-2": {ID: pulumi.String("tgw-west"), RouteTableID: pulumi.String("tgw-rtb-west")},
			"eu-west-1": {ID: pulumi.String("tgw-dr"), RouteTableID: pulumi.String("tgw-rtb-dr")},
		}}
}

func run(t *testing.T, c Config, d Deps) (*recorder.Recorder, error) {
	t.Helper()
	rec := recorder.New("us-east-1")
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "ic", c, d)
		return err
	})
	return rec, err
}

// Every recorded resource: per peer, a provider in its region, the
// peering attachment from this gateway, its acceptance there, and a
// static route for each side's blocks in the other side's table.
func TestJoinsEachPeer(t *testing.T) {
	rec, err := run(t, args(), deps())
	require.NoError(t, err)
	counts := map[string]int{}
	for _, r := range rec.Resources() {
		counts[r.Type]++
	}
	assert.Equal(t, map[string]int{
		TypeToken: 1, "pulumi:providers:aws": 2,
		"aws:ec2transitgateway/peeringAttachment:PeeringAttachment":                 2,
		"aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter": 2,
		"aws:ec2transitgateway/route:Route":                                         2*1 + 2*2,
	}, counts)

	for _, tc := range []struct{ peer, region, tgw, table, cidr string }{
		{"us-west-2", "us-west-2", "tgw-west", "tgw-rtb-west", "10.20.0.0/16"},
		{"eu-west-1", "eu-west-1", "tgw-dr", "tgw-rtb-dr", "10.30.0.0/16"},
	} {
		prov, err := rec.One("pulumi:providers:aws", "ic-"+tc.peer)
		require.NoError(t, err)
		assert.Equal(t, tc.region, prov.Inputs["region"])
		att, err := rec.One("aws:ec2transitgateway/peeringAttachment:PeeringAttachment", "ic-"+tc.peer)
		require.NoError(t, err)
		assert.Equal(t, "tgw-east", att.Inputs["transitGatewayId"])
		assert.Equal(t, tc.tgw, att.Inputs["peerTransitGatewayId"])
		assert.Equal(t, tc.region, att.Inputs["peerRegion"])
		assert.Empty(t, att.Provider, "requested from this stack's region (its default provider)")
		acc, err := rec.One("aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter", "ic-"+tc.peer)
		require.NoError(t, err)
		assert.Equal(t, att.ID, acc.Inputs["transitGatewayAttachmentId"])
		assert.Contains(t, acc.Provider, prov.URN, "accepted in the peer's region")

		to, err := rec.One("aws:ec2transitgateway/route:Route", "ic-to-"+tc.peer+"-"+RouteSuffix(tc.cidr))
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"transitGatewayRouteTableId": "tgw-rtb-east", "destinationCidrBlock": tc.cidr,
			"transitGatewayAttachmentId": att.ID}, to.Inputs)
		assert.Contains(t, to.Dependencies, acc.URN, "routed once accepted")
		for _, own := range args().CIDRs {
			from, err := rec.One("aws:ec2transitgateway/route:Route", "ic-from-"+tc.peer+"-"+RouteSuffix(own))
			require.NoError(t, err)
			assert.Equal(t, map[string]any{"transitGatewayRouteTableId": tc.table, "destinationCidrBlock": own,
				"transitGatewayAttachmentId": att.ID}, from.Inputs)
			assert.Contains(t, from.Provider, prov.URN, "the peer's table, in its region")
			assert.Contains(t, from.Dependencies, acc.URN)
		}
	}
}

func TestNoPeersNoResources(t *testing.T) {
	c := args()
	c.Peers = nil
	rec, err := run(t, c, Deps{Gateway: deps().Gateway})
	require.NoError(t, err)
	for _, r := range rec.Resources() {
		assert.Equal(t, TypeToken, r.Type)
	}
}

// Bad input is refused by field before anything is registered.
func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*Config, *Deps)
		want string
	}{
		{"peer in the same region", func(c *Config, _ *Deps) { c.Peers[0].Region = "us-east-1" }, `peer us-west-2: region "us-east-1": want an AWS region other than us-east-1`},
		{"overlapping blocks", func(c *Config, _ *Deps) { c.Peers[1].CIDRs = []string{"10.20.128.0/17"} }, "peer eu-west-1: cidr 10.20.128.0/17 overlaps 10.20.0.0/16 of peer us-west-2"},
		{"overlapping this stack", func(c *Config, _ *Deps) { c.Peers[0].CIDRs = []string{"10.10.0.0/20"} }, "overlaps 10.10.0.0/16 of stack us-east-1"},
		{"not a network", func(c *Config, _ *Deps) { c.CIDRs = []string{"10.10.0.1/16"} }, `cidr "10.10.0.1/16": want an IPv4 network address`},
		{"peer without blocks", func(c *Config, _ *Deps) { c.Peers[0].CIDRs = nil }, "peer us-west-2: cidrs: at least one VPC block"},
		{"duplicate peer", func(c *Config, _ *Deps) { c.Peers[1] = c.Peers[0] }, `peer "us-west-2": want another stack, once`},
		{"itself", func(c *Config, _ *Deps) { c.Peers[0].Stack = "us-east-1" }, `peer "us-east-1": want another stack, once`},
		{"a peer's gateway missing", func(_ *Config, d *Deps) { delete(d.Peers, "eu-west-1") }, "missing dependencies: peers[eu-west-1].id, peers[eu-west-1].routeTableId"},
		{"this stack's gateway missing", func(_ *Config, d *Deps) { d.Gateway = Gateway{} }, "missing dependencies: gateway.id, gateway.routeTableId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, d := args(), deps()
			tc.mut(&c, &d)
			rec, err := run(t, c, d)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			for _, r := range rec.Resources() {
				assert.Fail(t, "nothing of the component is registered", r.Type)
			}
		})
	}
}
