// Command build builds the tools the test tiers drive into the tools cache
// (internal/tooling), all of them or those named, from the repository root.
// .ci/run runs it before the tests, so that a cold build (the Kubernetes
// provider plugin alone takes over 20 minutes on two cores) does not count
// against the tests' timeout. Tools already in the cache are not rebuilt.
//
//	go run ./internal/tooling/build [module ...]
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/pulsar-fleet/pulsar-fleet/internal/tooling"
)

func main() {
	tools, err := tooling.Select(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for _, t := range tools {
		start := time.Now()
		path, err := t.Path(".")
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", t.Binary, err)
			os.Exit(1)
		}
		fmt.Printf("%-24s %8s  %s\n", t.Binary, time.Since(start).Round(time.Second), path)
	}
}
