package regions

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/capacity"
	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/components/network"
	"github.com/pulsar-fleet/pulsar-fleet/components/observability"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/components/region"
	"github.com/pulsar-fleet/pulsar-fleet/components/routing"
	"github.com/pulsar-fleet/pulsar-fleet/components/tieredstorage"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// Peer is another stack of the fleet this region knows about.
type Peer struct {
	Stack  string
	Region string
	Role   string
	// Ref is the fully qualified stack name for a StackReference
	// (organization/project/stack); set only for stacks this one reads.
	Ref string
	// Weight is the peer's routing weight.
	Weight int
}

// Spec is everything regions needs about one stack, as plain values. The
// stacks package fills it from validated config; nothing here reads config.
type Spec struct {
	Project string
	Stack   string
	Region  string
	Role    string
	Phase   sizing.Phase
	Zones   []string
	VPCCIDR string
	// NATGateways is "perZone" or "single".
	NATGateways       string
	KubernetesVersion string
	PublicAccessCIDRs []string
	// Access are the EKS access grants (people, CI, the operator).
	Access []model.AccessGrant
	// CapacityReservationIDs let the critical pool use On-Demand Capacity
	// Reservations.
	CapacityReservationIDs []string
	Arches                 []sizing.Arch
	BrokerSpotShare        float64
	BookieSpotShare        float64
	Ensemble               int
	WriteQuorum            int
	AckQuorum              int
	Routing                Routing
	// Fleet is every region of the fleet, for the capacity plan.
	Fleet []sizing.RegionSpec
	// Reads are the stacks whose outputs this stack reads.
	Reads []Peer
	// AllPeers are the other stacks of the fleet.
	AllPeers []Peer
	// BucketReplicas are the stacks whose offload buckets receive this
	// region's offloaded ledgers.
	BucketReplicas         []Peer
	ReplicationTimeControl bool
	AccessLogging          bool
	// GeoReplicationTo are the regions this region's namespaces replicate to.
	GeoReplicationTo []Peer
	Tenant           string
	Namespaces       []string
	// AlertWebhookURL is where alerts go (a secret).
	AlertWebhookURL    model.Secret
	MetricsSourceCIDRs []string
	// ProtectData protects the offload buckets, their keys and the cluster
	// (stack config allowDataDeletion lifts it).
	ProtectData bool
}

// Routing is the region's global routing settings.
type Routing struct {
	Weight            int
	HostedZoneID      string
	Domain            string
	GlobalAccelerator bool
	ProxyScheme       string
	ClientCIDRs       []string
}

// RegionSpecFor builds the planner's view of a region from its role profile
// and config.
func RegionSpecFor(stack, region, role, phase string, weight float64, zones int, replicatesTo []string, bucketReplicas int,
	brokerSpot, bookieSpot *float64, arches []sizing.Arch, e, w, a int) (sizing.RegionSpec, error) {
	facts, err := Facts(region)
	if err != nil {
		return sizing.RegionSpec{}, err
	}
	prof, err := Profile(role)
	if err != nil {
		return sizing.RegionSpec{}, err
	}
	bs, ks, err := prof.SpotShares(phase)
	if err != nil {
		return sizing.RegionSpec{}, fmt.Errorf("role %s: %w", role, err)
	}
	if brokerSpot != nil {
		bs = *brokerSpot
	}
	if bookieSpot != nil {
		ks = *bookieSpot
	}
	return sizing.RegionSpec{
		Name: stack, Role: role, Weight: weight, Zones: zones, ReplicatesTo: replicatesTo, BucketReplicas: bucketReplicas,
		PriceFactor: facts.PriceFactor, BrokerSpotShare: bs, BookieSpotShare: ks, Arches: arches, Families: Families(arches),
		Ensemble: e, WriteQuorum: w, AckQuorum: a,
	}, nil
}

