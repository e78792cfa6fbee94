package tests

// The engine tier: the fleet driver against the real Pulumi engine (the CLI
// built from the Go module proxy by internal/tooling) on a file:// backend in
// a temporary directory, over test programs that need no provider plugin.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/bootstrap/program"
	"github.com/pulsar-fleet/pulsar-fleet/components/account"
	"github.com/pulsar-fleet/pulsar-fleet/internal/tooling"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

const testProject = "enginetest"

func pulumiBin(t *testing.T) string {
	t.Helper()
	start := time.Now()
	bin, err := tooling.Pulumi.Path(root)
	require.NoError(t, err, "build the Pulumi CLI from tools/pulumi")
	t.Logf("pulumi CLI ready in %s: %s", time.Since(start).Round(time.Millisecond), bin)
	return bin
}

// tracer records when each stack's program ran.
type tracer struct {
	mu     sync.Mutex
	starts map[string]time.Time
	ends   map[string]time.Time
}

func newTracer() *tracer {
	return &tracer{starts: map[string]time.Time{}, ends: map[string]time.Time{}}
}

func (tr *tracer) span(stack string, f func()) {
	tr.mu.Lock()
	tr.starts[stack] = time.Now()
	tr.mu.Unlock()
	f()
	tr.mu.Lock()
	tr.ends[stack] = time.Now()
	tr.mu.Unlock()
}

// fleetProgram is one inline program for every test stack: "west" and "dr"
// export a bucket ARN; "east" reads both through StackReferences (like the
// primary reads its peers' buckets); "broken" fails; "after-broken" reads
// "broken"; "alone" depends on nothing.
func fleetProgram(tr *tracer, pause time.Duration) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		var err error
		tr.span(ctx.Stack(), func() {
			time.Sleep(pause)
			switch ctx.Stack() {
			case "west", "dr", "alone":
				ctx.Export("offloadBucketArn", pulumi.String("arn:aws:s3:::"+ctx.Stack()+"-offload"))
			case "east":
				var arns pulumi.StringArray
				for _, peer := range []string{"dr", "west"} {
					ref, e := pulumi.NewStackReference(ctx, fmt.Sprintf("organization/%s/%s", testProject, peer), nil)
					if e != nil {
						err = e
						return
					}
					arns = append(arns, ref.GetStringOutput(pulumi.String("offloadBucketArn")))
				}
				ctx.Export("replicationDestinations", arns)
			case "broken":
				err = fmt.Errorf("deliberate failure in stack %s", ctx.Stack())
			case "after-broken":
				ctx.Export("never", pulumi.String("should not run"))
			}
		})
		return err
	}
}

func graph(t *testing.T, reads map[string][]string) *stacks.Graph {
	t.Helper()
	var f stacks.Fleet
	for s, r := range reads {
		f.Stacks = append(f.Stacks, stacks.StackConfig{Stack: s, Peers: r})
	}
	g, err := stacks.NewGraph(f)
	require.NoError(t, err)
	return g
}

func driver(t *testing.T, bin string, g *stacks.Graph, prog pulumi.RunFunc, out *bytes.Buffer) *stacks.Driver {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: "+testProject+"\nruntime: go\n"), 0o600))
	return &stacks.Driver{WorkDir: dir, Program: prog, Project: testProject, Graph: g, PulumiBin: bin, Parallel: 3,
		BackendURL: "file://" + filepath.Join(dir, "state"), Out: out,
		Env: map[string]string{stacks.PassphraseEnv: "engine-test-passphrase"}}
}

