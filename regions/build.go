package regions

import (
	"errors"
	"fmt"
	"maps"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/account"
	"github.com/pulsar-fleet/pulsar-fleet/components/capacity"
	"github.com/pulsar-fleet/pulsar-fleet/components/certmanager"
	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/components/interconnect"
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
	Role   model.RegionRole
	// Ref is the fully qualified stack name for a StackReference
	// (organization/project/stack); set only for stacks this one reads.
	Ref string
	// Weight is the peer's routing weight.
	Weight int
	// CIDRs are the peer's VPC blocks (its vpcCidr and added zones').
	CIDRs []string
	// Reads are the stacks the peer reads (its pulsar-fleet:peers).
	Reads []string
}

// AllZones are the zones the region spans: Zones, then AddedZones.
func (s Spec) AllZones() []string {
	return model.AllZones(s.Zones, s.AddedZones)
}

// CIDRs are the region's VPC blocks: VPCCIDR, then the added zones'.
func (s Spec) CIDRs() []string {
	out := []string{s.VPCCIDR}
	for _, z := range s.AddedZones {
		out = append(out, z.CIDR)
	}
	return out
}

// PrivateCIDRs are what the region's private endpoints (the proxies'
// private listener, the Thanos endpoint) admit: its own VPC blocks, then
// the joined stacks'.
func (s Spec) PrivateCIDRs() []string { return append(s.CIDRs(), s.JoinedCIDRs()...) }

// JoinedCIDRs are the VPC blocks of the joined stacks.
func (s Spec) JoinedCIDRs() []string {
	var out []string
	for _, p := range s.Joined {
		out = append(out, p.CIDRs...)
	}
	return out
}

// Spec is everything regions needs about one stack, as plain values. The
// stacks package fills it from validated config; nothing here reads config.
type Spec struct {
	Project string
	// Bootstrap is the bootstrap stack's fully qualified name, whose fleet
	// CA signs the region's metrics certificate.
	Bootstrap string
	Stack     string
	Region    string
	Role      model.RegionRole
	Phase     sizing.Phase
	// Params are the planner's assumptions (zero: sizing.DefaultParams).
	Params sizing.Params
	// Zones are laid out in VPCCIDR; AddedZones came later, each with its
	// own secondary CIDR. AllZones are both.
	Zones             []string
	AddedZones        []model.AddedZone
	VPCCIDR           string
	NATGateways       model.NATMode
	KubernetesVersion string
	// AddonVersions pins EKS add-ons (cluster.Config.AddonVersions).
	AddonVersions     map[string]string
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
	// Phases are the fleet at every phase, for the cost dashboard (the
	// region's plan at each).
	Phases []PhaseFleet
	// Reads are the stacks whose outputs this stack reads.
	Reads []Peer
	// AllPeers are the other stacks of the fleet.
	AllPeers []Peer
	// Joined are the stacks whose VPCs are joined to this one's through
	// the transit gateways: those it reads (it makes the joins) and those
	// that read it.
	Joined []Peer
	// BucketReplicas are the stacks whose offload buckets receive this
	// region's offloaded ledgers.
	BucketReplicas         []Peer
	ReplicationTimeControl bool
	AccessLogging          bool
	// GeoReplicationTo are the regions this region's namespaces replicate to.
	GeoReplicationTo []Peer
	Tenant           string
	Namespaces       []string
	// SigningKey signs the region's Pulsar tokens (empty: the fleet key).
	SigningKey model.SigningKey
	// QuorumTLS is the ZooKeeper quorum's stage (empty: TLS only).
	QuorumTLS model.QuorumTLS
	// Self is the stack's own fully qualified name, whose last outputs
	// the program reads before it builds anything (stacks.NewProgram).
	Self string
	// DeployedKeyFingerprint names the fleet key the stack's tokens were
	// last minted from (its output OutputSigningKeyFingerprint; empty:
	// never deployed, or before the output): another bootstrap key is
	// refused (model.FleetKeyChange) unless AcceptKeyFingerprint names it.
	DeployedKeyFingerprint string
	AcceptKeyFingerprint   string
	// Recorded is the stack's last outputs (empty: never deployed), which
	// the outputs the guards read keep where this run did not apply what
	// they describe (RecordedOutputs).
	Recorded map[string]any
	// AlertWebhookURL is where alerts go (a secret).
	AlertWebhookURL model.Secret
	// LogRetentionDays is the pod log group's retention (0: the default).
	LogRetentionDays int
	// RunbookBaseURL makes the alerts' runbook links absolute ("" keeps
	// them repository-relative).
	RunbookBaseURL string
	// ProtectData protects the offload buckets, their keys and the cluster
	// (stack config allowDataDeletion lifts it).
	ProtectData bool
	// ChartSource is where the Helm releases take their charts from.
	ChartSource model.ChartSource
}

