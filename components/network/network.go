// Package network builds a region's VPC: public and private subnets across
// the stack's zones, NAT gateways (one per zone, or one for the region), an
// S3 gateway endpoint so tiered-storage traffic never pays NAT, and the
// discovery tags Karpenter and the AWS load balancer integration select on.
package network

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2transitgateway"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// TypeToken is the component's type.
var TypeToken = kit.Type("network", "Network")

// NAT gateway modes (model's).
const (
	NATPerZone = model.NATPerZone
	NATSingle  = model.NATSingle
)

// Config configures the network.
type Config struct {
	// Region is the AWS region (for the S3 endpoint service name).
	Region string
	// CIDR is the VPC CIDR (/16 to /18).
	CIDR string
	// Zones are the availability zones to span, laid out in CIDR.
	Zones []string
	// AddedZones are zones added to the running region, each with its own
	// VPC secondary CIDR, so that Zones' subnets stay as they are.
	AddedZones []model.AddedZone
	// NATGateways is NATPerZone (default) or NATSingle.
	NATGateways model.NATMode
	// ClusterName is the EKS cluster the subnets serve; it names the
	// kubernetes.io/cluster tag and the karpenter.sh/discovery tag.
	ClusterName string
	// PeerCIDRs are the VPC blocks of the stacks this region is joined to
	// (package interconnect): with any, the region gets a transit gateway
	// attached to its private subnets, and its private route tables send
	// those blocks to it.
	PeerCIDRs []string
	// Tags are added to every resource.
	Tags map[string]string
}

// Subnet is one planned subnet.
type Subnet struct {
	Zone   string
	CIDR   string
	Public bool
}

// Plan is what the network will contain.
type Plan struct {
	Private []Subnet
	Public  []Subnet
	// Added are the added zones' blocks, after the others.
	Added []Block
	// NATZones are the zones that get a NAT gateway.
	NATZones []string
	// PrivateTags and PublicTags are the subnet tags.
	PrivateTags map[string]string
	PublicTags  map[string]string
}

// Block is an added zone's secondary CIDR with its two subnets.
type Block struct {
	Zone, CIDR      string
	Private, Public Subnet
}

// AllZones are the zones, then the added zones.
func (a Config) AllZones() []string { return model.AllZones(a.Zones, a.AddedZones) }

// WithDefaults fills the defaults.
func (a Config) WithDefaults() Config {
	if a.NATGateways == "" {
		a.NATGateways = NATPerZone
	}
	return a
}

// Validate checks the arguments.
func (a Config) Validate() error {
	a = a.WithDefaults()
	var errs []error
	if a.Region == "" {
		errs = append(errs, errors.New("region: empty"))
	}
	if a.ClusterName == "" {
		errs = append(errs, errors.New("clusterName: empty"))
	}
	if len(a.Zones) == 0 {
		errs = append(errs, errors.New("zones: at least one zone"))
	}
	if !a.NATGateways.Valid() {
		errs = append(errs, model.Invalid("natGateways", a.NATGateways, model.NATModes))
	}
	if _, _, err := Layout(a.CIDR, a.Zones); err != nil {
		errs = append(errs, err)
	}
	if _, err := AddedBlocks(a.CIDR, a.Zones, a.AddedZones); err != nil {
		errs = append(errs, err)
	}
	for i, c := range a.PeerCIDRs {
		if _, ok := model.IPv4Network(c); !ok {
			errs = append(errs, fmt.Errorf("peerCidrs[%d] %q: want an IPv4 network address", i, c))
		}
	}
	return errors.Join(errs...)
}

