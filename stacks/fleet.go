package stacks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
)

// Operation is what the driver does to each stack.
type Operation string

// The operations.
const (
	OpPreview Operation = "preview"
	OpUp      Operation = "up"
	OpRefresh Operation = "refresh"
	OpDestroy Operation = "destroy"
)

// Driver runs an operation over the fleet through the Automation API, in
// stack-graph order.
type Driver struct {
	// WorkDir is the project directory (Pulumi.yaml and Pulumi.<stack>.yaml).
	WorkDir string
	// Program runs inline instead of the project at WorkDir (embedding,
	// tests); nil runs the project through the Pulumi CLI's Go runtime, the
	// same program main.go runs.
	Program pulumi.RunFunc
	// Project names the inline program's project (default: Project).
	Project string
	// Graph is the stack graph (default: from the stack files in WorkDir).
	Graph *Graph
	// Stacks limits the run; empty means every stack.
	Stacks []string
	// IncludePrerequisites adds the prerequisites (dependents, for destroy)
	// of the chosen stacks instead of refusing a subset that omits them.
	IncludePrerequisites bool
	// AllowPartial runs a subset that omits prerequisites anyway, trusting
	// their deployed outputs (a warning is printed).
	AllowPartial bool
	// Guard, when set, is asked before each stack's preview or `up` with the
	// stack's deployed outputs; an error stops that stack (and so its
	// dependents). The CLI sets TransitionGuard.
	Guard Guard
	// Parallel bounds how many independent stacks run at once (default 3).
	Parallel int
	// BackendURL is the state backend (default PULUMI_BACKEND_URL, else a
	// file:// backend in WorkDir/.pulumi-state).
	BackendURL string
	// SecretsProvider is "passphrase" (default) or a KMS URL
	// (awskms://alias/...).
	SecretsProvider string
	// PulumiBin is the pulumi executable (default: found on PATH).
	PulumiBin string
	// Env is passed to the Pulumi CLI (added to the process environment).
	Env map[string]string
	// Out receives progress, each line prefixed with its stack.
	Out io.Writer
	// Config sets stack config before the run (inline tests), per stack.
	Config map[string]auto.ConfigMap
}

// StackResult is one stack's outcome.
type StackResult struct {
	Stack    string         `json:"stack"`
	Op       Operation      `json:"op"`
	Changes  map[string]int `json:"changes"`
	Outputs  map[string]any `json:"outputs,omitempty"`
	Duration time.Duration  `json:"duration"`
	Started  time.Time      `json:"started"`
	Finished time.Time      `json:"finished"`
	Skipped  bool           `json:"skipped,omitempty"`
	Err      error          `json:"-"`
	Error    string         `json:"error,omitempty"`
}

// Summary is every stack's outcome in order of completion.
type Summary []StackResult

// Failed reports whether any stack failed or was skipped.
func (s Summary) Failed() bool {
	for _, r := range s {
		if r.Err != nil || r.Skipped {
			return true
		}
	}
	return false
}

// Get returns a stack's result.
func (s Summary) Get(stack string) (StackResult, bool) {
	for _, r := range s {
		if r.Stack == stack {
			return r, true
		}
	}
	return StackResult{}, false
}

