package program

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/account"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
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
		"fleetCa field":   {Project + ":fleetCa", `{"generation": 2, "step": "trust"}`, `unknown field "step": want {generation, stage}`},
		"fleetCa stage":   {Project + ":fleetCa", `{"generation": 2, "stage": "rotate"}`, `fleetCa.stage "rotate": want steady, trust or sign`},
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

// The program reads the fleet CA setting it last ran (its own output,
// through a stack reference to itself) and refuses one more than a stage
// away, before it registers anything; a stack deployed before the output
// runs the first CA.
func TestFleetCAGuard(t *testing.T) {
	raw := map[string]string{"aws:region": "us-east-1", Project + ":stateBucket": "acme-pulumi-state", Project + ":githubRepository": "acme/pulsar-fleet"}
	for _, tc := range []struct {
		name     string
		deployed any // the stack's last fleetCa output; nil: none
		setting  string
		want     string // "" allowed
	}{
		{"first run", nil, "", ""},
		{"deployed before the output, a rotation starts", nil, `{"generation": 2, "stage": "trust"}`, ""},
		{"deployed before the output, straight to the second CA", nil, `{"generation": 2}`, "the next step of a rotation is {generation: 2, stage: trust}"},
		{"trust, then sign", map[string]any{"generation": 2, "stage": "trust"}, `{"generation": 2, "stage": "sign"}`, ""},
		{"trust, then retire the old", map[string]any{"generation": 2, "stage": "trust"}, `{"generation": 2}`, "the bootstrap runs {generation: 2, stage: trust}"},
		{"sign, then back to the first", map[string]any{"generation": 2, "stage": "sign"}, "", "{generation: 2, stage: steady}"},
		{"sign, then the second alone", map[string]any{"generation": 2, "stage": "sign"}, `{"generation": 2}`, ""},
		{"an output it cannot read", map[string]any{"stage": "sign"}, `{"generation": 2}`, "is not {generation, stage}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := maps.Clone(raw)
			if tc.setting != "" {
				cfg[Project+":fleetCa"] = tc.setting
			}
			rec := recorder.New("us-east-1")
			if tc.deployed != nil {
				rec.StackOutputs["admin"][account.OutputFleetCA] = tc.deployed
			}
			err := rec.Run(Project, "admin", cfg, nil, func(ctx *pulumi.Context) error { return run(ctx, false) })
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "bootstrap stack organization/"+Project+"/admin")
			for _, r := range rec.Resources() {
				assert.True(t, r.Read, "%s %s: nothing is created before the guard", r.Type, r.Name)
			}
		})
	}
}
