package kit

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// SourceRanges are a load balancer's source ranges: each address (peers'
// NAT gateways) as a /32, then the configured networks. Nil addresses
// count as none.
func SourceRanges(addrs pulumi.StringArrayInput, networks []string) pulumi.StringArrayOutput {
	if addrs == nil {
		addrs = pulumi.StringArray{}
	}
	return pulumi.All(addrs, pulumi.ToStringArray(networks)).ApplyT(func(v []any) []string {
		out := []string{}
		for _, ip := range v[0].([]string) {
			out = append(out, ip+"/32")
		}
		return append(out, v[1].([]string)...)
	}).(pulumi.StringArrayOutput)
}
