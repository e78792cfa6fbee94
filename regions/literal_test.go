package regions_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/capacity"
	"github.com/pulsar-fleet/pulsar-fleet/components/certmanager"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
)

// One region's in-cluster components are built from its design alone,
// with literal values standing in for the AWS components' outputs: no
// network, cluster, bucket or peer stack is registered. This is how the
// real-provider tier builds them against a local API server.
func TestInClusterComponentsFromTheDesignWithLiteralDeps(t *testing.T) {
	s, cat := spec(t, "us-east-1")
	d, err := regions.Design(s, cat)
	require.NoError(t, err)
	cfg := d.Components
	rec := recorder.New(s.Region)
	require.NoError(t, rec.Run("pulsar-fleet", "literal", nil, nil, func(ctx *pulumi.Context) error {
		k8s, err := kubernetes.NewProvider(ctx, "local", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")})
		if err != nil {
			return err
		}
		capa, err := capacity.New(ctx, s.Stack, cfg.Capacity, capacity.Deps{
			Provider: k8s, ClusterSecurityGroupID: pulumi.String("sg-0123456789abcdef0"),
			OIDCProviderARN: pulumi.String("arn:aws:iam::123456789012:oidc-provider/oidc.example/id/X"),
			OIDCIssuer:      pulumi.String("oidc.example/id/X"),
		})
		if err != nil {
			return err
		}
		cm, err := certmanager.New(ctx, s.Stack+"-cert-manager", cfg.CertManager, certmanager.Deps{Provider: k8s, DependsOn: capa.Ready})
		if err != nil {
			return err
		}
		_, err = pulsar.New(ctx, s.Stack, cfg.Pulsar, pulsar.Deps{
			CertManager: cm.Release,
			Provider:    k8s, CertificateARN: pulumi.String("arn:aws:acm:us-east-1:123456789012:certificate/literal"),
			PrivateCertificateARN: pulumi.String("arn:aws:acm:us-east-1:123456789012:certificate/private"),
			BrokerRoleARN:         pulumi.String("arn:aws:iam::123456789012:role/literal-offload"),
			OffloadBucket:         pulumi.String("literal-offload-bucket"), DependsOn: capa.Ready,
			TokenKey: pulumi.ToSecret(pulumi.String(recorder.SimulatedTokenKey())).(pulumi.StringOutput),
		})
		return err
	}))
	types := map[string]bool{}
	for _, r := range rec.Resources() {
		types[r.Type] = true
		assert.False(t, strings.HasPrefix(r.Type, "aws:ec2/vpc") || strings.HasPrefix(r.Type, "eks:") || r.Type == "aws:s3/bucketV2:BucketV2",
			"%s %s: only the two components' own resources", r.Type, r.Name)
	}
	assert.True(t, types[capacity.TypeToken] && types[pulsar.TypeToken])
	assert.False(t, types["pulsar-fleet:network:Network"] || types["pulsar-fleet:cluster:Cluster"] || types["pulsar-fleet:tieredstorage:TieredStorage"])
	var values map[string]any
	for _, r := range rec.ByType("kubernetes:helm.sh/v3:Release") {
		if r.Inputs["chart"] == "pulsar" {
			values = r.Inputs["values"].(map[string]any)
		}
	}
	require.NotNil(t, values, "the Pulsar release is registered")
	broker := values["broker"].(map[string]any)
	assert.Equal(t, "literal-offload-bucket", broker["storageOffload"].(map[string]any)["bucket"], "the bucket comes from the literal dependency")
	assert.Equal(t, "arn:aws:iam::123456789012:role/literal-offload",
		broker["service_account"].(map[string]any)["annotations"].(map[string]any)["eks.amazonaws.com/role-arn"])
	pools := rec.ByType("kubernetes:karpenter.sh/v1:NodePool")
	assert.NotEmpty(t, pools)
}