// Print writes the summary table.
func (s Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "\n%-12s %-8s %7s %7s %7s %9s %9s  %s\n", "STACK", "OP", "CREATE", "UPDATE", "DELETE", "UNCHANGED", "DURATION", "RESULT")
	for _, r := range s {
		result := "ok"
		switch {
		case r.Skipped:
			result = "skipped: " + r.Error
		case r.Err != nil:
			result = "FAILED: " + firstLine(r.Error)
		}
		fmt.Fprintf(w, "%-12s %-8s %7d %7d %7d %9d %9s  %s\n", r.Stack, r.Op, r.Changes["create"], r.Changes["update"],
			r.Changes["delete"], r.Changes["same"], r.Duration.Round(time.Second), result)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// PassphraseEnv and PassphraseFileEnv hold the passphrase secrets provider's
// passphrase.
const (
	PassphraseEnv     = "PULUMI_CONFIG_PASSPHRASE"
	PassphraseFileEnv = "PULUMI_CONFIG_PASSPHRASE_FILE"
)

// Plan resolves the stacks to run and their order, refusing what would
// leave the fleet inconsistent. It touches nothing.
func (d *Driver) Plan(op Operation) ([]string, *Graph, []string, error) {
	switch op {
	case OpPreview, OpUp, OpRefresh, OpDestroy:
	default:
		return nil, nil, nil, fmt.Errorf("unknown operation %q: want preview, up, refresh or destroy", op)
	}
	g := d.Graph
	if g == nil {
		fleet, _, err := LoadFleet(d.WorkDir)
		if err != nil {
			return nil, nil, nil, err
		}
		if g, err = NewGraph(fleet); err != nil {
			return nil, nil, nil, err
		}
	}
	all := g.Order()
	want := map[string]bool{}
	for _, s := range d.Stacks {
		if _, ok := g.Reads[s]; !ok {
			return nil, nil, nil, fmt.Errorf("unknown stack %q: the fleet has %s", s, strings.Join(g.sorted(), ", "))
		}
		want[s] = true
	}
	var warnings []string
	if len(d.Stacks) > 0 {
		// Up, preview and refresh need a stack's prerequisites deployed;
		// destroy must not remove a stack others still read.
		related := g.Prerequisites
		what := "prerequisite"
		if op == OpDestroy {
			related, what = g.Dependents, "dependent"
		}
		var missing []string
		for s := range want {
			for _, r := range related(s) {
				if !want[r] {
					missing = append(missing, fmt.Sprintf("%s (%s of %s)", r, what, s))
				}
			}
		}
		sort.Strings(missing)
		switch {
		case len(missing) == 0:
		case d.IncludePrerequisites:
			for s := range want {
				for _, r := range related(s) {
					want[r] = true
				}
			}
		case d.AllowPartial:
			warnings = append(warnings, "running without "+strings.Join(missing, ", ")+": their deployed state is trusted")
		default:
			return nil, nil, nil, fmt.Errorf("the subset %v omits %s; add them, pass --with-prerequisites to include them, or --allow-partial to trust their deployed state",
				d.Stacks, strings.Join(missing, ", "))
		}
	}
	var order []string
	for _, s := range all {
		if len(want) == 0 || want[s] {
			order = append(order, s)
		}
	}
	if op == OpDestroy {
		for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
			order[i], order[j] = order[j], order[i]
		}
	}
	return order, g, warnings, nil
}

// preflight checks what the CLI needs before any stack is touched.
func (d *Driver) preflight() (map[string]string, error) {
	env := map[string]string{}
	for k, v := range d.Env {
		env[k] = v
	}
	sp := d.SecretsProvider
	if sp == "" || sp == "passphrase" {
		if env[PassphraseEnv] == "" && env[PassphraseFileEnv] == "" && os.Getenv(PassphraseEnv) == "" && os.Getenv(PassphraseFileEnv) == "" {
			return nil, fmt.Errorf("no passphrase for the passphrase secrets provider: set %s or %s (or use a KMS secrets provider)", PassphraseEnv, PassphraseFileEnv)
		}
	}
	backend := d.BackendURL
	if backend == "" {
		backend = os.Getenv("PULUMI_BACKEND_URL")
	}
	if backend == "" {
		dir, err := filepath.Abs(filepath.Join(d.WorkDir, ".pulumi-state"))
		if err != nil {
			return nil, err
		}
		backend = "file://" + dir
	}
	if dir, ok := strings.CutPrefix(backend, "file://"); ok {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create the local state directory: %w", err)
		}
	}
	env["PULUMI_BACKEND_URL"] = backend
	env["PULUMI_SKIP_UPDATE_CHECK"] = "true"
	env["PULUMI_DIY_BACKEND_NO_LEGACY_WARNING"] = "true"
	return env, nil
}

