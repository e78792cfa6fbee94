package stacks_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// Embedding the fleet in another Go program: preview every stack in
// stack-graph order through the Automation API, with the Pulumi.<stack>.yaml
// files of a checkout of this repository, then deploy only us-west-2 and
// what it needs. The program is the one main.go runs (the Pulumi CLI
// compiles the project at WorkDir); set Driver.Program to run it inline.
func ExampleDriver() {
	d := &stacks.Driver{
		WorkDir:         "/src/pulsar-fleet",                        // a checkout of this repository
		BackendURL:      "s3://pulsar-fleet-state?region=us-east-1", // or "" for PULUMI_BACKEND_URL / a local file:// backend
		SecretsProvider: "awskms://alias/pulsar-fleet-state?region=us-east-1",
		Out:             os.Stdout, // progress, one prefix per stack
	}
	ctx := context.Background()
	summary, err := d.Run(ctx, stacks.OpPreview)
	if err != nil {
		log.Fatal(err) // the wrapped error names the stack
	}
	summary.Print(os.Stdout)

	d.Stacks, d.IncludePrerequisites = []string{"us-west-2"}, true
	if summary, err = d.Run(ctx, stacks.OpUp); err != nil {
		log.Fatal(err)
	}
	for _, r := range summary {
		fmt.Println(r.Stack, r.Changes, r.Duration)
	}
}
