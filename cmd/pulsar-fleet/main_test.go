package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/golden"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// cli runs the command in-process from the project root (size reads no
// project files: the catalog is embedded).
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	if args[0] != "size" {
		args = append(args[:1:1], append([]string{"--dir", "../.."}, args[1:]...)...)
	}
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestSizeReproducesDataStaxExample(t *testing.T) {
	code, out, stderr := cli(t, "size", "--rate", "100000", "--message-size", "1KB", "--replicas", "3", "--ttl", "3h", "--bookie-disk", "4TB", "--zones", "3", "--json")
	require.Equal(t, 0, code, stderr)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, 3_240_000_000_000.0, got["storageBytes"])
	assert.Equal(t, 3_240_000_000.0, got["storageKB"])
	assert.Equal(t, 3.0, got["bookiesForStorage"])
	assert.Equal(t, 3.0, got["brokersForStorage"])
	assert.Equal(t, 6.0, got["bookies"], "journal and ledger writes need 6 m6g.2xlarge's EBS baseline; zone headroom agrees: 3 bookies cannot form an ensemble after a zone loss")
	assert.Equal(t, 3.0, got["brokers"])
	assert.Equal(t, "bookies: ebs-bandwidth; brokers: storage", got["limitingFactor"])
}

func TestSizeTextNamesBindingLimit(t *testing.T) {
	code, out, _ := cli(t, "size", "--rate", "100000", "--message-size", "1KiB", "--replicas", "3", "--ttl", "3h", "--bookie-disk", "4TB")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "3 x 1.024 KB")
	assert.Contains(t, out, "<- binding")
}

func TestSizeBadInput(t *testing.T) {
	base := map[string]string{"--rate": "100000", "--message-size": "1KB", "--replicas": "3", "--ttl": "3h", "--bookie-disk": "4TB"}
	for _, tc := range []struct {
		name     string
		override map[string]string
		want     []string
	}{
		{"zero rate", map[string]string{"--rate": "0"}, []string{"--rate", "positive number"}},
		{"negative rate", map[string]string{"--rate": "-5"}, []string{"--rate", "positive"}},
		{"rate not a number", map[string]string{"--rate": "lots"}, []string{"--rate"}},
		{"zero size", map[string]string{"--message-size": "0KB"}, []string{"--message-size", "positive"}},
		{"negative size", map[string]string{"--message-size": "-1KB"}, []string{"--message-size"}},
		{"size without unit", map[string]string{"--message-size": "1000"}, []string{"--message-size", "no unit", "KiB"}},
		{"unknown unit", map[string]string{"--bookie-disk": "4TX"}, []string{"--bookie-disk", "unknown unit", "TiB"}},
		{"ack above write", map[string]string{"--ack": "4"}, []string{"--ack", "ack quorum <= write quorum"}},
		{"write above ensemble", map[string]string{"--ensemble": "2"}, []string{"--ensemble", "ensemble >= write >= ack"}},
		{"bad ttl", map[string]string{"--ttl": "soon"}, []string{"--ttl"}},
		{"unknown instance", map[string]string{"--broker-instance": "m5.giant"}, []string{"--broker-instance", "catalog", "m7g.2xlarge"}},
		{"zero zones", map[string]string{"--zones": "0"}, []string{"--zones", "at least 1"}},
		{"rate beyond physical sense", map[string]string{"--rate": "1e30"}, []string{"--rate", "at most 1e+09"}},
		{"missing ttl", map[string]string{"--ttl": ""}, []string{"--ttl is required"}},
		{"fanout not a number", map[string]string{"--fanout": "NaN"}, []string{"--fanout", "0 to 1000 subscriptions"}},
		{"fanout beyond plans", map[string]string{"--fanout": "1e308"}, []string{"--fanout", "0 to 1000 subscriptions"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"size"}
			for k, v := range base {
				if o, ok := tc.override[k]; ok {
					v = o
				}
				if v != "" {
					args = append(args, k, v)
				}
			}
			for k, v := range tc.override {
				if _, ok := base[k]; !ok {
					args = append(args, k, v)
				}
			}
			code, _, stderr := cli(t, args...)
			assert.NotEqual(t, 0, code)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
		})
	}
}

func TestPlanJSONAndChart(t *testing.T) {
	chart := filepath.Join(t.TempDir(), "plan.svg")
	code, out, stderr := cli(t, "plan", "--json", "--chart", chart)
	require.Equal(t, 0, code, stderr)
	var rep planReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Len(t, rep.Phases, 5)
	for _, ph := range rep.Phases {
		require.Len(t, ph.Plan.Regions, 3)
		for _, r := range ph.Plan.Regions {
			for _, fc := range r.Failures {
				assert.True(t, fc.Pass, "%s %s %s", ph.Plan.Phase.Name, r.Region, fc.Scenario)
			}
		}
		assert.NotEmpty(t, ph.Seed, "phase %s compared with the seed", ph.Plan.Phase.Name)
	}
	svg, err := os.ReadFile(chart)
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(svg), "<svg"), "chart is an SVG")

	code, _, stderr = cli(t, "plan", "--phase", "7m")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "35k, 100k, 1m, 10m, 100m")
	code, _, stderr = cli(t, "plan", "--chart", "plan.gif")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, ".svg or .png")
}

func TestPreviewWithoutOfflinePointsAtOffline(t *testing.T) {
	code, _, stderr := cli(t, "preview")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "preview --offline")
}

func TestUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 2, run([]string{"deploy-everything"}, &out, &errb))
	assert.Contains(t, errb.String(), "unknown command")
}

