package routing

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
)

const host = "a1b2c3-0123456789abcdef.elb.us-east-1.amazonaws.com"

// alarm is the probe alarm's name the health check watches.
const alarm = "pulsar-fleet-us-east-1-probe"

// privateHost is the private listener's internal NLB.
const privateHost = "internal-d4e5f6-0123456789abcdef.elb.us-east-1.amazonaws.com"

func args() Config {
	return Config{Stack: "us-east-1", Domain: "streaming.example.com", HostedZoneID: "Z0TEST", Weight: 50, Scheme: "internet-facing",
		Namespace: "pulsar",
		Regions:   []RegionEndpoint{{Stack: "us-east-1", Region: "us-east-1", Weight: 50}, {Stack: "eu-west-1", Region: "eu-west-1", Weight: 10}, {Stack: "us-west-2", Region: "us-west-2", Weight: 40}},
		Client:    ClientSettings{SendTimeoutMs: 30000, BatchingMaxPublishDelayMicros: 5000}}
}

func run(t *testing.T, a Config) (*recorder.Recorder, error) {
	t.Helper()
	return runWith(t, a, Deps{ProxyHostname: pulumi.String(host), PrivateHostname: pulumi.String(privateHost), ProbeAlarm: pulumi.String(alarm)})
}

// runWith registers routing with deps, adding a Kubernetes provider unless
// deps.ProxyHostname is nil.
func runWith(t *testing.T, a Config, deps Deps) (*recorder.Recorder, error) {
	t.Helper()
	rec := recorder.New(a.Stack)
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		deps.Provider = p
		_, err = New(ctx, "r", a, deps)
		return err
	})
	return rec, err
}

func TestWeightedRecordAndHealthCheck(t *testing.T) {
	rec, err := run(t, args())
	require.NoError(t, err)
	hc, err := rec.One("aws:route53/healthCheck:HealthCheck", "r")
	require.NoError(t, err)
	assert.Equal(t, "CLOUDWATCH_METRIC", hc.Inputs["type"], "the probe's alarm, not the proxies' status page")
	assert.Equal(t, alarm, hc.Inputs["cloudwatchAlarmName"])
	assert.Equal(t, "us-east-1", hc.Inputs["cloudwatchAlarmRegion"])
	assert.Equal(t, "Unhealthy", hc.Inputs["insufficientDataHealthStatus"], "a region joins once its probe passed")
	assert.NotContains(t, hc.Inputs, "fqdn")
	w, err := rec.One("aws:route53/record:Record", "r-weighted")
	require.NoError(t, err)
	assert.Equal(t, "pulsar.streaming.example.com", w.Inputs["name"])
	assert.Equal(t, "us-east-1", w.Inputs["setIdentifier"])
	assert.Equal(t, []any{map[string]any{"weight": 50.0}}, w.Inputs["weightedRoutingPolicies"])
	assert.Equal(t, "r-id", w.Inputs["healthCheckId"], "the region drops out when its check fails")
	assert.Equal(t, "Z0TEST", w.Inputs["zoneId"])
	reg, err := rec.One("aws:route53/record:Record", "r-regional")
	require.NoError(t, err)
	assert.Equal(t, "pulsar-us-east-1.streaming.example.com", reg.Inputs["name"])
	assert.Equal(t, []any{host}, reg.Inputs["records"])
	priv, err := rec.One("aws:route53/record:Record", "r-private")
	require.NoError(t, err)
	assert.Equal(t, "pulsar-private-us-east-1.streaming.example.com", priv.Inputs["name"])
	assert.Equal(t, []any{privateHost}, priv.Inputs["records"], "the private name is the internal NLB's")
	assert.Empty(t, rec.ByType("aws:globalaccelerator/accelerator:Accelerator"))

	cm, err := rec.One("kubernetes:core/v1:ConfigMap", "r-client")
	require.NoError(t, err)
	data := cm.Inputs["data"].(map[string]any)
	assert.Equal(t, "pulsar+ssl://pulsar.streaming.example.com:6651", data["serviceUrl"])
	assert.Equal(t, "https://pulsar-private-us-east-1.streaming.example.com", data["webServiceUrl"], "the web API is private")
	assert.Equal(t, "pulsar+ssl://pulsar-us-west-2.streaming.example.com:6651,pulsar+ssl://pulsar-eu-west-1.streaming.example.com:6651", data["failoverServiceUrls"])
	var cc ClientConfig
	require.NoError(t, json.Unmarshal([]byte(data["client.json"].(string)), &cc))
	assert.Equal(t, 30000, cc.Settings.SendTimeoutMs)
	assert.Contains(t, data["client.json"], `"sendTimeoutMs":30000`, "published under the Java client's key")
}