// Run runs op over the planned stacks. Stacks start when their
// prerequisites (dependents, for destroy) have succeeded; a failure skips
// every stack that depends on it, while independent stacks go on.
func (d *Driver) Run(ctx context.Context, op Operation) (Summary, error) {
	order, g, warnings, err := d.Plan(op)
	if err != nil {
		return nil, err
	}
	env, err := d.preflight()
	if err != nil {
		return nil, err
	}
	out := d.Out
	if out == nil {
		out = io.Discard
	}
	lw := &lockedWriter{w: out}
	for _, w := range warnings {
		fmt.Fprintln(lw, "warning:", w)
	}
	cmd, err := d.pulumiCommand()
	if err != nil {
		return nil, err
	}
	deployed, err := d.deployedOutputs(ctx, op, g, order, cmd, env)
	if err != nil {
		return nil, err
	}
	if op == OpUp || op == OpDestroy {
		if g, order, err = orderJoins(op, g, order, deployed); err != nil {
			return nil, err
		}
	}
	par := d.Parallel
	if par <= 0 {
		par = 3
	}
	inRun := map[string]bool{}
	for _, s := range order {
		inRun[s] = true
	}
	waitFor := func(s string) []string {
		var deps []string
		if op == OpDestroy {
			for _, dep := range g.Dependents(s) {
				if inRun[dep] {
					deps = append(deps, dep)
				}
			}
			return deps
		}
		for _, dep := range g.Reads[s] {
			if inRun[dep] {
				deps = append(deps, dep)
			}
		}
		return deps
	}
	done := map[string]chan struct{}{}
	for _, s := range order {
		done[s] = make(chan struct{})
	}
	var mu sync.Mutex
	results := map[string]StackResult{}
	var summary Summary
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for _, s := range order {
		wg.Add(1)
		go func(s string) {
			defer wg.Done()
			defer close(done[s])
			var blocked []string
			for _, dep := range waitFor(s) {
				<-done[dep]
				mu.Lock()
				r := results[dep]
				mu.Unlock()
				if r.Err != nil || r.Skipped {
					blocked = append(blocked, dep)
				}
			}
			res := StackResult{Stack: s, Op: op, Changes: map[string]int{}}
			if len(blocked) > 0 {
				res.Skipped = true
				res.Err = fmt.Errorf("not started: %s did not succeed", strings.Join(blocked, ", "))
				res.Error = res.Err.Error()
				fmt.Fprintf(lw, "[%s] skipped: %s\n", s, res.Error)
			} else {
				sem <- struct{}{}
				res = d.runOne(ctx, op, s, cmd, env, deployed[s], lw)
				<-sem
			}
			mu.Lock()
			results[s] = res
			summary = append(summary, res)
			mu.Unlock()
		}(s)
	}
	wg.Wait()
	var errs []error
	for _, r := range summary {
		if r.Err != nil && !r.Skipped {
			errs = append(errs, fmt.Errorf("stack %s: %w", r.Stack, r.Err))
		}
	}
	return summary, errors.Join(errs...)
}

func (d *Driver) pulumiCommand() (auto.PulumiCommand, error) {
	opts := auto.PulumiCommandOptions{SkipVersionCheck: false}
	if d.PulumiBin != "" {
		opts.Root = filepath.Dir(filepath.Dir(d.PulumiBin))
		if _, err := os.Stat(filepath.Join(opts.Root, "bin", "pulumi")); err != nil {
			return nil, fmt.Errorf("pulumi CLI at %s: want <root>/bin/pulumi: %w", d.PulumiBin, err)
		}
	}
	cmd, err := auto.NewPulumiCommand(&opts)
	if err != nil {
		return nil, fmt.Errorf("the Pulumi CLI is needed for a real %s (none found: install it, or run 'pulsar-fleet preview --offline'): %w", "run", err)
	}
	return cmd, nil
}

