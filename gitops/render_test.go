package gitops

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/pulsar-fleet/pulsar-fleet/internal/crdschema"
	"github.com/pulsar-fleet/pulsar-fleet/internal/reference"
	"github.com/pulsar-fleet/pulsar-fleet/internal/tooling"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

const root = ".."

func repoFleet(t *testing.T) stacks.Fleet {
	t.Helper()
	f, _, err := stacks.LoadFleet(root)
	require.NoError(t, err)
	return f
}

// The committed manifests and workflows are what render-gitops produces
// from the committed stack files.
func TestCommittedFilesAreCurrent(t *testing.T) {
	files, err := Render(repoFleet(t), DefaultOptions())
	require.NoError(t, err)
	stale, extra, err := Diff(root, files)
	require.NoError(t, err)
	assert.Empty(t, stale, "stale generated files: run 'go run ./cmd/pulsar-fleet render-gitops'")
	assert.Empty(t, extra, "generated files no stack renders any more")
}

// Prerequisites are the stack graph's edges, and every Stack passes the
// operator's CRD schema (strict: unknown fields are rejected).
func TestStacksFollowGraphAndCRD(t *testing.T) {
	fleet := repoFleet(t)
	g, err := stacks.NewGraph(fleet)
	require.NoError(t, err)
	v, err := crdschema.Load(reference.Path(t, "crds/pulumi.com_stacks.yaml"), "v1")
	require.NoError(t, err)
	out := Stacks(g, DefaultOptions())
	require.Len(t, out, len(fleet.Stacks))
	for _, st := range out {
		stack := strings.TrimPrefix(st.Metadata.Name, stacks.Project+"-")
		var pre []string
		for _, p := range st.Spec.Prerequisites {
			pre = append(pre, strings.TrimPrefix(p.Name, stacks.Project+"-"))
		}
		assert.ElementsMatch(t, g.Prerequisites(stack), pre, stack)
		assert.Equal(t, "organization/pulsar-fleet/"+stack, st.Spec.Stack)
		assert.True(t, st.Spec.Refresh, "drift must show in the next refresh")
		assert.False(t, st.Spec.DestroyOnFinalize, "deleting a Stack object must never destroy a region")

		b, err := json.Marshal(st)
		require.NoError(t, err)
		var obj map[string]any
		require.NoError(t, json.Unmarshal(b, &obj))
		assert.NoError(t, v.Validate(obj), stack)
	}
	primary := Stacks(g, DefaultOptions())
	var names []string
	for _, st := range primary {
		if st.Metadata.Name == "pulsar-fleet-us-east-1" {
			for _, p := range st.Spec.Prerequisites {
				names = append(names, p.Name)
			}
		}
	}
	assert.Equal(t, []string{"pulsar-fleet-eu-west-1", "pulsar-fleet-us-west-2"}, names, "the primary replicates into both peers' buckets")
}

// The validator catches a wrong field, so the test above can fail.
func TestCRDRejectsBrokenStack(t *testing.T) {
	v, err := crdschema.Load(reference.Path(t, "crds/pulumi.com_stacks.yaml"), "v1")
	require.NoError(t, err)
	g, err := stacks.NewGraph(repoFleet(t))
	require.NoError(t, err)
	b, err := json.Marshal(Stacks(g, DefaultOptions())[0])
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, json.Unmarshal(b, &obj))
	obj["spec"].(map[string]any)["resyncFrequency"] = 60
	assert.ErrorContains(t, v.Validate(obj), "resyncFrequency")
	delete(obj["spec"].(map[string]any), "resyncFrequency")
	obj["spec"].(map[string]any)["refresh"] = "yes"
	assert.Error(t, v.Validate(obj))
}

// No secret value is rendered: credentials are references only.
func TestNoSecretValues(t *testing.T) {
	files, err := Render(repoFleet(t), DefaultOptions())
	require.NoError(t, err)
	for path, body := range files {
		if !strings.HasPrefix(path, "gitops/stacks/") {
			continue
		}
		var obj map[string]any
		require.NoError(t, yaml.Unmarshal(body, &obj))
		spec := obj["spec"].(map[string]any)
		for _, k := range []string{"accessTokenSecret", "envSecrets", "secrets", "config", "envs"} {
			assert.NotContains(t, spec, k, path)
		}
		refs, _ := spec["envRefs"].(map[string]any) // none today; any added later must not be a literal secret
		for name, ref := range refs {
			r := ref.(map[string]any)
			if r["type"] == "Literal" {
				assert.NotRegexp(t, `(?i)token|password|secret|key`, name, "%s: literal env %s", path, name)
			}
		}
		token := spec["gitAuth"].(map[string]any)["accessToken"].(map[string]any)
		assert.Equal(t, "Secret", token["type"], "%s: the git token is a Secret reference", path)
	}
}

