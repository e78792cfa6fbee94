package certmanager

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s/k8stest"
	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/internal/upstream"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

func critical() k8s.Placement {
	return k8s.Placement{NodeSelector: map[string]string{"pulsar-fleet.io/pool": "critical"},
		Tolerations: []k8s.Toleration{{Key: "pulsar-fleet.io/pool", Operator: "Equal", Value: "critical", Effect: "NoSchedule"}}}
}

// The value paths the program sets are the committed list for the chart
// (internal/upstream checks that list against the released chart).
func TestValuesOnlyUseChartPaths(t *testing.T) {
	paths, err := kit.Paths(ChartValues(Config{Placement: critical()}), upstream.CertManagerChart.FreeFormKey)
	require.NoError(t, err)
	upstream.AssertUsedPaths(t, upstream.CertManagerChart, paths)
}

// Every recorded resource: the namespace at restricted, and the release
// with its CRDs kept, two replicas under a PDB on the critical pool, after
// the node pools.
func TestRelease(t *testing.T) {
	rec := recorder.New("us-east-1")
	require.NoError(t, rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		prov, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		pool, err := kubernetes.NewProvider(ctx, "stand-in-nodepool", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		_, err = New(ctx, "cm", Config{Placement: critical(), ControlPlaneCIDRs: vpc}, Deps{Provider: prov, DependsOn: []pulumi.Resource{pool}})
		return err
	}))
	var types []string
	for _, r := range rec.Resources() {
		types = append(types, r.Type)
	}
	assert.ElementsMatch(t, []string{"pulumi:providers:kubernetes", "pulumi:providers:kubernetes", TypeToken,
		"kubernetes:core/v1:Namespace", "kubernetes:helm.sh/v3:Release",
		policyType, policyType, policyType, policyType}, types)
	comp, err := rec.Component(TypeToken)
	require.NoError(t, err)
	ns, err := rec.One("kubernetes:core/v1:Namespace", "cm")
	require.NoError(t, err)
	assert.Equal(t, comp.URN, ns.Parent)
	assert.Equal(t, Namespace, ns.Input("metadata.name"))
	assert.Equal(t, model.PSARestricted, ns.Input("metadata.labels").(map[string]any)[model.LabelPSAEnforce])
	rel, err := rec.One("kubernetes:helm.sh/v3:Release", "cm")
	require.NoError(t, err)
	assert.Equal(t, ChartName, rel.Inputs["chart"])
	assert.Equal(t, ChartVersion, rel.Inputs["version"])
	assert.Equal(t, ChartRepo, rel.Input("repositoryOpts.repo"))
	assert.Equal(t, Namespace, rel.Inputs["namespace"])
	assert.Equal(t, comp.URN, rel.Parent)
	pool, _ := rec.One("pulumi:providers:kubernetes", "stand-in-nodepool")
	assert.Contains(t, rel.Dependencies, pool.URN, "the release waits for the node pools")
	assert.Equal(t, map[string]any{"enabled": true, "keep": true}, rel.Input("values.crds"), "the CRDs stay when the release goes")
	for _, d := range []string{"values", "values.webhook", "values.cainjector"} {
		assert.EqualValues(t, Replicas, rel.Input(d+".replicaCount"), d)
		assert.Equal(t, map[string]any{"enabled": true}, rel.Input(d+".podDisruptionBudget"), d)
		assert.Equal(t, map[string]any{"pulsar-fleet.io/pool": "critical"}, rel.Input(d+".nodeSelector"), d)
	}
	assert.Equal(t, Namespace, rel.Input("values.global.leaderElection.namespace"))
	for _, p := range NetworkPolicies(Config{ControlPlaneCIDRs: vpc}) {
		r, err := rec.One(policyType, "cm-"+p.Metadata.Name)
		require.NoError(t, err)
		assert.Equal(t, comp.URN, r.Parent)
		assert.Contains(t, r.Dependencies, ns.URN, "%s waits for its namespace", p.Metadata.Name)
		assert.Equal(t, Namespace, r.Input("metadata.namespace"))
		assert.Equal(t, p.Metadata.Name, r.Input("metadata.name"))
		b, err := json.Marshal(p.Spec)
		require.NoError(t, err)
		var want map[string]any
		require.NoError(t, json.Unmarshal(b, &want))
		assert.Equal(t, want, r.Input("spec"), p.Metadata.Name)
	}
}

