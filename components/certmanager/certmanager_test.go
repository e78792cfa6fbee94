package certmanager

import (
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
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
		_, err = New(ctx, "cm", Config{Placement: critical()}, Deps{Provider: prov, DependsOn: []pulumi.Resource{pool}})
		return err
	}))
	var types []string
	for _, r := range rec.Resources() {
		types = append(types, r.Type)
	}
	assert.ElementsMatch(t, []string{"pulumi:providers:kubernetes", "pulumi:providers:kubernetes", TypeToken,
		"kubernetes:core/v1:Namespace", "kubernetes:helm.sh/v3:Release"}, types)
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