type previewJSON struct {
	Simulated bool   `json:"simulated"`
	Note      string `json:"note"`
	Stacks    []struct {
		Stack     string `json:"stack"`
		Phase     string `json:"phase"`
		Region    string `json:"region"`
		StackURN  string `json:"stackUrn"`
		Resources []struct {
			URN    string         `json:"urn"`
			Type   string         `json:"type"`
			Name   string         `json:"name"`
			Parent string         `json:"parent"`
			Inputs map[string]any `json:"inputs"`
		} `json:"resources"`
	} `json:"stacks"`
}

func TestPreviewOfflineJSONPerStack(t *testing.T) {
	regions := map[string]bool{}
	cidrs := map[string]bool{}
	for _, stack := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
		code, out, stderr := cli(t, "preview", "--offline", "--stack", stack, "--json")
		require.Equal(t, 0, code, stderr)
		var p previewJSON
		require.NoError(t, json.Unmarshal([]byte(out), &p), "valid JSON")
		assert.True(t, p.Simulated)
		assert.Contains(t, p.Note, "simulated")
		require.Len(t, p.Stacks, 1)
		st := p.Stacks[0]
		assert.Equal(t, stack, st.Stack)
		assert.Equal(t, "35k", st.Phase)
		regions[st.Region] = true
		byURN := map[string]string{}
		for _, r := range st.Resources {
			byURN[r.URN] = r.Parent
			if r.Type == "aws:ec2/vpc:Vpc" {
				cidrs[r.Inputs["cidrBlock"].(string)] = true
			}
		}
		require.Greater(t, len(st.Resources), 1)
		for _, r := range st.Resources {
			// Walk the parent chain up to the stack.
			seen, urn := 0, r.URN
			for urn != st.StackURN {
				parent, ok := byURN[urn]
				require.True(t, ok, "%s %s: parent %s not in the preview", r.Type, r.Name, urn)
				urn = parent
				seen++
				require.Less(t, seen, 20, "parent chain loops")
			}
		}
	}
	assert.Len(t, regions, 3, "distinct regions")
	if len(cidrs) > 0 {
		assert.Len(t, cidrs, 3, "distinct VPC CIDRs")
	}
}

func TestPreviewOfflineInvalidConfigExitsNonZero(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []string{"", ".us-east-1", ".us-west-2", ".eu-west-1"} {
		b, err := os.ReadFile("../../Pulumi" + s + ".yaml")
		require.NoError(t, err)
		if s == ".eu-west-1" {
			b = []byte(strings.Replace(string(b), "weight: 10", "weight: 15", 1))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi"+s+".yaml"), b, 0o600))
	}
	var out, errb bytes.Buffer
	code := run([]string{"preview", "--offline", "--dir", dir}, &out, &errb)
	assert.Equal(t, 2, code)
	assert.Contains(t, errb.String(), "routing.weight")
	assert.Contains(t, errb.String(), "sum to the declared routing.totalWeight 100")
	code = run([]string{"preview", "--offline", "--dir", "../..", "--stack", "ap-south-1"}, &out, &errb)
	assert.Equal(t, 2, code)
	assert.Contains(t, errb.String(), `unknown stack "ap-south-1"`)
}

func TestRenderGitopsCheckAndBadOption(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 0, run([]string{"render-gitops", "--check", "--dir", "../.."}, &out, &errb), errb.String())
	assert.Contains(t, out.String(), "generated files are current")

	out.Reset()
	errb.Reset()
	assert.Equal(t, 2, run([]string{"render-gitops", "--check", "--dir", "../..", "--backend", "file://./state"}, &out, &errb))
	assert.Contains(t, errb.String(), "gitops option backend=")

	// Rendering for another repository differs from the committed files.
	errb.Reset()
	assert.Equal(t, 1, run([]string{"render-gitops", "--check", "--dir", "../..", "--repo", "https://git.example.com/fork.git"}, &out, &errb))
	assert.Contains(t, errb.String(), "gitops/stacks/pulsar-fleet-us-east-1.yaml")

	// A runner label for in-VPC runners is accepted (and differs from the
	// committed workflows); a malformed one is refused, naming the flag.
	errb.Reset()
	assert.Equal(t, 1, run([]string{"render-gitops", "--check", "--dir", "../..", "--runner", "self-hosted,pulsar-fleet-vpc"}, &out, &errb))
	assert.Contains(t, errb.String(), ".github/workflows/pull-request.yml")
	errb.Reset()
	assert.Equal(t, 2, run([]string{"render-gitops", "--check", "--dir", "../..", "--runner", "self hosted"}, &out, &errb))
	assert.Contains(t, errb.String(), `gitops option runner="self hosted"`)
}

// The account bootstrap previews offline; without --offline the command
// says how to run it for real.
func TestBootstrapCommand(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"bootstrap", "--offline", "--dir", "../../bootstrap"}, &out, &errb), errb.String())
	assert.Contains(t, out.String(), "offline preview")
	assert.Contains(t, out.String(), "== bootstrap stack admin (us-east-1)")
	assert.Contains(t, out.String(), "aws:iam/role:Role  account-ci-preview")
	out.Reset()
	require.Equal(t, 0, run([]string{"bootstrap", "--offline", "--dir", "../../bootstrap", "--json"}, &out, &errb), errb.String())
	assert.Contains(t, out.String(), `"simulated": true`)
	assert.Equal(t, 2, run([]string{"bootstrap", "--dir", "../../bootstrap"}, &out, &errb))
	assert.Contains(t, errb.String(), "pulumi up --stack admin")
	errb.Reset()
	assert.Equal(t, 2, run([]string{"bootstrap", "--offline", "--dir", "../../bootstrap", "--stack", "nope"}, &out, &errb))
	assert.Contains(t, errb.String(), "Pulumi.nope.yaml")
}