// AddedBlocks lays out each added zone in its own secondary CIDR (the
// layout of one zone: a private half, a small public subnet), after
// checking that the zone is new and the block overlaps no other and may
// join the VPC.
func AddedBlocks(vpcCIDR string, zones []string, added []model.AddedZone) ([]Block, error) {
	primary, err := netip.ParsePrefix(vpcCIDR)
	if err != nil {
		return nil, fmt.Errorf("cidr %q: want an IPv4 CIDR", vpcCIDR)
	}
	taken := []netip.Prefix{primary}
	seen := append([]string(nil), zones...)
	var out []Block
	for i, z := range added {
		bad := func(field string, v any, allowed string) error {
			return &AddedZoneError{Field: fmt.Sprintf("addedZones[%d].%s", i, field), Value: v, Allowed: allowed}
		}
		if z.Zone == "" || slices.Contains(seen, z.Zone) {
			return nil, bad("zone", z.Zone, "a zone the region does not span yet")
		}
		seen = append(seen, z.Zone)
		p, err := netip.ParsePrefix(z.CIDR)
		if err != nil || !p.Addr().Is4() || p.Masked() != p || p.Bits() < 16 || p.Bits() > 20 {
			return nil, bad("cidr", z.CIDR, "an IPv4 network address from /16 to /20 (pods take VPC addresses)")
		}
		if err := model.SecondaryCIDRAllowed(primary, p); err != nil {
			return nil, bad("cidr", z.CIDR, fmt.Sprintf("%v: a VPC secondary CIDR joins only these beside %s", err, primary))
		}
		for _, t := range taken {
			if t.Overlaps(p) {
				return nil, bad("cidr", z.CIDR, "a block that overlaps no other of the VPC ("+t.String()+")")
			}
		}
		taken = append(taken, p)
		priv, pub, _ := Layout(z.CIDR, []string{z.Zone})
		out = append(out, Block{Zone: z.Zone, CIDR: z.CIDR, Private: priv[0], Public: pub[0]})
	}
	return out, nil
}

// AddedZoneError names the added zone's field, its value and what is
// allowed.
type AddedZoneError struct {
	Field   string
	Value   any
	Allowed string
}

func (e *AddedZoneError) Error() string {
	return fmt.Sprintf("%s %q: want %s", e.Field, fmt.Sprint(e.Value), e.Allowed)
}

// Layout splits the VPC CIDR: the first blocks (one per zone, a quarter of
// the VPC each for up to 3 zones) are private subnets, large because pods
// take VPC addresses; the last block is cut into small public subnets for
// NAT gateways and load balancers.
func Layout(cidr string, zones []string) (private, public []Subnet, err error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() {
		return nil, nil, fmt.Errorf("cidr %q: want an IPv4 CIDR", cidr)
	}
	if p.Masked() != p {
		return nil, nil, fmt.Errorf("cidr %q: host bits set (want %s)", cidr, p.Masked())
	}
	n := len(zones)
	if n == 0 || n > 7 {
		return nil, nil, fmt.Errorf("zones: %d, want 1..7", n)
	}
	// Private blocks: split into 2^k >= n+1 equal blocks; the last one holds
	// the public subnets.
	k := bits.Len(uint(n))
	privBits := p.Bits() + k
	pubBits := privBits + bits.Len(uint(n-1)) + 2
	if pubBits > 28 {
		return nil, nil, fmt.Errorf("cidr %q is too small for %d zones (public subnets would be smaller than /28)", cidr, n)
	}
	blocks := subnets(p, privBits)
	for i, z := range zones {
		private = append(private, Subnet{Zone: z, CIDR: blocks[i].String()})
	}
	pubs := subnets(blocks[len(blocks)-1], pubBits)
	for i, z := range zones {
		public = append(public, Subnet{Zone: z, CIDR: pubs[i].String(), Public: true})
	}
	return private, public, nil
}

// subnets splits p into equal subnets of the given prefix length.
func subnets(p netip.Prefix, bitsLen int) []netip.Prefix {
	count := 1 << (bitsLen - p.Bits())
	size := uint32(1) << (32 - bitsLen)
	base := p.Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	out := make([]netip.Prefix, count)
	for i := 0; i < count; i++ {
		v := start + uint32(i)*size
		out[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bitsLen)
	}
	return out
}

