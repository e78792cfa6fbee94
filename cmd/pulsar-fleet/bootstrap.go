package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/pulsar-fleet/pulsar-fleet/bootstrap/program"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// runBootstrap previews the account bootstrap program offline; the real
// run is `pulumi up` in bootstrap/ (README, "From an empty AWS account").
func runBootstrap(args []string, stdout io.Writer) error {
	fs := newFlags("bootstrap", stdout)
	offline := fs.Bool("offline", false, "run the bootstrap program under Pulumi's mock engine (required: the real run is `pulumi up` in bootstrap/)")
	dir := fs.String("dir", "bootstrap", "the bootstrap project directory")
	stack := fs.String("stack", "admin", "the bootstrap stack (its Pulumi.<stack>.yaml)")
	asJSON := fs.Bool("json", false, "print every registered resource with its inputs as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !*offline {
		return usagef("the bootstrap runs with the Pulumi CLI: cd %s && pulumi up --stack %s; add --offline to preview it here", *dir, *stack)
	}
	st, err := program.PreviewOffline(filepath.Join(*dir, "Pulumi."+*stack+".yaml"))
	if err != nil {
		return usagef("%v", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(stacks.OfflineResult{Simulated: true, Note: stacks.SimulatedNote, Stacks: []stacks.OfflineStack{st}})
	}
	fmt.Fprintln(stdout, "NOTE:", stacks.SimulatedNote)
	fmt.Fprintf(stdout, "\n== bootstrap stack %s (%s): %d resources\n", st.Stack, st.Region, len(st.Resources))
	st.WriteTree(stdout)
	return nil
}