func TestGlobalAccelerator(t *testing.T) {
	a := args()
	a.GlobalAccelerator = true
	rec, err := runWith(t, a, Deps{ProxyHostname: pulumi.String(host), PrivateHostname: pulumi.String(privateHost), ProbeAlarm: pulumi.String(alarm), PeerNLBARNs: map[string]pulumi.StringInput{
		"eu-west-1": pulumi.String("arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/net/dr/1"),
		"us-west-2": pulumi.String("arn:aws:elasticloadbalancing:us-west-2:1:loadbalancer/net/west/1"),
	}})
	require.NoError(t, err)
	groups := rec.ByType("aws:globalaccelerator/endpointGroup:EndpointGroup")
	require.Len(t, groups, 3)
	byRegion := map[string]map[string]any{}
	for _, g := range groups {
		byRegion[g.Inputs["endpointGroupRegion"].(string)] = g.Inputs["endpointConfigurations"].([]any)[0].(map[string]any)
	}
	assert.Equal(t, "arn:aws:elasticloadbalancing:us-west-2:1:loadbalancer/net/west/1", byRegion["us-west-2"]["endpointId"])
	assert.Contains(t, byRegion["us-east-1"]["endpointId"], "loadbalancer/net/a1b2c3/")
	assert.Equal(t, 10.0, byRegion["eu-west-1"]["weight"])
	for _, g := range groups {
		assert.Equal(t, 6651.0, g.Inputs["healthCheckPort"])
	}
	l, err := rec.One("aws:globalaccelerator/listener:Listener", "r")
	require.NoError(t, err)
	assert.Equal(t, []any{map[string]any{"fromPort": 6651.0, "toPort": 6651.0}}, l.Inputs["portRanges"],
		"the Pulsar protocol only: the NLBs carry no web port to clients")
}

// Endpoint groups are in each stack's AWS region, whatever the stacks are
// called.
func TestAcceleratorEndpointGroupsUseTheRegionNotTheStackName(t *testing.T) {
	a := args()
	a.GlobalAccelerator = true
	a.Stack, a.Regions = "prod-east", []RegionEndpoint{{Stack: "prod-east", Region: "us-east-1", Weight: 60}, {Stack: "prod-dr", Region: "eu-west-1", Weight: 40}}
	rec, err := runWith(t, a, Deps{ProxyHostname: pulumi.String(host), PrivateHostname: pulumi.String(privateHost), ProbeAlarm: pulumi.String(alarm), PeerNLBARNs: map[string]pulumi.StringInput{
		"prod-dr": pulumi.String("arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/net/dr/1"),
	}})
	require.NoError(t, err)
	var regions []string
	for _, g := range rec.ByType("aws:globalaccelerator/endpointGroup:EndpointGroup") {
		regions = append(regions, g.Inputs["endpointGroupRegion"].(string))
	}
	assert.ElementsMatch(t, []string{"us-east-1", "eu-west-1"}, regions)
}

// The probe's alarm serves an internal NLB too, which Route53's checkers
// could not reach.
func TestInternalNLBHasAHealthCheck(t *testing.T) {
	a := args()
	a.Scheme = "internal"
	rec, err := run(t, a)
	require.NoError(t, err)
	hc, err := rec.One("aws:route53/healthCheck:HealthCheck", "r")
	require.NoError(t, err)
	assert.Equal(t, "CLOUDWATCH_METRIC", hc.Inputs["type"])
	w, err := rec.One("aws:route53/record:Record", "r-weighted")
	require.NoError(t, err)
	assert.Equal(t, "r-id", w.Inputs["healthCheckId"])
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*Config)
		want string
	}{
		{"negative weight", func(a *Config) { a.Regions[2].Weight = -1 }, "weight -1 is negative"},
		{"all zero", func(a *Config) {
			for i := range a.Regions {
				a.Regions[i].Weight = 0
			}
		}, "all zero"},
		{"no hosted zone", func(a *Config) { a.HostedZoneID = "" }, "hostedZoneId"},
		{"bad scheme", func(a *Config) { a.Scheme = "public" }, "internet-facing or internal"},
		{"peer without its AWS region", func(a *Config) { a.Regions[1].Region = "" }, "region eu-west-1: its AWS region is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := args()
			tc.mut(&a)
			rec, err := run(t, a)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			for _, r := range rec.Resources() {
				assert.Equal(t, "pulumi:providers:kubernetes", r.Type)
			}
		})
	}
}

