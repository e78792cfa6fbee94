package kit

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// NetworkPolicies registers each policy as a networking.k8s.io/v1
// NetworkPolicy, named prefix-<policy name>.
func NetworkPolicies(ctx *pulumi.Context, prefix string, policies []k8s.NetworkPolicy, opts ...pulumi.ResourceOption) ([]pulumi.Resource, error) {
	var out []pulumi.Resource
	for _, p := range policies {
		spec, err := ToMap(p.Spec)
		if err != nil {
			return nil, err
		}
		r, err := apiextensions.NewCustomResource(ctx, prefix+"-"+p.Metadata.Name, &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String(p.APIVersion), Kind: pulumi.String(p.Kind),
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(p.Metadata.Name), Namespace: pulumi.String(p.Metadata.Namespace),
				Labels: pulumi.ToStringMap(p.Metadata.Labels)},
			OtherFields: kubernetes.UntypedArgs{"spec": spec},
		}, opts...)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// ControlPlaneCIDRs checks the blocks a webhook admits the EKS control
// plane from (the VPC's: its network interfaces sit in the cluster's
// subnets): at least one, each an IPv4 network.
func ControlPlaneCIDRs(cidrs []string) error {
	if len(cidrs) == 0 {
		return fmt.Errorf("controlPlaneCidrs: empty: want the VPC's blocks, from which the EKS control plane calls the webhooks, such as 10.20.0.0/16")
	}
	for _, c := range cidrs {
		if _, ok := model.IPv4Network(c); !ok {
			return fmt.Errorf("controlPlaneCidrs: %q is not an IPv4 network address, such as 10.20.0.0/16", c)
		}
	}
	return nil
}