// Result is what Build created, for exports and tests.
type Result struct {
	Root    *region.Region
	Plan    sizing.RegionPlan
	Outputs pulumi.Map
}

// PlanFor computes the region's capacity plan and refuses a plan whose
// failure check reports possible data loss: the zero-loss promise is checked
// before anything is created.
func PlanFor(spec Spec, cat *sizing.Catalog) (sizing.RegionPlan, error) {
	planner, err := sizing.NewPlanner(cat, sizing.DefaultParams())
	if err != nil {
		return sizing.RegionPlan{}, err
	}
	plan, err := planner.PlanRegion(spec.Phase, spec.Fleet, spec.Stack)
	if err != nil {
		return sizing.RegionPlan{}, fmt.Errorf("capacity plan: %w", err)
	}
	var errs []error
	for _, fc := range plan.Failures {
		if fc.DataLoss || !fc.WritesContinue || !fc.ZooKeeperQuorum {
			errs = append(errs, fmt.Errorf("failure check %q fails (data loss %v, writes continue %v, ZooKeeper quorum %v): %v",
				fc.Scenario, fc.DataLoss, fc.WritesContinue, fc.ZooKeeperQuorum, fc.Notes))
		}
	}
	return plan, errors.Join(errs...)
}

// ClusterName is the EKS cluster name of a stack.
func ClusterName(stack string) string { return "pulsar-" + stack }