// A dependency the wiring forgot is refused by name, before anything of the
// component is registered; so is a peer's NLB the accelerator needs.
func TestMissingDependencyRegistersNothing(t *testing.T) {
	withGA := args()
	withGA.GlobalAccelerator = true
	for _, tc := range []struct {
		name string
		cfg  Config
		deps Deps
		want string
	}{
		{"hostnames and probe alarm", args(), Deps{}, `routing "r": missing dependencies: privateHostname, probeAlarm, proxyHostname`},
		{"probe alarm", args(), Deps{ProxyHostname: pulumi.String(host), PrivateHostname: pulumi.String(privateHost)}, `routing "r": missing dependencies: probeAlarm`},
		{"peer NLB", withGA, Deps{ProxyHostname: pulumi.String(host), PrivateHostname: pulumi.String(privateHost), ProbeAlarm: pulumi.String(alarm), PeerNLBARNs: map[string]pulumi.StringInput{
			"us-west-2": pulumi.String("arn:aws:elasticloadbalancing:us-west-2:1:loadbalancer/net/west/1"),
		}}, `routing "r": global accelerator: missing dependencies: peerNlbArns[eu-west-1]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := runWith(t, tc.cfg, tc.deps)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			for _, r := range rec.Resources() {
				assert.Equal(t, "pulumi:providers:kubernetes", r.Type, "nothing of the component is registered")
			}
		})
	}
	rec := recorder.New("us-east-1")
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "r", args(), Deps{ProxyHostname: pulumi.String(host), PrivateHostname: pulumi.String(privateHost), ProbeAlarm: pulumi.String(alarm)})
		return err
	})
	require.ErrorContains(t, err, `routing "r": missing dependencies: provider`)
	assert.Empty(t, rec.Resources())
}

func TestNLBName(t *testing.T) {
	n, err := NLBName("a8f3e-1234abcd.elb.us-east-1.amazonaws.com")
	require.NoError(t, err)
	assert.Equal(t, "a8f3e", n)
	_, err = NLBName("example.com")
	assert.Error(t, err)
}

func TestCertificateCoversBothNames(t *testing.T) {
	rec := recorder.New("us-east-1")
	require.NoError(t, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		_, err := NewCertificate(ctx, "c", RegionCertificate("us-east-1", "streaming.example.com", "Z0TEST", nil), CertificateDeps{})
		return err
	}))
	cert, err := rec.One("aws:acm/certificate:Certificate", "c")
	require.NoError(t, err)
	assert.Equal(t, "pulsar-us-east-1.streaming.example.com", cert.Inputs["domainName"])
	assert.Equal(t, []any{"pulsar.streaming.example.com"}, cert.Inputs["subjectAlternativeNames"])
	recs := rec.ByType("aws:route53/record:Record")
	require.Len(t, recs, 2)
	var names []any
	for _, r := range recs {
		assert.Equal(t, true, r.Inputs["allowOverwrite"], "the shared validation record is upserted")
		names = append(names, r.Inputs["name"])
	}
	// The records register from output callbacks, in either order.
	assert.ElementsMatch(t, []any{"_acme.pulsar-us-east-1.streaming.example.com.", "_acme.pulsar.streaming.example.com."}, names)
	_, err = rec.One("aws:acm/certificateValidation:CertificateValidation", "c")
	require.NoError(t, err)
}

// The client ConfigMap is routing's in-cluster half: it keeps the URN it
// had directly under the component, and builds alone without AWS.
func TestClientConfigMapIsTheInClusterHalf(t *testing.T) {
	rec, err := run(t, args())
	require.NoError(t, err)
	moved, err := rec.CheckMoved(TypeToken, ClientConfigMapTypeToken)
	require.NoError(t, err)
	require.Len(t, moved, 1)
	assert.Equal(t, "kubernetes:core/v1:ConfigMap", moved[0].Type)

	rec = recorder.New("us-east-1")
	err = rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		_, err = NewClientConfigMap(ctx, "r", args(), ClientConfigMapDeps{Provider: p})
		return err
	})
	require.NoError(t, err)
	cm, err := rec.One("kubernetes:core/v1:ConfigMap", "r-client")
	require.NoError(t, err)
	assert.Equal(t, ClientConfigMapName, cm.Input("metadata.name"))
	assert.Empty(t, cm.FormerURNs, "built alone, nothing moved")
	assert.Len(t, rec.Resources(), 3, "the provider, the component and the ConfigMap")

	rec = recorder.New("us-east-1")
	err = rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		_, err := NewClientConfigMap(ctx, "r", args(), ClientConfigMapDeps{})
		return err
	})
	assert.ErrorContains(t, err, "missing dependencies: provider")
	assert.Empty(t, rec.Resources())
}