// Compute is the pure plan of the network.
func Compute(a Config) (Plan, error) {
	a = a.WithDefaults()
	if err := a.Validate(); err != nil {
		return Plan{}, err
	}
	priv, pub, _ := Layout(a.CIDR, a.Zones)
	added, _ := AddedBlocks(a.CIDR, a.Zones, a.AddedZones)
	pl := Plan{Private: priv, Public: pub, Added: added}
	if a.NATGateways == NATSingle {
		pl.NATZones = []string{a.Zones[0]}
	} else {
		pl.NATZones = a.AllZones()
	}
	clusterTag := "kubernetes.io/cluster/" + a.ClusterName
	pl.PrivateTags = map[string]string{
		model.TagKarpenterDiscovery:         a.ClusterName,
		"kubernetes.io/role/internal-elb":   "1",
		clusterTag:                          "shared",
		"pulsar-fleet.io/subnet-visibility": "private",
	}
	pl.PublicTags = map[string]string{
		"kubernetes.io/role/elb":            "1",
		clusterTag:                          "shared",
		"pulsar-fleet.io/subnet-visibility": "public",
	}
	return pl, nil
}

// Network is the component.
type Network struct {
	pulumi.ResourceState

	VpcID pulumi.StringOutput
	// PrivateSubnetIDs and PublicSubnetIDs are the first zones' subnets,
	// the EKS control plane's and the system node group's; the added
	// zones' serve Karpenter's nodes and the load balancers (they carry the
	// same discovery tags).
	PrivateSubnetIDs    pulumi.StringArrayOutput
	AddedSubnetIDs      pulumi.StringArrayOutput
	PublicSubnetIDs     pulumi.StringArrayOutput
	PrivateRouteTables  pulumi.StringArrayOutput
	NATPublicIPs        pulumi.StringArrayOutput
	S3GatewayEndpointID pulumi.StringOutput
	// TransitGatewayID and TransitGatewayRouteTableID are the region's
	// transit gateway and its default route table ("" without peers).
	TransitGatewayID           pulumi.StringOutput
	TransitGatewayRouteTableID pulumi.StringOutput
}

// Deps: the network needs no other component.
type Deps = kit.NoDeps

// New registers the network.
func New(ctx *pulumi.Context, name string, cfg Config, deps Deps, opts ...pulumi.ResourceOption) (*Network, error) {
	n := &Network{}
	return kit.Construct(ctx, TypeToken, name, cfg, deps, n, func(cfg Config, parent pulumi.ResourceOption) (pulumi.Map, error) {
		plan, err := Compute(cfg)
		if err != nil {
			return nil, err
		}
		b := builder{ctx: ctx, name: name, cfg: cfg, plan: plan, parent: parent, natByZone: map[string]*ec2.NatGateway{}}
		if err := b.build(n); err != nil {
			return nil, err
		}
		return pulumi.Map{
			"vpcId": n.VpcID, "privateSubnetIds": n.PrivateSubnetIDs, "publicSubnetIds": n.PublicSubnetIDs,
			"addedSubnetIds": n.AddedSubnetIDs, "natPublicIps": n.NATPublicIPs, "s3GatewayEndpointId": n.S3GatewayEndpointID,
			"transitGatewayId": n.TransitGatewayID, "transitGatewayRouteTableId": n.TransitGatewayRouteTableID,
		}, nil
	}, opts...)
}

// builder registers the network's resources, one kind at a time.
type builder struct {
	ctx    *pulumi.Context
	name   string
	cfg    Config
	plan   Plan
	parent pulumi.ResourceOption

	vpc                                       *ec2.Vpc
	igw                                       *ec2.InternetGateway
	publicRT                                  *ec2.RouteTable
	publicIDs, privateIDs, privateRTs, natIPs pulumi.StringArray
	addedIDs                                  pulumi.StringArray
	natByZone                                 map[string]*ec2.NatGateway
	// private are the private subnets in the order of their route tables:
	// the zones', then the added zones'.
	private []privateSubnet
	// tgw is the transit gateway and attachment is its VPC attachment (nil
	// without peers).
	tgw        *ec2transitgateway.TransitGateway
	attachment *ec2transitgateway.VpcAttachment
}