// guard asks d.Guard about a preview or `up` with the stack's deployed
// outputs.
func (d *Driver) guard(op Operation, stack string, deployed map[string]any) error {
	if d.Guard == nil || (op != OpPreview && op != OpUp) {
		return nil
	}
	if deployed == nil {
		deployed = map[string]any{}
	}
	return d.Guard(stack, deployed)
}

// runOne runs one operation on one stack. The result is named so that the
// deferred bookkeeping (duration, error text) reaches the caller: a plain
// `return res` copies res before the deferred function runs.
func (d *Driver) runOne(ctx context.Context, op Operation, stack string, cmd auto.PulumiCommand, env map[string]string,
	deployed map[string]any, lw *lockedWriter) (res StackResult) {
	res = StackResult{Stack: stack, Op: op, Changes: map[string]int{}, Started: time.Now()}
	prefix := &prefixWriter{w: lw, prefix: "[" + stack + "] "}
	defer func() {
		prefix.Flush()
		res.Finished = time.Now()
		res.Duration = res.Finished.Sub(res.Started)
		if res.Err != nil {
			res.Error = res.Err.Error()
		}
	}()
	st, err := d.selectStack(ctx, stack, cmd, env)
	if err != nil {
		res.Err = err
		return res
	}
	if err := d.guard(op, stack, deployed); err != nil {
		res.Err = err
		return res
	}
	fmt.Fprintf(lw, "[%s] %s started\n", stack, op)
	res.Err = execute(ctx, op, st, prefix, &res)
	if res.Err != nil {
		fmt.Fprintf(lw, "[%s] %s failed\n", stack, op)
	} else {
		fmt.Fprintf(lw, "[%s] %s done\n", stack, op)
	}
	return res
}

// orderJoins orders what the graph no longer does, from the stacks'
// deployed joins (their joinedPeers outputs). For an up, a peer that a
// stack has left, and that keeps no other join, goes after that stack
// (Graph.LeavingJoins): the leaving stack's `up` deletes the peering
// attachment, and AWS refuses to delete the peer's transit gateway before.
// For a destroy, a stack still holding a deployed join to a peer goes
// before the peer (Graph.HeldJoins). A run holding one side and not the
// other is refused before anything runs.
func orderJoins(op Operation, g *Graph, order []string, deployed map[string]map[string]any) (*Graph, []string, error) {
	joined := map[string][]string{}
	for _, s := range g.sorted() {
		peers, err := joinsOf(s, deployed[s])
		if err != nil {
			return nil, nil, err
		}
		joined[s] = peers
	}
	inRun := map[string]bool{}
	for _, s := range order {
		inRun[s] = true
	}
	extra := g.LeavingJoins(joined)
	if op == OpDestroy {
		extra = g.HeldJoins(joined)
	}
	for _, a := range g.sorted() {
		for _, b := range extra[a] {
			if err := joinRunRefusal(op, a, b, inRun); err != nil {
				return nil, nil, err
			}
		}
	}
	if len(extra) == 0 {
		return g, order, nil
	}
	after, err := g.After(extra)
	if err != nil {
		return nil, nil, err
	}
	var ordered []string
	for _, s := range after.Order() {
		if inRun[s] {
			ordered = append(ordered, s)
		}
	}
	if op == OpDestroy {
		slices.Reverse(ordered)
	}
	return after, ordered, nil
}

// joinRunRefusal refuses a run that holds one side of an unordered join:
// for an up, peer a without b, which left it; for a destroy, peer b
// without a, which still holds a peering attachment to it.
func joinRunRefusal(op Operation, a, b string, inRun map[string]bool) error {
	if op == OpUp && inRun[a] && !inRun[b] {
		return fmt.Errorf("stack %s: %s left its join (it no longer reads %s) but is not in this run; %s's `up` deletes the peering attachment, which must go before %s's `up` may delete its transit gateway: run %s first, or both together",
			a, b, a, b, a, b)
	}
	if op == OpDestroy && inRun[b] && !inRun[a] {
		return fmt.Errorf("stack %s: %s's deployed state still holds a peering attachment to its transit gateway, and %s is not in this run: `up` %s (which deletes the attachment) or destroy it first",
			b, a, a, a)
	}
	return nil
}

