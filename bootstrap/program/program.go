// Package program is the account bootstrap's Pulumi program: it reads the
// bootstrap stack's config once, validates it, and builds the account
// component. The same Run serves `pulumi up` in bootstrap/ and the offline
// preview (`pulsar-fleet bootstrap --offline`).
package program

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/account"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// Project is the bootstrap project's name and config namespace.
const Project = stacks.BootstrapProject

// Keys are the bootstrap's config keys with their defaults ("" = none);
// required keys are marked.
var Keys = []struct {
	Name, Default string
	Required      bool
}{
	{"stateBucket", "", true}, {"githubRepository", "", true}, {"deployEnvironment", "production", false},
	{"driftBranch", "main", false}, {"githubOidcProviderArn", "", false}, {"operator", "", false},
	{"fleetCa", "", false}, {"regionStacks", "", false},
}

// Settings are the bootstrap stack's parsed config.
type Settings struct {
	Account account.Args
	Region  string
	// RegionStacks are the stacks of the region project (stacks.Project,
	// in this stack's organization) that trust the fleet CA: before a
	// rotation moves on, each must have applied the stage the bootstrap
	// runs (model.CARegionsReady).
	RegionStacks []string
	// RegionStacksSet is false where regionStacks is not set (an empty
	// list is set: an account without regions).
	RegionStacksSet bool
}

// stackName is what a region stack's name may hold (the stack part of
// org/project/stack).
var stackName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// ProviderNamespaces are the config namespaces besides Project that a
// bootstrap stack may set: the providers the account component uses, and
// Pulumi's own.
var ProviderNamespaces = []string{"aws", "tls", "pulumi"}

// unknownNamespace refuses the first key whose namespace is neither the
// project's nor a provider's: a typo such as pulsar-fleet-bootstap:driftBranch
// would otherwise be ignored and its default taken.
func unknownNamespace(raw map[string]string) error {
	var names []string
	for _, k := range Keys {
		names = append(names, k.Name)
	}
	k, meant := stacks.UnknownNamespace(raw, Project, ProviderNamespaces, names)
	if k == "" {
		return nil
	}
	hint := ""
	if meant != "" {
		hint = "did you mean " + meant + "? "
	}
	return fmt.Errorf("bootstrap config %s: unknown namespace: %swant a key of %s or a provider's (%s)", k, hint, Project, strings.Join(ProviderNamespaces, ", "))
}

// Parse turns raw config ("namespace:key" -> value) into the settings,
// refusing unknown namespaces, unknown keys and missing required ones.
func Parse(raw map[string]string) (Settings, error) {
	if err := unknownNamespace(raw); err != nil {
		return Settings{}, err
	}
	known := map[string]bool{}
	for _, k := range Keys {
		known[Project+":"+k.Name] = true
	}
	var unknown []string
	for k := range raw {
		if strings.HasPrefix(k, Project+":") && !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Settings{}, fmt.Errorf("bootstrap config %s: unknown key: want one of %s", unknown[0], keyNames())
	}
	get := func(name, def string, required bool) (string, error) {
		v := raw[Project+":"+name]
		if v == "" {
			v = def
		}
		if v == "" && required {
			return "", fmt.Errorf("bootstrap config %s:%s is missing", Project, name)
		}
		return v, nil
	}
	vals := map[string]string{}
	for _, k := range Keys {
		v, err := get(k.Name, k.Default, k.Required)
		if err != nil {
			return Settings{}, err
		}
		vals[k.Name] = v
	}
	a := account.Args{StateBucket: vals["stateBucket"], Repository: vals["githubRepository"], DeployEnvironment: vals["deployEnvironment"],
		DriftBranch: vals["driftBranch"], GitHubOIDCProviderARN: vals["githubOidcProviderArn"],
		Tags: map[string]string{"pulsar-fleet:component": "bootstrap"}}
	if s := vals["operator"]; s != "" {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		a.Operator = &account.Operator{}
		if err := dec.Decode(a.Operator); err != nil {
			return Settings{}, fmt.Errorf("bootstrap config %s:operator: %v: want {oidcProviderArn, issuer, namespace, serviceAccount}", Project, err)
		}
	}
	if s := vals["fleetCa"]; s != "" {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a.FleetCA); err != nil {
			return Settings{}, fmt.Errorf("bootstrap config %s:fleetCa: %v: want {generation, stage} (docs/operations.md, \"Rotating the fleet CA\")", Project, err)
		}
	}
	regionStacks, err := parseRegionStacks(vals["regionStacks"])
	if err != nil {
		return Settings{}, err
	}
	_, listed := raw[Project+":regionStacks"]
	region := raw["aws:region"]
	if region == "" {
		return Settings{}, fmt.Errorf("bootstrap config aws:region is missing")
	}
	if err := a.Validate(); err != nil {
		return Settings{}, fmt.Errorf("bootstrap config: %w", err)
	}
	return Settings{Account: a, Region: region, RegionStacks: regionStacks, RegionStacksSet: listed}, nil
}

