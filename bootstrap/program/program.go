// Package program is the account bootstrap's Pulumi program: it reads the
// bootstrap stack's config once, validates it, and builds the account
// component. The same Run serves `pulumi up` in bootstrap/ and the offline
// preview (`pulsar-fleet bootstrap --offline`).
package program

import (
	"encoding/json"
	"fmt"
	"os"
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
	{"fleetCa", "", false},
}

// Parse turns raw config ("namespace:key" -> value) into the account's
// arguments and region, refusing unknown keys and missing required ones.
func Parse(raw map[string]string) (account.Args, string, error) {
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
		return account.Args{}, "", fmt.Errorf("bootstrap config %s: unknown key: want one of %s", unknown[0], keyNames())
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
			return account.Args{}, "", err
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
			return account.Args{}, "", fmt.Errorf("bootstrap config %s:operator: %v: want {oidcProviderArn, issuer, namespace, serviceAccount}", Project, err)
		}
	}
	if s := vals["fleetCa"]; s != "" {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a.FleetCA); err != nil {
			return account.Args{}, "", fmt.Errorf("bootstrap config %s:fleetCa: %v: want {generation, stage} (docs/operations.md, \"Rotating the fleet CA\")", Project, err)
		}
	}
	region := raw["aws:region"]
	if region == "" {
		return account.Args{}, "", fmt.Errorf("bootstrap config aws:region is missing")
	}
	if err := a.Validate(); err != nil {
		return account.Args{}, "", fmt.Errorf("bootstrap config: %w", err)
	}
	return a, region, nil
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
		for k, v := range all {
			if strings.HasPrefix(k, Project+":") {
				raw[k] = v
			}
		}
	}
	for _, k := range append([]string{"aws:region"}, prefixed()...) {
		if v, ok := ctx.GetConfig(k); ok {
			raw[k] = v
		}
	}
	args, region, err := Parse(raw)
	if err != nil {
		return err
	}
	self := ctx.Organization() + "/" + ctx.Project() + "/" + ctx.Stack()
	deployed, err := stacks.ReadDeployed(ctx, self, "the fleet CA guard")
	if err != nil {
		return err
	}
	if err := AllowFleetCA(deployed, args.FleetCA); err != nil {
		return fmt.Errorf("bootstrap stack %s: %w", self, err)
	}
	a, err := account.NewAccount(ctx, "account", region, args)
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
	ctx.Export(account.OutputFleetCA, pulumi.ToMap(caSetting(args.FleetCA)))
	ctx.Export(account.OutputFleetTokenKey, a.FleetTokenKeyPEM)
	ctx.Export(account.OutputFleetTokenKeyFingerprint, a.FleetTokenKeyFingerprint)
	return nil
}

// AllowFleetCA refuses a fleet CA setting more than one stage from the
// one the stack last ran (its own output OutputFleetCA; a stack deployed
// before that output runs the first CA, steady).
func AllowFleetCA(deployed map[string]any, now model.FleetCA) error {
	var was model.FleetCA
	if out, ok := deployed[account.OutputFleetCA]; ok {
		m, _ := out.(map[string]any)
		g, gok := m["generation"].(float64)
		s, sok := m["stage"].(string)
		if !gok || !sok || g != float64(int(g)) {
			return fmt.Errorf("its last %s output %v is not {generation, stage}: the fleet CA guard cannot judge this run", account.OutputFleetCA, out)
		}
		was = model.FleetCA{Generation: int(g), Stage: model.CAStage(s)}
	}
	return model.CAMove(was, now, Project+":fleetCa")
}

// caSetting is the fleet CA setting as the stack exports it.
func caSetting(f model.FleetCA) map[string]any {
	f = f.WithDefaults()
	return map[string]any{"generation": f.Generation, "stage": string(f.Stage)}
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
	if _, _, err := Parse(sf.Raw); err != nil {
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
