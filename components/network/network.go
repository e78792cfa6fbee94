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
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// TypeToken is the component's type.
var TypeToken = kit.Type("network", "Network")

// NAT gateway modes.
const (
	NATPerZone = "perZone"
	NATSingle  = "single"
)

// Args configure the network.
type Args struct {
	// Region is the AWS region (for the S3 endpoint service name).
	Region string
	// CIDR is the VPC CIDR (/16 to /18).
	CIDR string
	// Zones are the availability zones to span.
	Zones []string
	// NATGateways is NATPerZone (default) or NATSingle.
	NATGateways string
	// ClusterName is the EKS cluster the subnets serve; it names the
	// kubernetes.io/cluster tag and the karpenter.sh/discovery tag.
	ClusterName string
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
	// NATZones are the zones that get a NAT gateway.
	NATZones []string
	// PrivateTags and PublicTags are the subnet tags.
	PrivateTags map[string]string
	PublicTags  map[string]string
}

func (a Args) withDefaults() Args {
	if a.NATGateways == "" {
		a.NATGateways = NATPerZone
	}
	return a
}

// Validate checks the arguments.
func (a Args) Validate() error {
	a = a.withDefaults()
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
	if a.NATGateways != NATPerZone && a.NATGateways != NATSingle {
		errs = append(errs, fmt.Errorf("natGateways %q: want %s or %s", a.NATGateways, NATPerZone, NATSingle))
	}
	if _, _, err := Layout(a.CIDR, a.Zones); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
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
func Compute(a Args) (Plan, error) {
	a = a.withDefaults()
	if err := a.Validate(); err != nil {
		return Plan{}, err
	}
	priv, pub, _ := Layout(a.CIDR, a.Zones)
	pl := Plan{Private: priv, Public: pub}
	if a.NATGateways == NATSingle {
		pl.NATZones = []string{a.Zones[0]}
	} else {
		pl.NATZones = append([]string(nil), a.Zones...)
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

	VpcID               pulumi.StringOutput
	PrivateSubnetIDs    pulumi.StringArrayOutput
	PublicSubnetIDs     pulumi.StringArrayOutput
	PrivateRouteTables  pulumi.StringArrayOutput
	NATPublicIPs        pulumi.StringArrayOutput
	S3GatewayEndpointID pulumi.StringOutput
}

// NewNetwork registers the network.
func NewNetwork(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Network, error) {
	args = args.withDefaults()
	plan, err := Compute(args)
	if err != nil {
		return nil, kit.Wrap("network", name, err)
	}
	n := &Network{}
	if err := ctx.RegisterComponentResource(TypeToken, name, n, opts...); err != nil {
		return nil, kit.Wrap("network", name, err)
	}
	parent := pulumi.Parent(n)
	tags := func(extra map[string]string) pulumi.StringMap { return kit.Tags(args.Tags, extra) }

	vpc, err := ec2.NewVpc(ctx, name, &ec2.VpcArgs{
		CidrBlock:          pulumi.String(args.CIDR),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               tags(map[string]string{"Name": name}),
	}, parent)
	if err != nil {
		return nil, kit.Wrap("network", name, err)
	}
	igw, err := ec2.NewInternetGateway(ctx, name, &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(), Tags: tags(map[string]string{"Name": name}),
	}, parent)
	if err != nil {
		return nil, kit.Wrap("network", name, err)
	}
	publicRT, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{&ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()}},
		Tags:   tags(map[string]string{"Name": name + "-public"}),
	}, parent)
	if err != nil {
		return nil, kit.Wrap("network", name, err)
	}
	var publicIDs, privateIDs, privateRTs, natIPs pulumi.StringArray
	natByZone := map[string]*ec2.NatGateway{}
	for _, s := range plan.Public {
		sn, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-public-%s", name, s.Zone), &ec2.SubnetArgs{
			VpcId: vpc.ID(), CidrBlock: pulumi.String(s.CIDR), AvailabilityZone: pulumi.String(s.Zone),
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags:                tags(kit.MergeTags(plan.PublicTags, map[string]string{"Name": name + "-public-" + s.Zone})),
		}, parent)
		if err != nil {
			return nil, kit.Wrap("network", name, err)
		}
		publicIDs = append(publicIDs, sn.ID())
		if _, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-public-%s", name, s.Zone), &ec2.RouteTableAssociationArgs{
			SubnetId: sn.ID(), RouteTableId: publicRT.ID(),
		}, parent); err != nil {
			return nil, kit.Wrap("network", name, err)
		}
		if slices.Contains(plan.NATZones, s.Zone) {
			eip, err := ec2.NewEip(ctx, fmt.Sprintf("%s-nat-%s", name, s.Zone), &ec2.EipArgs{
				Domain: pulumi.String("vpc"), Tags: tags(map[string]string{"Name": name + "-nat-" + s.Zone}),
			}, parent)
			if err != nil {
				return nil, kit.Wrap("network", name, err)
			}
			nat, err := ec2.NewNatGateway(ctx, fmt.Sprintf("%s-%s", name, s.Zone), &ec2.NatGatewayArgs{
				AllocationId: eip.AllocationId, SubnetId: sn.ID(),
				Tags: tags(map[string]string{"Name": name + "-" + s.Zone}),
			}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
			if err != nil {
				return nil, kit.Wrap("network", name, err)
			}
			natByZone[s.Zone] = nat
			natIPs = append(natIPs, eip.PublicIp)
		}
	}
	for _, s := range plan.Private {
		nat := natByZone[s.Zone]
		if nat == nil {
			nat = natByZone[plan.NATZones[0]]
		}
		sn, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-private-%s", name, s.Zone), &ec2.SubnetArgs{
			VpcId: vpc.ID(), CidrBlock: pulumi.String(s.CIDR), AvailabilityZone: pulumi.String(s.Zone),
			Tags: tags(kit.MergeTags(plan.PrivateTags, map[string]string{"Name": name + "-private-" + s.Zone})),
		}, parent)
		if err != nil {
			return nil, kit.Wrap("network", name, err)
		}
		rt, err := ec2.NewRouteTable(ctx, fmt.Sprintf("%s-private-%s", name, s.Zone), &ec2.RouteTableArgs{
			VpcId:  vpc.ID(),
			Routes: ec2.RouteTableRouteArray{&ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat.ID()}},
			Tags:   tags(map[string]string{"Name": name + "-private-" + s.Zone}),
		}, parent)
		if err != nil {
			return nil, kit.Wrap("network", name, err)
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-private-%s", name, s.Zone), &ec2.RouteTableAssociationArgs{
			SubnetId: sn.ID(), RouteTableId: rt.ID(),
		}, parent); err != nil {
			return nil, kit.Wrap("network", name, err)
		}
		privateIDs = append(privateIDs, sn.ID())
		privateRTs = append(privateRTs, rt.ID())
	}
	s3, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.String("com.amazonaws." + args.Region + ".s3"),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   privateRTs,
		Tags:            tags(map[string]string{"Name": name + "-s3"}),
	}, parent)
	if err != nil {
		return nil, kit.Wrap("network", name, err)
	}
	n.VpcID = vpc.ID().ToStringOutput()
	n.PrivateSubnetIDs = privateIDs.ToStringArrayOutput()
	n.PublicSubnetIDs = publicIDs.ToStringArrayOutput()
	n.PrivateRouteTables = privateRTs.ToStringArrayOutput()
	n.NATPublicIPs = natIPs.ToStringArrayOutput()
	n.S3GatewayEndpointID = s3.ID().ToStringOutput()
	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId": n.VpcID, "privateSubnetIds": n.PrivateSubnetIDs, "publicSubnetIds": n.PublicSubnetIDs,
		"natPublicIps": n.NATPublicIPs, "s3GatewayEndpointId": n.S3GatewayEndpointID,
	}); err != nil {
		return nil, kit.Wrap("network", name, err)
	}
	return n, nil
}