// deployedOutputs reads, once per run, the deployed outputs the run
// needs: every stack's for an up or a destroy (their joins), the run's
// own for a guarded preview. A stack not deployed yet has none, and is not
// created by reading it.
func (d *Driver) deployedOutputs(ctx context.Context, op Operation, g *Graph, order []string, cmd auto.PulumiCommand, env map[string]string) (map[string]map[string]any, error) {
	read := order
	switch {
	case op == OpUp || op == OpDestroy:
		read = g.sorted()
	case op == OpPreview && d.Guard != nil:
	default:
		return nil, nil
	}
	out := map[string]map[string]any{}
	for _, stack := range read {
		var st auto.Stack
		var err error
		if d.Program != nil {
			st, err = auto.SelectStackInlineSource(ctx, stack, d.project(), d.Program, d.workspaceOptions(cmd, env)...)
		} else {
			st, err = auto.SelectStackLocalSource(ctx, stack, d.WorkDir, d.workspaceOptions(cmd, env)...)
		}
		if auto.IsSelectStack404Error(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("stack %s: read its deployed outputs: %w", stack, err)
		}
		outs, err := st.Outputs(ctx)
		if err != nil {
			return nil, fmt.Errorf("stack %s: read its deployed outputs: %w", stack, err)
		}
		out[stack] = map[string]any{}
		for k, v := range outs {
			out[stack][k] = v.Value
		}
	}
	return out, nil
}

// FleetKey reads the bootstrap stack's fleet key fingerprint (its output
// model.OutputFleetTokenKeyFingerprint) on the driver's backend, once, on
// the first call; "" when the stack does not exist or does not export it.
// The bootstrap stack is model.BootstrapStack of model.BootstrapProject in
// the backend's current organization, as the region programs read it.
func (d *Driver) FleetKey(ctx context.Context) FleetKey {
	return sync.OnceValues(func() (string, error) {
		outs, err := d.plainOutputs(ctx, model.BootstrapProject, model.BootstrapStack)
		if err != nil {
			return "", fmt.Errorf("stack %s/%s: %w", model.BootstrapProject, model.BootstrapStack, err)
		}
		fp, _ := outs[model.OutputFleetTokenKeyFingerprint].(string)
		return fp, nil
	})
}

// plainOutputs reads a stack's outputs from the driver's backend without
// revealing its secrets (`pulumi stack output --json`, which prints a
// secret as "[secret]"), from a directory of its own whose Pulumi.yaml
// names project, so the CLI resolves the stack as the project's programs
// do; none when the stack does not exist.
func (d *Driver) plainOutputs(ctx context.Context, project, stack string) (map[string]any, error) {
	env, err := d.preflight()
	if err != nil {
		return nil, err
	}
	cmd, err := d.pulumiCommand()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pulsar-fleet-outputs-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: "+project+"\nruntime: go\n"), 0o600); err != nil {
		return nil, err
	}
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	stdout, stderr, code, err := cmd.Run(ctx, dir, nil, nil, nil, envList, "stack", "output", "--json", "--stack", stack, "--non-interactive")
	if code != 0 || err != nil {
		if strings.Contains(stderr, "no stack named") {
			return nil, nil
		}
		return nil, fmt.Errorf("pulumi stack output: exit %d: %s", code, strings.TrimSpace(stderr))
	}
	out := map[string]any{}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		return nil, fmt.Errorf("pulumi stack output: %w", err)
	}
	return out, nil
}

// joinsOf are the peers a stack's deployed outputs say it is joined to
// (joinedPeers; none without it).
func joinsOf(stack string, deployed map[string]any) ([]string, error) {
	v, ok := deployed[regions.OutputJoins]
	if !ok {
		return nil, nil
	}
	list, ok := v.([]any)
	var peers []string
	for _, x := range list {
		p, isString := x.(string)
		if !isString {
			ok = false
		}
		peers = append(peers, p)
	}
	if !ok {
		return nil, fmt.Errorf("stack %s: output %s is %v, want a list of stack names", stack, regions.OutputJoins, v)
	}
	return peers, nil
}

