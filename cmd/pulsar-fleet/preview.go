package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

// parseFlags parses a command's flags. -h prints the command's flags to
// its output (stdout); a bad flag is a usage error, printed once, on
// stderr, by run, pointing at -h rather than printing the flags.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	var printed bytes.Buffer
	fs.SetOutput(&printed)
	defer fs.SetOutput(out)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			_, _ = printed.WriteTo(out)
			return err
		}
		return usagef("%v (pulsar-fleet %s -h lists the flags)", err, fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// openCatalog opens the catalog --catalog names (or the embedded one); one
// that cannot be read is bad input, a usage error.
func openCatalog(path string) (*sizing.Catalog, error) {
	cat, err := sizing.OpenCatalog(path)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return cat, nil
}

// catalogFlag declares --catalog on fs.
func catalogFlag(fs *flag.FlagSet) *string {
	return fs.String("catalog", "", "instance catalog CSV replacing the embedded one (default $"+sizing.CatalogEnv+", else the embedded catalog)")
}

func runPreview(args []string, stdout io.Writer) error {
	if !hasOffline(args) {
		// The real engine: its own flags (--stack, --with-prerequisites,
		// ...); the offline-only ones are refused, not dropped.
		if f := offlineOnlyFlag(args); f != "" {
			return usagef("%s applies to 'preview --offline' only: the real preview uses each stack's configured phase and instance catalog and prints the engine's own output", f)
		}
		return engineCommand(stacks.OpPreview)(args, stdout)
	}
	fs := newFlags("preview", stdout)
	offline := fs.Bool("offline", false, "run the program under Pulumi's mock engine: no CLI, no credentials, no network")
	stack := fs.String("stack", "", "comma-separated stacks to show (default: all)")
	phase := fs.String("phase", "", "override every stack's phase: "+sizing.PhaseNamesHelp)
	deployed := fs.String("deployed-phase", "", "simulate stacks last deployed at this phase: a change one `up` cannot make safely is refused, as the real engine refuses it against each stack's `phase` output")
	asJSON := fs.Bool("json", false, "print every registered resource with its inputs as JSON")
	dir := fs.String("dir", ".", "project directory with Pulumi.<stack>.yaml files")
	catalog := catalogFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !*offline {
		return usagef("--offline=false: run 'pulsar-fleet preview' without --offline for the real engine")
	}
	cat, err := openCatalog(*catalog)
	if err != nil {
		return err
	}
	only, err := listFlag("stack", *stack)
	if err != nil {
		return err
	}
	res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: *dir, Stacks: only, Phase: *phase, Catalog: cat, DeployedPhase: *deployed})
	if err != nil {
		return usagef("%v", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	res.WriteText(stdout)
	return nil
}

// hasOffline reports whether args ask for the offline preview.
func hasOffline(args []string) bool {
	for _, a := range args {
		switch a {
		case "--offline", "-offline", "--offline=true", "-offline=true", "--offline=false", "-offline=false":
			return true
		}
	}
	return false
}

// offlineOnlyFlag names the first flag in args that only the offline
// preview takes.
func offlineOnlyFlag(args []string) string {
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "phase" || name == "json" || name == "catalog" || name == "deployed-phase") {
			return "--" + name
		}
	}
	return ""
}
