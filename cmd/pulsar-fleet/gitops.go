package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/pulsar-fleet/pulsar-fleet/gitops"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// runRenderGitops writes (or, with --check, verifies) the operator Stacks,
// the kustomization and the GitHub workflows from the stack graph.
func runRenderGitops(args []string, stdout io.Writer) error {
	o := gitops.DefaultOptions()
	fs := newFlags("render-gitops", stdout)
	dir := fs.String("dir", ".", "project directory (reads Pulumi.<stack>.yaml, writes gitops/ and .github/workflows/)")
	check := fs.Bool("check", false, "write nothing; fail if the committed files differ from the rendering")
	fs.StringVar(&o.Repo, "repo", o.Repo, "git URL the operator clones")
	fs.StringVar(&o.Branch, "branch", o.Branch, "branch the operator follows")
	fs.StringVar(&o.Backend, "backend", o.Backend, "the team's state backend")
	fs.StringVar(&o.SecretsProvider, "secrets-provider", o.SecretsProvider, "KMS secrets provider of the stacks")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "namespace of the operator's Stacks")
	fs.StringVar(&o.ServiceAccount, "service-account", o.ServiceAccount, "workspace service account (IRSA to the deploy role)")
	fs.StringVar(&o.GitSecret, "git-secret", o.GitSecret, "Secret holding the repository token (key accessToken)")
	fs.StringVar(&o.Runner, "runner", o.Runner, "runs-on label(s), comma-separated, of the workflow jobs that reach the clusters (a runner inside the VPC for a private endpoint)")
	fs.StringVar(&o.PrerequisiteWithin, "prerequisite-within", o.PrerequisiteWithin, "how recently a prerequisite stack must have succeeded")
	fs.IntVar(&o.ResyncSeconds, "resync-seconds", o.ResyncSeconds, "operator poll and drift re-run period")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fleet, _, err := stacks.LoadFleet(*dir)
	if err != nil {
		return usagef("%v", err)
	}
	files, err := gitops.Render(fleet, o)
	if err != nil {
		return usagef("%v", err)
	}
	root, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if *check {
		stale, extra, err := gitops.Diff(root, files)
		if err != nil {
			return err
		}
		if len(stale)+len(extra) > 0 {
			return fmt.Errorf("generated files are stale: %v, no longer rendered: %v; run 'pulsar-fleet render-gitops'", stale, extra)
		}
		fmt.Fprintf(stdout, "%d generated files are current\n", len(files))
		return nil
	}
	changed, err := gitops.Write(root, files)
	if err != nil {
		return err
	}
	for _, p := range changed {
		fmt.Fprintln(stdout, "wrote", p)
	}
	fmt.Fprintf(stdout, "%d generated files, %d changed\n", len(files), len(changed))
	return nil
}