// privateSubnet is a registered private subnet awaiting its route table.
type privateSubnet struct {
	plan   Subnet
	subnet *ec2.Subnet
}

func (b *builder) tags(extra map[string]string) pulumi.StringMap { return kit.Tags(b.cfg.Tags, extra) }

func (b *builder) build(n *Network) error {
	if err := b.vpcAndGateway(); err != nil {
		return err
	}
	if err := b.publicSubnets(); err != nil {
		return err
	}
	for _, s := range b.plan.Private {
		id, err := b.privateSubnet(s)
		if err != nil {
			return err
		}
		b.privateIDs = append(b.privateIDs, id)
	}
	for _, blk := range b.plan.Added {
		if err := b.addedZone(blk); err != nil {
			return err
		}
	}
	if err := b.transitGateway(); err != nil {
		return err
	}
	for _, ps := range b.private {
		if err := b.privateRouteTable(ps); err != nil {
			return err
		}
	}
	s3, err := ec2.NewVpcEndpoint(b.ctx, b.name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           b.vpc.ID(),
		ServiceName:     pulumi.String("com.amazonaws." + b.cfg.Region + ".s3"),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   b.privateRTs,
		Tags:            b.tags(map[string]string{"Name": b.name + "-s3"}),
	}, b.parent)
	if err != nil {
		return err
	}
	n.VpcID = b.vpc.ID().ToStringOutput()
	n.PrivateSubnetIDs = b.privateIDs.ToStringArrayOutput()
	n.PublicSubnetIDs = b.publicIDs.ToStringArrayOutput()
	n.AddedSubnetIDs = b.addedIDs.ToStringArrayOutput()
	n.PrivateRouteTables = b.privateRTs.ToStringArrayOutput()
	n.NATPublicIPs = b.natIPs.ToStringArrayOutput()
	n.S3GatewayEndpointID = s3.ID().ToStringOutput()
	n.TransitGatewayID, n.TransitGatewayRouteTableID = pulumi.String("").ToStringOutput(), pulumi.String("").ToStringOutput()
	if b.tgw != nil {
		n.TransitGatewayID, n.TransitGatewayRouteTableID = b.tgw.ID().ToStringOutput(), b.tgw.AssociationDefaultRouteTableId
	}
	return nil
}

// transitGateway registers, when the region has peers, its transit
// gateway and the gateway's attachment to the private subnets (one per
// zone, the added zones' included). Attachments and peering attachments
// use the gateway's default route table; the peering routes in it are the
// interconnect's.
func (b *builder) transitGateway() error {
	if len(b.cfg.PeerCIDRs) == 0 {
		return nil
	}
	tgw, err := ec2transitgateway.NewTransitGateway(b.ctx, b.name, &ec2transitgateway.TransitGatewayArgs{
		Description:                  pulumi.String("pulsar-fleet " + b.name + ": the private path to the peer regions"),
		AutoAcceptSharedAttachments:  pulumi.String("disable"),
		DefaultRouteTableAssociation: pulumi.String("enable"),
		DefaultRouteTablePropagation: pulumi.String("enable"),
		DnsSupport:                   pulumi.String("enable"),
		Tags:                         b.tags(map[string]string{"Name": b.name}),
	}, b.parent)
	if err != nil {
		return err
	}
	var subnets pulumi.StringArray
	for _, ps := range b.private {
		subnets = append(subnets, ps.subnet.ID())
	}
	att, err := ec2transitgateway.NewVpcAttachment(b.ctx, b.name, &ec2transitgateway.VpcAttachmentArgs{
		TransitGatewayId: tgw.ID(), VpcId: b.vpc.ID(), SubnetIds: subnets, DnsSupport: pulumi.String("enable"),
		Tags: b.tags(map[string]string{"Name": b.name}),
	}, b.parent)
	if err != nil {
		return err
	}
	b.tgw, b.attachment = tgw, att
	return nil
}