func TestCheckCommand(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 0, run([]string{"check", "--dir", "../..", "--on", "2026-12-03"}, &out, &errb), errb.String())
	assert.Contains(t, out.String(), "26 rules over 15 stack/phase previews")
	assert.Contains(t, out.String(), "PASS: no failing finding (15 waived)")

	out.Reset()
	assert.Equal(t, 0, run([]string{"check", "--dir", "../..", "--on", "2026-12-03", "--phase", "1m,1m"}, &out, &errb), errb.String())
	assert.Contains(t, out.String(), "26 rules over 3 stack/phase previews", "a phase named twice is checked once")

	errb.Reset()
	assert.Equal(t, 2, run([]string{"check", "--dir", "../..", "--phase", "1b"}, &out, &errb))
	assert.Contains(t, errb.String(), "--phase")
	errb.Reset()
	assert.Equal(t, 2, run([]string{"check", "--dir", "../..", "--on", "27/03/2027"}, &out, &errb))
	assert.Contains(t, errb.String(), `--on "27/03/2027": want a day such as 2026-12-03`)

	// The day the committed version leaves standard support, the check
	// fails on it (exit 1).
	out.Reset()
	errb.Reset()
	assert.Equal(t, 1, run([]string{"check", "--dir", "../..", "--phase", "current", "--on", "2027-03-27"}, &out, &errb))
	assert.Contains(t, out.String(), "FAIL EKS-STANDARD-SUPPORT us-east-1/")
	assert.Contains(t, out.String(), "Kubernetes 1.35 left EKS standard support on 2027-03-27")

	// A stack file with a plain-text credential fails the check (exit 1).
	dir := t.TempDir()
	for _, f := range []string{"Pulumi.yaml", "Pulumi.us-east-1.yaml", "Pulumi.us-west-2.yaml", "Pulumi.eu-west-1.yaml"} {
		b, err := os.ReadFile(filepath.Join("../..", f))
		require.NoError(t, err)
		if f == "Pulumi.eu-west-1.yaml" {
			b = append(b, []byte("  aws:accessKey: AKIAIOSFODNN7EXAMPLE\n  aws:secretKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")...)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	out.Reset()
	errb.Reset()
	code := run([]string{"check", "--dir", dir, "--phase", "current", "--on", "2026-12-03"}, &out, &errb)
	if !assert.Equal(t, 1, code, errb.String()) {
		return
	}
	assert.Contains(t, out.String(), "FAIL SECRET-NOT-IN-CONFIG eu-west-1/")
	assert.Contains(t, out.String(), "aws:accessKey holds an AWS access key id")
	assert.Contains(t, out.String(), "aws:secretKey is a secret in plain text")
	assert.Contains(t, errb.String(), "security baseline failed")
}

// docs/capacity-plan.md embeds the plan; it must be what the planner says.
func TestCapacityPlanDocIsCurrent(t *testing.T) {
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"plan", "--dir", "../.."}, &out, &errb), errb.String())
	golden.AssertBlock(t, "../../docs/capacity-plan.md", "<!-- BEGIN pulsar-fleet plan -->", "<!-- END pulsar-fleet plan -->",
		[]byte("```text"+out.String()+"```\n"))
}

// docs/capacity-plan.md shows `plan --compare` at 10m and 100m, as the
// planner computes it.
func TestCapacityPlanComparisonDocIsCurrent(t *testing.T) {
	var out, errb bytes.Buffer
	for _, phase := range []string{"10m", "100m"} {
		require.Equal(t, 0, run([]string{"plan", "--dir", "../..", "--compare", "--phase", phase}, &out, &errb), errb.String())
	}
	golden.AssertBlock(t, "../../docs/capacity-plan.md", "<!-- BEGIN pulsar-fleet plan --compare -->", "<!-- END pulsar-fleet plan --compare -->",
		[]byte("```text"+out.String()+"```\n"))
}

// docs/capacity-plan.md shows `plan --sensitivity` at 1m, 10m and 100m, as
// the planner computes it.
func TestCapacityPlanSensitivityDocIsCurrent(t *testing.T) {
	var out, errb bytes.Buffer
	for _, phase := range []string{"1m", "10m", "100m"} {
		require.Equal(t, 0, run([]string{"plan", "--dir", "../..", "--sensitivity", "--phase", phase}, &out, &errb), errb.String())
	}
	golden.AssertBlock(t, "../../docs/capacity-plan.md", "<!-- BEGIN pulsar-fleet plan --sensitivity -->", "<!-- END pulsar-fleet plan --sensitivity -->",
		[]byte("```text"+out.String()+"```\n"))
}

// destroy never waits on a stdin nobody types into, and deletes nothing
// without the confirmation word.
func TestDestroyConfirmation(t *testing.T) {
	t.Setenv("PULSAR_FLEET_SKIP_AWS_CHECK", "1")
	oldIn, oldTerm := stdin, stdinIsTerminal
	t.Cleanup(func() { stdin, stdinIsTerminal = oldIn, oldTerm })
	args := []string{"destroy", "--dir", "../..", "--stack", "us-east-1", "--pulumi", "/nonexistent/pulumi"}

	var out, errb bytes.Buffer
	stdinIsTerminal = func() bool { return false }
	assert.Equal(t, 2, run(args, &out, &errb))
	assert.Contains(t, errb.String(), "stdin is not one: pass --yes to destroy us-east-1")

	for _, typed := range []string{"", "yes\n", "no\n"} {
		out.Reset()
		errb.Reset()
		stdinIsTerminal = func() bool { return true }
		stdin = strings.NewReader(typed)
		assert.Equal(t, 2, run(args, &out, &errb), "%q", typed)
		assert.Contains(t, errb.String(), "destroy not confirmed; nothing was deleted", "%q", typed)
	}
}

