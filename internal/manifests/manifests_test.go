package manifests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
)

func TestFrom(t *testing.T) {
	rs := []recorder.Resource{
		{URN: "urn:provider", Type: "pulumi:providers:kubernetes", Custom: true},
		{URN: "urn:cm", Type: "kubernetes:core/v1:ConfigMap", Name: "us-east-1-client", Custom: true, Inputs: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"namespace": "pulsar", "labels": nil},
			"data": map[string]any{"serviceUrl": "[unknown]"},
		}},
		{URN: "urn:release", Type: "kubernetes:helm.sh/v3:Release", Custom: true, Inputs: map[string]any{
			"namespace": "pulsar",
			"values": map[string]any{"extraDeploy": []any{
				map[string]any{"apiVersion": "batch/v1", "kind": "Job", "metadata": map[string]any{"name": "geo"}},
				map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "x", "namespace": "kept"}},
			}},
		}},
		{URN: "urn:comp", Type: "pulsar-fleet:pulsar:Pulsar", Name: "p"},
		{URN: "urn:bucket", Type: "aws:s3/bucketV2:BucketV2", Custom: true},
	}
	objs := From(rs)
	require.Len(t, objs, 3)
	cm, job, ns := objs[0], objs[1], objs[2]

	assert.Equal(t, "ConfigMap", cm.Kind())
	assert.Equal(t, "us-east-1-client", cm.Name(), "auto-named like Pulumi would")
	assert.Equal(t, Placeholder, cm.Object["data"].(map[string]any)["serviceUrl"])
	assert.Equal(t, []string{".data.serviceUrl"}, cm.Unknown)
	assert.NotContains(t, cm.Object["metadata"], "labels", "nulls are dropped")

	assert.Equal(t, "Job", job.Kind())
	assert.Equal(t, "pulsar", job.Namespace(), "extraDeploy objects land in the release namespace")
	assert.Equal(t, "urn:release", job.Source)
	assert.Equal(t, "kept", ns.Namespace())
	assert.Contains(t, job.String(), "batch/v1 Job pulsar/geo (from urn:release)")
}

func TestDNSName(t *testing.T) {
	assert.Equal(t, "us-east-1-dashboard-pulsar", dnsName("us-east-1_Dashboard.Pulsar"))
	long := dnsName("a-very-long-resource-name-that-keeps-going-and-going-and-going-past-63")
	assert.LessOrEqual(t, len(long), 63)
}

// A Secret whose data is a Pulumi secret as a whole becomes an object the
// API server accepts, with one stand-in key, and says so.
func TestSecretDataRedacted(t *testing.T) {
	objs := From([]recorder.Resource{{URN: "urn:s", Type: "kubernetes:core/v1:Secret", Name: "s", Custom: true, Inputs: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "grafana-admin", "namespace": "monitoring"},
		"type": "Opaque", "stringData": "[secret]",
	}}})
	require.Len(t, objs, 1)
	assert.Equal(t, map[string]any{RedactedKey: "[secret]"}, objs[0].Object["stringData"])
	assert.Equal(t, []string{"stringData"}, objs[0].Redacted)
	assert.NotContains(t, objs[0].Object, "data")
}
