package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// stdin is where destroy reads its confirmation, and stdinIsTerminal
// whether a person can type it (tests replace both).
var (
	stdin           io.Reader = os.Stdin
	stdinIsTerminal           = func() bool {
		fi, err := os.Stdin.Stat()
		return err == nil && fi.Mode()&os.ModeCharDevice != 0
	}
)

// awsCredentialSources reports where AWS credentials could come from.
func awsCredentialSources() []string {
	var found []string
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		if os.Getenv(k) != "" {
			found = append(found, k)
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		for _, f := range []string{".aws/credentials", ".aws/config"} {
			if _, err := os.Stat(filepath.Join(home, f)); err == nil {
				found = append(found, "~/"+f)
			}
		}
	}
	return found
}

// checkEngine fails fast, before any stack is touched, saying what is
// missing for a real run.
func checkEngine(op stacks.Operation, pulumiBin string) error {
	var missing []string
	if pulumiBin == "" {
		if _, err := exec.LookPath("pulumi"); err != nil {
			missing = append(missing, "the Pulumi CLI (pulumi on PATH, or --pulumi)")
		}
	}
	if len(awsCredentialSources()) == 0 && os.Getenv("PULSAR_FLEET_SKIP_AWS_CHECK") == "" {
		missing = append(missing, "AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, web identity, or ~/.aws/credentials)")
	}
	if len(missing) > 0 {
		return usagef("a real %s needs %s; to preview without them run 'pulsar-fleet preview --offline'", op, strings.Join(missing, " and "))
	}
	return nil
}

func engineCommand(op stacks.Operation) func([]string, io.Writer) error {
	return func(args []string, stdout io.Writer) error {
		fs := newFlags(string(op), stdout)
		stack := fs.String("stack", "", "comma-separated stacks (default: every stack, in stack-graph order)")
		withPre := fs.Bool("with-prerequisites", false, "add the prerequisites (dependents, for destroy) the chosen stacks need")
		partial := fs.Bool("allow-partial", false, "run a subset that omits prerequisites, trusting their deployed state")
		parallel := fs.Int("parallel", 3, "independent stacks run at once")
		dir := fs.String("dir", ".", "project directory")
		bin := fs.String("pulumi", "", "path to the pulumi executable (default: on PATH)")
		yes := fs.Bool("yes", false, "destroy without asking")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		only, err := listFlag("stack", *stack)
		if err != nil {
			return err
		}
		d := &stacks.Driver{WorkDir: *dir, Stacks: only, IncludePrerequisites: *withPre, AllowPartial: *partial,
			Parallel: *parallel, PulumiBin: *bin, Out: stdout, SecretsProvider: os.Getenv("PULSAR_FLEET_SECRETS_PROVIDER")}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		if op == stacks.OpPreview || op == stacks.OpUp {
			// Refuse a phase change one `up` cannot make safely, read
			// against each stack's deployed `phase` output.
			fleet, _, err := stacks.LoadFleet(*dir)
			if err != nil {
				return usagef("%v", err)
			}
			cat, err := openCatalog("")
			if err != nil {
				return err
			}
			// A stack's tokens stay with the fleet key they were
			// minted from, read from the bootstrap stack.
			d.Guard = stacks.TransitionGuard(fleet, cat, d.FleetKey(ctx))
		}
		order, _, _, err := d.Plan(op)
		if err != nil {
			return usagef("%v", err)
		}
		if err := checkEngine(op, *bin); err != nil {
			return err
		}
		if op == stacks.OpDestroy && !*yes {
			if !stdinIsTerminal() {
				// An open but silent pipe would wait forever.
				return usagef("destroy asks for confirmation on a terminal and stdin is not one: pass --yes to destroy %s without asking", strings.Join(order, ", "))
			}
			fmt.Fprintf(stdout, "destroy will delete every resource of %s (in this order). Type 'destroy' to go on: ", strings.Join(order, ", "))
			line, _ := bufio.NewReader(stdin).ReadString('\n')
			if strings.TrimSpace(line) != "destroy" {
				return usagef("destroy not confirmed; nothing was deleted")
			}
		}
		summary, err := d.Run(ctx, op)
		summary.Print(stdout)
		if err != nil {
			return err
		}
		if summary.Failed() {
			return errors.New("some stacks did not run")
		}
		return nil
	}
}