// parseRegionStacks reads regionStacks, a list of stack names (JSON, as
// the engine passes a YAML list).
func parseRegionStacks(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var names []string
	if err := json.Unmarshal([]byte(s), &names); err != nil {
		return nil, fmt.Errorf("bootstrap config %s:regionStacks: %v: want a list of the region stacks' names, such as [us-east-1, us-west-2]", Project, err)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if !stackName.MatchString(n) || seen[n] {
			return nil, fmt.Errorf("bootstrap config %s:regionStacks: %q: want each a distinct stack name of the %s project (letters, digits, _ . -)", Project, n, stacks.Project)
		}
		seen[n] = true
	}
	return names, nil
}

func keyNames() string {
	names := make([]string, len(Keys))
	for i, k := range Keys {
		names[i] = k.Name
	}
	return strings.Join(names, ", ")
}

// Run is the program under the real engine.
func Run(ctx *pulumi.Context) error { return run(ctx, true) }

// run reads the config (engineEnv: also the engine's PULUMI_CONFIG, which
// reveals undeclared keys; under the mock engine it is the caller's, so the
// offline preview ignores it) and builds the account.
func run(ctx *pulumi.Context, engineEnv bool) error {
	raw := map[string]string{}
	var all map[string]string
	if env := os.Getenv("PULUMI_CONFIG"); engineEnv && env != "" && json.Unmarshal([]byte(env), &all) == nil {
		// Every namespace: Parse refuses one that is neither the
		// project's nor a provider's.
		maps.Copy(raw, all)
	}
	for _, k := range append([]string{"aws:region"}, prefixed()...) {
		if v, ok := ctx.GetConfig(k); ok {
			raw[k] = v
		}
	}
	settings, err := Parse(raw)
	if err != nil {
		return err
	}
	args := settings.Account
	self := ctx.Organization() + "/" + ctx.Project() + "/" + ctx.Stack()
	if err := GuardFleetCA(ctx, self, settings); err != nil {
		return fmt.Errorf("bootstrap stack %s: %w", self, err)
	}
	a, err := account.NewAccount(ctx, "account", settings.Region, args)
	if err != nil {
		return err
	}
	ctx.Export("backendUrl", a.BackendURL)
	ctx.Export("secretsProvider", a.SecretsProvider)
	ctx.Export("previewRoleArn", a.PreviewRoleARN)
	ctx.Export("deployRoleArn", a.DeployRoleARN)
	ctx.Export("operatorRoleArn", a.OperatorRoleARN)
	ctx.Export(account.OutputFleetCACert, a.FleetCACertPEM)
	ctx.Export(account.OutputFleetCAKey, a.FleetCAKeyPEM)
	ctx.Export(account.OutputFleetCABundle, a.FleetCABundlePEM)
	ctx.Export(account.OutputFleetCA, pulumi.ToMap(args.FleetCA.Map()))
	ctx.Export(account.OutputFleetTokenKey, a.FleetTokenKeyPEM)
	ctx.Export(account.OutputFleetTokenKeyFingerprint, a.FleetTokenKeyFingerprint)
	return nil
}

