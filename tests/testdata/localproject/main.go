// Command localproject is a provider-free stand-in for the real program:
// "peer" exports a bucket ARN from its stack config, "primary" reads it
// through a StackReference, exactly the shape of the fleet's wiring.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		if ctx.Stack() == "peer" {
			ctx.Export("offloadBucketArn", pulumi.String("arn:aws:s3:::"+cfg.Require("bucket")))
			return nil
		}
		ref, err := pulumi.NewStackReference(ctx, "organization/localproject/peer", nil)
		if err != nil {
			return err
		}
		ctx.Export("replicatesTo", ref.GetStringOutput(pulumi.String("offloadBucketArn")))
		return nil
	})
}
