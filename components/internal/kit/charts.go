package kit

import (
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Chart is a release's chart and, for a classic chart repository, its
// repository options (nil for an OCI reference or a local directory), from
// the stack's chart source or else the chart's public repository.
func Chart(src model.ChartSource, chart, publicRepo string) (pulumi.StringInput, *helmv3.RepositoryOptsArgs) {
	ref, repo := src.Locate(chart, publicRepo)
	if repo == "" {
		return pulumi.String(ref), nil
	}
	return pulumi.String(ref), &helmv3.RepositoryOptsArgs{Repo: pulumi.String(repo)}
}
