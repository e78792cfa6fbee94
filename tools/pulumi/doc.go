// Package pulumi pins the Pulumi CLI version the engine tests build with
// `go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi` from this module.
package pulumi
