// Command bootstrap is the account bootstrap program: `pulumi up` here once
// per AWS account, before the region stacks' first run.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/bootstrap/program"
)

func main() {
	pulumi.Run(program.Run)
}