func (b *builder) vpcAndGateway() error {
	vpc, err := ec2.NewVpc(b.ctx, b.name, &ec2.VpcArgs{
		CidrBlock:          pulumi.String(b.cfg.CIDR),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               b.tags(map[string]string{"Name": b.name}),
	}, b.parent)
	if err != nil {
		return err
	}
	igw, err := ec2.NewInternetGateway(b.ctx, b.name, &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(), Tags: b.tags(map[string]string{"Name": b.name}),
	}, b.parent)
	if err != nil {
		return err
	}
	b.vpc, b.igw = vpc, igw
	return nil
}

// publicSubnets registers the public route table and the first zones'
// public subnets.
func (b *builder) publicSubnets() error {
	name := b.name
	publicRT, err := ec2.NewRouteTable(b.ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId:  b.vpc.ID(),
		Routes: ec2.RouteTableRouteArray{&ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: b.igw.ID()}},
		Tags:   b.tags(map[string]string{"Name": name + "-public"}),
	}, b.parent)
	if err != nil {
		return err
	}
	b.publicRT = publicRT
	for _, s := range b.plan.Public {
		id, err := b.publicSubnet(s)
		if err != nil {
			return err
		}
		b.publicIDs = append(b.publicIDs, id)
	}
	return nil
}

// publicSubnet registers one public subnet on the public route table, and
// its zone's NAT gateway if it gets one.
func (b *builder) publicSubnet(s Subnet, opts ...pulumi.ResourceOption) (pulumi.IDOutput, error) {
	name := b.name
	sn, err := ec2.NewSubnet(b.ctx, fmt.Sprintf("%s-public-%s", name, s.Zone), &ec2.SubnetArgs{
		VpcId: b.vpc.ID(), CidrBlock: pulumi.String(s.CIDR), AvailabilityZone: pulumi.String(s.Zone),
		MapPublicIpOnLaunch: pulumi.Bool(false),
		Tags:                b.tags(kit.MergeTags(b.plan.PublicTags, map[string]string{"Name": name + "-public-" + s.Zone})),
	}, append([]pulumi.ResourceOption{b.parent}, opts...)...)
	if err != nil {
		return pulumi.IDOutput{}, err
	}
	if _, err := ec2.NewRouteTableAssociation(b.ctx, fmt.Sprintf("%s-public-%s", name, s.Zone), &ec2.RouteTableAssociationArgs{
		SubnetId: sn.ID(), RouteTableId: b.publicRT.ID(),
	}, b.parent); err != nil {
		return pulumi.IDOutput{}, err
	}
	if slices.Contains(b.plan.NATZones, s.Zone) {
		if err := b.natGateway(s.Zone, sn); err != nil {
			return pulumi.IDOutput{}, err
		}
	}
	return sn.ID(), nil
}

// addedZone associates an added zone's secondary CIDR with the VPC and
// registers its subnets in it; nothing of the other zones changes.
func (b *builder) addedZone(blk Block) error {
	assoc, err := ec2.NewVpcIpv4CidrBlockAssociation(b.ctx, fmt.Sprintf("%s-%s", b.name, blk.Zone), &ec2.VpcIpv4CidrBlockAssociationArgs{
		VpcId: b.vpc.ID(), CidrBlock: pulumi.String(blk.CIDR),
	}, b.parent)
	if err != nil {
		return err
	}
	after := pulumi.DependsOn([]pulumi.Resource{assoc})
	pub, err := b.publicSubnet(blk.Public, after)
	if err != nil {
		return err
	}
	priv, err := b.privateSubnet(blk.Private, after)
	if err != nil {
		return err
	}
	b.publicIDs = append(b.publicIDs, pub)
	b.addedIDs = append(b.addedIDs, priv)
	return nil
}