// The real preview takes the engine's flags; the offline-only ones are
// refused by name, not silently dropped.
func TestRealPreviewFlags(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no pulumi: the run stops before touching anything
	for _, f := range []string{"--phase", "--json", "--catalog"} {
		var out, errb bytes.Buffer
		assert.Equal(t, 2, run([]string{"preview", "--dir", "../..", f + "=x"}, &out, &errb), f)
		assert.Contains(t, errb.String(), f+" applies to 'preview --offline' only", f)
	}
	var out, errb bytes.Buffer
	assert.Equal(t, 2, run([]string{"preview", "--dir", "../..", "--stack", "us-east-1", "--with-prerequisites"}, &out, &errb))
	assert.NotContains(t, errb.String(), "flag provided but not defined")
	assert.Contains(t, errb.String(), "the Pulumi CLI")
}

// `design --json` prints exactly the golden the tests keep: one renderer.
func TestDesignCommand(t *testing.T) {
	code, out, stderr := cli(t, "design", "--stack", "us-east-1", "--phase", "1m", "--json")
	require.Equal(t, 0, code, stderr)
	want, err := os.ReadFile("../../tests/testdata/design/us-east-1-1m.json")
	require.NoError(t, err)
	assert.Equal(t, string(want), out)

	code, out, _ = cli(t, "design", "--stack", "eu-west-1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "design of eu-west-1 (dr, eu-west-1) at phase 35k")

	for args, want := range map[string][]string{
		"no stack":      {"design"},
		"unknown stack": {"design", "--stack", "ap-south-1"},
		"bad phase":     {"design", "--stack", "us-east-1", "--phase", "2m"},
	} {
		code, _, stderr := cli(t, want...)
		assert.Equal(t, 2, code, args)
		assert.NotEmpty(t, stderr, args)
	}
	// Every missing flag is named, in the help's order, on every run.
	code, _, stderr = cli(t, "transition", "--to", "100k")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--stack, --from are required")
	code, _, stderr = cli(t, "size")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--rate, --message-size, --replicas, --ttl, --bookie-disk are required")
	code, _, stderr = cli(t, "transition", "--stack", "nope", "--from", "35k", "--to", "1m")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `--stack: unknown stack "nope": want one of eu-west-1, us-east-1, us-west-2`)
	code, _, stderr = cli(t, "decommission", "--stack", "us-east-1", "--statefulset", "pulsar-bookie", "--to", "-5")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--to -5: want the number of bookies to keep, 0 or more")
}

// Every command's -h prints its flags and exits 0 (handled once, in run).
func TestHelpFlag(t *testing.T) {
	for _, c := range commands() {
		var out, errb bytes.Buffer
		assert.Equal(t, 0, run([]string{c.name, "-h"}, &out, &errb), "%s -h: %s", c.name, errb.String())
		assert.Contains(t, out.String(), "Usage of "+c.name+":", "%s -h prints its flags", c.name)
	}
	// A bad flag is a usage error on stderr, once, with nothing on stdout
	// (which a script may be parsing).
	for _, c := range commands() {
		var out, errb bytes.Buffer
		assert.Equal(t, 2, run([]string{c.name, "--no-such-flag"}, &out, &errb), c.name)
		assert.Empty(t, out.String(), c.name)
		assert.Equal(t, "pulsar-fleet "+c.name+": flag provided but not defined: -no-such-flag (pulsar-fleet "+c.name+" -h lists the flags)\n", errb.String())
	}
}

// A list flag drops blanks and repeats.
func TestSplitList(t *testing.T) {
	assert.Equal(t, []string{"1m", "35k"}, splitList(" 1m, 1m,,35k ,1m"))
	assert.Nil(t, splitList(" , "))
}

// A list flag that names nothing is refused, never read as the flag left
// out (which means every stack, or each stack's current phase).
func TestListFlagNamingNothing(t *testing.T) {
	for _, args := range [][]string{
		{"check", "--phase", ","}, {"check", "--phase", ""}, {"check", "--stack", " , "},
		{"preview", "--offline", "--stack", ","}, {"up", "--stack", ","}, {"destroy", "--stack", " "},
	} {
		code, _, stderr := cli(t, args...)
		assert.Equal(t, 2, code, "%v", args)
		assert.Contains(t, stderr, "--"+strings.TrimPrefix(args[len(args)-2], "--")+" ", "%v", args)
	}
	_, err := listFlag("stack", "")
	assert.NoError(t, err, "left out")
}

// `transition` prints the steps, refuses bad input by name, and its JSON
// holds the same steps.
func TestTransitionCommand(t *testing.T) {
	code, out, stderr := cli(t, "transition", "--stack", "us-east-1", "--from", "100k", "--to", "1m")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "us-east-1: phase 100k -> 1m needs the steps below")
	assert.Contains(t, out, "add the instance-storage (NVMe) bookie set beside the EBS one")
	assert.Contains(t, out, "pulsar-fleet decommission --stack us-east-1 --statefulset pulsar-bookie --to 0 --read-only-first")
	// docs/operations.md shows the real output of these two.
	doc, err := os.ReadFile("../../docs/operations.md")
	require.NoError(t, err)
	assert.Contains(t, string(doc), strings.TrimSpace(out), "docs/operations.md: the 100k -> 1m output is stale")
	_, down, _ := cli(t, "transition", "--stack", "us-east-1", "--from", "10m", "--to", "1m")
	assert.Contains(t, string(doc), strings.TrimSpace(down), "docs/operations.md: the 10m -> 1m output is stale")
	code, out, _ = cli(t, "transition", "--stack", "us-east-1", "--from", "10m", "--to", "1m", "--json")
	require.Equal(t, 0, code)
	assert.Contains(t, out, `"title": "decommission bookies 9..50, one at a time"`)
	assert.Contains(t, down, "decommissionbookie")
	for args, want := range map[string][]string{
		"no stack":  {"transition", "--from", "35k", "--to", "100k"},
		"no from":   {"transition", "--stack", "us-east-1", "--to", "100k"},
		"same":      {"transition", "--stack", "us-east-1", "--from", "1m", "--to", "1m"},
		"bad phase": {"transition", "--stack", "us-east-1", "--from", "2m", "--to", "1m"},
	} {
		code, _, stderr := cli(t, want...)
		assert.Equal(t, 2, code, args)
		assert.NotEmpty(t, stderr, args)
	}
}

