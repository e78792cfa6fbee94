package routing

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/globalaccelerator"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// TypeToken is the routing component's type.
var TypeToken = kit.Type("routing", "Routing")

// Ports of the proxies' listeners (TLS terminated at the NLB).
const (
	PortPulsarTLS = model.PortPulsarTLS
	PortHTTPS     = model.PortHTTPS
)

// RegionEndpoint is one stack of the fleet, for failover URLs and the
// Global Accelerator's endpoint groups.
type RegionEndpoint struct {
	// Stack is the stack's name (it names the stack's regional DNS name).
	Stack string
	// Region is the stack's AWS region (its accelerator endpoint group's).
	Region string
	Weight int
}

// ClientSettings are the producer and client options applications use,
// named as the Java client's configuration keys (model's).
type ClientSettings = model.ClientSettings

// Config configures routing for one stack.
type Config struct {
	// Stack is this stack's name: the weighted record's set identifier and
	// the regional name's label.
	Stack        string
	Domain       string
	HostedZoneID string
	// Weight is this stack's Route53 weight.
	Weight int
	// Scheme of the proxy NLB.
	Scheme model.ProxyScheme
	// Regions are every stack of the fleet (this one included), for the
	// failover URLs.
	Regions []RegionEndpoint
	// GlobalAccelerator creates an accelerator over every stack's NLB
	// (set on the primary only).
	GlobalAccelerator bool
	// Client are the phase's client settings, published in the ConfigMap.
	Client ClientSettings
	// Namespace places the client ConfigMap.
	Namespace string
	Tags      map[string]string
}

// WithDefaults returns the configuration: routing has no defaults.
func (a Config) WithDefaults() Config { return a }

// Validate checks the configuration.
func (a Config) Validate() error {
	a = a.WithDefaults()
	var errs []error
	if a.Weight < 0 || a.Weight > 255 {
		errs = append(errs, fmt.Errorf("weight %d: want a Route53 weight in 0..255", a.Weight))
	}
	if a.HostedZoneID == "" {
		errs = append(errs, errors.New("hostedZoneId: the shared hosted zone is required"))
	}
	if a.Domain == "" {
		errs = append(errs, errors.New("domain: empty"))
	}
	if !a.Scheme.Valid() {
		errs = append(errs, model.Invalid("scheme", a.Scheme, model.ProxySchemes))
	}
	total, self := 0, false
	for _, r := range a.Regions {
		if r.Weight < 0 {
			errs = append(errs, fmt.Errorf("region %s: weight %d is negative", r.Stack, r.Weight))
		}
		if r.Region == "" {
			errs = append(errs, fmt.Errorf("region %s: its AWS region is required", r.Stack))
		}
		total += r.Weight
		self = self || r.Stack == a.Stack
	}
	if total == 0 {
		errs = append(errs, errors.New("weights: all zero; no region would receive traffic"))
	}
	if !self {
		errs = append(errs, fmt.Errorf("regions: must include this stack %s", a.Stack))
	}
	return errors.Join(errs...)
}

// Deps are the outputs of other components routing needs.
type Deps struct {
	// ProxyHostname is the client listener's NLB's DNS name, and
	// PrivateHostname the private listener's (from the Pulsar component).
	ProxyHostname   pulumi.StringInput
	PrivateHostname pulumi.StringInput
	// ProbeAlarm is the name of the end-to-end probe's alarm (from the
	// observability component), which the health check watches.
	ProbeAlarm pulumi.StringInput
	// Provider places the client ConfigMap.
	Provider *kubernetes.Provider
	// PeerNLBARNs are the peers' proxy NLBs, keyed by the peer's stack (its
	// stack outputs); needed only with the Global Accelerator.
	PeerNLBARNs map[string]pulumi.StringInput
	// DependsOn are what the client ConfigMap waits for (the Pulsar
	// namespace it goes in).
	DependsOn []pulumi.Resource
}

