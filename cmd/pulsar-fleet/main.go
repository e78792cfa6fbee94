// Command pulsar-fleet plans, previews and drives the pulsar-fleet stacks.
//
//	pulsar-fleet preview --offline [--stack NAME] [--phase PHASE] [--json]
//	pulsar-fleet size --rate N --message-size SIZE --replicas W --ttl DURATION --bookie-disk SIZE --zones Z [--json]
//	pulsar-fleet plan [--phase P] [--json] [--chart FILE.svg|FILE.png]
//	pulsar-fleet design --stack S [--phase P] [--json]
//	pulsar-fleet preview|up|refresh|destroy [--stack S,...] [--with-prerequisites] [--allow-partial] [--yes]
//	pulsar-fleet check [--stack S,...] [--phase all|current|P,...] [--json]
//	pulsar-fleet render-gitops [--check] [--repo URL] [--backend URL] [--runner LABELS] ...
//	pulsar-fleet bootstrap --offline [--stack admin] [--json]
//
// Run it from the project directory (it reads Pulumi.<stack>.yaml files;
// see --dir). The instance catalog is embedded; --catalog replaces it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is bad input: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// requireFlags refuses, in the order given, every required flag left
// empty: pairs of a flag's name and its value.
func requireFlags(pairs ...[2]string) error {
	var missing []string
	for _, p := range pairs {
		if p[1] == "" {
			missing = append(missing, p[0])
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return usagef("%s is required", missing[0])
	}
	return usagef("%s are required", strings.Join(missing, ", "))
}

// toFlag is an int flag as requireFlags reads it: empty while it holds
// unset, the default that stands for no value.
func toFlag(n, unset int) string {
	if n == unset {
		return ""
	}
	return strconv.Itoa(n)
}

type command struct {
	name    string
	summary string
	run     func(args []string, stdout io.Writer) error
}

func commands() []command {
	return []command{
		{"preview", "preview stacks: --offline runs the program under Pulumi's mock engine (no credentials); without it, the real engine", runPreview},
		{"up", "deploy stacks in stack-graph order (real engine: Pulumi CLI and AWS credentials)", engineCommand(stacks.OpUp)},
		{"refresh", "refresh stacks from the cloud (real engine)", engineCommand(stacks.OpRefresh)},
		{"destroy", "destroy stacks in reverse stack-graph order (real engine; asks unless --yes)", engineCommand(stacks.OpDestroy)},
		{"size", "size one workload: the DataStax storage method, then every physical limit", runSize},
		{"plan", "the per-phase, per-region fleet, cost, savings and failure check", runPlan},
		{"design", "one region's design at a phase: its fleet and every component's configuration, without Pulumi", runDesign},
		{"transition", "the ordered steps that move one region between phases without losing a message", runTransition},
		{"decommission", "take one bookie set's bookies out one at a time, refusing while ledgers are under-replicated (a transition's drain and decommission steps)", runDecommission},
		{"resize", "a transition's resize step: each EBS bookie claim's new size and VolumeAttributesClass in one patch, then the StatefulSet deleted with its bookies left running; each run does what is left", runResize},
		{"upgrade-check", "before a Kubernetes upgrade's `up`: refuse a version one of the cluster's kubelets cannot follow (more than 3 minor versions behind, or ahead), naming the nodes; reads them through kubectl", runUpgradeCheck},
		{"guard", "refuse a stack's config that one `up` cannot apply safely over its deployed outputs (`pulumi stack output --json`)", runGuard},
		{"check", "the security baseline over the offline preview of every stack at every phase", runCheck},
		{"bootstrap", "preview the account bootstrap (state bucket, KMS key, CI and operator roles) offline: --offline", runBootstrap},
		{"render-gitops", "write the operator Stacks, kustomization and GitHub workflows from the stack graph (--check verifies)", runRenderGitops},
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(args[1:], stdout)
			if err == nil || errors.Is(err, flag.ErrHelp) {
				return 0 // -h printed the command's flags
			}
			fmt.Fprintf(stderr, "pulsar-fleet %s: %v\n", c.name, err)
			var ue *usageError
			if errors.As(err, &ue) {
				return 2
			}
			return 1
		}
	}
	fmt.Fprintf(stderr, "pulsar-fleet: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: pulsar-fleet <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'pulsar-fleet <command> -h' for a command's flags.")
}

// listFlag is splitList for a flag: a value that names nothing ("," or
// blanks) is a usage error, not read as the flag left out (`--stack "$S,"`
// with S empty would otherwise act on every stack).
func listFlag(name, value string) ([]string, error) {
	items := splitList(value)
	if value != "" && len(items) == 0 {
		return nil, usagef("--%s %q names nothing: leave the flag out, or name at least one", name, value)
	}
	return items, nil
}

// splitList splits a comma-separated flag value, without blanks or
// repeats (`--phase 1m,1m` checks 1m once).
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