// The offline preview simulates a deployed phase: a direct 100k -> 1m is
// refused naming the transition, a safe change (10m -> 100m on the DR
// region: instance-storage bookies only grow) previews, and the real preview refuses the
// offline-only flag by name.
func TestPreviewDeployedPhase(t *testing.T) {
	code, _, stderr := cli(t, "preview", "--offline", "--stack", "eu-west-1", "--phase", "1m", "--deployed-phase", "100k")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "pulsar-fleet transition --stack eu-west-1 --from 100k --to 1m")
	code, _, stderr = cli(t, "preview", "--offline", "--stack", "eu-west-1", "--phase", "100m", "--deployed-phase", "10m")
	assert.Equal(t, 0, code, stderr)
	code, _, stderr = cli(t, "preview", "--offline", "--stack", "us-east-1", "--deployed-phase", "2m")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "deployed phase")
	code, _, stderr = cli(t, "preview", "--stack", "us-east-1", "--deployed-phase", "100k")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--deployed-phase applies to 'preview --offline' only")
}

// `guard` refuses what `preview` and `up` refuse, over outputs given as
// `pulumi stack output --json` prints them.
func TestGuardCommand(t *testing.T) {
	write := func(v map[string]any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		f := filepath.Join(t.TempDir(), "outputs.json")
		require.NoError(t, os.WriteFile(f, b, 0o600))
		return f
	}
	// The committed stack files declare us-east-1 at 35k, on EBS bookies
	// with the volumes the plan chooses there.
	volumes := map[string]any{"ledgerGiB": 768, "journalGiB": 24, "throughputMiB": 125, "ledgerIOPS": 3000, "journalIOPS": 6000}
	code, out, stderr := cli(t, "guard", "--stack", "us-east-1", "--outputs", write(map[string]any{"phase": "35k", "bookieSets": "ebs", "bookieVolumes": volumes,
		"tokenSigningKey": "fleet", "kubernetesVersion": "1.35", "zookeeperQuorumTls": "tls"}))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "safe as one `up`")
	// Deployed before quorum TLS: its quorum is plaintext, and TLS takes
	// three ordered `up`s.
	code, _, stderr = cli(t, "guard", "--stack", "us-east-1", "--outputs", write(map[string]any{"phase": "35k", "bookieSets": "ebs", "bookieVolumes": volumes,
		"tokenSigningKey": "fleet", "kubernetesVersion": "1.35"}))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "declare pulsar-fleet:zookeeper.quorumTls: accept first")
	// Deployed before the version was exported: it runs 1.33, two minors
	// below the stack file's.
	code, _, stderr = cli(t, "guard", "--stack", "us-east-1", "--outputs", write(map[string]any{"phase": "35k", "bookieSets": "ebs", "bookieVolumes": volumes,
		"tokenSigningKey": "fleet"}))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "the cluster runs Kubernetes 1.33 and EKS upgrades one minor version at a time: set 1.34")
	// Deployed before the fleet key: its tokens are the chart's key's.
	code, _, stderr = cli(t, "guard", "--stack", "us-east-1", "--outputs", write(map[string]any{"phase": "35k", "bookieSets": "ebs", "bookieVolumes": volumes, "kubernetesVersion": "1.35",
		"zookeeperQuorumTls": "tls"}))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "pulsar-fleet:tokens.signingKey: chart to keep the key")
	// Deployed before volumes were exported: it runs the old fixed ones.
	code, _, stderr = cli(t, "guard", "--stack", "us-east-1", "--outputs", write(map[string]any{"phase": "35k", "bookieSets": "ebs"}))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "`pulsar-fleet:bookieVolumes: {phase: 35k, ledgerGiB: 2048, journalGiB: 100, throughputMiB: 250}`")
	code, out, _ = cli(t, "guard", "--stack", "us-east-1", "--outputs", write(map[string]any{}))
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "never deployed")
	code, _, stderr = cli(t, "guard", "--stack", "us-east-1", "--outputs", write(map[string]any{"phase": "1m", "bookieSets": "nvme"}))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "pulsar-fleet transition --stack us-east-1 --from 1m --to 35k")
	code, _, stderr = cli(t, "guard", "--stack", "us-east-1", "--outputs", write(map[string]any{"phase": "35k", "bookieSets": "ebs,nvme",
		"transition": map[string]any{"from": "1m", "step": 2}}))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "phase 35k is the last step", "mid-transition, the phase needs the last step first")
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("[1, 2]"), 0o600))
	code, _, stderr = cli(t, "guard", "--stack", "us-east-1", "--outputs", bad)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "not the JSON object of `pulumi stack output --json`")
	code, _, stderr = cli(t, "guard", "--stack", "nowhere")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `unknown stack "nowhere"`)
	// What a failed `pulumi stack output` leaves, or a damaged file, is not
	// a stack never deployed.
	for _, tc := range []struct{ name, file, want string }{
		{"nothing", "", "--outputs: empty"},
		{"blanks", " \n", "--outputs: empty"},
		{"null", "null", "--outputs: null"},
		{"two values", `{} {"phase": "100m"}`, "more after the JSON object"},
		{"a stray brace", `{} }`, "more after the JSON object"},
	} {
		f := filepath.Join(t.TempDir(), "outputs.json")
		require.NoError(t, os.WriteFile(f, []byte(tc.file), 0o600))
		code, _, stderr = cli(t, "guard", "--stack", "us-east-1", "--outputs", f)
		assert.Equal(t, 2, code, tc.name)
		assert.Contains(t, stderr, tc.want, tc.name)
	}
	code, _, stderr = cli(t, "guard", "--stack", "us-east-1", "--outputs", write(map[string]any{"phase": 3}))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "output phase: 3 is not allowed: want a string")
	code, _, stderr = cli(t, "guard", "--stack", "us-east-1", "--outputs", write(map[string]any{}), "--fleet-key", "banana")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `--fleet-key: "banana" is not allowed: want sha256:<64 lowercase hex digits>`)
}