// PhaseFleet is the fleet at one phase, as the planner sees it.
type PhaseFleet struct {
	Phase sizing.Phase
	Fleet []sizing.RegionSpec
	// Err is why the fleet could not be described at the phase.
	Err string
}

// Routing is the region's global routing settings.
type Routing struct {
	Weight            int
	HostedZoneID      string
	Domain            string
	GlobalAccelerator bool
	ProxyScheme       model.ProxyScheme
	ClientCIDRs       []string
}

// SpotOverrides are a stack's own spot shares; a nil one takes the role
// profile's at the phase.
type SpotOverrides struct {
	Broker, Bookie *float64
}

// PlannerSpec completes the planner's view of a stack: from what the stack
// sets (name, role, weight, zones, replication, arches, quorums in rs), its
// region's price factor, its arches' preferred families, and its spot
// shares, from the role profile at the phase unless overridden.
func PlannerSpec(rs sizing.RegionSpec, region string, phase model.PhaseName, spot SpotOverrides) (sizing.RegionSpec, error) {
	facts, err := Facts(region)
	if err != nil {
		return sizing.RegionSpec{}, err
	}
	prof, err := Profile(rs.Role)
	if err != nil {
		return sizing.RegionSpec{}, err
	}
	shares, err := prof.SpotShares(phase)
	if err != nil {
		return sizing.RegionSpec{}, fmt.Errorf("role %s: %w", rs.Role, err)
	}
	if spot.Broker != nil {
		shares.Broker = *spot.Broker
	}
	if spot.Bookie != nil {
		shares.Bookie = *spot.Bookie
	}
	rs.PriceFactor, rs.Families = facts.PriceFactor, Families(rs.Arches)
	rs.BrokerSpotShare, rs.BookieSpotShare = shares.Broker, shares.Bookie
	return rs, nil
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
	params := spec.Params
	if params == (sizing.Params{}) {
		params = sizing.DefaultParams()
	}
	planner, err := sizing.NewPlanner(cat, params)
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

// Build turns one validated stack into the region's component graph: the
// design first (every component's config, computed and validated before the
// first resource is registered, so invalid input registers nothing), then
// each component with the outputs of those it depends on.
func Build(ctx *pulumi.Context, spec Spec, cat *sizing.Catalog) (*Result, error) {
	design, err := Design(spec, cat)
	if err != nil {
		return nil, err
	}
	return BuildDesign(ctx, spec, WithPhaseCosts(design, spec, cat))
}

// BuildDesign registers a region's component graph from a design computed
// beforehand: Design's, or a state between two phases (transition.Interim).
func BuildDesign(ctx *pulumi.Context, spec Spec, design RegionDesign) (*Result, error) {
	if design.Stack != spec.Stack || design.Phase != spec.Phase.Name {
		return nil, fmt.Errorf("region %s: the design is of stack %s at phase %s, the spec at %s", spec.Stack, design.Stack, design.Phase, spec.Phase.Name)
	}
	cfg := design.Components
	root, err := region.New(ctx, spec.Stack, cfg.Region, region.Deps{})
	if err != nil {
		return nil, err
	}
	w := wiring{ctx: ctx, spec: spec, cfg: cfg, in: pulumi.Parent(root)}
	if w.peers, err = newPeers(ctx, spec.Bootstrap, spec.Reads, w.in); err != nil {
		return nil, err
	}
	if cfg.Pulsar.WithDefaults().SigningKey == model.SigningKeyFleet {
		w.tokenKey = w.peers.FleetTokenKey(spec.Stack, spec.DeployedKeyFingerprint, spec.AcceptKeyFingerprint)
	}
	for _, step := range []func() error{w.infrastructure, w.interconnect, w.observability, w.storage, w.certificates, w.pulsar, w.routing} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	res := &Result{Root: root, Plan: design.Plan, Outputs: w.outputs(design)}
	if err := root.Finish(ctx, res.Outputs); err != nil {
		return nil, err
	}
	return res, nil
}

// wiring holds the region's components as Build creates them, so each
// step takes its Deps from the ones before it.
type wiring struct {
	ctx   *pulumi.Context
	spec  Spec
	cfg   Configs
	in    pulumi.ResourceOption
	peers *peers
	// tokenKey is the fleet token key, checked (peers.FleetTokenKey);
	// unset with the chart's key.
	tokenKey pulumi.StringOutput

	net   *network.Network
	cl    *cluster.Cluster
	capa  *capacity.Capacity
	obs   *observability.Observability
	store *tieredstorage.TieredStorage
	cm    *certmanager.CertManager
	pl    *pulsar.Pulsar
	rt    *routing.Routing
}

// infrastructure is the network, the cluster on it and the node pools in
// the cluster.
func (w *wiring) infrastructure() error {
	var err error
	stack := w.spec.Stack
	if w.net, err = network.New(w.ctx, stack, w.cfg.Network, network.Deps{}, w.in); err != nil {
		return err
	}
	if w.cl, err = cluster.New(w.ctx, stack, w.cfg.Cluster, cluster.Deps{
		VpcID: w.net.VpcID, PrivateSubnetIDs: w.net.PrivateSubnetIDs, PublicSubnetIDs: w.net.PublicSubnetIDs,
	}, w.in); err != nil {
		return err
	}
	w.capa, err = capacity.New(w.ctx, stack, w.cfg.Capacity, capacity.Deps{
		Provider: w.cl.Provider, ClusterSecurityGroupID: w.cl.ClusterSecurityGroupID,
		OIDCProviderARN: w.cl.OIDCProviderARN, OIDCIssuer: w.cl.OIDCIssuer, DependsOn: w.cl.Ready,
	}, w.in)
	return err
}

// interconnect joins the region's transit gateway to those of the stacks
// it reads (their gateways are their outputs).
func (w *wiring) interconnect() error {
	if len(w.cfg.Interconnect.Peers) == 0 {
		return nil
	}
	deps := interconnect.Deps{Gateway: interconnect.Gateway{ID: w.net.TransitGatewayID, RouteTableID: w.net.TransitGatewayRouteTableID},
		Peers: map[string]interconnect.Gateway{}}
	for _, p := range w.cfg.Interconnect.Peers {
		deps.Peers[p.Stack] = interconnect.Gateway{ID: w.peers.String(p.Stack, OutputTransitGateway),
			RouteTableID: w.peers.String(p.Stack, OutputTransitGatewayRouteTable)}
	}
	_, err := interconnect.New(w.ctx, w.spec.Stack, w.cfg.Interconnect, deps, w.in)
	return err
}

// observability is the region's monitoring: its Thanos certificate is
// signed by the fleet CA the bootstrap stack holds.
func (w *wiring) observability() error {
	deps := observability.Deps{Provider: w.cl.Provider, DependsOn: w.capa.Ready,
		OIDCProviderARN: w.cl.OIDCProviderARN, OIDCIssuer: w.cl.OIDCIssuer,
		FleetCA: observability.CA{CertPEM: w.peers.Bootstrap(account.OutputFleetCACert), KeyPEM: w.peers.Bootstrap(account.OutputFleetCAKey),
			TrustPEM: w.peers.FleetCABundle()}, Mirrors: map[string]observability.MirrorBucket{}, PeerBuckets: map[string]observability.PeerBucket{}}
	for _, m := range w.cfg.Observability.MirrorTo {
		deps.Mirrors[m.Stack] = observability.MirrorBucket{
			BucketARN: w.peers.Field(m.Stack, OutputMetricsMirrors, w.spec.Stack, observability.MirrorBucketARN),
			KMSKeyARN: w.peers.Field(m.Stack, OutputMetricsMirrors, w.spec.Stack, observability.MirrorKMSKeyARN)}
	}
	for _, p := range w.cfg.Observability.PeerBuckets {
		deps.PeerBuckets[p.Stack] = observability.PeerBucket{Name: w.peers.String(p.Stack, OutputMetricsBucket),
			ARN: w.peers.String(p.Stack, OutputMetricsBucketARN), KMSKeyARN: w.peers.String(p.Stack, OutputMetricsBucketKMSKey)}
	}
	var err error
	w.obs, err = observability.New(w.ctx, w.spec.Stack, w.cfg.Observability, deps, w.in)
	return err
}

// storage is the offload bucket, replicating to the peers' buckets.
func (w *wiring) storage() error {
	deps := tieredstorage.Deps{OIDCProviderARN: w.cl.OIDCProviderARN, OIDCIssuer: w.cl.OIDCIssuer, Peers: map[string]tieredstorage.PeerBucket{}}
	for _, d := range w.cfg.TieredStorage.Destinations {
		deps.Peers[d.Stack] = tieredstorage.PeerBucket{
			BucketARN: w.peers.String(d.Stack, OutputOffloadBucketARN), KMSKeyARN: w.peers.String(d.Stack, OutputOffloadKMSKeyARN)}
	}
	var err error
	w.store, err = tieredstorage.New(w.ctx, w.spec.Stack+"-offload", w.cfg.TieredStorage, deps, w.in)
	return err
}

// certificates is cert-manager, on the node pools: it issues the Pulsar
// components' in-cluster certificates.
func (w *wiring) certificates() error {
	var err error
	w.cm, err = certmanager.New(w.ctx, w.spec.Stack+"-cert-manager", w.cfg.CertManager,
		certmanager.Deps{Provider: w.cl.Provider, DependsOn: w.capa.Ready}, w.in)
	return err
}

// pulsar is the release, behind its TLS certificate, on the node pools,
// offloading to the bucket.
func (w *wiring) pulsar() error {
	cert, err := routing.NewCertificate(w.ctx, w.spec.Stack+"-tls", w.cfg.Certificate, routing.CertificateDeps{}, w.in)
	if err != nil {
		return err
	}
	private, err := routing.NewCertificate(w.ctx, w.spec.Stack+"-private-tls", w.cfg.PrivateCertificate, routing.CertificateDeps{}, w.in)
	if err != nil {
		return err
	}
	deps := pulsar.Deps{
		Provider: w.cl.Provider, CertificateARN: cert.ARN, PrivateCertificateARN: private.ARN, NATIPs: w.net.NATPublicIPs,
		BrokerRoleARN: w.store.BrokerRoleARN, OffloadBucket: w.store.BucketName,
		DependsOn:   append(append([]pulumi.Resource{w.obs.Stack}, w.capa.Ready...), w.store.Ready...),
		CertManager: w.cm.Release,
	}
	if w.cfg.Pulsar.WithDefaults().SigningKey == model.SigningKeyFleet {
		deps.TokenKey = w.tokenKey
	}
	w.pl, err = pulsar.New(w.ctx, w.spec.Stack, w.cfg.Pulsar, deps, w.in)
	return err
}

// routing is the region's DNS names and, on the primary, the accelerator
// over the peers' load balancers.
func (w *wiring) routing() error {
	deps := routing.Deps{ProxyHostname: w.pl.ProxyHostname, PrivateHostname: w.pl.PrivateHostname, Provider: w.cl.Provider,
		ProbeAlarm: w.obs.ProbeAlarm, PeerNLBARNs: map[string]pulumi.StringInput{},
		DependsOn: []pulumi.Resource{w.pl.NamespaceObject}}
	for _, r := range w.cfg.Routing.Regions {
		if r.Stack != w.spec.Stack && w.cfg.Routing.GlobalAccelerator {
			deps.PeerNLBARNs[r.Stack] = w.peers.String(r.Stack, OutputProxyNLBARN)
		}
	}
	var err error
	w.rt, err = routing.New(w.ctx, w.spec.Stack, w.cfg.Routing, deps, w.in)
	return err
}

// networkOutput is the deployed VPC layout the guard reads back.
func networkOutput(n network.Config) pulumi.Map {
	added := pulumi.Array{}
	for _, z := range n.AddedZones {
		added = append(added, pulumi.Map{"zone": pulumi.String(z.Zone), "cidr": pulumi.String(z.CIDR)})
	}
	return pulumi.Map{"vpcCidr": pulumi.String(n.CIDR), "zones": pulumi.ToStringArray(n.Zones), "addedZones": added}
}

// EBSVolumes are the volumes a design gives its EBS bookie set: the set's
// claim sizes, its classes' throughput and IOPS; false without EBS bookies.
func EBSVolumes(c Configs) (sizing.Volumes, bool) {
	for _, set := range c.Pulsar.BookieSets {
		if set.Storage != model.StorageEBS {
			continue
		}
		v := sizing.Volumes{LedgerBytes: int64(set.LedgersGiB) * sizing.GiB, JournalBytes: int64(set.JournalGiB) * sizing.GiB}
		for _, sc := range c.Cluster.StorageClasses {
			switch sc.Name {
			case set.LedgersClass:
				v.ThroughputBytes, v.LedgerIOPS = float64(sc.ThroughputMiB)*float64(sizing.MiB), sc.IOPS
			case set.JournalClass:
				v.JournalIOPS = sc.IOPS
			}
		}
		return v, true
	}
	return sizing.Volumes{}, false
}

// outputs are the stack's outputs: what people and other stacks read.
func (w *wiring) outputs(d RegionDesign) pulumi.Map {
	out := pulumi.Map{
		"vpcId":                      w.net.VpcID,
		OutputNATPublicIPs:           w.net.NATPublicIPs,
		"clusterName":                pulumi.String(w.cfg.Cluster.Name),
		OutputKubernetesVersion:      pulumi.String(w.cfg.Cluster.KubernetesVersion),
		"kubeconfig":                 w.cl.KubeconfigJSON,
		"karpenterInterruptionQueue": w.capa.QueueName,
		OutputOffloadBucketARN:       w.store.BucketARN,
		OutputOffloadBucketName:      w.store.BucketName,
		OutputOffloadKMSKeyARN:       w.store.KMSKeyARN,
		"brokerOffloadRoleArn":       w.store.BrokerRoleARN,
		OutputProxyHostname:          w.pl.ProxyHostname,
		"proxyPrivateHostname":       w.pl.PrivateHostname,
		"privateServiceName":         pulumi.String(w.rt.PrivateName),
		"proxyHealthUrl":             w.pl.HealthURL,
		OutputProxyNLBARN:            w.rt.NLBARN,
		"globalServiceName":          pulumi.String(w.rt.GlobalName),
		"regionalServiceName":        pulumi.String(w.rt.RegionalName),
		"clientConfig":               w.rt.ClientConfig,
	}
	out[OutputNetwork] = networkOutput(w.cfg.Network)
	if ca, ok := w.peers.FleetCAApplied(); ok {
		// Reported once the monitoring release is applied (Helm reports it
		// deployed with this stage's values): it waits for the Secret with
		// the bundle and the certificate the setting's CA signed, and
		// rolls the queriers onto them, so a run that fails before, or
		// leaves the release out, reports no new stage.
		declared := pulumi.Map{model.OutputFleetCAApplied: ca}
		maps.Copy(out, RecordedOutputs(w.obs.Applied, declared, w.spec.Recorded, model.OutputFleetCAApplied))
	}
	maps.Copy(out, RecordedOutputs(w.pl.Applied, DeclaredPulsarOutputs(d, w.tokenKey), w.spec.Recorded, PulsarOutputs...))
	if len(w.cfg.Network.PeerCIDRs) > 0 {
		out[OutputTransitGateway], out[OutputTransitGatewayRouteTable] = w.net.TransitGatewayID, w.net.TransitGatewayRouteTableID
	}
	if joins := w.cfg.Interconnect.PeerStacks(); len(joins) > 0 {
		out[OutputJoins] = pulumi.ToStringArray(joins)
	}
	out[OutputMetricsBucket], out[OutputMetricsBucketARN], out[OutputMetricsBucketKMSKey] = w.obs.MetricsBucket, w.obs.MetricsBucketARN, w.obs.MetricsKMSKeyARN
	if len(w.cfg.Observability.Mirrors) > 0 {
		out[OutputMetricsMirrors] = w.obs.MetricsMirrors
	}
	if w.cfg.Observability.Exposed() {
		out[OutputThanosEndpoint] = pulumi.String(observability.EndpointName(w.spec.Stack, w.spec.Routing.Domain))
	}
	if w.cfg.Routing.GlobalAccelerator {
		out["globalAcceleratorDns"] = w.rt.AcceleratorDNS
	}
	return out
}

// TransitionOutput is the OutputTransition of a stack between phases.
func TransitionOutput(b Between) pulumi.Map {
	return pulumi.Map{"from": pulumi.String(b.From), "step": pulumi.Int(b.Step)}
}

// DeclaredPulsarOutputs are the PulsarOutputs as a design declares them.
// tokenKey is the fleet signing key its tokens are minted from (unused
// with the chart's key).
func DeclaredPulsarOutputs(d RegionDesign, tokenKey pulumi.StringOutput) pulumi.Map {
	p := d.Components.Pulsar.WithDefaults()
	out := pulumi.Map{
		OutputPhase:              pulumi.String(d.Phase),
		OutputBookieSets:         pulumi.String(BookieSets(d.Components.Pulsar)),
		OutputSigningKey:         pulumi.String(p.SigningKey),
		OutputZooKeeperQuorumTLS: pulumi.String(p.QuorumTLS),
	}
	if v, ok := EBSVolumes(d.Components); ok {
		out[OutputBookieVolumes] = pulumi.ToMap(VolumesOutput(v).Map())
	}
	if b := d.Between; b != nil {
		out[OutputTransition] = TransitionOutput(*b)
	}
	if p.SigningKey == model.SigningKeyFleet {
		out[OutputSigningKeyFingerprint] = account.KeyFingerprint(tokenKey)
	}
	return out
}
