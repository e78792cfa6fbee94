package stacks

import (
	"fmt"
	"os"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// Options tune the program without changing what it builds: where the
// stack files and the instance catalog are, and a hook that sees exports.
type Options struct {
	// Dir holds Pulumi.<stack>.yaml files (default: the working directory,
	// which is the project directory under the CLI and the Automation API).
	Dir string
	// Fleet, when set, is used instead of reading stack files (the current
	// stack's engine config still replaces its entry).
	Fleet *Fleet
	// Catalog, when set, is used instead of sizing.OpenCatalog (the
	// embedded catalog, or the file PULSAR_FLEET_CATALOG names).
	Catalog *sizing.Catalog
	// OnExport sees every stack output (the offline preview collects them
	// to feed StackReferences of later stacks).
	OnExport func(name string, value pulumi.Output)
	// Offline marks a run under the mock engine: the caller's
	// PULUMI_CONFIG is not the stack's config and is ignored.
	Offline bool
}

// Option sets an Option.
type Option func(*Options)

// WithDir reads stack files from dir.
func WithDir(dir string) Option { return func(o *Options) { o.Dir = dir } }

// WithFleet uses an in-memory fleet.
func WithFleet(f Fleet) Option { return func(o *Options) { o.Fleet = &f } }

// WithCatalog uses an already loaded instance catalog.
func WithCatalog(c *sizing.Catalog) Option { return func(o *Options) { o.Catalog = c } }

// WithExportHook observes exports.
func WithExportHook(f func(string, pulumi.Output)) Option { return func(o *Options) { o.OnExport = f } }

// WithOffline marks a run under the mock engine.
func WithOffline() Option { return func(o *Options) { o.Offline = true } }

// Program is the program every driver runs: main.go (pulumi up), the
// Automation API fleet driver and the offline preview.
var Program = NewProgram()

// NewProgram builds the program with options.
func NewProgram(opts ...Option) pulumi.RunFunc {
	o := Options{}
	for _, f := range opts {
		f(&o)
	}
	return func(ctx *pulumi.Context) error {
		self, fleet, err := LoadForContext(ctx, o)
		if err != nil {
			return err
		}
		cat := o.Catalog
		if cat == nil {
			if cat, err = sizing.OpenCatalog(""); err != nil {
				return err
			}
		}
		spec, err := self.RegionSpec(fleet, organization(ctx))
		if err != nil {
			return err
		}
		design, err := regions.Design(spec, cat)
		if err != nil {
			return explainDesign(self.Stack, err)
		}
		if design, err = Declared(fleet, self, design, cat); err != nil {
			return err
		}
		deployed, err := ReadDeployed(ctx, spec.Self, "the transition guard")
		if err != nil {
			return err
		}
		// The fleet driver's guard, again, in the program: it holds for
		// every `up`, the operator's and a plain `pulumi up` too, and
		// refuses before anything is registered.
		if err := TransitionGuard(fleet, cat, nil)(self.Stack, deployed); err != nil {
			return err
		}
		spec.DeployedKeyFingerprint, _ = deployed[regions.OutputSigningKeyFingerprint].(string)
		spec.Recorded = deployed
		res, err := regions.BuildDesign(ctx, spec, regions.WithPhaseCosts(design, spec, cat))
		if err != nil {
			return err
		}
		for _, k := range sortedOutputKeys(res.Outputs) {
			v := pulumi.ToOutput(res.Outputs[k])
			ctx.Export(k, v)
			if o.OnExport != nil {
				o.OnExport(k, v)
			}
		}
		return nil
	}
}

// ReadDeployed reads the stack's own last outputs, through a stack
// reference to itself (the engine reads it during a preview too, and a
// stack whose first `up` has not finished has none), and waits for them:
// nothing else is registered before the guard has read them. A read that
// fails fails the program with the engine's error; outputs that are not
// known refuse it, since the guard (named by guard) cannot judge them.
func ReadDeployed(ctx *pulumi.Context, self, guard string) (map[string]any, error) {
	return readOutputs(ctx, self, "its own last outputs", guard)
}

// ReadOutputs reads another stack's last outputs for a guard, as
// ReadDeployed reads the stack's own: a stack that does not exist fails
// the program, one never deployed has none.
func ReadOutputs(ctx *pulumi.Context, stack, guard string) (map[string]any, error) {
	return readOutputs(ctx, stack, "its last outputs", guard)
}

func readOutputs(ctx *pulumi.Context, stack, what, guard string) (map[string]any, error) {
	ref, err := pulumi.NewStackReference(ctx, stack, &pulumi.StackReferenceArgs{Name: pulumi.String(stack)})
	if err != nil {
		return nil, fmt.Errorf("stack reference %s (%s): %w", stack, what, err)
	}
	res, err := internals.UnsafeAwaitOutput(ctx.Context(), ref.Outputs)
	if err != nil {
		return nil, fmt.Errorf("stack %s: read %s: %w", stack, what, err)
	}
	if !res.Known {
		return nil, fmt.Errorf("stack %s: %s are not known, so %s cannot judge this run", stack, what, guard)
	}
	m, _ := res.Value.(map[string]any)
	return m, nil
}

// LoadForContext reads the current stack's config from the engine, the
// rest of the fleet from stack files (or options), and validates the whole
// fleet. Nothing is registered before this succeeds.
func LoadForContext(ctx *pulumi.Context, o Options) (StackConfig, Fleet, error) {
	raw, secret := RawFromContext(ctx, !o.Offline)
	self, err := ParseConfig(ctx.Stack(), raw, secret...)
	if err != nil {
		return StackConfig{}, Fleet{}, err
	}
	var fleet Fleet
	if o.Fleet != nil {
		fleet = *o.Fleet
	} else {
		dir := o.Dir
		if dir == "" {
			if dir, err = os.Getwd(); err != nil {
				return StackConfig{}, Fleet{}, err
			}
		}
		files, err := StackFiles(dir)
		if err != nil {
			return StackConfig{}, Fleet{}, fmt.Errorf("the program validates the whole fleet: %w", err)
		}
		if fleet, err = FleetFromFiles(files); err != nil {
			return StackConfig{}, Fleet{}, err
		}
	}
	fleet = fleet.Replace(self)
	if err := ValidateFleet(fleet); err != nil {
		return StackConfig{}, Fleet{}, err
	}
	self, _ = fleet.Get(self.Stack) // with the role defaults the fleet applies
	return self, fleet, nil
}

// BootstrapProject names the account bootstrap (bootstrap/), whose fleet
// CA every region stack reads.
const BootstrapProject = model.BootstrapProject

// BootstrapRef is the bootstrap stack's fully qualified name in org.
func BootstrapRef(org string) string { return model.BootstrapRef(org) }

func organization(ctx *pulumi.Context) string {
	if org := ctx.Organization(); org != "" {
		return org
	}
	return "organization"
}

func sortedOutputKeys(m pulumi.Map) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// RegionSpec turns a validated stack config into the plain spec regions
// builds from: phase and spot shares resolved, peers and fleet planned.
func (c StackConfig) RegionSpec(f Fleet, org string) (regions.Spec, error) {
	phase, err := f.PhaseFor(c.Phase)
	if err != nil {
		return regions.Spec{}, err
	}
	params, err := f.Params()
	if err != nil {
		return regions.Spec{}, err
	}
	spec := regions.Spec{
		Project: Project, Bootstrap: BootstrapRef(org), Stack: c.Stack, Region: c.Region, Role: c.Role, Phase: phase, Params: params,
		Zones: c.Zones, AddedZones: c.AddedZones, VPCCIDR: c.VPCCIDR, NATGateways: c.Cluster.NATGateways,
		KubernetesVersion: c.Cluster.KubernetesVersion, AddonVersions: c.Cluster.AddonVersions, PublicAccessCIDRs: c.Cluster.PublicAccessCIDRs,
		Access:                 c.Cluster.Access.Grants(),
		CapacityReservationIDs: c.Cluster.CapacityReservationIDs,
		Arches:                 c.Arches, Ensemble: c.Durability.Ensemble, WriteQuorum: c.Durability.WriteQuorum, AckQuorum: c.Durability.AckQuorum,
		Routing: regions.Routing{Weight: c.Routing.Weight, HostedZoneID: c.Routing.HostedZoneID, Domain: c.Routing.Domain,
			GlobalAccelerator: c.Routing.GlobalAccelerator, ProxyScheme: c.Routing.ProxyScheme, ClientCIDRs: c.Routing.ClientCIDRs},
		ReplicationTimeControl: c.TieredStorage.ReplicationTimeControl,
		AccessLogging:          c.TieredStorage.AccessLogging != nil && *c.TieredStorage.AccessLogging,
		Tenant:                 c.GeoReplication.Tenant, Namespaces: c.GeoReplication.Namespaces, SigningKey: c.Tokens.SigningKey,
		QuorumTLS: c.ZooKeeper.QuorumTLS,
		Self:      Ref(org, c.Stack), AcceptKeyFingerprint: c.Tokens.AcceptKeyFingerprint,
		AlertWebhookURL: c.AlertWebhookURL, LogRetentionDays: c.Observability.LogRetentionDays,
		RunbookBaseURL: c.Observability.RunbookBaseURL, ProtectData: !c.AllowDataDeletion, ChartSource: c.ChartSource,
	}
	peer := func(name string) regions.Peer {
		s, _ := f.Get(name)
		_, cidrs := s.blocks()
		return regions.Peer{Stack: s.Stack, Region: s.Region, Role: s.Role, Ref: Ref(org, s.Stack), Weight: s.Routing.Weight,
			CIDRs: cidrs, Reads: s.Peers}
	}
	for _, p := range c.Peers {
		spec.Reads = append(spec.Reads, peer(p))
	}
	for _, s := range f.Stacks {
		if s.Stack != c.Stack {
			spec.AllPeers = append(spec.AllPeers, peer(s.Stack))
		}
		if s.Stack != c.Stack && c.JoinedTo(s) {
			spec.Joined = append(spec.Joined, peer(s.Stack))
		}
	}
	for _, p := range c.TieredStorage.ReplicateTo {
		spec.BucketReplicas = append(spec.BucketReplicas, peer(p))
	}
	for _, p := range c.GeoReplication.ReplicateTo {
		spec.GeoReplicationTo = append(spec.GeoReplicationTo, peer(p))
	}
	fleetSpecs, err := f.PlannerRegions(c.Phase)
	if err != nil {
		return regions.Spec{}, err
	}
	for _, rs := range fleetSpecs {
		if rs.Name == c.Stack {
			spec.BrokerSpotShare, spec.BookieSpotShare = rs.BrokerSpotShare, rs.BookieSpotShare
		}
	}
	spec.Fleet = fleetSpecs
	spec.Phases = f.phaseFleets()
	return spec, nil
}

// phaseFleets is the fleet at every phase (the cost dashboard's input).
func (f Fleet) phaseFleets() []regions.PhaseFleet {
	var out []regions.PhaseFleet
	for _, name := range model.PhaseNames {
		pf := regions.PhaseFleet{}
		ph, err := f.PhaseFor(string(name))
		if err == nil {
			pf.Phase = ph
			pf.Fleet, err = f.PlannerRegions(string(name))
		}
		if err != nil {
			pf.Phase.Name, pf.Err = string(name), err.Error()
		}
		out = append(out, pf)
	}
	return out
}

// PlannerRegions is the planner's view of every stack of the fleet at a
// phase: weights, zones, replication, spot shares (config or role profile).
func (f Fleet) PlannerRegions(phase string) ([]sizing.RegionSpec, error) {
	var out []sizing.RegionSpec
	for _, s := range f.Stacks {
		rs := sizing.RegionSpec{
			Name: s.Stack, Role: s.Role, Weight: float64(s.Routing.Weight), Zones: len(s.AllZones()),
			ReplicatesTo: s.GeoReplication.ReplicateTo, BucketReplicas: len(s.TieredStorage.ReplicateTo),
			BucketRetentionDays: s.TieredStorage.RetentionDays, ReplicationTimeControl: s.TieredStorage.ReplicationTimeControl,
			Arches: s.Arches, Ensemble: s.Durability.Ensemble, WriteQuorum: s.Durability.WriteQuorum, AckQuorum: s.Durability.AckQuorum,
		}
		if s.Cluster.NATGateways == NATSingle {
			rs.NATGateways = 1
		}
		if b := s.BookieVolumes; b != nil && b.Phase == phase {
			v := b.Volumes()
			rs.BookieVolumes = &v
		}
		rs, err := regions.PlannerSpec(rs, s.Region, model.PhaseName(phase), regions.SpotOverrides{Broker: s.Spot.Broker, Bookie: s.Spot.Bookie})
		if err != nil {
			return nil, fmt.Errorf("stack %s: %w", s.Stack, err)
		}
		out = append(out, rs)
	}
	return out, nil
}
