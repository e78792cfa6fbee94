// Package gitops renders the repository's GitOps delivery from the stack
// graph the fleet driver uses: one Pulumi Kubernetes Operator Stack per
// region (prerequisites follow the graph), a kustomization, and the GitHub
// workflows (pull-request previews per stack, main-branch deploy through
// the fleet driver, scheduled drift check). `pulsar-fleet render-gitops`
// writes the files; a test fails when the committed ones are stale.
package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pulsar-fleet/pulsar-fleet/internal/jsonform"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// Options are the deployment-specific settings of the rendered manifests.
type Options struct {
	// Repo and Branch are where the operator fetches this repository.
	Repo, Branch string
	// Backend is the team's state backend (S3).
	Backend string
	// SecretsProvider is the KMS key encrypting stack secrets.
	SecretsProvider string
	// Namespace is where the operator's Stacks live.
	Namespace string
	// ServiceAccount is the workspace pods' account (IRSA to the deploy role).
	ServiceAccount string
	// GitSecret holds the repository access token (key accessToken).
	GitSecret string
	// PrerequisiteWithin is how recently a prerequisite must have succeeded.
	PrerequisiteWithin string
	// ResyncSeconds is how often the operator polls and re-runs for drift.
	ResyncSeconds int
	// Runner is the runs-on label(s), comma-separated, of the workflow jobs
	// that reach the clusters (previews, deploy, drift). The EKS endpoint
	// is private by default: a runner inside the VPC (self-hosted, with its
	// own label) reaches it; a GitHub-hosted one needs its egress addresses
	// in cluster.publicAccessCidrs (a waiver `pulsar-fleet check` reports).
	Runner string
}

// DefaultOptions are the committed files' settings.
func DefaultOptions() Options {
	return Options{
		Repo: "https://github.com/pulsar-fleet/pulsar-fleet.git", Branch: "main",
		Backend:            "s3://pulsar-fleet-state?region=us-east-1",
		SecretsProvider:    "awskms://alias/pulsar-fleet-state?region=us-east-1",
		Namespace:          "pulumi-kubernetes-operator",
		ServiceAccount:     "pulsar-fleet-deployer",
		GitSecret:          "pulsar-fleet-git",
		PrerequisiteWithin: "24h",
		ResyncSeconds:      1800,
		Runner:             DefaultRunner,
	}
}

// Validate rejects options the operator could not use, naming the field.
func (o Options) Validate() error {
	var errs []error
	bad := func(field, value, want string) {
		errs = append(errs, fmt.Errorf("gitops option %s=%q: %s", field, value, want))
	}
	if u, err := url.Parse(o.Repo); err != nil || (u.Scheme != "https" && u.Scheme != "ssh") || u.Host == "" {
		bad("repo", o.Repo, "want an https:// or ssh:// git URL the operator can clone")
	}
	if o.Branch == "" {
		bad("branch", o.Branch, "want a branch name")
	}
	if u, err := url.Parse(o.Backend); err != nil || !slices.Contains([]string{"s3", "gs", "azblob", "https"}, u.Scheme) {
		bad("backend", o.Backend, "want a shared backend the operator reaches (s3://, gs://, azblob:// or https://); file:// exists only on one machine")
	}
	if u, err := url.Parse(o.SecretsProvider); err != nil || !slices.Contains([]string{"awskms", "gcpkms", "azurekeyvault", "hashivault"}, u.Scheme) {
		bad("secrets-provider", o.SecretsProvider, "want a KMS secrets provider (awskms://...); a passphrase would have to live in the cluster")
	}
	for field, v := range map[string]string{"namespace": o.Namespace, "service-account": o.ServiceAccount, "git-secret": o.GitSecret} {
		if !model.IsKubernetesName(v) {
			bad(field, v, "want a Kubernetes name (lowercase letters, digits, '-', at most 63)")
		}
	}
	if d, err := time.ParseDuration(o.PrerequisiteWithin); err != nil || d <= 0 {
		bad("prerequisite-within", o.PrerequisiteWithin, "want a positive Go duration such as 24h")
	}
	if _, err := runsOn(o.Runner); err != nil {
		bad("runner", o.Runner, err.Error())
	}
	if o.ResyncSeconds < 60 {
		bad("resync-seconds", fmt.Sprint(o.ResyncSeconds), "want at least 60 (the operator's minimum)")
	}
	return errors.Join(errs...)
}

