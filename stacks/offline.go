package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// SimulatedNote is printed with every offline preview.
const SimulatedNote = "offline preview: the real program ran under Pulumi's mock engine; provider responses were simulated " +
	"(ids, ARNs and peer stack outputs are placeholders) and nothing was created or read from AWS or Kubernetes"

// OfflineStack is one stack's offline preview.
type OfflineStack struct {
	Stack     string              `json:"stack"`
	Phase     string              `json:"phase"`
	Region    string              `json:"region"`
	Role      string              `json:"role"`
	StackURN  string              `json:"stackUrn"`
	Resources []recorder.Resource `json:"resources"`
	Outputs   map[string]any      `json:"outputs"`
	Plan      *sizing.RegionPlan  `json:"-"`
	Recorder  *recorder.Recorder  `json:"-"`
	// Config is the stack's validated config; File is its settings file as
	// the engine read it (secure values masked), for checks over config.
	Config StackConfig `json:"-"`
	File   StackFile   `json:"-"`
}

// OfflineResult is the offline preview of a set of stacks.
type OfflineResult struct {
	Simulated bool           `json:"simulated"`
	Note      string         `json:"note"`
	Stacks    []OfflineStack `json:"stacks"`
}

// OfflineOptions select what to preview.
type OfflineOptions struct {
	// Dir holds the stack files.
	Dir string
	// Stacks limits the report (prerequisites still run, to feed their
	// outputs to StackReferences); empty means every stack.
	Stacks []string
	// Phase overrides every stack's phase.
	Phase string
	// Catalog is the instance catalog.
	Catalog *sizing.Catalog
	// Secrets stand in for the decrypted values of secure keys ("ns:key"
	// -> value); the offline preview never decrypts, so without them a
	// secure value is a placeholder. Tests use them to prove a real secret
	// stays secret through the program.
	Secrets map[string]string
	// DeployedPhase simulates the phase the stacks were last deployed at
	// (their `phase` output): a change one `up` cannot make safely is
	// refused, as the fleet driver refuses it against real state.
	DeployedPhase string
	// Transition declares a step of a transition in the stacks Stacks
	// names (their `transition` config), at Phase.
	Transition *TransitionStep
}

// PreviewOffline runs the program for every stack in stack-graph order
// under the mock engine. Each stack's exports become the simulated outputs
// its dependents read through StackReferences. Invalid config fails before
// any stack runs.
func PreviewOffline(o OfflineOptions) (OfflineResult, error) {
	if err := CheckProjectFile(o.Dir); err != nil {
		return OfflineResult{}, err
	}
	files, err := StackFiles(o.Dir)
	if err != nil {
		return OfflineResult{}, err
	}
	if o.Phase != "" {
		if _, err := sizing.PhaseByName(o.Phase); err != nil {
			return OfflineResult{}, err
		}
		for i := range files {
			files[i].Raw = cloneRaw(files[i].Raw)
			files[i].Raw[Key("phase")] = o.Phase
		}
	}
	if err := o.declare(files); err != nil {
		return OfflineResult{}, err
	}
	for i := range files {
		for _, k := range files[i].SecretKeys {
			if v, ok := o.Secrets[k]; ok {
				files[i].Raw = cloneRaw(files[i].Raw)
				files[i].Raw[k] = v
			}
		}
	}
	fleet, err := FleetFromFiles(files)
	if err != nil {
		return OfflineResult{}, err
	}
	if err := ValidateFleet(fleet); err != nil {
		return OfflineResult{}, err
	}
	graph, err := NewGraph(fleet)
	if err != nil {
		return OfflineResult{}, err
	}
	want := map[string]bool{}
	for _, s := range o.Stacks {
		if _, ok := fleet.Get(s); !ok {
			return OfflineResult{}, fmt.Errorf("unknown stack %q: the fleet has %v", s, fleet.Names())
		}
		want[s] = true
	}
	run := map[string]bool{}
	for s := range want {
		run[s] = true
		for _, p := range graph.Prerequisites(s) {
			run[p] = true
		}
	}
	if err := o.guard(fleet, run); err != nil {
		return OfflineResult{}, err
	}
	byStack := map[string]StackFile{}
	for _, f := range files {
		byStack[f.Stack] = f
	}
	res := OfflineResult{Simulated: true, Note: SimulatedNote}
	outputs := map[string]map[string]any{}
	for _, name := range graph.Order() {
		if len(o.Stacks) > 0 && !run[name] {
			continue
		}
		st, err := previewOne(byStack[name], fleet, o.Catalog, outputs)
		if err != nil {
			return OfflineResult{}, fmt.Errorf("stack %s: %w", name, err)
		}
		outputs[name] = st.Outputs
		if len(o.Stacks) == 0 || want[name] {
			res.Stacks = append(res.Stacks, st)
		}
	}
	return res, nil
}