// GuardFleetCA reads the fleet CA setting the stack self last ran and refuses
// one more than a stage from it (model.CAMove); on a move, it reads each
// region stack's report and refuses while one has not applied the stage
// the bootstrap runs (model.CARegionsReady). Nothing but stack references
// is registered before.
func GuardFleetCA(ctx *pulumi.Context, self string, settings Settings) error {
	deployed, err := stacks.ReadDeployed(ctx, self, "the fleet CA guard")
	if err != nil {
		return err
	}
	was, err := deployedFleetCA(deployed)
	if err != nil {
		return err
	}
	now := settings.Account.FleetCA
	if err := model.CAMove(was, now, Project+":fleetCa"); err != nil {
		return err
	}
	// CARegionsReady allows no move as well; returning here keeps the
	// bootstrap's other `up`s from reading (or needing) the regions.
	if was.WithDefaults() == now.WithDefaults() {
		return nil
	}
	var reports []model.CAReport
	for _, name := range settings.RegionStacks {
		ref := stacks.Ref(ctx.Organization(), name)
		outs, err := stacks.ReadOutputs(ctx, ref, "the fleet CA guard")
		if err != nil {
			return fmt.Errorf("%s:regionStacks lists %s (deploy it, or remove it from the list): %w", Project, name, err)
		}
		r, err := caReportOf(ref, outs)
		if err != nil {
			return err
		}
		reports = append(reports, r)
	}
	return model.CARegionsReady(was, now, reports, settings.RegionStacksSet, Project+":fleetCa", Project+":regionStacks")
}

// deployedFleetCA is the fleet CA setting the stack last ran (its own
// output OutputFleetCA); a stack deployed before that output runs the
// first CA, steady.
func deployedFleetCA(deployed map[string]any) (model.FleetCA, error) {
	out, ok := deployed[account.OutputFleetCA]
	if !ok {
		return model.FleetCA{}, nil
	}
	was, err := model.ParseFleetCA(out)
	if err != nil {
		return model.FleetCA{}, fmt.Errorf("its last %s output %w: the fleet CA guard cannot judge this run", account.OutputFleetCA, err)
	}
	return was, nil
}

// caReportOf is what a region stack's outputs say of the fleet CA.
func caReportOf(stack string, outs map[string]any) (model.CAReport, error) {
	r := model.CAReport{Stack: stack, Deployed: len(outs) > 0}
	if v, ok := outs[model.OutputFleetCAApplied]; ok && v != nil {
		f, err := model.ParseFleetCA(v)
		if err != nil {
			return r, fmt.Errorf("stack %s: its %s output %w: the fleet CA guard cannot judge this run (run the stack's `up` with this version)", stack, model.OutputFleetCAApplied, err)
		}
		r.Applied = &f
	}
	return r, nil
}

func prefixed() []string {
	out := make([]string, len(Keys))
	for i, k := range Keys {
		out[i] = Project + ":" + k.Name
	}
	return out
}

// PreviewOffline runs the program for the stack file at path under the mock
// engine: what `pulumi preview` in bootstrap/ would register, with
// simulated provider responses.
func PreviewOffline(path string) (stacks.OfflineStack, error) {
	sf, err := stacks.ReadStackFile(path)
	if err != nil {
		return stacks.OfflineStack{}, err
	}
	if _, err := Parse(sf.Raw); err != nil {
		return stacks.OfflineStack{}, fmt.Errorf("%s: %w", path, err)
	}
	rec := recorder.New(sf.Raw["aws:region"])
	offline := func(ctx *pulumi.Context) error { return run(ctx, false) }
	if err := rec.Run(Project, sf.Stack, sf.Raw, sf.SecretKeys, offline); err != nil {
		return stacks.OfflineStack{}, err
	}
	st := stacks.OfflineStack{Stack: sf.Stack, Region: sf.Raw["aws:region"], Role: "bootstrap", StackURN: rec.StackURN(), Recorder: rec, File: sf}
	st.Resources = append([]recorder.Resource{{URN: st.StackURN, Type: "pulumi:pulumi:Stack", Name: Project + "-" + sf.Stack,
		Inputs: map[string]any{}}}, rec.Resources()...)
	return st, nil
}
