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

func args() Args {
	return Args{Region: "us-east-1", Domain: "streaming.example.com", HostedZoneID: "Z0TEST", Weight: 50, Scheme: "internet-facing",
		Namespace: "pulsar", ProxyHostname: pulumi.String(host),
		Regions: []RegionEndpoint{{Region: "us-east-1", Weight: 50}, {Region: "eu-west-1", Weight: 10}, {Region: "us-west-2", Weight: 40}},
		Client:  ClientSettings{"sendTimeoutMs": 30000, "batchingMaxPublishDelayMicros": 5000}}
}

func run(t *testing.T, a Args) (*recorder.Recorder, error) {
	t.Helper()
	rec := recorder.New(a.Region)
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		a.Provider = p
		_, err = NewRouting(ctx, "r", a)
		return err
	})
	return rec, err
}

func TestWeightedRecordAndHealthCheck(t *testing.T) {
	rec, err := run(t, args())
	require.NoError(t, err)
	hc, err := rec.One("aws:route53/healthCheck:HealthCheck", "r")
	require.NoError(t, err)
	assert.Equal(t, host, hc.Inputs["fqdn"], "the health check targets the proxy NLB")
	assert.Equal(t, "/status.html", hc.Inputs["resourcePath"])
	assert.Equal(t, "HTTPS", hc.Inputs["type"])
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
	assert.Empty(t, rec.ByType("aws:globalaccelerator/accelerator:Accelerator"))

	cm, err := rec.One("kubernetes:core/v1:ConfigMap", "r-client")
	require.NoError(t, err)
	data := cm.Inputs["data"].(map[string]any)
	assert.Equal(t, "pulsar+ssl://pulsar.streaming.example.com:6651", data["serviceUrl"])
	assert.Equal(t, "pulsar+ssl://pulsar-us-west-2.streaming.example.com:6651,pulsar+ssl://pulsar-eu-west-1.streaming.example.com:6651", data["failoverServiceUrls"])
	var cc ClientConfig
	require.NoError(t, json.Unmarshal([]byte(data["client.json"].(string)), &cc))
	assert.Equal(t, 30000.0, cc.Settings["sendTimeoutMs"])
}

func TestGlobalAccelerator(t *testing.T) {
	a := args()
	a.GlobalAccelerator = true
	a.Regions[1].NLBARN = pulumi.String("arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/net/dr/1")
	a.Regions[2].NLBARN = pulumi.String("arn:aws:elasticloadbalancing:us-west-2:1:loadbalancer/net/west/1")
	rec, err := run(t, a)
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
}

func TestInternalNLBHasNoHealthCheck(t *testing.T) {
	a := args()
	a.Scheme = "internal"
	rec, err := run(t, a)
	require.NoError(t, err)
	assert.Empty(t, rec.ByType("aws:route53/healthCheck:HealthCheck"))
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*Args)
		want string
	}{
		{"negative weight", func(a *Args) { a.Regions[2].Weight = -1 }, "weight -1 is negative"},
		{"all zero", func(a *Args) {
			for i := range a.Regions {
				a.Regions[i].Weight = 0
			}
		}, "all zero"},
		{"no hosted zone", func(a *Args) { a.HostedZoneID = "" }, "hostedZoneId"},
		{"bad scheme", func(a *Args) { a.Scheme = "public" }, "internet-facing or internal"},
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
		_, err := NewCertificate(ctx, "c", RegionCertificate("us-east-1", "streaming.example.com", "Z0TEST", nil))
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