func TestEngineOrderParallelismAndStackReferences(t *testing.T) {
	bin := pulumiBin(t)
	tr := newTracer()
	var out bytes.Buffer
	d := driver(t, bin, graph(t, map[string][]string{"east": {"west", "dr"}, "west": nil, "dr": nil}), fleetProgram(tr, 2*time.Second), &out)
	require.NoError(t, os.MkdirAll(strings.TrimPrefix(d.BackendURL, "file://"), 0o700))
	ctx := context.Background()

	start := time.Now()
	sum, err := d.Run(ctx, stacks.OpUp)
	require.NoError(t, err, out.String())
	t.Logf("up of 3 stacks: %s", time.Since(start).Round(time.Millisecond))
	require.Len(t, sum, 3)
	// Dependencies first: east starts after both peers finished.
	require.True(t, tr.starts["east"].After(tr.ends["west"]) && tr.starts["east"].After(tr.ends["dr"]), "east ran before its prerequisites finished")
	// Independent stacks in parallel: west and dr overlap.
	require.True(t, tr.starts["west"].Before(tr.ends["dr"]) && tr.starts["dr"].Before(tr.ends["west"]), "west and dr did not run in parallel")
	// The StackReference wiring: east read both peers' exports.
	east, _ := sum.Get("east")
	require.Equal(t, []any{"arn:aws:s3:::dr-offload", "arn:aws:s3:::west-offload"}, east.Outputs["replicationDestinations"])
	// Progress is streamed with a per-stack prefix.
	require.Contains(t, out.String(), "[west] ")
	require.Contains(t, out.String(), "[east] ")

	// Preview: nothing changes now.
	sum, err = d.Run(ctx, stacks.OpPreview)
	require.NoError(t, err, out.String())
	for _, r := range sum {
		require.Zero(t, r.Changes["create"]+r.Changes["update"]+r.Changes["delete"], "%s: %v", r.Stack, r.Changes)
	}

	// Destroy runs in reverse order: east first.
	sum, err = d.Run(ctx, stacks.OpDestroy)
	require.NoError(t, err, out.String())
	e, _ := sum.Get("east")
	w, _ := sum.Get("west")
	dr, _ := sum.Get("dr")
	require.True(t, !e.Finished.After(w.Started) && !e.Finished.After(dr.Started), "destroy removed a prerequisite before its dependent")
	var summary bytes.Buffer
	sum.Print(&summary)
	t.Log(summary.String())
}

func TestEngineFailureStopsDependents(t *testing.T) {
	bin := pulumiBin(t)
	tr := newTracer()
	var out bytes.Buffer
	d := driver(t, bin, graph(t, map[string][]string{"broken": nil, "after-broken": {"broken"}, "alone": nil}), fleetProgram(tr, 0), &out)
	sum, err := d.Run(context.Background(), stacks.OpUp)
	require.Error(t, err)
	require.Contains(t, err.Error(), "stack broken:")
	require.Contains(t, err.Error(), "deliberate failure in stack broken")
	after, _ := sum.Get("after-broken")
	require.True(t, after.Skipped, "a dependent must not start after its prerequisite failed")
	_, ran := tr.starts["after-broken"]
	require.False(t, ran)
	alone, _ := sum.Get("alone")
	require.NoError(t, alone.Err, "an independent stack still runs")
	require.True(t, sum.Failed())
	// The summary keeps each run's error text and duration.
	broken, _ := sum.Get("broken")
	require.Contains(t, broken.Error, "deliberate failure in stack broken")
	require.Positive(t, broken.Duration, "broken")
	require.Positive(t, alone.Duration, "alone")
	require.False(t, alone.Finished.IsZero())
	var printed bytes.Buffer
	sum.Print(&printed)
	require.Regexp(t, `broken +up( +\d+){4} +[0-9][0-9a-z.]* +FAILED: `, printed.String(), "the failed stack's line has its duration and result")
}

