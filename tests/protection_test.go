package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// dataBearing lists a stack's offload and metrics buckets (its own and
// the mirrors it keeps of other regions'), KMS keys and EKS cluster with
// their protect flag.
func dataBearing(st stacks.OfflineStack) map[string]bool {
	out := map[string]bool{}
	for _, r := range st.Resources {
		switch {
		case r.Type == "aws:s3/bucketV2:BucketV2" && (strings.HasSuffix(r.Name, "-offload") || strings.HasSuffix(r.Name, "-metrics") || strings.Contains(r.Name, "-metrics-mirror-")),
			r.Type == "aws:kms/key:Key", r.Type == "eks:index:Cluster":
			out[r.Type+" "+r.Name] = r.Protect
		}
	}
	return out
}

// Every data-bearing resource of every stack is protected at every phase;
// allowDataDeletion lifts it for that stack only.
func TestDataBearingResourcesProtected(t *testing.T) {
	for _, ph := range []string{"35k", "1m", "100m"} {
		res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: catalog(t), Phase: ph})
		require.NoError(t, err)
		for _, st := range res.Stacks {
			bearing, want := dataBearing(st), 6
			if st.Stack == "us-west-2" {
				want = 8 // the mirror of us-east-1's metrics and its key
			}
			require.Len(t, bearing, want, "%s/%s: offload and metrics buckets and their keys, cluster and secrets key", st.Stack, ph)
			for name, protected := range bearing {
				assert.True(t, protected, "%s/%s: %s is not protected", st.Stack, ph, name)
			}
		}
	}

	dir := t.TempDir()
	for _, f := range []string{"Pulumi.yaml", "Pulumi.us-east-1.yaml", "Pulumi.us-west-2.yaml", "Pulumi.eu-west-1.yaml"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		require.NoError(t, err)
		if f == "Pulumi.eu-west-1.yaml" {
			b = append(b, []byte("  pulsar-fleet:allowDataDeletion: true\n")...)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o600))
	}
	res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: dir, Catalog: catalog(t)})
	require.NoError(t, err)
	for _, st := range res.Stacks {
		for name, protected := range dataBearing(st) {
			assert.Equal(t, st.Stack != "eu-west-1", protected, "%s: %s", st.Stack, name)
		}
	}
}
