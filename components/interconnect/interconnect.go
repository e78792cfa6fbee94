// Package interconnect joins a region's transit gateway to the transit
// gateways of the stacks it reads, so that traffic between the regions
// (geo-replication's data and the brokers' admin calls to the replicated
// clusters) stays off the internet.
//
// Each region's own stack makes its transit gateway, attaches it to its
// private subnets and routes the peers' CIDRs to it (the network
// component). A pair of regions is joined by the stack that reads the
// other: it makes the peering attachment, accepts it in the peer's
// region, and adds a static route for each side's CIDRs to both gateways'
// route tables. Those are separate resources, so nothing another stack
// owns is rewritten, and the stack graph stays acyclic: the peer's stack
// only exports its gateway.
package interconnect

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2transitgateway"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// TypeToken is the component's type.
var TypeToken = kit.Type("interconnect", "Interconnect")

// Peer is a stack this one joins: its AWS region and its VPC's blocks
// (from the fleet's stack files).
type Peer struct {
	Stack  string
	Region string
	CIDRs  []string
}

// Config is the stack's side of its joins.
type Config struct {
	// Stack and Region are this stack's.
	Stack  string
	Region string
	// CIDRs are this stack's VPC blocks (vpcCidr and the added zones').
	CIDRs []string
	// Peers are the stacks this one joins (the stacks it reads).
	Peers []Peer
	Tags  map[string]string
}

// WithDefaults returns the config: it has no defaults.
func (c Config) WithDefaults() Config { return c }

// PeerStacks are the stacks the region joins, in order.
func (c Config) PeerStacks() []string {
	var out []string
	for _, p := range c.Peers {
		out = append(out, p.Stack)
	}
	return out
}

// Validate checks the stacks, regions and CIDRs: a peer in another
// region, whose blocks overlap none of this stack's or another peer's.
func (c Config) Validate() error {
	var errs []error
	if c.Stack == "" || c.Region == "" {
		errs = append(errs, errors.New("stack and region: both required"))
	}
	taken := map[string]string{}
	claim := func(owner string, cidrs []string) {
		if len(cidrs) == 0 {
			errs = append(errs, fmt.Errorf("%s: cidrs: at least one VPC block", owner))
		}
		for _, cidr := range cidrs {
			p, ok := model.IPv4Network(cidr)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: cidr %q: want an IPv4 network address", owner, cidr))
				continue
			}
			for other, by := range taken {
				if netip.MustParsePrefix(other).Overlaps(p) {
					errs = append(errs, fmt.Errorf("%s: cidr %s overlaps %s of %s: routes to both cannot coexist", owner, cidr, other, by))
				}
			}
			taken[cidr] = owner
		}
	}
	claim("stack "+c.Stack, c.CIDRs)
	seen := map[string]bool{}
	for _, p := range c.Peers {
		switch {
		case p.Stack == "" || p.Stack == c.Stack || seen[p.Stack]:
			errs = append(errs, fmt.Errorf("peer %q: want another stack, once", p.Stack))
		case p.Region == "" || p.Region == c.Region:
			errs = append(errs, fmt.Errorf("peer %s: region %q: want an AWS region other than %s", p.Stack, p.Region, c.Region))
		}
		seen[p.Stack] = true
		claim("peer "+p.Stack, p.CIDRs)
	}
	return errors.Join(errs...)
}

// Gateway is a region's transit gateway and the route table its
// attachments use (its default one).
type Gateway struct {
	ID           pulumi.StringInput
	RouteTableID pulumi.StringInput
}

// Deps are this stack's gateway (from the network component) and each
// peer's (from its stack outputs).
type Deps struct {
	Gateway Gateway
	Peers   map[string]Gateway
}

// Validate reports a missing gateway of this stack.
func (d Deps) Validate() error {
	return kit.Missing(map[string]any{"gateway.id": d.Gateway.ID, "gateway.routeTableId": d.Gateway.RouteTableID})
}

// ValidateFor reports each peer whose gateway is missing.
func (d Deps) ValidateFor(c Config) error {
	missing := map[string]any{}
	for _, p := range c.Peers {
		g := d.Peers[p.Stack]
		missing["peers["+p.Stack+"].id"], missing["peers["+p.Stack+"].routeTableId"] = g.ID, g.RouteTableID
	}
	return kit.Missing(missing)
}

// Interconnect is the component.
type Interconnect struct {
	pulumi.ResourceState
	// Attachments are the peering attachments' IDs by peer stack.
	Attachments map[string]pulumi.StringOutput
}

// New joins the stack's gateway to each peer's.
func New(ctx *pulumi.Context, name string, cfg Config, deps Deps, opts ...pulumi.ResourceOption) (*Interconnect, error) {
	ic := &Interconnect{Attachments: map[string]pulumi.StringOutput{}}
	return kit.Construct(ctx, TypeToken, name, cfg, deps, ic, func(cfg Config, parent pulumi.ResourceOption) (pulumi.Map, error) {
		out := pulumi.Map{}
		for _, p := range cfg.Peers {
			id, err := join(ctx, name, cfg, p, deps.Gateway, deps.Peers[p.Stack], parent)
			if err != nil {
				return nil, err
			}
			ic.Attachments[p.Stack] = id
			out[p.Stack] = id
		}
		return pulumi.Map{"attachments": out}, nil
	}, opts...)
}

// join makes one pair's peering attachment, accepts it in the peer's
// region, and routes each side's blocks through it on the other side.
func join(ctx *pulumi.Context, name string, cfg Config, p Peer, self, peer Gateway, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	base := name + "-" + p.Stack
	tags := kit.Tags(cfg.Tags, map[string]string{"Name": cfg.Stack + "-" + p.Stack})
	there, err := aws.NewProvider(ctx, base, &aws.ProviderArgs{Region: pulumi.String(p.Region)}, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	att, err := ec2transitgateway.NewPeeringAttachment(ctx, base, &ec2transitgateway.PeeringAttachmentArgs{
		TransitGatewayId: self.ID, PeerTransitGatewayId: peer.ID, PeerRegion: pulumi.String(p.Region), Tags: tags,
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	accepted, err := ec2transitgateway.NewPeeringAttachmentAccepter(ctx, base, &ec2transitgateway.PeeringAttachmentAccepterArgs{
		TransitGatewayAttachmentId: att.ID(), Tags: tags,
	}, parent, pulumi.Provider(there))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	after := pulumi.DependsOn([]pulumi.Resource{accepted})
	routes := []struct {
		table pulumi.StringInput
		cidrs []string
		side  string
		opts  []pulumi.ResourceOption
	}{
		{self.RouteTableID, p.CIDRs, "to-" + p.Stack, []pulumi.ResourceOption{parent, after}},
		{peer.RouteTableID, cfg.CIDRs, "from-" + p.Stack, []pulumi.ResourceOption{parent, after, pulumi.Provider(there)}},
	}
	for _, r := range routes {
		for _, cidr := range r.cidrs {
			if _, err := ec2transitgateway.NewRoute(ctx, name+"-"+r.side+"-"+RouteSuffix(cidr), &ec2transitgateway.RouteArgs{
				TransitGatewayRouteTableId: r.table, DestinationCidrBlock: pulumi.String(cidr),
				TransitGatewayAttachmentId: att.ID(),
			}, r.opts...); err != nil {
				return pulumi.StringOutput{}, err
			}
		}
	}
	return att.ID().ToStringOutput(), nil
}

// RouteSuffix names a route after its block: 10.20.0.0/16 is
// 10-20-0-0-16.
func RouteSuffix(cidr string) string {
	return strings.NewReplacer(".", "-", "/", "-").Replace(cidr)
}