func TestEngineRefusesBadRunsBeforeTouchingAnything(t *testing.T) {
	bin := pulumiBin(t)
	// A cycle in the repository's own stack files.
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(root, "Pulumi*.yaml"))
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		if strings.HasSuffix(f, "Pulumi.us-west-2.yaml") {
			cyclic := strings.Replace(string(b), "pulsar-fleet:peers:\n    - eu-west-1", "pulsar-fleet:peers:\n    - eu-west-1\n    - us-east-1", 1)
			require.NotEqual(t, string(b), cyclic, "the secondary's peers are where the test expects them")
			b = []byte(cyclic)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o600))
	}
	d := &stacks.Driver{WorkDir: dir, PulumiBin: bin, Env: map[string]string{stacks.PassphraseEnv: "x"}}
	_, err = d.Run(context.Background(), stacks.OpUp)
	require.Error(t, err)
	require.Contains(t, err.Error(), "cycle: us-east-1 reads us-west-2 reads us-east-1")
	_, statErr := os.Stat(filepath.Join(dir, ".pulumi-state"))
	require.True(t, os.IsNotExist(statErr), "nothing is created when the graph has a cycle")

	g := graph(t, map[string][]string{"east": {"west", "dr"}, "west": nil, "dr": nil})
	var out bytes.Buffer
	// Missing passphrase.
	d2 := driver(t, bin, g, fleetProgram(newTracer(), 0), &out)
	d2.Env = nil
	t.Setenv(stacks.PassphraseEnv, "")
	t.Setenv(stacks.PassphraseFileEnv, "")
	_, err = d2.Run(context.Background(), stacks.OpUp)
	require.ErrorContains(t, err, "no passphrase")
	entries, _ := os.ReadDir(strings.TrimPrefix(d2.BackendURL, "file://"))
	require.Empty(t, entries, "nothing deployed without a passphrase")
	// Unknown stack.
	d3 := driver(t, bin, g, fleetProgram(newTracer(), 0), &out)
	d3.Stacks = []string{"mars"}
	_, err = d3.Run(context.Background(), stacks.OpUp)
	require.ErrorContains(t, err, `unknown stack "mars"`)
	// A subset that omits a prerequisite is refused, unless asked.
	d3.Stacks = []string{"east"}
	_, _, _, err = d3.Plan(stacks.OpUp)
	require.ErrorContains(t, err, "omits dr (prerequisite of east), west (prerequisite of east)")
	d3.IncludePrerequisites = true
	order, _, _, err := d3.Plan(stacks.OpUp)
	require.NoError(t, err)
	require.Equal(t, []string{"dr", "west", "east"}, order)
	d3.IncludePrerequisites, d3.AllowPartial = false, true
	order, _, warnings, err := d3.Plan(stacks.OpUp)
	require.NoError(t, err)
	require.Equal(t, []string{"east"}, order)
	require.NotEmpty(t, warnings)
	// Destroying a prerequisite alone would strand its dependent.
	d3.AllowPartial, d3.Stacks = false, []string{"west"}
	_, _, _, err = d3.Plan(stacks.OpDestroy)
	require.ErrorContains(t, err, "east (dependent of west)")
	order, _, _, err = (&stacks.Driver{Graph: g}).Plan(stacks.OpDestroy)
	require.NoError(t, err)
	require.Equal(t, "east", order[0])
	sort.Strings(order[1:])
	require.Equal(t, []string{"east", "dr", "west"}, order)
}

// The driver's default path: the project runs from its directory through
// the Go language host, reading the same Pulumi.<stack>.yaml files as the
// CLI, and the primary reads its peer's output through a StackReference.
func TestEngineLocalSourceSharesStackFiles(t *testing.T) {
	bin := pulumiBin(t)
	host, err := tooling.LanguageHost.Path(root)
	require.NoError(t, err)
	dir := t.TempDir()
	for _, f := range []string{"Pulumi.yaml", "Pulumi.peer.yaml", "Pulumi.primary.yaml", "main.go", "go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join("testdata", "localproject", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o600))
	}
	var out bytes.Buffer
	d := &stacks.Driver{WorkDir: dir, Graph: graph(t, map[string][]string{"primary": {"peer"}, "peer": nil}), PulumiBin: bin,
		BackendURL: "file://" + filepath.Join(dir, "state"), Out: &out,
		Env: map[string]string{stacks.PassphraseEnv: "engine-test-passphrase", "PATH": filepath.Dir(host) + string(os.PathListSeparator) + os.Getenv("PATH")}}
	start := time.Now()
	sum, err := d.Run(context.Background(), stacks.OpUp)
	require.NoError(t, err, out.String())
	t.Logf("local-source up of 2 stacks: %s", time.Since(start).Round(time.Millisecond))
	primary, _ := sum.Get("primary")
	require.Equal(t, "arn:aws:s3:::peer-offload", primary.Outputs["replicatesTo"], "config from Pulumi.peer.yaml, read through a StackReference")
	peer, _ := sum.Get("peer")
	require.True(t, peer.Finished.Before(primary.Started) || peer.Finished.Equal(primary.Started))
	_, err = d.Run(context.Background(), stacks.OpDestroy)
	require.NoError(t, err, out.String())
}