// Validate reports a missing hostname, provider or probe alarm.
func (d Deps) Validate() error {
	return kit.Missing(map[string]any{"proxyHostname": d.ProxyHostname, "privateHostname": d.PrivateHostname,
		"provider": d.Provider, "probeAlarm": d.ProbeAlarm})
}

// ValidateFor reports, when the configuration runs the Global Accelerator,
// each peer stack whose NLB ARN is missing.
func (d Deps) ValidateFor(c Config) error {
	if !c.GlobalAccelerator {
		return nil
	}
	peers := map[string]any{}
	for _, r := range c.Regions {
		if r.Stack != c.Stack {
			peers["peerNlbArns["+r.Stack+"]"] = d.PeerNLBARNs[r.Stack]
		}
	}
	if err := kit.Missing(peers); err != nil {
		return fmt.Errorf("global accelerator: %w", err)
	}
	return nil
}

// ClientConfig is what applications need: the global service URL (weighted,
// health-checked), the regional URLs to fail over to, and the phase's
// producer settings.
type ClientConfig struct {
	ServiceURL         string         `json:"serviceUrl"`
	WebServiceURL      string         `json:"webServiceUrl"`
	RegionalServiceURL string         `json:"regionalServiceUrl"`
	FailoverURLs       []string       `json:"failoverServiceUrls"`
	Settings           ClientSettings `json:"settings"`
}

// ComputeClientConfig is the pure client configuration of a region:
// failover URLs list the other regions, heaviest first.
func ComputeClientConfig(a Config) ClientConfig {
	others := append([]RegionEndpoint(nil), a.Regions...)
	sort.SliceStable(others, func(i, j int) bool { return others[i].Weight > others[j].Weight })
	cc := ClientConfig{
		ServiceURL: fmt.Sprintf("pulsar+ssl://%s:%d", GlobalName(a.Domain), PortPulsarTLS),
		// The web API is on the private listener only (it carries admin).
		WebServiceURL:      fmt.Sprintf("https://%s", PrivateName(a.Stack, a.Domain)),
		RegionalServiceURL: fmt.Sprintf("pulsar+ssl://%s:%d", RegionalName(a.Stack, a.Domain), PortPulsarTLS),
		Settings:           a.Client,
	}
	for _, r := range others {
		if r.Stack != a.Stack {
			cc.FailoverURLs = append(cc.FailoverURLs, fmt.Sprintf("pulsar+ssl://%s:%d", RegionalName(r.Stack, a.Domain), PortPulsarTLS))
		}
	}
	return cc
}

// NLBName derives the load balancer's name from its DNS name
// (<name>-<id>.elb.<region>.amazonaws.com).
func NLBName(hostname string) (string, error) {
	label, _, _ := strings.Cut(hostname, ".")
	i := strings.LastIndex(label, "-")
	if i <= 0 || !strings.Contains(hostname, ".elb.") {
		return "", fmt.Errorf("%q is not an NLB DNS name", hostname)
	}
	return label[:i], nil
}

// Routing is the component.
type Routing struct {
	pulumi.ResourceState

	// GlobalName is the fleet's weighted name; RegionalName this stack's;
	// PrivateName this stack's private listener's.
	GlobalName   string
	RegionalName string
	PrivateName  string
	// HealthCheckID is the Route53 health check.
	HealthCheckID pulumi.StringOutput
	// NLBARN is this stack's proxy NLB.
	NLBARN pulumi.StringOutput
	// ClientConfig is the client configuration as JSON.
	ClientConfig pulumi.StringOutput
	// AcceleratorDNS is set when this region runs the Global Accelerator.
	AcceleratorDNS pulumi.StringOutput
}