// Stack is pulumi.com/v1 Stack (the fields the program sets).
type Stack struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Metadata   Meta      `json:"metadata"`
	Spec       StackSpec `json:"spec"`
}

// Meta is object metadata.
type Meta struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"`
}

// StackSpec is the Stack spec.
type StackSpec struct {
	Stack                       string            `json:"stack"`
	ProjectRepo                 string            `json:"projectRepo"`
	Branch                      string            `json:"branch"`
	RepoDir                     string            `json:"repoDir"`
	Backend                     string            `json:"backend"`
	SecretsProvider             string            `json:"secretsProvider"`
	Refresh                     bool              `json:"refresh"`
	ResyncFrequencySeconds      int               `json:"resyncFrequencySeconds"`
	ContinueResyncOnCommitMatch bool              `json:"continueResyncOnCommitMatch"`
	DestroyOnFinalize           bool              `json:"destroyOnFinalize"`
	ServiceAccountName          string            `json:"serviceAccountName"`
	GitAuth                     GitAuth           `json:"gitAuth"`
	Prerequisites               []Prerequisite    `json:"prerequisites,omitempty"`
	WorkspaceTemplate           WorkspaceTemplate `json:"workspaceTemplate"`
}

// GitAuth reads the token from a Secret.
type GitAuth struct {
	AccessToken Ref `json:"accessToken"`
}

// Ref is the operator's ResourceRef.
type Ref struct {
	Type   string     `json:"type"`
	Secret *SecretRef `json:"secret,omitempty"`
}

// SecretRef names a key of a Secret.
type SecretRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// Prerequisite is another Stack that must have succeeded.
type Prerequisite struct {
	Name        string      `json:"name"`
	Requirement Requirement `json:"requirement"`
}

// Requirement bounds how long ago the prerequisite succeeded.
type Requirement struct {
	SucceededWithinDuration string `json:"succeededWithinDuration"`
}

// WorkspaceTemplate sizes the workspace pod (the Go program compiles there;
// the instance catalog is embedded in it).
type WorkspaceTemplate struct {
	Spec WorkspaceSpec `json:"spec"`
}

// WorkspaceSpec is the Workspace spec subset.
type WorkspaceSpec struct {
	Resources map[string]map[string]string `json:"resources"`
}

// ResourceName is the Stack resource name of a stack.
func ResourceName(stack string) string { return stacks.Project + "-" + stack }

// Stacks renders one Stack per stack of the fleet; prerequisites are the
// stacks it reads (the graph's edges).
func Stacks(g *stacks.Graph, o Options) []Stack {
	var out []Stack
	for _, s := range g.Order() {
		st := Stack{APIVersion: "pulumi.com/v1", Kind: "Stack",
			Metadata: Meta{Name: ResourceName(s), Namespace: o.Namespace,
				Labels: map[string]string{"app.kubernetes.io/part-of": stacks.Project, "pulsar-fleet.io/stack": s}},
			Spec: StackSpec{
				Stack: "organization/" + stacks.Project + "/" + s, ProjectRepo: o.Repo, Branch: o.Branch, RepoDir: ".",
				Backend: o.Backend, SecretsProvider: o.SecretsProvider, Refresh: true,
				ResyncFrequencySeconds: o.ResyncSeconds, ContinueResyncOnCommitMatch: true, DestroyOnFinalize: false,
				ServiceAccountName: o.ServiceAccount,
				GitAuth:            GitAuth{AccessToken: Ref{Type: "Secret", Secret: &SecretRef{Name: o.GitSecret, Key: "accessToken"}}},
				WorkspaceTemplate: WorkspaceTemplate{Spec: WorkspaceSpec{
					// The program links the AWS, EKS and Kubernetes SDKs: the
					// linker peaks near 5 GB.
					Resources: map[string]map[string]string{"requests": {"cpu": "2", "memory": "6Gi"}, "limits": {"memory": "8Gi"}},
				}},
			},
		}
		for _, p := range g.Reads[s] {
			st.Spec.Prerequisites = append(st.Spec.Prerequisites, Prerequisite{Name: ResourceName(p), Requirement: Requirement{SucceededWithinDuration: o.PrerequisiteWithin}})
		}
		out = append(out, st)
	}
	return out
}

const header = "# Generated by `pulsar-fleet render-gitops` from the stack graph; do not edit.\n"

