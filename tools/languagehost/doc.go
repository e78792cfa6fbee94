// Package languagehost pins the Go language host version the engine tests
// build with `go build github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go`.
package languagehost
