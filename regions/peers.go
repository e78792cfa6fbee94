package regions

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/observability"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// Stack outputs other stacks read. They are the contract between stacks:
// the offline preview, the fleet driver and gitops all go through them.
const (
	OutputOffloadBucketARN  = "offloadBucketArn"
	OutputOffloadBucketName = "offloadBucketName"
	OutputOffloadKMSKeyARN  = "offloadKmsKeyArn"
	OutputNATPublicIPs      = "natPublicIps"
	OutputProxyHostname     = "proxyHostname"
	OutputProxyNLBARN       = "proxyNlbArn"
	OutputRegion            = "region"
	// OutputPhase is the phase a stack was last deployed at: the fleet
	// driver reads it before an `up` to refuse an unsafe phase change.
	OutputPhase = "phase"
	// OutputBookieSets are the deployed bookie sets by storage, "ebs",
	// "nvme", or "ebs,nvme" between two phases: a set that would go
	// without a transition's last step is refused.
	OutputBookieSets = "bookieSets"
	// OutputSigningKey is what signs the stack's Pulsar tokens, "fleet" or
	// "chart" (absent: deployed before the fleet key, so the chart's): the
	// guard refuses a change that would invalidate every client's token.
	OutputSigningKey = "tokenSigningKey"
	// OutputSigningKeyFingerprint names the fleet key the stack's tokens
	// were minted from (model.KeyFingerprint; absent with the chart's
	// key): the guard refuses an `up` that would move the stack to
	// another fleet key unannounced.
	OutputSigningKeyFingerprint = "tokenSigningKeyFingerprint"
	// OutputTransition is the step of a transition the stack stands at,
	// {from, step}; absent at a phase.
	OutputTransition = "transition"
	// OutputLegacyBookieStorage is what stacks deployed before bookie sets
	// exported ("ebs" or "nvme"); the guard reads it to refuse moving an
	// instance-storage set deployed in the main release.
	OutputLegacyBookieStorage = "bookieStorage"
	// OutputNetwork is the deployed VPC layout, {vpcCidr, zones,
	// addedZones}: a change that would replace its subnets is refused, and
	// a zone is added only by appending to addedZones.
	OutputNetwork = "network"
	// OutputBookieVolumes are the EBS bookies' volumes, {ledgerGiB,
	// journalGiB, throughputMiB, ledgerIOPS, journalIOPS}; absent without
	// EBS bookies. The guard refuses an `up` that would change them outside
	// a transition's resize step.
	OutputBookieVolumes = "bookieVolumes"
	// OutputKubernetesVersion is the EKS version the stack was last
	// deployed at ("1.NN"; absent before the export): the guard refuses a
	// downgrade and a jump of more than one minor version.
	OutputKubernetesVersion = "kubernetesVersion"
	// OutputZooKeeperQuorumTLS is the ZooKeeper quorum's stage
	// (model.QuorumTLS); a stack deployed before it runs a plaintext
	// quorum.
	OutputZooKeeperQuorumTLS = "zookeeperQuorumTls"
	// OutputMetricsBucket is the region's Thanos bucket, with its ARN and
	// its key's: the global-view stacks that read this one read it.
	OutputMetricsBucket       = "metricsBucket"
	OutputMetricsBucketARN    = "metricsBucketArn"
	OutputMetricsBucketKMSKey = "metricsKmsKeyArn"
	// OutputMetricsMirrors are the mirror buckets a global-view region
	// keeps of the metrics of the stacks that read it, {stack: {bucketArn,
	// kmsKeyArn}}: each of those replicates its metrics bucket into its
	// mirror (absent when it keeps none).
	OutputMetricsMirrors = observability.OutputMetricsMirrors
	// OutputTransitGateway and OutputTransitGatewayRouteTable are the
	// region's transit gateway and its default route table: the stacks
	// that read this one join their gateways to it.
	OutputTransitGateway           = "transitGatewayId"
	OutputTransitGatewayRouteTable = "transitGatewayRouteTableId"
	// OutputJoins are the stacks this one is joined to (the stacks it
	// reads, each through a transit gateway peering it owns): the fleet
	// driver reads them to order a join's removal, the leaving stack
	// first.
	OutputJoins = "joinedPeers"
	// OutputThanosEndpoint is the name the other regions' global queriers
	// reach this region's Thanos endpoint at (absent when none does).
	OutputThanosEndpoint = "thanosEndpoint"
)

// BookieSets is the storages of a release's bookie sets, in order.
func BookieSets(c pulsar.Config) string {
	var out []string
	for _, s := range c.BookieSets {
		out = append(out, string(s.Storage))
	}
	return strings.Join(out, ",")
}