// The driver asks its guard with the stack's deployed outputs before an
// `up`: nothing on the first run, the exported phase on the next, and a
// refusal stops the stack before the engine runs its program.
func TestEngineGuardReadsTheDeployedPhase(t *testing.T) {
	bin := pulumiBin(t)
	var out bytes.Buffer
	runs := 0
	prog := func(ctx *pulumi.Context) error {
		runs++
		ctx.Export("phase", pulumi.String("100k"))
		return nil
	}
	d := driver(t, bin, graph(t, map[string][]string{"alone": nil}), prog, &out)
	var seen []any
	d.Guard = func(stack string, deployed map[string]any) error {
		seen = append(seen, deployed["phase"])
		if deployed["phase"] == "100k" {
			return fmt.Errorf("stack %s: a direct change from phase 100k to 1m is refused", stack)
		}
		return nil
	}
	_, err := d.Run(context.Background(), stacks.OpUp)
	require.NoError(t, err, out.String())
	require.Equal(t, 1, runs)
	_, err = d.Run(context.Background(), stacks.OpUp)
	require.ErrorContains(t, err, "a direct change from phase 100k to 1m is refused")
	require.Equal(t, 1, runs, "a refused stack's program never runs")
	require.Equal(t, []any{nil, "100k"}, seen)
}

// The driver reads the bootstrap stack's fleet key fingerprint from its
// own backend, as the guard needs it before an `up`: nothing before the
// bootstrap stack exists, its output once it does.
func TestEngineReadsTheFleetKey(t *testing.T) {
	bin := pulumiBin(t)
	var out bytes.Buffer
	d := driver(t, bin, graph(t, map[string][]string{"alone": nil}), func(*pulumi.Context) error { return nil }, &out)
	fp, err := d.FleetKey(context.Background())()
	require.NoError(t, err, out.String())
	require.Empty(t, fp, "no bootstrap stack yet")

	const want = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	boot := *d
	boot.WorkDir = t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(boot.WorkDir, "Pulumi.yaml"), []byte("name: "+model.BootstrapProject+"\nruntime: go\n"), 0o600))
	boot.Project, boot.Graph = model.BootstrapProject, graph(t, map[string][]string{model.BootstrapStack: nil})
	boot.Program = func(ctx *pulumi.Context) error {
		ctx.Export(model.OutputFleetTokenKey, pulumi.ToSecret(pulumi.String("the key itself, a secret")))
		ctx.Export(model.OutputFleetTokenKeyFingerprint, pulumi.String(want))
		return nil
	}
	_, err = boot.Run(context.Background(), stacks.OpUp)
	require.NoError(t, err, out.String())
	fp, err = d.FleetKey(context.Background())()
	require.NoError(t, err, out.String())
	require.Equal(t, want, fp, "read from the region driver's backend")
}

// A stack reads its own last outputs through a stack reference to
// itself: nothing on its first `up`, then each `up` what the one before
// exported. The program's guard rests on this (stacks.NewProgram).
func TestEngineStackReadsItsOwnOutputs(t *testing.T) {
	bin := pulumiBin(t)
	var out bytes.Buffer
	prog := func(ctx *pulumi.Context) error {
		ref, err := pulumi.NewStackReference(ctx, "organization/"+testProject+"/"+ctx.Stack(), nil)
		if err != nil {
			return err
		}
		ctx.Export("previous", ref.GetOutput(pulumi.String("count")))
		ctx.Export("count", ref.GetOutput(pulumi.String("count")).ApplyT(func(v any) int {
			n, _ := v.(float64)
			return int(n) + 1
		}))
		return nil
	}
	d := driver(t, bin, graph(t, map[string][]string{"alone": nil}), prog, &out)
	for want := 1; want <= 3; want++ {
		s, err := d.Run(context.Background(), stacks.OpUp)
		require.NoError(t, err, out.String())
		r, _ := s.Get("alone")
		require.EqualValues(t, want, r.Outputs["count"], "up %d", want)
		if want == 1 {
			require.Nil(t, r.Outputs["previous"], "nothing before the first up")
		} else {
			require.EqualValues(t, want-1, r.Outputs["previous"], "up %d reads what up %d exported", want, want-1)
		}
	}
}