// fakeKubectl writes a kubectl that plays a cluster with one bookie
// StatefulSet of n replicas (its count in dir/replicas), the ledgers in
// dir/under under-replicated, and logs every call to dir/calls.
func fakeKubectl(t *testing.T, n int, under string) (bin, dir string) {
	return writeFakeKubectl(t, map[string]string{"replicas": fmt.Sprint(n), "under": under}, `
  *"scale statefulset/"*) echo "$*" | sed 's/.*--replicas=//' > "$d/replicas" ;;
  *"wait --for=delete"*) ;;
  *listunderreplicated*) cat "$d/under" ;;
  *"listbookies -rw"*) i=0; while [ $i -lt "$(cat "$d/replicas")" ]; do echo "BookieID:pulsar-bookie-$i.pulsar-bookie.pulsar.svc.cluster.local:3181, IP:10.0.0.$i, Port:3181"; i=$((i+1)); done ;;
  *decommissionbookie*) ;;`)
}

// writeFakeKubectl writes a kubectl that keeps its state in files of dir
// (named by files, with their first contents), logs every call to
// dir/calls, answers `get statefulset` from dir/replicas and each of
// cases (sh case branches), and fails on anything else.
func writeFakeKubectl(t *testing.T, files map[string]string, cases string) (bin, dir string) {
	dir = t.TempDir()
	for name, v := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600))
	}
	script := `#!/bin/sh
d="` + dir + `"
echo "$*" >> "$d/calls"
case "$*" in
  *"get statefulset"*) cat "$d/replicas" ;;` + cases + `
  *) echo "unexpected: $*" >&2; exit 1 ;;
esac
`
	bin = filepath.Join(dir, "kubectl")
	require.NoError(t, os.WriteFile(bin, []byte(script), 0o755))
	return bin, dir
}

// `decommission` runs the checks and commands of a transition's
// decommission step through kubectl, and refuses while ledgers are
// under-replicated.
func TestDecommissionCommand(t *testing.T) {
	bin, dir := fakeKubectl(t, 6, "")
	code, out, stderr := cli(t, "decommission", "--stack", "us-east-1", "--statefulset", "pulsar-bookie", "--to", "4", "--kubectl", bin, "--context", "us-east-1")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "pulsar-bookie-5: decommissioned")
	calls, err := os.ReadFile(filepath.Join(dir, "calls"))
	require.NoError(t, err)
	var scaled []string
	for _, l := range strings.Split(string(calls), "\n") {
		assert.True(t, l == "" || strings.HasPrefix(l, "-n pulsar --context us-east-1 "), "every call in the namespace and context: %q", l)
		if strings.Contains(l, "scale ") || strings.Contains(l, "decommissionbookie") {
			scaled = append(scaled, strings.TrimPrefix(l, "-n pulsar --context us-east-1 "))
		}
	}
	assert.Equal(t, []string{
		"scale statefulset/pulsar-bookie --replicas=5",
		"exec pulsar-toolset-0 -- bin/bookkeeper shell decommissionbookie -bookieid pulsar-bookie-5.pulsar-bookie.pulsar.svc.cluster.local:3181",
		"scale statefulset/pulsar-bookie --replicas=4",
		"exec pulsar-toolset-0 -- bin/bookkeeper shell decommissionbookie -bookieid pulsar-bookie-4.pulsar-bookie.pulsar.svc.cluster.local:3181",
	}, scaled)

	bin, dir = fakeKubectl(t, 6, "4711\n")
	code, _, stderr = cli(t, "decommission", "--stack", "us-east-1", "--statefulset", "pulsar-bookie", "--to", "4", "--kubectl", bin)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "not decommissioning: 1 under-replicated ledgers (first: 4711)")
	calls, err = os.ReadFile(filepath.Join(dir, "calls"))
	require.NoError(t, err)
	assert.NotContains(t, string(calls), "scale", "nothing stopped")

	code, _, stderr = cli(t, "decommission", "--stack", "us-east-1", "--statefulset", "pulsar-proxy", "--to", "0")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `--statefulset "pulsar-proxy": want pulsar-bookie or pulsar-nvme-bookie`)
}