// Build turns one validated stack into the region's component graph. Every
// component's arguments are computed and validated before the first
// resource is registered, so invalid input registers nothing.
func Build(ctx *pulumi.Context, spec Spec, cat *sizing.Catalog) (*Result, error) {
	design, err := Design(spec, cat)
	if err != nil {
		return nil, err
	}
	plan, args := design.Plan, design.Components
	root, err := region.NewRegion(ctx, spec.Stack, args.Region)
	if err != nil {
		return nil, err
	}
	in := pulumi.Parent(root)
	res := &Result{Root: root, Plan: plan, Outputs: pulumi.Map{}}
	peerOut, err := newPeers(ctx, spec.Reads, in)
	if err != nil {
		return nil, err
	}

	net, err := network.NewNetwork(ctx, spec.Stack, args.Network, in)
	if err != nil {
		return nil, err
	}
	args.Cluster.VpcID, args.Cluster.PrivateSubnetIDs, args.Cluster.PublicSubnetIDs = net.VpcID, net.PrivateSubnetIDs, net.PublicSubnetIDs
	cl, err := cluster.NewCluster(ctx, spec.Stack, args.Cluster, in)
	if err != nil {
		return nil, err
	}
	args.Capacity.Provider, args.Capacity.ClusterSecurityGroupID = cl.Provider, cl.ClusterSecurityGroupID
	args.Capacity.OIDCProviderARN, args.Capacity.OIDCIssuer = cl.OIDCProviderARN, cl.OIDCIssuer
	args.Capacity.DependsOn = []pulumi.Resource{cl}
	capa, err := capacity.NewCapacity(ctx, spec.Stack, args.Capacity, in)
	if err != nil {
		return nil, err
	}
	args.Observability.Provider, args.Observability.DependsOn = cl.Provider, capa.Ready
	if args.MetricsCertificate != nil {
		mc, err := routing.NewCertificate(ctx, spec.Stack+"-metrics-tls", *args.MetricsCertificate, in)
		if err != nil {
			return nil, err
		}
		args.Observability.ReceiverCertificateARN = mc.ARN
		var nats []any
		for _, p := range spec.Reads {
			nats = append(nats, peerOut.Strings(p.Stack, OutputNATPublicIPs))
		}
		args.Observability.PeerNATIPs = pulumi.All(nats...).ApplyT(func(lists []any) []string {
			var out []string
			for _, l := range lists {
				out = append(out, l.([]string)...)
			}
			return out
		}).(pulumi.StringArrayOutput)
	}
	obs, err := observability.NewObservability(ctx, spec.Stack, args.Observability, in)
	if err != nil {
		return nil, err
	}
	args.TieredStorage.OIDCProviderARN, args.TieredStorage.OIDCIssuer = cl.OIDCProviderARN, cl.OIDCIssuer
	for i := range args.TieredStorage.Destinations {
		d := &args.TieredStorage.Destinations[i]
		d.BucketARN = peerOut.String(d.Stack, OutputOffloadBucketARN)
		d.KMSKeyARN = peerOut.String(d.Stack, OutputOffloadKMSKeyARN)
	}
	store, err := tieredstorage.NewTieredStorage(ctx, spec.Stack+"-offload", args.TieredStorage, in)
	if err != nil {
		return nil, err
	}
	cert, err := routing.NewCertificate(ctx, spec.Stack+"-tls", args.Certificate, in)
	if err != nil {
		return nil, err
	}
	release := pulsar.Release{Args: args.Pulsar, Provider: cl.Provider,
		Exposure:  pulsar.Exposure{Scheme: spec.Routing.ProxyScheme, ClientCIDRs: spec.Routing.ClientCIDRs, CertificateARN: cert.ARN},
		DependsOn: append(append([]pulumi.Resource{obs.Stack}, capa.Ready...), store.Ready...)}
	release.BrokerRoleARN, release.Offload.Bucket = store.BrokerRoleARN, store.BucketName
	pl, err := pulsar.NewPulsar(ctx, spec.Stack, release, in)
	if err != nil {
		return nil, err
	}
	args.Routing.ProxyHostname, args.Routing.Provider = pl.ProxyHostname, cl.Provider
	for i := range args.Routing.Regions {
		if r := &args.Routing.Regions[i]; r.Region != spec.Stack && args.Routing.GlobalAccelerator {
			r.NLBARN = peerOut.String(r.Region, OutputProxyNLBARN)
		}
	}
	rt, err := routing.NewRouting(ctx, spec.Stack, args.Routing, in)
	if err != nil {
		return nil, err
	}

	res.Outputs["vpcId"] = net.VpcID
	res.Outputs[OutputNATPublicIPs] = net.NATPublicIPs
	res.Outputs["clusterName"] = pulumi.String(args.Cluster.Name)
	res.Outputs[OutputPhase] = pulumi.String(spec.Phase.Name)
	res.Outputs[OutputBookieStorage] = pulumi.String(BookieStorage(plan.Bookies.LocalNVMe))
	res.Outputs["kubeconfig"] = cl.KubeconfigJSON
	res.Outputs["karpenterInterruptionQueue"] = capa.QueueName
	res.Outputs[OutputOffloadBucketARN] = store.BucketARN
	res.Outputs[OutputOffloadBucketName] = store.BucketName
	res.Outputs[OutputOffloadKMSKeyARN] = store.KMSKeyARN
	res.Outputs["brokerOffloadRoleArn"] = store.BrokerRoleARN
	res.Outputs[OutputProxyHostname] = pl.ProxyHostname
	res.Outputs["proxyHealthUrl"] = pl.HealthURL
	res.Outputs[OutputProxyNLBARN] = rt.NLBARN
	res.Outputs["globalServiceName"] = pulumi.String(rt.GlobalName)
	res.Outputs["regionalServiceName"] = pulumi.String(rt.RegionalName)
	res.Outputs["clientConfig"] = rt.ClientConfig
	if args.Observability.Global {
		res.Outputs["globalMetricsName"] = pulumi.String(observability.MetricsName(spec.Routing.Domain))
		res.Outputs["globalMetricsReceiver"] = obs.ReceiverHostname
	}
	if args.Routing.GlobalAccelerator {
		res.Outputs["globalAcceleratorDns"] = rt.AcceleratorDNS
	}
	if err := root.Finish(ctx, res.Outputs); err != nil {
		return nil, err
	}
	return res, nil
}