// New registers the health check, records, client ConfigMap and the
// optional accelerator.
func New(ctx *pulumi.Context, name string, cfg Config, deps Deps, opts ...pulumi.ResourceOption) (*Routing, error) {
	r := &Routing{GlobalName: GlobalName(cfg.Domain), RegionalName: RegionalName(cfg.Stack, cfg.Domain), PrivateName: PrivateName(cfg.Stack, cfg.Domain)}
	return kit.Construct(ctx, TypeToken, name, cfg, deps, r, func(cfg Config, parent pulumi.ResourceOption) (pulumi.Map, error) {
		b := builder{ctx: ctx, name: name, cfg: cfg, deps: deps, parent: parent,
			tags: kit.Tags(cfg.Tags, map[string]string{"Name": "pulsar-" + cfg.Stack})}
		if err := b.build(r); err != nil {
			return nil, err
		}
		return pulumi.Map{
			"globalName": pulumi.String(r.GlobalName), "regionalName": pulumi.String(r.RegionalName), "privateName": pulumi.String(r.PrivateName),
			"healthCheckId": r.HealthCheckID, "nlbArn": r.NLBARN, "clientConfig": r.ClientConfig, "acceleratorDns": r.AcceleratorDNS,
		}, nil
	}, opts...)
}

// builder registers the routing's resources.
type builder struct {
	ctx    *pulumi.Context
	name   string
	cfg    Config
	deps   Deps
	parent pulumi.ResourceOption
	tags   pulumi.StringMap
}

func (b *builder) build(r *Routing) error {
	healthID, err := b.healthCheck(r)
	if err != nil {
		return err
	}
	if err := b.records(r, healthID); err != nil {
		return err
	}
	// The NLB's ARN, looked up by the name in its DNS name once it exists.
	nlb := lb.LookupLoadBalancerOutput(b.ctx, lb.LookupLoadBalancerOutputArgs{
		Name: b.deps.ProxyHostname.ToStringOutput().ApplyT(NLBName).(pulumi.StringOutput),
	}, pulumi.Parent(r))
	r.NLBARN = nlb.Arn()
	if err := b.clientConfig(r); err != nil {
		return err
	}
	r.AcceleratorDNS = pulumi.String("").ToStringOutput()
	if b.cfg.GlobalAccelerator {
		dns, err := b.accelerator(r.NLBARN)
		if err != nil {
			return err
		}
		r.AcceleratorDNS = dns
	}
	return nil
}

// healthCheck registers the region's Route53 health check: the state of
// the probe's CloudWatch alarm (an observability output), so the region
// leaves the weighted name when messages stop going through it, not only
// when its proxies stop answering. It serves internal NLBs as well, which
// Route53's checkers could never reach. Until the alarm has data the
// region counts as unhealthy: a region joins the name once its probe has
// passed.
func (b *builder) healthCheck(r *Routing) (pulumi.StringPtrInput, error) {
	hc, err := route53.NewHealthCheck(b.ctx, b.name, &route53.HealthCheckArgs{
		Type: pulumi.String("CLOUDWATCH_METRIC"), CloudwatchAlarmName: b.deps.ProbeAlarm,
		CloudwatchAlarmRegion: pulumi.String(b.cfg.Region()), InsufficientDataHealthStatus: pulumi.String("Unhealthy"),
		Tags: b.tags,
	}, b.parent)
	if err != nil {
		return nil, err
	}
	r.HealthCheckID = hc.ID().ToStringOutput()
	return hc.ID().ToStringOutput().ToStringPtrOutput(), nil
}

// Region is this stack's AWS region, from its entry in Regions.
func (a Config) Region() string {
	for _, r := range a.Regions {
		if r.Stack == a.Stack {
			return r.Region
		}
	}
	return ""
}