// peers reads other stacks' outputs through one StackReference each.
// The bootstrap stack (bootstrap/) holds the fleet CA; every region reads
// it, and it reads no region, so the stack graph stays acyclic.
type peers struct {
	refs map[string]*pulumi.StackReference
	// bootstrap is the bootstrap stack's reference and name.
	bootstrap     *pulumi.StackReference
	bootstrapName string
}

func newPeers(ctx *pulumi.Context, bootstrap string, reads []Peer, opts ...pulumi.ResourceOption) (*peers, error) {
	p := &peers{refs: map[string]*pulumi.StackReference{}, bootstrapName: bootstrap}
	if bootstrap != "" {
		ref, err := pulumi.NewStackReference(ctx, bootstrap, &pulumi.StackReferenceArgs{Name: pulumi.String(bootstrap)}, opts...)
		if err != nil {
			return nil, fmt.Errorf("stack reference %s: %w", bootstrap, err)
		}
		p.bootstrap = ref
	}
	for _, r := range reads {
		ref, err := pulumi.NewStackReference(ctx, r.Ref, &pulumi.StackReferenceArgs{Name: pulumi.String(r.Ref)}, opts...)
		if err != nil {
			return nil, fmt.Errorf("stack reference %s: %w", r.Ref, err)
		}
		p.refs[r.Stack] = ref
	}
	return p, nil
}

// String is a peer's string output; a missing one fails the deployment
// with the stack and output named.
func (p *peers) String(stack, output string) pulumi.StringOutput {
	ref, ok := p.refs[stack]
	if !ok {
		return pulumi.StringOutput(pulumi.ToOutput(pulumi.String("")).ApplyT(func(string) (string, error) {
			return "", fmt.Errorf("stack %s is not in this stack's peers: add it to pulsar-fleet:peers to read its %s", stack, output)
		}).(pulumi.StringOutput))
	}
	return ref.GetOutput(pulumi.String(output)).ApplyT(func(v any) (string, error) {
		s, ok := v.(string)
		if !ok || s == "" {
			return "", fmt.Errorf("stack %s has no output %q: deploy %s first (it is a prerequisite of this stack in the stack graph)", stack, output, stack)
		}
		return s, nil
	}).(pulumi.StringOutput)
}

// Bootstrap is a string output of the bootstrap stack; a missing one
// fails the deployment, naming the stack and the step that makes it.
func (p *peers) Bootstrap(output string) pulumi.StringOutput {
	if p.bootstrap == nil {
		return pulumi.String("").ToStringOutput().ApplyT(func(string) (string, error) {
			return "", fmt.Errorf("no bootstrap stack is configured to read %s from", output)
		}).(pulumi.StringOutput)
	}
	return p.bootstrap.GetOutput(pulumi.String(output)).ApplyT(func(v any) (string, error) {
		s, ok := v.(string)
		if !ok || s == "" {
			return "", fmt.Errorf("the bootstrap stack %s has no output %q: run `pulumi up` in bootstrap/ with this version first (README, \"From an empty AWS account\")", p.bootstrapName, output)
		}
		return s, nil
	}).(pulumi.StringOutput)
}

// FleetCABundle are the CA certificates the bootstrap stack's fleet CA
// setting trusts (model.OutputFleetCABundle); a bootstrap deployed before
// that output holds one CA, its OutputFleetCACert.
func (p *peers) FleetCABundle() pulumi.StringOutput {
	if p.bootstrap == nil {
		return p.Bootstrap(model.OutputFleetCABundle)
	}
	bundle := p.bootstrap.GetOutput(pulumi.String(model.OutputFleetCABundle))
	return pulumi.All(bundle, p.Bootstrap(model.OutputFleetCACert)).ApplyT(func(v []any) string {
		if b, ok := v[0].(string); ok && b != "" {
			return b
		}
		return v[1].(string)
	}).(pulumi.StringOutput)
}

// FleetCAApplied is the bootstrap stack's fleet CA setting (its
// OutputFleetCA), read in the same reference as the bundle and the
// signing CA this stack applies, for the stack to report as its
// OutputFleetCAApplied: the bootstrap moves a rotation on only once every
// region has (model.CARegionsReady). A bootstrap deployed before that
// output runs the first CA, steady. False without a bootstrap stack.
func (p *peers) FleetCAApplied() (pulumi.MapOutput, bool) {
	if p.bootstrap == nil {
		return pulumi.MapOutput{}, false
	}
	return p.bootstrap.GetOutput(pulumi.String(model.OutputFleetCA)).ApplyT(func(v any) (map[string]any, error) {
		if v == nil {
			return model.FleetCA{}.Map(), nil
		}
		f, err := model.ParseFleetCA(v)
		if err != nil {
			return nil, fmt.Errorf("the bootstrap stack %s's %s output %w", p.bootstrapName, model.OutputFleetCA, err)
		}
		return f.Map(), nil
	}).(pulumi.MapOutput), true
}