// workspaceOptions are every workspace's: the CLI, the environment, the
// work directory and the secrets provider.
func (d *Driver) workspaceOptions(cmd auto.PulumiCommand, env map[string]string) []auto.LocalWorkspaceOption {
	wsOpts := []auto.LocalWorkspaceOption{auto.Pulumi(cmd), auto.EnvVars(env)}
	if d.WorkDir != "" {
		wsOpts = append(wsOpts, auto.WorkDir(d.WorkDir))
	}
	if d.SecretsProvider != "" {
		wsOpts = append(wsOpts, auto.SecretsProvider(d.SecretsProvider))
	}
	return wsOpts
}

// project is the inline program's project name.
func (d *Driver) project() string {
	if d.Project == "" {
		return Project
	}
	return d.Project
}

// selectStack creates or selects the stack's workspace and sets the
// driver's config for it.
func (d *Driver) selectStack(ctx context.Context, stack string, cmd auto.PulumiCommand, env map[string]string) (auto.Stack, error) {
	wsOpts := d.workspaceOptions(cmd, env)
	var st auto.Stack
	var err error
	if d.Program != nil {
		st, err = auto.UpsertStackInlineSource(ctx, stack, d.project(), d.Program, wsOpts...)
	} else {
		st, err = auto.UpsertStackLocalSource(ctx, stack, d.WorkDir, wsOpts...)
	}
	if err != nil {
		return auto.Stack{}, fmt.Errorf("select stack: %w", err)
	}
	if cfg, ok := d.Config[stack]; ok {
		if err := st.SetAllConfig(ctx, cfg); err != nil {
			return auto.Stack{}, fmt.Errorf("set config: %w", err)
		}
	}
	return st, nil
}

// execute runs one operation on a stack, recording its changes (and, for
// up, its outputs with secrets masked) in res.
func execute(ctx context.Context, op Operation, st auto.Stack, progress io.Writer, res *StackResult) error {
	count := func(changes *map[string]int) {
		if changes != nil {
			for k, v := range *changes {
				res.Changes[k] += v
			}
		}
	}
	switch op {
	case OpPreview:
		r, err := st.Preview(ctx, optpreview.ProgressStreams(progress), optpreview.Diff())
		for k, v := range r.ChangeSummary {
			res.Changes[string(k)] += v
		}
		return err
	case OpUp:
		r, err := st.Up(ctx, optup.ProgressStreams(progress))
		count(r.Summary.ResourceChanges)
		res.Outputs = map[string]any{}
		for k, v := range r.Outputs {
			if v.Secret {
				res.Outputs[k] = "[secret]"
			} else {
				res.Outputs[k] = v.Value
			}
		}
		return err
	case OpRefresh:
		r, err := st.Refresh(ctx, optrefresh.ProgressStreams(progress))
		count(r.Summary.ResourceChanges)
		return err
	case OpDestroy:
		r, err := st.Destroy(ctx, optdestroy.ProgressStreams(progress))
		count(r.Summary.ResourceChanges)
		return err
	}
	return fmt.Errorf("unknown operation %q", op)
}

// lockedWriter serializes writes from concurrent stacks.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// prefixWriter prefixes whole lines, buffering partial ones.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    bytes.Buffer
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf.Write(b)
	for {
		line, err := p.buf.ReadBytes('\n')
		if err != nil {
			p.buf.Write(line)
			break
		}
		if _, err := p.w.Write(append([]byte(p.prefix), line...)); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// Flush writes a trailing partial line.
func (p *prefixWriter) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buf.Len() > 0 {
		_, _ = p.w.Write(append([]byte(p.prefix), append(p.buf.Bytes(), '\n')...))
		p.buf.Reset()
	}
}