// fakeKubectlVolumes plays a cluster whose ledger claims (journal
// claims: the j files) all request dir/request and ask for the class in
// dir/class, and have dir/capacity, the class in dir/current and the
// modifyVolumeStatus object in dir/modify (if any); the cluster has the
// VolumeAttributesClasses listed in dir/classes. It logs every call to
// dir/calls.
func fakeKubectlVolumes(t *testing.T, replicas int, request, capacity string) (bin, dir string) {
	files := map[string]string{"replicas": fmt.Sprint(replicas)}
	for _, k := range []string{"", "j"} {
		files[k+"request"], files[k+"capacity"], files[k+"class"], files[k+"current"] = request, capacity, "", ""
	}
	files["jrequest"], files["jcapacity"], files["modify"] = "24Gi", "24Gi", "null"
	files["classes"] = "gp3-375mibs-3000iops\ngp3-375mibs-6000iops\n"
	return writeFakeKubectl(t, files, `
  *"get volumeattributesclass"*) for c in $(cat "$d/classes"); do case "$*" in *" $c "*) echo "volumeattributesclass.storage.k8s.io/$c" ;; esac; done ;;
  *"get pvc"*) k=""; case "$*" in *journal*) k=j ;; esac
    printf '{"spec":{"volumeAttributesClassName":"%s","resources":{"requests":{"storage":"%s"}}},"status":{"capacity":{"storage":"%s"},"currentVolumeAttributesClassName":"%s","modifyVolumeStatus":%s}}' "$(cat "$d/${k}class")" "$(cat "$d/${k}request")" "$(cat "$d/${k}capacity")" "$(cat "$d/${k}current")" "$(cat "$d/modify")" ;;
  *"patch pvc"*) k=""; case "$*" in *journal*) k=j ;; esac
    r="$(echo "$*" | sed -n 's/.*"storage":"\([0-9A-Za-z]*\)".*/\1/p')"; [ -z "$r" ] || echo "$r" > "$d/${k}request"
    c="$(echo "$*" | sed -n 's/.*"volumeAttributesClassName":"\([0-9a-z-]*\)".*/\1/p')"; [ -z "$c" ] || echo "$c" > "$d/${k}class" ;;
  *"delete statefulset"*) ;;`)
}

// `resize` sets every claim's new size and attributes class in one patch,
// stops until the volumes report both, and only then deletes the
// StatefulSet, leaving its bookies.
func TestResizeCommand(t *testing.T) {
	bin, dir := fakeKubectlVolumes(t, 6, "1536Gi", "1536Gi")
	resize := []string{"resize", "--stack", "us-west-2", "--from", "100k", "--to", "1m", "--kubectl", bin, "--context", "us-west-2"}
	code, out, stderr := cli(t, resize...)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "pulsar-bookie-ledgers-pulsar-bookie-0: 1536Gi -> 4096Gi, attributes the storage class's -> gp3-375mibs-3000iops", "(this fake shares one claim state among the ledger claims; TestResizeRun moves each)")
	assert.Contains(t, stderr, "claims still being modified")
	calls, err := os.ReadFile(filepath.Join(dir, "calls"))
	require.NoError(t, err)
	assert.Contains(t, string(calls), `-n pulsar --context us-west-2 patch pvc pulsar-bookie-ledgers-pulsar-bookie-0 --type=merge -p {"spec":{"resources":{"requests":{"storage":"4096Gi"}},"volumeAttributesClassName":"gp3-375mibs-3000iops"}}`,
		"size and class in one patch: one EBS modification")
	assert.NotContains(t, string(calls), "delete")

	// The size is done, the class not yet: still no deletion.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "capacity"), []byte("4Ti"), 0o600))
	code, _, stderr = cli(t, resize...)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "claims still being modified")
	calls, err = os.ReadFile(filepath.Join(dir, "calls"))
	require.NoError(t, err)
	assert.NotContains(t, string(calls), "delete")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "current"), []byte("gp3-375mibs-3000iops"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "jcurrent"), []byte("gp3-375mibs-6000iops"), 0o600))
	code, out, stderr = cli(t, resize...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "pulsar-bookie deleted, its bookies left running")
	calls, err = os.ReadFile(filepath.Join(dir, "calls"))
	require.NoError(t, err)
	assert.Contains(t, string(calls), "-n pulsar --context us-west-2 delete statefulset pulsar-bookie --cascade=orphan")

	// The driver refuses a modification: an error, not a gate to wait at.
	bin, dir = fakeKubectlVolumes(t, 6, "1536Gi", "1536Gi")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "modify"), []byte(`{"status":"Infeasible","targetVolumeAttributesClassName":"gp3-375mibs-3000iops"}`), 0o600))
	code, _, stderr = cli(t, append(resize[:len(resize):len(resize)], "--kubectl", bin)...)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "claim pulsar-bookie-ledgers-pulsar-bookie-0: the EBS CSI driver finds its modification to gp3-375mibs-3000iops infeasible (`kubectl -n pulsar describe pvc")
	// A class the cluster lacks (the step's `up` not run): no patch.
	bin, dir = fakeKubectlVolumes(t, 6, "1536Gi", "1536Gi")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "classes"), []byte("gp3-375mibs-6000iops\n"), 0o600))
	code, _, stderr = cli(t, append(resize[:len(resize):len(resize)], "--kubectl", bin)...)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "the cluster has no VolumeAttributesClass gp3-375mibs-3000iops")
	calls, err = os.ReadFile(filepath.Join(dir, "calls"))
	require.NoError(t, err)
	assert.NotContains(t, string(calls), "patch")

	// Below Kubernetes 1.34 there is no VolumeAttributesClass: refused
	// before any call.
	old := t.TempDir()
	for _, f := range []string{"Pulumi.yaml", "Pulumi.us-east-1.yaml", "Pulumi.us-west-2.yaml", "Pulumi.eu-west-1.yaml"} {
		b, err := os.ReadFile(filepath.Join("../..", f))
		require.NoError(t, err)
		b = bytes.ReplaceAll(b, []byte(`kubernetesVersion: "1.35"`), []byte(`kubernetesVersion: "1.33"`))
		require.NoError(t, os.WriteFile(filepath.Join(old, f), b, 0o644))
	}
	bin, dir = fakeKubectlVolumes(t, 6, "1536Gi", "1536Gi")
	var o, e bytes.Buffer
	assert.Equal(t, 2, run(append(resize[:1:1], append([]string{"--dir", old, "--kubectl", bin}, resize[1:7]...)...), &o, &e))
	assert.Contains(t, e.String(), "us-west-2 runs Kubernetes 1.33: the resize moves volumes by VolumeAttributesClass, which needs 1.34 or later")
	_, err = os.Stat(filepath.Join(dir, "calls"))
	assert.True(t, os.IsNotExist(err), "no kubectl call")

	code, _, stderr = cli(t, "resize", "--stack", "us-east-1", "--from", "10m", "--to", "100m")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "has no resize step")
	code, _, stderr = cli(t, "resize", "--stack", "us-east-1", "--from", "100k")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--to is required")
}

