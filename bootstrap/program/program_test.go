package program

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/account"
)

// The committed bootstrap stack previews offline, like the region stacks.
func TestCommittedBootstrapPreviewsOffline(t *testing.T) {
	st, err := PreviewOffline("../Pulumi.admin.yaml")
	require.NoError(t, err)
	assert.Equal(t, "admin", st.Stack)
	assert.Equal(t, "us-east-1", st.Region)
	require.NoError(t, st.Recorder.CheckParented(account.TypeToken))
	roles := map[string]bool{}
	for _, r := range st.Recorder.ByType("aws:iam/role:Role") {
		roles[r.Inputs["name"].(string)] = true
	}
	assert.Equal(t, map[string]bool{account.PreviewRoleName: true, account.DeployRoleName: true, account.OperatorRoleName: true}, roles)
	b, err := st.Recorder.One("aws:s3/bucketV2:BucketV2", "account-state")
	require.NoError(t, err)
	assert.Equal(t, "pulsar-fleet-state", b.Inputs["bucket"], "the backend gitops renders by default")
}

// Pulumi.yaml declares exactly the keys Parse reads.
func TestProjectFileDeclaresKeys(t *testing.T) {
	b, err := os.ReadFile("../Pulumi.yaml")
	require.NoError(t, err)
	assert.Contains(t, string(b), "name: "+Project+"\n")
	var declared []string
	for _, line := range strings.Split(string(b), "\n") {
		if k, ok := strings.CutPrefix(strings.TrimSuffix(strings.TrimSpace(line), ":"), Project+":"); ok {
			declared = append(declared, k)
		}
	}
	var want []string
	for _, k := range Keys {
		want = append(want, k.Name)
	}
	assert.Equal(t, want, declared)
}

func TestParseRefusesBadConfig(t *testing.T) {
	good := func() map[string]string {
		return map[string]string{"aws:region": "us-east-1", Project + ":stateBucket": "acme-pulumi-state", Project + ":githubRepository": "acme/pulsar-fleet"}
	}
	a, region, err := Parse(good())
	require.NoError(t, err)
	assert.Equal(t, "us-east-1", region)
	assert.Equal(t, "production", a.DeployEnvironment, "defaults in one place")
	assert.Equal(t, "main", a.DriftBranch)
	assert.Nil(t, a.Operator)
	for name, tc := range map[string]struct {
		key, value, want string
	}{
		"missing bucket":  {Project + ":stateBucket", "", "pulsar-fleet-bootstrap:stateBucket is missing"},
		"typo":            {Project + ":githubRepo", "x/y", "pulsar-fleet-bootstrap:githubRepo: unknown key: want one of stateBucket, githubRepository"},
		"bad repository":  {Project + ":githubRepository", "pulsar-fleet", `githubRepository "pulsar-fleet": want owner/name`},
		"operator field":  {Project + ":operator", `{"oidcProvider":"x"}`, "want {oidcProviderArn, issuer, namespace, serviceAccount}"},
		"operator values": {Project + ":operator", `{"oidcProviderArn":"x","issuer":"i","namespace":"n","serviceAccount":"s"}`, "operator.oidcProviderArn"},
		"no region":       {"aws:region", "", "aws:region is missing"},
	} {
		raw := good()
		raw[tc.key] = tc.value
		_, _, err := Parse(raw)
		assert.ErrorContains(t, err, tc.want, name)
	}
}

// A bad stack file stops the offline preview before anything runs.
func TestBadStackFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Pulumi.admin.yaml")
	require.NoError(t, os.WriteFile(path, []byte("config:\n  aws:region: us-east-1\n  pulsar-fleet-bootstrap:githubRepository: acme/x\n"), 0o600))
	_, err := PreviewOffline(path)
	assert.ErrorContains(t, err, "stateBucket is missing")
}