// toYAML renders a typed value as YAML through its JSON form (so the JSON
// tags decide the keys).
func toYAML(v any) ([]byte, error) {
	tree, err := jsonform.Value(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(tree); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Render returns every generated file, keyed by path relative to the
// repository root.
func Render(fleet stacks.Fleet, o Options) (map[string][]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	g, err := stacks.NewGraph(fleet)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	var names []string
	for _, st := range Stacks(g, o) {
		y, err := toYAML(st)
		if err != nil {
			return nil, err
		}
		name := "stacks/" + st.Metadata.Name + ".yaml"
		names = append(names, name)
		files["gitops/"+name] = append([]byte(header), y...)
	}
	sort.Strings(names)
	kust := map[string]any{"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "namespace": o.Namespace, "resources": names}
	y, err := toYAML(kust)
	if err != nil {
		return nil, err
	}
	files["gitops/kustomization.yaml"] = append([]byte(header), y...)
	runner, err := runsOn(o.Runner)
	if err != nil {
		return nil, err
	}
	for path, body := range Workflows(g, runner) {
		files[path] = append([]byte(header), body...)
	}
	return files, nil
}

// DefaultRunner is a GitHub-hosted runner.
const DefaultRunner = "ubuntu-24.04"

var runnerLabel = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// runsOn renders the runs-on value of comma-separated runner labels.
func runsOn(labels string) (string, error) {
	parts := strings.Split(labels, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
		if !runnerLabel.MatchString(parts[i]) {
			return "", fmt.Errorf("want comma-separated runner labels (letters, digits, '.', '_', '-'), e.g. %s or self-hosted,pulsar-fleet-vpc", DefaultRunner)
		}
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return "[" + strings.Join(parts, ", ") + "]", nil
}

// Workflows renders the GitHub workflows for the stacks of the graph; the
// jobs that reach the clusters run on runner (a runs-on value).
func Workflows(g *stacks.Graph, runner string) map[string][]byte {
	order := g.Order()
	matrix := "[" + strings.Join(quote(order), ", ") + "]"
	return map[string][]byte{
		".github/workflows/pull-request.yml": []byte(fmt.Sprintf(prWorkflow, matrix, previewJobSetup, runner)),
		".github/workflows/deploy.yml":       []byte(fmt.Sprintf(deployWorkflow, runner)),
		".github/workflows/drift.yml":        []byte(fmt.Sprintf(driftWorkflow, matrix, previewJobSetup, runner)),
	}
}

func quote(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// previewJobSetup is the environment and first steps of a per-stack job
// with the read-only preview role (pull-request previews, drift checks).
const previewJobSetup = `    env:
      PULUMI_BACKEND_URL: ${{ vars.PULUMI_BACKEND_URL }}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-version-file: go.mod
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: ${{ vars.PREVIEW_ROLE_ARN }}
          aws-region: us-east-1
`

// The workflows. AWS credentials come from an OIDC-assumed role (no keys in
// GitHub secrets); the state backend and KMS key are the team's.
const prWorkflow = `name: pull-request
on:
  pull_request:
    branches: [main]
permissions:
  contents: read
  id-token: write
  pull-requests: write
concurrency:
  group: pr-${{ github.event.pull_request.number }}
  cancel-in-progress: true
jobs:
  test:
    runs-on: ubuntu-24.04
    timeout-minutes: 90
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-version-file: go.mod
      - name: Tests (the README's test command, with its tools)
        # The upstream reference directory (released charts, CRDs) is not
        # part of the repository: its tests skip here, naming what they lack.
        env:
          REQUIRE_REFERENCE: "0"
        run: .ci/run
  preview:
    needs: test
    runs-on: %[3]s
    timeout-minutes: 60
    strategy:
      fail-fast: false
      matrix:
        stack: %[1]s
%[2]s      - uses: pulumi/actions@v6
        with:
          pulumi-version: 3.259.0
      - name: Refuse a phase or transition step one up cannot apply safely
        # The guard of pulsar-fleet preview and up, over the deployed
        # outputs (docs/operations.md, "Moving between phases") and the
        # bootstrap stack's fleet key ("Rotating the fleet signing key").
        run: |
          # Only a stack not created yet counts as never deployed ({}):
          # any other failure to read its outputs fails the job, since the
          # guard would pass every change over no outputs.
          if ! pulumi stack output --json --stack organization/pulsar-fleet/${{ matrix.stack }} > deployed.json 2> outputs.err; then
            grep -q "no stack named" outputs.err || { cat outputs.err; exit 1; }
            echo '{}' > deployed.json
          fi
          # Secrets are not shown (the fingerprint is plain, the keys stay
          # sealed), and a bootstrap stack that cannot be read fails the job.
          set -o pipefail
          fleet_key="$(pulumi stack output --json --stack organization/pulsar-fleet-bootstrap/admin | jq -r '.fleetTokenKeyFingerprint // ""')"
          go run ./cmd/pulsar-fleet guard --stack ${{ matrix.stack }} --outputs deployed.json --fleet-key "$fleet_key"
      - uses: pulumi/actions@v6
        with:
          pulumi-version: 3.259.0
          command: preview
          stack-name: organization/pulsar-fleet/${{ matrix.stack }}
          work-dir: .
          comment-on-pr: true
          github-token: ${{ secrets.GITHUB_TOKEN }}
          diff: true
`

const deployWorkflow = `name: deploy
on:
  push:
    branches: [main]
permissions:
  contents: read
  id-token: write
concurrency:
  group: deploy-main
  cancel-in-progress: false
jobs:
  deploy:
    # One delivery path at a time: the Pulumi Kubernetes Operator (gitops/)
    # or this workflow. Set the repository variable PULSAR_FLEET_DELIVERY to
    # "actions" to deploy from here instead of the operator.
    if: vars.PULSAR_FLEET_DELIVERY == 'actions'
    runs-on: %[1]s
    timeout-minutes: 240
    environment: production
    env:
      PULUMI_BACKEND_URL: ${{ vars.PULUMI_BACKEND_URL }}
      PULSAR_FLEET_SECRETS_PROVIDER: ${{ vars.PULSAR_FLEET_SECRETS_PROVIDER }}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-version-file: go.mod
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: ${{ vars.DEPLOY_ROLE_ARN }}
          aws-region: us-east-1
          role-duration-seconds: 14400
      - uses: pulumi/actions@v6
        with:
          pulumi-version: 3.259.0
      - name: Deploy every stack in stack-graph order
        run: go run ./cmd/pulsar-fleet up
`

const driftWorkflow = `name: drift
on:
  schedule:
    - cron: "17 6 * * *"
  workflow_dispatch: {}
permissions:
  contents: read
  id-token: write
jobs:
  drift:
    runs-on: %[3]s
    timeout-minutes: 60
    strategy:
      fail-fast: false
      matrix:
        stack: %[1]s
%[2]s      - name: Refresh, then fail if the refreshed stack differs from the program
        uses: pulumi/actions@v6
        with:
          pulumi-version: 3.259.0
          command: preview
          refresh: true
          expect-no-changes: true
          stack-name: organization/pulsar-fleet/${{ matrix.stack }}
          work-dir: .
`

// Generated reports whether a file carries the generated header.
func Generated(body []byte) bool { return bytes.HasPrefix(body, []byte(header)) }

// Diff compares rendered files with a repository checkout at root: paths
// that are missing or differ, and generated stack manifests that no stack
// renders any more (a removed region).
func Diff(root string, files map[string][]byte) (stale, extra []string, err error) {
	for path, want := range files {
		got, err := os.ReadFile(filepath.Join(root, path))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		if !bytes.Equal(got, want) {
			stale = append(stale, path)
		}
	}
	entries, err := os.ReadDir(filepath.Join(root, "gitops", "stacks"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	for _, e := range entries {
		path := "gitops/stacks/" + e.Name()
		if _, ok := files[path]; ok || e.IsDir() {
			continue
		}
		if body, err := os.ReadFile(filepath.Join(root, path)); err == nil && Generated(body) {
			extra = append(extra, path)
		}
	}
	sort.Strings(stale)
	sort.Strings(extra)
	return stale, extra, nil
}

// Write writes the rendered files under root and removes generated stack
// manifests no stack renders any more. It returns what changed.
func Write(root string, files map[string][]byte) ([]string, error) {
	stale, extra, err := Diff(root, files)
	if err != nil {
		return nil, err
	}
	for _, path := range stale {
		full := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(full, files[path], 0o644); err != nil {
			return nil, err
		}
	}
	for _, path := range extra {
		if err := os.Remove(filepath.Join(root, path)); err != nil {
			return nil, err
		}
	}
	return append(stale, extra...), nil
}