// Removing a join: east read (and joined) west, and no longer does. The
// driver reads east's deployed joins and runs east's `up` (which deletes
// the peering attachment) before west's (which may then delete its
// gateway), though the fleet's graph no longer orders them; an up or a
// destroy of west alone is refused before anything runs.
func TestEngineOrdersJoinRemovals(t *testing.T) {
	bin := pulumiBin(t)
	tr := newTracer()
	var out bytes.Buffer
	reads := map[string][]string{"east": {"west"}, "west": nil}
	prog := func(ctx *pulumi.Context) error {
		tr.span(ctx.Stack(), func() {
			time.Sleep(2 * time.Second)
			if joins := reads[ctx.Stack()]; len(joins) > 0 {
				ctx.Export(regions.OutputJoins, pulumi.ToStringArray(joins))
			}
		})
		return nil
	}
	d := driver(t, bin, graph(t, reads), prog, &out)
	ctx := context.Background()
	_, err := d.Run(ctx, stacks.OpUp)
	require.NoError(t, err, out.String())

	reads["east"] = nil
	d.Graph = graph(t, reads)
	d.Stacks = []string{"west"}
	tr.starts, tr.ends = map[string]time.Time{}, map[string]time.Time{}
	_, err = d.Run(ctx, stacks.OpUp)
	require.ErrorContains(t, err, "stack west: east left its join (it no longer reads west) but is not in this run")
	require.Empty(t, tr.starts, "nothing ran")
	_, err = d.Run(ctx, stacks.OpDestroy)
	require.ErrorContains(t, err, "stack west: east's deployed state still holds a peering attachment to its transit gateway, and east is not in this run")
	require.Empty(t, tr.starts, "nothing ran")

	d.Stacks = nil
	_, err = d.Run(ctx, stacks.OpUp)
	require.NoError(t, err, out.String())
	require.Contains(t, tr.starts, "west")
	require.False(t, tr.starts["west"].Before(tr.ends["east"]), "west's up starts after east's ends: east %s-%s, west from %s",
		tr.starts["east"], tr.ends["east"], tr.starts["west"])

	// Now east's deployed state holds no join: nothing orders them.
	out.Reset()
	_, err = d.Run(ctx, stacks.OpUp)
	require.NoError(t, err, out.String())
}

// The fleet CA guard on the real engine: the bootstrap stack reads its own
// last setting and, on a move, every listed region stack of the region
// project in the same backend (a stack reference across projects, whose
// numbers come back as the engine stores them). A move waits for every
// region to have applied the bootstrap's stage; a listed stack that does
// not exist stops it (the engine's "unknown stack"), and the failed `up`
// keeps the bootstrap's last setting; a region behind is named.
func TestEngineFleetCAGuardReadsTheRegions(t *testing.T) {
	bin := pulumiBin(t)
	var out bytes.Buffer
	applied := map[string]model.FleetCA{}
	regionProg := func(ctx *pulumi.Context) error {
		ctx.Export(model.OutputFleetCAApplied, pulumi.ToMap(applied[ctx.Stack()].Map()))
		return nil
	}
	regions := driver(t, bin, graph(t, map[string][]string{"r1": nil}), regionProg, &out)
	regions.Project = stacks.Project
	require.NoError(t, os.WriteFile(filepath.Join(regions.WorkDir, "Pulumi.yaml"), []byte("name: "+stacks.Project+"\nruntime: go\n"), 0o600))
	both := *regions
	both.Graph = graph(t, map[string][]string{"r1": nil, "r2": nil})

	var setting model.FleetCA
	boot := *regions
	boot.WorkDir = t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(boot.WorkDir, "Pulumi.yaml"), []byte("name: "+model.BootstrapProject+"\nruntime: go\n"), 0o600))
	boot.Project, boot.Graph = model.BootstrapProject, graph(t, map[string][]string{model.BootstrapStack: nil})
	boot.Program = func(ctx *pulumi.Context) error {
		self := ctx.Organization() + "/" + ctx.Project() + "/" + ctx.Stack()
		settings := program.Settings{Account: account.Args{FleetCA: setting}, RegionStacks: []string{"r1", "r2"}, RegionStacksSet: true}
		if err := program.GuardFleetCA(ctx, self, settings); err != nil {
			return err
		}
		ctx.Export(model.OutputFleetCA, pulumi.ToMap(setting.Map()))
		return nil
	}
	up := func(d *stacks.Driver) error {
		_, err := d.Run(context.Background(), stacks.OpUp)
		return err
	}
	trust := model.FleetCA{Generation: 2, Stage: model.CATrust}
	sign := model.FleetCA{Generation: 2, Stage: model.CASign}

	require.NoError(t, up(regions), out.String())
	require.NoError(t, up(&boot), "no move: the regions are not read\n%s", out.String())

	var seen map[string]any
	boot.Guard = func(_ string, deployed map[string]any) error { seen = deployed; return nil }
	setting = trust
	err := up(&boot)
	require.ErrorContains(t, err, `unknown stack "organization/pulsar-fleet/r2"`, "r2 does not exist yet")
	setting = model.FleetCA{}
	require.NoError(t, up(&boot), "steady again: no move\n%s", out.String())
	kept, err := model.ParseFleetCA(seen[model.OutputFleetCA])
	require.NoError(t, err, "a failed up keeps the stack's last outputs, which the guard reads")
	require.Equal(t, model.FleetCA{Generation: 1, Stage: model.CASteady}, kept)
	setting = trust
	require.NoError(t, up(&both), out.String())
	require.NoError(t, up(&boot), "both regions applied the first CA\n%s", out.String())

	setting = sign
	applied["r1"] = trust
	require.NoError(t, up(regions), out.String())
	err = up(&boot)
	require.ErrorContains(t, err, "organization/pulsar-fleet/r2 (applied {generation: 1, stage: steady}: run its `up`)")
	require.NotContains(t, err.Error(), "pulsar-fleet/r1 (")
	applied["r2"] = trust
	require.NoError(t, up(&both), out.String())
	require.NoError(t, up(&boot), "both regions applied trust\n%s", out.String())
}