// guard runs the transition guard on every stack the preview runs (all
// of them without a selection), as if deployed at DeployedPhase.
func (o OfflineOptions) guard(fleet Fleet, run map[string]bool) error {
	if o.DeployedPhase == "" {
		return nil
	}
	if _, err := sizing.PhaseByName(o.DeployedPhase); err != nil {
		return fmt.Errorf("deployed phase: %w", err)
	}
	guard := TransitionGuard(fleet, o.Catalog, nil)
	for _, s := range fleet.Names() {
		if len(run) > 0 && !run[s] {
			continue
		}
		// Deployed by this version: its tokens are the fleet key's, its
		// cluster at the declared version, its ZooKeeper quorum at the declared
		// stage.
		c, _ := fleet.Get(s)
		if err := guard(s, map[string]any{regions.OutputPhase: o.DeployedPhase, regions.OutputSigningKey: string(model.SigningKeyFleet),
			regions.OutputZooKeeperQuorumTLS: string(c.ZooKeeper.QuorumTLS),
			regions.OutputKubernetesVersion:  c.Cluster.KubernetesVersion}); err != nil {
			return err
		}
	}
	return nil
}

func cloneRaw(r Raw) Raw {
	out := Raw{}
	for k, v := range r {
		out[k] = v
	}
	return out
}

func previewOne(sf StackFile, fleet Fleet, cat *sizing.Catalog, peerOutputs map[string]map[string]any) (OfflineStack, error) {
	cfg, _ := fleet.Get(sf.Stack)
	rec := recorder.New(cfg.Region)
	for stack, outs := range peerOutputs {
		rec.StackOutputs[stack] = outs
	}
	var mu sync.Mutex
	exports := map[string]any{}
	var plan *sizing.RegionPlan
	program := NewProgram(WithFleet(fleet), WithCatalog(cat), WithOffline(), WithExportHook(func(name string, v pulumi.Output) {
		v.ApplyT(func(x any) any {
			mu.Lock()
			defer mu.Unlock()
			exports[name] = x
			return x
		})
	}))
	// Keep the plan for reports: recompute it from the same spec (pure).
	spec, err := cfg.RegionSpec(fleet, "organization")
	if err != nil {
		return OfflineStack{}, err
	}
	if p, err := regions.PlanFor(spec, cat); err == nil {
		plan = &p
	}
	if err := rec.Run(Project, sf.Stack, sf.Raw, sf.SecretKeys, program); err != nil {
		return OfflineStack{}, err
	}
	simulatedKeyFingerprint(exports)
	st := OfflineStack{Stack: sf.Stack, Phase: cfg.Phase, Region: cfg.Region, Role: string(cfg.Role), StackURN: rec.StackURN(),
		Outputs: exports, Plan: plan, Recorder: rec, Config: cfg, File: sf}
	st.Resources = append([]recorder.Resource{{URN: st.StackURN, Type: "pulumi:pulumi:Stack", Name: Project + "-" + sf.Stack,
		Inputs: map[string]any{}}}, rec.Resources()...)
	return st, nil
}

// CountByType counts resources per type.
func (s OfflineStack) CountByType() map[string]int {
	out := map[string]int{}
	for _, r := range s.Resources {
		out[r.Type]++
	}
	return out
}

// SortedTypes returns the counted types in order.
func SortedTypes(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// declare sets Transition in the stacks Stacks names.
func (o OfflineOptions) declare(files []StackFile) error {
	if o.Transition == nil {
		return nil
	}
	if len(o.Stacks) == 0 {
		return errors.New("a transition step is declared in the stacks named: name them")
	}
	b, err := json.Marshal(o.Transition)
	if err != nil {
		return err
	}
	for i := range files {
		if slices.Contains(o.Stacks, files[i].Stack) {
			files[i].Raw = cloneRaw(files[i].Raw)
			files[i].Raw[Key("transition")] = string(b)
		}
	}
	return nil
}

// SimulatedKeyFingerprint stands for the fingerprint of the simulated
// fleet key in an offline preview's outputs: the key is made afresh by
// each process (recorder.SimulatedTokenKey), so its fingerprint would
// differ from run to run.
const SimulatedKeyFingerprint = "sha256:<the simulated fleet key's>"

// simulatedKeyFingerprint replaces the simulated key's fingerprint in
// exports with SimulatedKeyFingerprint.
func simulatedKeyFingerprint(exports map[string]any) {
	fp, err := model.KeyFingerprint(recorder.SimulatedTokenKey())
	if err == nil && exports[regions.OutputSigningKeyFingerprint] == fp {
		exports[regions.OutputSigningKeyFingerprint] = SimulatedKeyFingerprint
	}
}