func TestOptionsRejected(t *testing.T) {
	for _, tc := range []struct {
		name, field string
		mutate      func(*Options)
	}{
		{"local backend", "backend", func(o *Options) { o.Backend = "file://./.pulumi-state" }},
		{"passphrase secrets", "secrets-provider", func(o *Options) { o.SecretsProvider = "passphrase" }},
		{"repo not a URL", "repo", func(o *Options) { o.Repo = "pulsar-fleet" }},
		{"bad namespace", "namespace", func(o *Options) { o.Namespace = "Pulumi_Operator" }},
		{"bad duration", "prerequisite-within", func(o *Options) { o.PrerequisiteWithin = "a day" }},
		{"resync too short", "resync-seconds", func(o *Options) { o.ResyncSeconds = 10 }},
		{"empty branch", "branch", func(o *Options) { o.Branch = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			tc.mutate(&o)
			_, err := Render(repoFleet(t), o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "gitops option "+tc.field+"=")
		})
	}
	assert.NoError(t, DefaultOptions().Validate())
}

// A smaller fleet renders fewer Stacks, and Write removes the generated
// manifest of a region that is gone while keeping hand-written files.
func TestWriteRemovesRetiredStacks(t *testing.T) {
	dir := t.TempDir()
	full, err := Render(repoFleet(t), DefaultOptions())
	require.NoError(t, err)
	_, err = Write(dir, full)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gitops/stacks/notes.yaml"), []byte("# hand-written\n"), 0o644))

	f := repoFleet(t)
	var kept []stacks.StackConfig
	for _, s := range f.Stacks {
		if s.Stack == "eu-west-1" {
			continue
		}
		s.Peers = slicesWithout(s.Peers, "eu-west-1")
		kept = append(kept, s)
	}
	smaller, err := Render(stacks.Fleet{Stacks: kept}, DefaultOptions())
	require.NoError(t, err)
	stale, extra, err := Diff(dir, smaller)
	require.NoError(t, err)
	assert.Equal(t, []string{"gitops/stacks/pulsar-fleet-eu-west-1.yaml"}, extra)
	assert.Contains(t, stale, "gitops/stacks/pulsar-fleet-us-east-1.yaml", "the primary lost a prerequisite")
	_, err = Write(dir, smaller)
	require.NoError(t, err)
	assert.NoFileExists(t, filepath.Join(dir, "gitops/stacks/pulsar-fleet-eu-west-1.yaml"))
	assert.FileExists(t, filepath.Join(dir, "gitops/stacks/notes.yaml"))
	stale, extra, err = Diff(dir, smaller)
	require.NoError(t, err)
	assert.Empty(t, stale)
	assert.Empty(t, extra)
}

func slicesWithout(xs []string, drop string) []string {
	var out []string
	for _, x := range xs {
		if x != drop {
			out = append(out, x)
		}
	}
	return out
}

// The workflows pass actionlint (built from the Go module proxy; it also
// runs shellcheck-free checks of expressions, contexts and action inputs).
func TestWorkflowsLint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds actionlint")
	}
	bin, err := tooling.Actionlint.Path(root)
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(root, ".github/workflows/*.yml"))
	require.NoError(t, err)
	require.Len(t, files, 3)
	cmd := exec.Command(bin, append([]string{"-shellcheck=", "-pyflakes="}, files...)...)
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "%s", out)

	// And it does fail on a broken workflow.
	bad := filepath.Join(t.TempDir(), "bad.yml")
	require.NoError(t, os.WriteFile(bad, []byte("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.nope }}\n"), 0o644))
	out, err = exec.Command(bin, "-shellcheck=", "-pyflakes=", bad).CombinedOutput()
	assert.Error(t, err)
	assert.Contains(t, string(out), "matrix")
}

// The pull request's guard reads what the fleet driver's reads: the
// stack's deployed outputs and the bootstrap stack's fleet key, by the
// names the programs use.
func TestPullRequestGuardReadsTheFleetKey(t *testing.T) {
	fleet, _, err := stacks.LoadFleet(root)
	require.NoError(t, err)
	g, err := stacks.NewGraph(fleet)
	require.NoError(t, err)
	pr := string(Workflows(g, "ubuntu-24.04")[".github/workflows/pull-request.yml"])
	assert.Contains(t, pr, "pulumi stack output --json --stack "+model.BootstrapRef("organization")+" | jq -r '."+model.OutputFleetTokenKeyFingerprint+` // ""'`)
	assert.NotContains(t, pr, "|| true)", "a bootstrap stack that cannot be read fails the job")
	assert.Contains(t, pr, "set -o pipefail\n          fleet_key=", "even through the pipe")
	assert.NotContains(t, pr, "--show-secrets")
	assert.Contains(t, pr, `--outputs deployed.json --fleet-key "$fleet_key"`)
	// Only a stack not created yet reads as never deployed.
	assert.NotContains(t, pr, "|| echo '{}'", "a failed read of the outputs is not a stack never deployed")
	assert.Contains(t, pr, `grep -q "no stack named" outputs.err || { cat outputs.err; exit 1; }`)
}