// The premise of regions.RecordedOutputs, on the real engine: an `up`
// that targets one resource leaves the others as they were, yet saves the
// outputs the program computes from its configuration. If the engine ever
// stops saving them, this fails and the docs' "What the outputs report"
// needs another look.
func TestEngineTargetedUpStillSavesOutputs(t *testing.T) {
	bin := pulumiBin(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: "+testProject+"\nruntime: go\n"), 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "state"), 0o700))
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: filepath.Dir(filepath.Dir(bin))})
	require.NoError(t, err)
	type part struct{ pulumi.ResourceState }
	prog := func(ctx *pulumi.Context) error {
		step, _ := ctx.GetConfig(testProject + ":step")
		var applied, other part
		// The resource a step changes (its name carries the step) and one
		// it does not.
		if err := ctx.RegisterComponentResource("test:index:Part", "applied-"+step, &applied); err != nil {
			return err
		}
		if err := ctx.RegisterComponentResource("test:index:Part", "other", &other); err != nil {
			return err
		}
		ctx.Export("step", pulumi.String(step))
		return nil
	}
	ctx := context.Background()
	st, err := auto.UpsertStackInlineSource(ctx, "targeted", testProject, prog, auto.WorkDir(dir), auto.Pulumi(cmd),
		auto.EnvVars(map[string]string{"PULUMI_BACKEND_URL": "file://" + filepath.Join(dir, "state"), stacks.PassphraseEnv: "engine-test-passphrase"}))
	require.NoError(t, err)
	up := func(step string, opts ...optup.Option) {
		t.Helper()
		require.NoError(t, st.SetConfig(ctx, "step", auto.ConfigValue{Value: step}))
		_, err := st.Up(ctx, opts...)
		require.NoError(t, err)
	}
	up("1")
	up("2", optup.Target([]string{"urn:pulumi:targeted::" + testProject + "::test:index:Part::other"}))
	out, err := st.Outputs(ctx)
	require.NoError(t, err)
	assert.Equal(t, "2", out["step"].Value, "the targeted up saved the output of step 2")
	dep, err := st.Export(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(dep.Deployment), "test:index:Part::applied-1", "step 1's resource is still there")
	assert.NotContains(t, string(dep.Deployment), "test:index:Part::applied-2", "step 2's resource was never created")
}
