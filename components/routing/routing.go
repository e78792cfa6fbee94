package routing

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/globalaccelerator"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// TypeToken is the routing component's type.
var TypeToken = kit.Type("routing", "Routing")

// Ports clients use (TLS terminated at the NLB) and the health path.
const (
	PortPulsarTLS = model.PortPulsarTLS
	PortHTTPS     = model.PortHTTPS
	HealthPath    = model.HealthPath
)

// RegionEndpoint is one region of the fleet, for failover URLs and the
// Global Accelerator's endpoint groups.
type RegionEndpoint struct {
	Region string
	Weight int
	// NLBARN is the region's proxy NLB (for Global Accelerator).
	NLBARN pulumi.StringInput
}

// ClientSettings are the producer and client options applications use,
// named as the Java client's configuration keys.
type ClientSettings map[string]any

// Args configure routing for one region.
type Args struct {
	Region       string
	Domain       string
	HostedZoneID string
	// Weight is this region's Route53 weight.
	Weight int
	// Scheme of the proxy NLB; Route53 health checkers can only reach an
	// internet-facing one.
	Scheme string
	// ProxyHostname is the NLB's DNS name (from the Pulsar component).
	ProxyHostname pulumi.StringInput
	// Regions are every region of the fleet (this one included), for the
	// failover URLs.
	Regions []RegionEndpoint
	// GlobalAccelerator creates an accelerator over every region's NLB
	// (set on the primary only).
	GlobalAccelerator bool
	// Client are the phase's client settings, published in the ConfigMap.
	Client ClientSettings
	// Namespace and Provider place the client ConfigMap.
	Namespace string
	Provider  *kubernetes.Provider
	Tags      map[string]string
}

