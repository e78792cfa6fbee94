// Package kubernetesprovider pins the Kubernetes provider plugin the
// real-provider test tier builds (`go build
// github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes`
// from this module, with the two embedded JSON files the provider's
// generate step writes supplied through an overlay).
package kubernetesprovider