func (b *builder) natGateway(zone string, subnet *ec2.Subnet) error {
	eip, err := ec2.NewEip(b.ctx, fmt.Sprintf("%s-nat-%s", b.name, zone), &ec2.EipArgs{
		Domain: pulumi.String("vpc"), Tags: b.tags(map[string]string{"Name": b.name + "-nat-" + zone}),
	}, b.parent)
	if err != nil {
		return err
	}
	nat, err := ec2.NewNatGateway(b.ctx, fmt.Sprintf("%s-%s", b.name, zone), &ec2.NatGatewayArgs{
		AllocationId: eip.AllocationId, SubnetId: subnet.ID(),
		Tags: b.tags(map[string]string{"Name": b.name + "-" + zone}),
	}, b.parent, pulumi.DependsOn([]pulumi.Resource{b.igw}))
	if err != nil {
		return err
	}
	b.natByZone[zone] = nat
	b.natIPs = append(b.natIPs, eip.PublicIp)
	return nil
}

// privateSubnet registers one private subnet; its route table comes once
// every private subnet exists (privateRouteTable).
func (b *builder) privateSubnet(s Subnet, opts ...pulumi.ResourceOption) (pulumi.IDOutput, error) {
	name := b.name
	sn, err := ec2.NewSubnet(b.ctx, fmt.Sprintf("%s-private-%s", name, s.Zone), &ec2.SubnetArgs{
		VpcId: b.vpc.ID(), CidrBlock: pulumi.String(s.CIDR), AvailabilityZone: pulumi.String(s.Zone),
		Tags: b.tags(kit.MergeTags(b.plan.PrivateTags, map[string]string{"Name": name + "-private-" + s.Zone})),
	}, append([]pulumi.ResourceOption{b.parent}, opts...)...)
	if err != nil {
		return pulumi.IDOutput{}, err
	}
	b.private = append(b.private, privateSubnet{plan: s, subnet: sn})
	return sn.ID(), nil
}

// privateRouteTable registers a private subnet's route table: the
// internet through its zone's NAT gateway (or the region's single one),
// and the peers' blocks through the transit gateway. The routes are
// inline, so this table is the only owner of its routes.
func (b *builder) privateRouteTable(ps privateSubnet) error {
	name, zone := b.name, ps.plan.Zone
	nat := b.natByZone[zone]
	if nat == nil {
		nat = b.natByZone[b.plan.NATZones[0]]
	}
	routes := ec2.RouteTableRouteArray{&ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat.ID()}}
	opts := []pulumi.ResourceOption{b.parent}
	if b.tgw != nil {
		for _, c := range b.cfg.PeerCIDRs {
			routes = append(routes, &ec2.RouteTableRouteArgs{CidrBlock: pulumi.String(c), TransitGatewayId: b.tgw.ID()})
		}
		// A route to a transit gateway needs its attachment in the VPC.
		opts = append(opts, pulumi.DependsOn([]pulumi.Resource{b.attachment}))
	}
	rt, err := ec2.NewRouteTable(b.ctx, fmt.Sprintf("%s-private-%s", name, zone), &ec2.RouteTableArgs{
		VpcId: b.vpc.ID(), Routes: routes, Tags: b.tags(map[string]string{"Name": name + "-private-" + zone}),
	}, opts...)
	if err != nil {
		return err
	}
	if _, err := ec2.NewRouteTableAssociation(b.ctx, fmt.Sprintf("%s-private-%s", name, zone), &ec2.RouteTableAssociationArgs{
		SubnetId: ps.subnet.ID(), RouteTableId: rt.ID(),
	}, b.parent); err != nil {
		return err
	}
	b.privateRTs = append(b.privateRTs, rt.ID())
	return nil
}