// Validate checks the arguments.
func (a Args) Validate() error {
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
	if a.Scheme != "internet-facing" && a.Scheme != "internal" {
		errs = append(errs, fmt.Errorf("scheme %q: want internet-facing or internal", a.Scheme))
	}
	total, self := 0, false
	for _, r := range a.Regions {
		if r.Weight < 0 {
			errs = append(errs, fmt.Errorf("region %s: weight %d is negative", r.Region, r.Weight))
		}
		total += r.Weight
		self = self || r.Region == a.Region
	}
	if total == 0 {
		errs = append(errs, errors.New("weights: all zero; no region would receive traffic"))
	}
	if !self {
		errs = append(errs, fmt.Errorf("regions: must include this region %s", a.Region))
	}
	return errors.Join(errs...)
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
func ComputeClientConfig(a Args) ClientConfig {
	others := append([]RegionEndpoint(nil), a.Regions...)
	sort.SliceStable(others, func(i, j int) bool { return others[i].Weight > others[j].Weight })
	cc := ClientConfig{
		ServiceURL:         fmt.Sprintf("pulsar+ssl://%s:%d", GlobalName(a.Domain), PortPulsarTLS),
		WebServiceURL:      fmt.Sprintf("https://%s", GlobalName(a.Domain)),
		RegionalServiceURL: fmt.Sprintf("pulsar+ssl://%s:%d", RegionalName(a.Region, a.Domain), PortPulsarTLS),
		Settings:           a.Client,
	}
	for _, r := range others {
		if r.Region != a.Region {
			cc.FailoverURLs = append(cc.FailoverURLs, fmt.Sprintf("pulsar+ssl://%s:%d", RegionalName(r.Region, a.Domain), PortPulsarTLS))
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

	GlobalName    string
	RegionalName  string
	HealthCheckID pulumi.StringOutput
	NLBARN        pulumi.StringOutput
	ClientConfig  pulumi.StringOutput
	// AcceleratorDNS is set when this region runs the Global Accelerator.
	AcceleratorDNS pulumi.StringOutput
}

// NewRouting registers the health check, records, client ConfigMap and
// the optional accelerator.
func NewRouting(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (*Routing, error) {
	if err := a.Validate(); err != nil {
		return nil, kit.Wrap("routing", name, err)
	}
	if a.ProxyHostname == nil || a.Provider == nil {
		return nil, kit.Wrap("routing", name, errors.New("proxy hostname and Kubernetes provider are required"))
	}
	r := &Routing{GlobalName: GlobalName(a.Domain), RegionalName: RegionalName(a.Region, a.Domain)}
	if err := ctx.RegisterComponentResource(TypeToken, name, r, opts...); err != nil {
		return nil, kit.Wrap("routing", name, err)
	}
	parent := pulumi.Parent(r)
	fail := func(err error) (*Routing, error) { return nil, kit.Wrap("routing", name, err) }
	tags := kit.Tags(a.Tags, map[string]string{"Name": "pulsar-" + a.Region})

	var healthID pulumi.StringPtrInput
	if a.Scheme == "internet-facing" {
		hc, err := route53.NewHealthCheck(ctx, name, &route53.HealthCheckArgs{
			Type: pulumi.String("HTTPS"), Fqdn: a.ProxyHostname, Port: pulumi.Int(PortHTTPS), ResourcePath: pulumi.String(HealthPath),
			RequestInterval: pulumi.Int(10), FailureThreshold: pulumi.Int(3), MeasureLatency: pulumi.Bool(true), EnableSni: pulumi.Bool(true),
			Tags: tags,
		}, parent)
		if err != nil {
			return fail(err)
		}
		healthID = hc.ID().ToStringOutput().ToStringPtrOutput()
		r.HealthCheckID = hc.ID().ToStringOutput()
	} else {
		// Route53's checkers cannot reach an internal NLB; the weighted
		// record then has no health check and counts as healthy.
		_ = ctx.Log.Warn("routing: internal proxy NLB; the weighted record has no Route53 health check", &pulumi.LogArgs{})
		r.HealthCheckID = pulumi.String("").ToStringOutput()
	}
	if _, err := route53.NewRecord(ctx, name+"-regional", &route53.RecordArgs{
		ZoneId: pulumi.String(a.HostedZoneID), Name: pulumi.String(r.RegionalName), Type: pulumi.String("CNAME"),
		Ttl: pulumi.Int(60), Records: pulumi.StringArray{a.ProxyHostname},
	}, parent); err != nil {
		return fail(err)
	}
	if _, err := route53.NewRecord(ctx, name+"-weighted", &route53.RecordArgs{
		ZoneId: pulumi.String(a.HostedZoneID), Name: pulumi.String(r.GlobalName), Type: pulumi.String("CNAME"),
		Ttl: pulumi.Int(60), Records: pulumi.StringArray{a.ProxyHostname},
		SetIdentifier:           pulumi.String(a.Region),
		WeightedRoutingPolicies: route53.RecordWeightedRoutingPolicyArray{&route53.RecordWeightedRoutingPolicyArgs{Weight: pulumi.Int(a.Weight)}},
		HealthCheckId:           healthID,
	}, parent); err != nil {
		return fail(err)
	}

	// The NLB's ARN, looked up by the name in its DNS name once it exists.
	nlb := lb.LookupLoadBalancerOutput(ctx, lb.LookupLoadBalancerOutputArgs{
		Name: a.ProxyHostname.ToStringOutput().ApplyT(NLBName).(pulumi.StringOutput),
	}, pulumi.Parent(r))
	r.NLBARN = nlb.Arn()

	cc := ComputeClientConfig(a)
	ccJSON, err := json.Marshal(cc)
	if err != nil {
		return fail(err)
	}
	r.ClientConfig = pulumi.String(string(ccJSON)).ToStringOutput()
	data := pulumi.StringMap{"serviceUrl": pulumi.String(cc.ServiceURL), "webServiceUrl": pulumi.String(cc.WebServiceURL),
		"regionalServiceUrl": pulumi.String(cc.RegionalServiceURL), "failoverServiceUrls": pulumi.String(strings.Join(cc.FailoverURLs, ",")),
		"client.json": pulumi.String(string(ccJSON))}
	if _, err := corev1.NewConfigMap(ctx, name+"-client", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("pulsar-client-config"), Namespace: pulumi.String(a.Namespace)},
		Data:     data,
	}, parent, pulumi.Provider(a.Provider)); err != nil {
		return fail(err)
	}

	r.AcceleratorDNS = pulumi.String("").ToStringOutput()
	if a.GlobalAccelerator {
		dns, err := accelerator(ctx, name, a, r.NLBARN, tags, parent)
		if err != nil {
			return fail(err)
		}
		r.AcceleratorDNS = dns
	}
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{
		"globalName": pulumi.String(r.GlobalName), "regionalName": pulumi.String(r.RegionalName),
		"healthCheckId": r.HealthCheckID, "nlbArn": r.NLBARN, "clientConfig": r.ClientConfig, "acceleratorDns": r.AcceleratorDNS,
	}); err != nil {
		return fail(err)
	}
	return r, nil
}

// accelerator fronts every region's NLB with static anycast IPs; each
// region's endpoint group gets its routing weight and drops out when its
// NLB fails Global Accelerator's health checks.
func accelerator(ctx *pulumi.Context, name string, a Args, selfNLB pulumi.StringOutput, tags pulumi.StringMap, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	acc, err := globalaccelerator.NewAccelerator(ctx, name, &globalaccelerator.AcceleratorArgs{
		Name: pulumi.String("pulsar-fleet"), IpAddressType: pulumi.String("IPV4"), Enabled: pulumi.Bool(true), Tags: tags,
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	listener, err := globalaccelerator.NewListener(ctx, name, &globalaccelerator.ListenerArgs{
		AcceleratorArn: acc.Arn, Protocol: pulumi.String("TCP"), ClientAffinity: pulumi.String("SOURCE_IP"),
		PortRanges: globalaccelerator.ListenerPortRangeArray{
			&globalaccelerator.ListenerPortRangeArgs{FromPort: pulumi.Int(PortHTTPS), ToPort: pulumi.Int(PortHTTPS)},
			&globalaccelerator.ListenerPortRangeArgs{FromPort: pulumi.Int(PortPulsarTLS), ToPort: pulumi.Int(PortPulsarTLS)},
		},
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	for _, reg := range a.Regions {
		arn := reg.NLBARN
		if reg.Region == a.Region {
			arn = selfNLB
		}
		if arn == nil {
			return pulumi.StringOutput{}, fmt.Errorf("global accelerator: region %s has no NLB ARN", reg.Region)
		}
		if _, err := globalaccelerator.NewEndpointGroup(ctx, name+"-"+reg.Region, &globalaccelerator.EndpointGroupArgs{
			ListenerArn: listener.ID(), EndpointGroupRegion: pulumi.String(reg.Region), TrafficDialPercentage: pulumi.Float64(100),
			HealthCheckProtocol: pulumi.String("TCP"), HealthCheckPort: pulumi.Int(PortHTTPS),
			EndpointConfigurations: globalaccelerator.EndpointGroupEndpointConfigurationArray{
				&globalaccelerator.EndpointGroupEndpointConfigurationArgs{EndpointId: arn, Weight: pulumi.Int(reg.Weight), ClientIpPreservationEnabled: pulumi.Bool(false)},
			},
		}, parent); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	return acc.DnsName, nil
}
