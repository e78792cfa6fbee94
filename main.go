// Command pulsar-fleet is the Pulumi program: one region of the multi-region
// Apache Pulsar fleet per stack. The same program value runs under
// `pulumi up`, the Automation API fleet driver and the offline preview.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

func main() {
	pulumi.Run(stacks.Program)
}