// `upgrade-check` reads the nodes through kubectl and refuses a version a
// kubelet cannot follow, naming the node; within the skew it lists each
// pool's oldest kubelet.
func TestUpgradeCheckCommand(t *testing.T) {
	node := func(name, label, pool, v string) string {
		return fmt.Sprintf(`{"metadata":{"name":%q,"labels":{%q:%q,%q:"us-east-1"}},"status":{"nodeInfo":{"kubeletVersion":%q}}}`,
			name, label, pool, model.LabelRegion, v)
	}
	nodes := func(bookie string) string {
		// The oldest bookie node is listed last.
		return `{"items":[` + strings.Join([]string{
			node("ip-10-0-1-1", model.LabelNodeGroup, "system", "v1.35.0-eks-1"),
			node("ip-10-0-1-2", model.LabelNodePool, "broker-spot", "v1.35.0-eks-1"),
			node("ip-10-0-1-4", model.LabelNodePool, "bookie-nvme", "v1.34.2-eks-1"),
			node("ip-10-0-1-3", model.LabelNodePool, "bookie-nvme", bookie),
		}, ",") + `]}`
	}
	var answer string // what the stand-in kubectl answers instead, when set
	check := func(bookie string, extra ...string) (int, string, string, string) {
		out := nodes(bookie)
		if answer != "" {
			out = answer
		}
		bin, dir := writeFakeKubectl(t, map[string]string{"nodes": out}, `
  *"get nodes -o json"*) cat "$d/nodes"; case "$(cat "$d/nodes")" in error*) exit 1 ;; esac ;;`)
		code, out, stderr := cli(t, append([]string{"upgrade-check", "--stack", "us-east-1", "--kubectl", bin, "--context", "us-east-1"}, extra...)...)
		calls, err := os.ReadFile(filepath.Join(dir, "calls"))
		if !errors.Is(err, fs.ErrNotExist) {
			require.NoError(t, err)
		}
		return code, out, stderr, string(calls)
	}

	// The stack file declares 1.35: three minor versions behind is allowed.
	code, out, stderr, calls := check("v1.32.9-eks-113cf36")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "--context us-east-1 get nodes -o json\n", calls, "cluster-scoped, in the given context")
	assert.Contains(t, out, "stack us-east-1: every kubelet of its 4 nodes can follow Kubernetes 1.35")
	assert.Regexp(t, `bookie-nvme\s+oldest kubelet v1\.32\.9-eks-113cf36 \(ip-10-0-1-3\)`, out)
	assert.Regexp(t, `system\s+oldest kubelet v1\.35\.0-eks-1 \(ip-10-0-1-1\)`, out)

	// Four behind is refused, with the node and the runbook named.
	code, _, stderr, _ = check("v1.31.4-eks-0f56d01")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "node ip-10-0-1-3 (bookie-nvme) runs kubelet v1.31.4-eks-0f56d01, 4 minor versions behind 1.35 (at most 3)")
	assert.Contains(t, stderr, "Instance-storage bookies move by hand")

	// --to checks another version: below a running kubelet is refused
	// too; one outside the calendar is refused before kubectl runs.
	code, _, stderr, _ = check("v1.32.9", "--to", "1.34")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "node ip-10-0-1-1 (system) runs kubelet v1.35.0-eks-1, newer than the control plane's 1.34")
	code, _, stderr, calls = check("v1.32.9", "--to", "1.30")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `--to "1.30": want one of [1.32 1.33 1.34 1.35]`)
	assert.Empty(t, calls)

	// The wrong cluster says nothing: no nodes, another region's, or none
	// labelled with a region, is refused; so is a kubectl that fails.
	for a, want := range map[string]string{
		`{"items":[]}`: "stack us-east-1: the cluster has no nodes; is --context the stack's cluster?",
		`{"items":[` + strings.Replace(node("ip-10-1-1-1", model.LabelNodeGroup, "system", "v1.35.0"), `"us-east-1"`, `"eu-west-1"`, 1) + `]}`: "stack us-east-1 runs in us-east-1, but node ip-10-1-1-1 is in eu-west-1: --context names another cluster",
		`{"items":[{"metadata":{"name":"kind-control-plane","labels":{}},"status":{"nodeInfo":{"kubeletVersion":"v1.35.0"}}}]}`:                "no node carries the label " + model.LabelRegion + ": --context does not name an EKS cluster of that region",
		"error: the server has asked for the client to provide credentials":                                                                    "kubectl get nodes -o json: exit status 1",
	} {
		answer = a
		code, _, stderr, _ = check("")
		answer = ""
		assert.Equal(t, 1, code, a)
		assert.Contains(t, stderr, want, a)
	}
}