// FleetTokenKey is the bootstrap stack's fleet token key (a secret),
// checked against the key the stack's tokens were last minted from (was,
// the stack's own last output OutputSigningKeyFingerprint): another key,
// not accepted by fingerprint, fails everything minted from it, so no
// token changes (model.FleetKeyChange). The fleet driver's guard refuses
// the same before an `up`; this check holds for every `up`, the
// operator's and a plain `pulumi up` too.
func (p *peers) FleetTokenKey(stack, was, accept string) pulumi.StringOutput {
	return p.Bootstrap(model.OutputFleetTokenKey).ApplyT(func(k string) (string, error) {
		now, err := model.KeyFingerprint(k)
		if err != nil {
			return "", fmt.Errorf("the bootstrap stack %s's %s: %w", p.bootstrapName, model.OutputFleetTokenKey, err)
		}
		if err := model.FleetKeyChange(was, now, accept, "pulsar-fleet:tokens"); err != nil {
			return "", fmt.Errorf("stack %s: %w", stack, err)
		}
		return k, nil
	}).(pulumi.StringOutput)
}

// Field is a string field of a peer's map output, output[key][field]; a
// missing one fails the deployment with the stack, output and key named.
func (p *peers) Field(stack, output, key, field string) pulumi.StringOutput {
	ref, ok := p.refs[stack]
	if !ok {
		return p.String(stack, output)
	}
	return ref.GetOutput(pulumi.String(output)).ApplyT(func(v any) (string, error) {
		m, _ := v.(map[string]any)
		entry, _ := m[key].(map[string]any)
		s, ok := entry[field].(string)
		if !ok || s == "" {
			return "", fmt.Errorf("stack %s has no %s.%s in its output %q: deploy %s first with this version (it is a prerequisite of this stack in the stack graph)",
				stack, key, field, output, stack)
		}
		return s, nil
	}).(pulumi.StringOutput)
}

// Strings is a peer's list-of-strings output.
func (p *peers) Strings(stack, output string) pulumi.StringArrayOutput {
	ref, ok := p.refs[stack]
	if !ok {
		return pulumi.StringArray{}.ToStringArrayOutput().ApplyT(func([]string) ([]string, error) {
			return nil, fmt.Errorf("stack %s is not in this stack's peers: add it to pulsar-fleet:peers to read its %s", stack, output)
		}).(pulumi.StringArrayOutput)
	}
	return ref.GetOutput(pulumi.String(output)).ApplyT(func(v any) ([]string, error) {
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("stack %s has no output %q: deploy %s first (it is a prerequisite of this stack in the stack graph)", stack, output, stack)
		}
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = fmt.Sprint(e)
		}
		return out, nil
	}).(pulumi.StringArrayOutput)
}

// BookieVolumes is the OutputBookieVolumes output: the EBS bookies'
// volumes in whole GiB, MiB/s and IOPS, as the stack exports them and as
// the guard reads them back.
type BookieVolumes struct {
	LedgerGiB     int `json:"ledgerGiB"`
	JournalGiB    int `json:"journalGiB"`
	ThroughputMiB int `json:"throughputMiB"`
	LedgerIOPS    int `json:"ledgerIOPS"`
	JournalIOPS   int `json:"journalIOPS"`
}

// VolumesOutput is the output of the volumes v.
func VolumesOutput(v sizing.Volumes) BookieVolumes {
	return BookieVolumes{LedgerGiB: int(v.LedgerBytes / sizing.GiB), JournalGiB: int(v.JournalBytes / sizing.GiB),
		ThroughputMiB: int(v.ThroughputBytes / float64(sizing.MiB)), LedgerIOPS: v.LedgerIOPS, JournalIOPS: v.JournalIOPS}
}

// Volumes are the volumes the output names.
func (b BookieVolumes) Volumes() sizing.Volumes {
	return sizing.Volumes{LedgerBytes: int64(b.LedgerGiB) * sizing.GiB, JournalBytes: int64(b.JournalGiB) * sizing.GiB,
		ThroughputBytes: float64(b.ThroughputMiB) * float64(sizing.MiB), LedgerIOPS: b.LedgerIOPS, JournalIOPS: b.JournalIOPS}
}

// Map is the output as a stack exports it.
func (b BookieVolumes) Map() map[string]any {
	return map[string]any{"ledgerGiB": b.LedgerGiB, "journalGiB": b.JournalGiB, "throughputMiB": b.ThroughputMiB,
		"ledgerIOPS": b.LedgerIOPS, "journalIOPS": b.JournalIOPS}
}
