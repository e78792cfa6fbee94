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
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
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
	set, err := Parse(good())
	require.NoError(t, err)
	a := set.Account
	assert.Equal(t, "us-east-1", set.Region)
	assert.Empty(t, set.RegionStacks)
	assert.Equal(t, "production", a.DeployEnvironment, "defaults in one place")
	assert.Equal(t, "main", a.DriftBranch)
	assert.Nil(t, a.Operator)
	for name, tc := range map[string]struct {
		key, value, want string
	}{
		"missing bucket":           {Project + ":stateBucket", "", "pulsar-fleet-bootstrap:stateBucket is missing"},
		"typo":                     {Project + ":githubRepo", "x/y", "pulsar-fleet-bootstrap:githubRepo: unknown key: want one of stateBucket, githubRepository"},
		"bad repository":           {Project + ":githubRepository", "pulsar-fleet", `githubRepository "pulsar-fleet": want owner/name`},
		"operator field":           {Project + ":operator", `{"oidcProvider":"x"}`, "want {oidcProviderArn, issuer, namespace, serviceAccount}"},
		"operator values":          {Project + ":operator", `{"oidcProviderArn":"x","issuer":"i","namespace":"n","serviceAccount":"s"}`, "operator.oidcProviderArn"},
		"no region":                {"aws:region", "", "aws:region is missing"},
		"fleetCa field":            {Project + ":fleetCa", `{"generation": 2, "step": "trust"}`, `unknown field "step": want {generation, stage}`},
		"fleetCa stage":            {Project + ":fleetCa", `{"generation": 2, "stage": "rotate"}`, `fleetCa.stage "rotate": want steady, trust or sign`},
		"regionStacks not a list":  {Project + ":regionStacks", `us-east-1`, "regionStacks: invalid character"},
		"regionStacks a full name": {Project + ":regionStacks", `["acme/pulsar-fleet/us-east-1"]`, `"acme/pulsar-fleet/us-east-1": want each a distinct stack name of the pulsar-fleet project`},
		"regionStacks twice":       {Project + ":regionStacks", `["us-east-1", "us-east-1"]`, `"us-east-1": want each a distinct`},
		"namespace typo":           {"pulsar-fleet-bootstap:driftBranch", "release", "pulsar-fleet-bootstap:driftBranch: unknown namespace: did you mean pulsar-fleet-bootstrap:driftBranch? want a key of pulsar-fleet-bootstrap or a provider's (aws, tls, pulumi)"},
		"a region stack's key":     {"pulsar-fleet:phase", "1m", "pulsar-fleet:phase: unknown namespace: want a key of pulsar-fleet-bootstrap"},
	} {
		raw := good()
		raw[tc.key] = tc.value
		_, err := Parse(raw)
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
// runs the first CA. A move waits for every listed region stack to have
// applied the stage the bootstrap runs.
func TestFleetCAGuard(t *testing.T) {
	raw := map[string]string{"aws:region": "us-east-1", Project + ":stateBucket": "acme-pulumi-state", Project + ":githubRepository": "acme/pulsar-fleet",
		Project + ":regionStacks": `["us-east-1", "us-west-2"]`}
	steady1 := map[string]any{"generation": float64(1), "stage": "steady"}
	trust2 := map[string]any{"generation": float64(2), "stage": "trust"}
	sign2 := map[string]any{"generation": float64(2), "stage": "sign"}
	applied := func(v any) map[string]any { return map[string]any{model.OutputFleetCAApplied: v, "phase": "1m"} }
	both := func(v any) map[string]map[string]any {
		return map[string]map[string]any{"us-east-1": applied(v), "us-west-2": applied(v)}
	}
	for _, tc := range []struct {
		name     string
		deployed any // the stack's last fleetCa output; nil: none
		setting  string
		regions  map[string]map[string]any // the region stacks' outputs
		noList   bool                      // regionStacks not set
		want     string                    // "" allowed
	}{
		{"first run", nil, "", nil, false, ""},
		{"first run, no regions listed", nil, "", nil, true, ""},
		{"deployed before the output, a rotation starts", nil, `{"generation": 2, "stage": "trust"}`, both(steady1), false, ""},
		{"deployed before the output, straight to the second CA", nil, `{"generation": 2}`, both(steady1), false, "the next step of a rotation is {generation: 2, stage: trust}"},
		{"trust, then sign", trust2, `{"generation": 2, "stage": "sign"}`, both(trust2), false, ""},
		{"trust, then sign, a region never deployed", trust2, `{"generation": 2, "stage": "sign"}`, map[string]map[string]any{"us-east-1": applied(trust2), "us-west-2": {}}, false, ""},
		{"trust, then sign, one region skipped", trust2, `{"generation": 2, "stage": "sign"}`,
			map[string]map[string]any{"us-east-1": applied(trust2), "us-west-2": applied(steady1)}, false,
			"organization/pulsar-fleet/us-west-2 (applied {generation: 1, stage: steady}: run its `up`)"},
		{"a rotation starts, a region deployed before the report", nil, `{"generation": 2, "stage": "trust"}`,
			map[string]map[string]any{"us-east-1": applied(steady1), "us-west-2": {"phase": "1m"}}, false,
			"organization/pulsar-fleet/us-west-2 (deployed before it reported the fleet CA: run its `up` with this version)"},
		{"a region's report it cannot read", trust2, `{"generation": 2, "stage": "sign"}`,
			map[string]map[string]any{"us-east-1": applied("trust")}, false, "its fleetCaApplied output trust is not {generation, stage}"},
		{"a rotation with no regions listed", nil, `{"generation": 2, "stage": "trust"}`, nil, true, "needs pulsar-fleet-bootstrap:regionStacks"},
		{"a rotation in an account without regions", nil, `{"generation": 2, "stage": "trust"}`, nil, false, ""},
		{"trust, then retire the old", trust2, `{"generation": 2}`, both(trust2), false, "the bootstrap runs {generation: 2, stage: trust}"},
		{"sign, then back to the first", sign2, "", both(sign2), false, "{generation: 2, stage: steady}"},
		{"sign, then the second alone", sign2, `{"generation": 2}`, both(sign2), false, ""},
		{"sign, then the second alone, a region skipped", sign2, `{"generation": 2}`,
			map[string]map[string]any{"us-east-1": applied(sign2), "us-west-2": applied(trust2)}, false, "us-west-2 (applied {generation: 2, stage: trust}: run its `up`)"},
		{"an output it cannot read", map[string]any{"stage": "sign"}, `{"generation": 2}`, nil, false, "is not {generation, stage}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := maps.Clone(raw)
			if tc.noList {
				delete(cfg, Project+":regionStacks")
			}
			if tc.regions == nil && !tc.noList {
				cfg[Project+":regionStacks"] = "[]"
			}
			if tc.setting != "" {
				cfg[Project+":fleetCa"] = tc.setting
			}
			rec := recorder.New("us-east-1")
			if tc.deployed != nil {
				rec.StackOutputs["admin"][account.OutputFleetCA] = tc.deployed
			}
			maps.Copy(rec.StackOutputs, tc.regions)
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

// Under the real engine the program reads the engine's whole config
// (PULUMI_CONFIG), so a mistyped namespace, which the SDK cannot list, is
// refused before anything is registered.
func TestEngineConfigTypoRefused(t *testing.T) {
	raw := map[string]string{"aws:region": "us-east-1", Project + ":stateBucket": "acme-pulumi-state", Project + ":githubRepository": "acme/pulsar-fleet"}
	t.Setenv("PULUMI_CONFIG", `{"aws:region":"us-east-1","pulsar-fleet-bootstap:driftBranch":"release"}`)
	rec := recorder.New("us-east-1")
	err := rec.Run(Project, "admin", raw, nil, func(ctx *pulumi.Context) error { return run(ctx, true) })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pulsar-fleet-bootstap:driftBranch: unknown namespace: did you mean pulsar-fleet-bootstrap:driftBranch?")
	assert.Empty(t, rec.Resources())
}

// The committed bootstrap lists every committed region stack, so that a
// rotation waits for each: a region left out would not be waited for.
func TestCommittedRegionStacksAreTheFleet(t *testing.T) {
	sf, err := stacks.ReadStackFile("../Pulumi.admin.yaml")
	require.NoError(t, err)
	settings, err := Parse(sf.Raw)
	require.NoError(t, err)
	require.True(t, settings.RegionStacksSet)
	fleet, _, err := stacks.LoadFleet("../..")
	require.NoError(t, err)
	assert.ElementsMatch(t, fleet.Names(), settings.RegionStacks)
}