const policyType = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

var vpc = []string{"10.20.0.0/16", "100.64.0.0/16"}

// Who reaches which cert-manager pod: the control plane (an address in
// the VPC) the webhook's HTTPS port only; Prometheus the metrics ports
// only; a pod of another namespace nothing but the webhook's port (its
// address is in the VPC too).
func TestNetworkPolicies(t *testing.T) {
	policies := NetworkPolicies(Config{ControlPlaneCIDRs: vpc})
	pod := func(component string) k8s.Endpoint {
		return k8s.Endpoint{Namespace: Namespace, Labels: map[string]string{model.LabelAppInstance: ChartName, model.LabelAppComponent: component}}
	}
	controlPlane := k8s.Endpoint{IP: "10.20.7.9"}
	secondBlock := k8s.Endpoint{IP: "100.64.3.4"}
	outside := k8s.Endpoint{IP: "10.99.0.1"}
	prometheus := k8s.Endpoint{Namespace: model.NamespaceMonitoring, Labels: map[string]string{model.LabelAppName: "prometheus"}, IP: "10.20.1.1"}
	stranger := k8s.Endpoint{Namespace: "default", Labels: map[string]string{"app": "x"}, IP: "10.20.30.40"}
	for _, tc := range []struct {
		name string
		src  k8s.Endpoint
		dst  string
		port int
		want bool
	}{
		{"control plane to the webhook", controlPlane, componentWebhook, WebhookPort, true},
		{"control plane from an added block", secondBlock, componentWebhook, WebhookPort, true},
		{"an address outside the VPC", outside, componentWebhook, WebhookPort, false},
		{"control plane to the controller", controlPlane, "controller", WebhookPort, false},
		{"control plane to metrics", controlPlane, "controller", MetricsPort, false},
		{"prometheus scrapes the controller", prometheus, "controller", MetricsPort, true},
		{"prometheus scrapes the webhook", prometheus, componentWebhook, MetricsPort, true},
		{"prometheus scrapes the CA injector", prometheus, "cainjector", MetricsPort, true},
		{"prometheus on another port", prometheus, "controller", 9403, false},
		{"a stranger to metrics", stranger, "cainjector", MetricsPort, false},
		{"a stranger to the controller's health port", stranger, "controller", 9403, false},
		{"a pod of the VPC to the webhook (a documented limit)", stranger, componentWebhook, WebhookPort, true},
	} {
		assert.Equal(t, tc.want, k8s.Admits(policies, tc.src, pod(tc.dst), tc.port), tc.name)
	}
	// No blocks, no door: a rule without peers would admit anyone.
	assert.False(t, k8s.Admits(NetworkPolicies(Config{}), outside, pod(componentWebhook), WebhookPort))
	assert.Len(t, NetworkPolicies(Config{}), 3)
}

// What cert-manager's pods send: DNS, and TLS on 443 (the API server,
// whose addresses are EKS's); nothing else, anywhere.
func TestEgress(t *testing.T) {
	policies := NetworkPolicies(Config{ControlPlaneCIDRs: vpc})
	for _, component := range []string{"controller", componentWebhook, "cainjector", "startupapicheck"} {
		k8stest.AssertTLSOnlyEgress(t, policies, k8s.Endpoint{Namespace: Namespace, Labels: map[string]string{model.LabelAppInstance: ChartName, model.LabelAppComponent: component}})
	}
}

// The control plane's blocks are required, each an IPv4 network.
func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cidrs []string
		want  string
	}{
		{"none", nil, "controlPlaneCidrs: empty"},
		{"not a network", []string{"10.20.0.1/16"}, `controlPlaneCidrs: "10.20.0.1/16" is not an IPv4 network`},
		{"garbage", []string{"vpc"}, `controlPlaneCidrs: "vpc"`},
	} {
		err := Config{ControlPlaneCIDRs: tc.cidrs}.Validate()
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
	}
	assert.NoError(t, Config{ControlPlaneCIDRs: vpc}.Validate())
}

// A missing provider is refused by name, before anything is registered.
func TestMissingProvider(t *testing.T) {
	rec := recorder.New("us-east-1")
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "cm", Config{}, Deps{})
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing dependencies: provider")
	assert.Empty(t, rec.Resources())
}