// records registers the stable regional record and the weighted global one.
func (b *builder) records(r *Routing, healthID pulumi.StringPtrInput) error {
	if _, err := route53.NewRecord(b.ctx, b.name+"-regional", &route53.RecordArgs{
		ZoneId: pulumi.String(b.cfg.HostedZoneID), Name: pulumi.String(r.RegionalName), Type: pulumi.String("CNAME"),
		Ttl: pulumi.Int(60), Records: pulumi.StringArray{b.deps.ProxyHostname},
	}, b.parent); err != nil {
		return err
	}
	if _, err := route53.NewRecord(b.ctx, b.name+"-private", &route53.RecordArgs{
		ZoneId: pulumi.String(b.cfg.HostedZoneID), Name: pulumi.String(r.PrivateName), Type: pulumi.String("CNAME"),
		Ttl: pulumi.Int(60), Records: pulumi.StringArray{b.deps.PrivateHostname},
	}, b.parent); err != nil {
		return err
	}
	_, err := route53.NewRecord(b.ctx, b.name+"-weighted", &route53.RecordArgs{
		ZoneId: pulumi.String(b.cfg.HostedZoneID), Name: pulumi.String(r.GlobalName), Type: pulumi.String("CNAME"),
		Ttl: pulumi.Int(60), Records: pulumi.StringArray{b.deps.ProxyHostname},
		SetIdentifier:           pulumi.String(b.cfg.Stack),
		WeightedRoutingPolicies: route53.RecordWeightedRoutingPolicyArray{&route53.RecordWeightedRoutingPolicyArgs{Weight: pulumi.Int(b.cfg.Weight)}},
		HealthCheckId:           healthID,
	}, b.parent)
	return err
}

// clientConfig publishes the client configuration in the cluster, through
// the in-cluster half.
func (b *builder) clientConfig(r *Routing) error {
	cm, err := NewClientConfigMap(b.ctx, b.name, b.cfg, ClientConfigMapDeps{Provider: b.deps.Provider, DependsOn: b.deps.DependsOn, FormerParent: r}, b.parent)
	if err != nil {
		return err
	}
	r.ClientConfig = cm.JSON
	return nil
}

// accelerator fronts every stack's NLB with static anycast IPs; each
// stack's endpoint group gets its routing weight and drops out when its
// NLB fails Global Accelerator's health checks. The peers' NLB ARNs were
// checked by Deps.ValidateFor.
func (b *builder) accelerator(selfNLB pulumi.StringOutput) (pulumi.StringOutput, error) {
	acc, err := globalaccelerator.NewAccelerator(b.ctx, b.name, &globalaccelerator.AcceleratorArgs{
		Name: pulumi.String("pulsar-fleet"), IpAddressType: pulumi.String("IPV4"), Enabled: pulumi.Bool(true), Tags: b.tags,
	}, b.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	listener, err := globalaccelerator.NewListener(b.ctx, b.name, &globalaccelerator.ListenerArgs{
		AcceleratorArn: acc.Arn, Protocol: pulumi.String("TCP"), ClientAffinity: pulumi.String("SOURCE_IP"),
		PortRanges: globalaccelerator.ListenerPortRangeArray{
			&globalaccelerator.ListenerPortRangeArgs{FromPort: pulumi.Int(PortPulsarTLS), ToPort: pulumi.Int(PortPulsarTLS)},
		},
	}, b.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	for _, reg := range b.cfg.Regions {
		arn := b.deps.PeerNLBARNs[reg.Stack]
		if reg.Stack == b.cfg.Stack {
			arn = selfNLB
		}
		// The endpoint group's region is the stack name, as it always was
		// (every stack is named after its region).
		if _, err := globalaccelerator.NewEndpointGroup(b.ctx, b.name+"-"+reg.Stack, &globalaccelerator.EndpointGroupArgs{
			ListenerArn: listener.ID(), EndpointGroupRegion: pulumi.String(reg.Region), TrafficDialPercentage: pulumi.Float64(100),
			HealthCheckProtocol: pulumi.String("TCP"), HealthCheckPort: pulumi.Int(PortPulsarTLS),
			EndpointConfigurations: globalaccelerator.EndpointGroupEndpointConfigurationArray{
				&globalaccelerator.EndpointGroupEndpointConfigurationArgs{EndpointId: arn, Weight: pulumi.Int(reg.Weight), ClientIpPreservationEnabled: pulumi.Bool(false)},
			},
		}, b.parent); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	return acc.DnsName, nil
}
