package security

import (
	"net/netip"

	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// lbSourceRanges: every internet-facing load balancer admits listed
// networks, none of them the whole internet. The proxy opened on purpose
// (routing.allowPublicProxy) is reported as a waiver.
func lbSourceRanges(v *view) []Finding {
	var out []Finding
	for _, o := range v.objectsOfKind("Service") {
		if str(get(o.Object, "spec.type")) != "LoadBalancer" || internalLB(o.Object) {
			continue
		}
		ranges, _ := get(o.Object, "spec.loadBalancerSourceRanges").([]any)
		if len(ranges) == 0 {
			f := fail(o.String(), "internet-facing load balancer without loadBalancerSourceRanges: open to the whole internet")
			if o.Name() == pulsar.ExternalName && v.st.Config.Routing.AllowPublicProxy {
				f.Waived = "routing.allowPublicProxy is set: the proxy serves clients on the internet, over TLS with token authentication"
			}
			out = append(out, f)
		}
		for _, r := range ranges {
			if p, err := netip.ParsePrefix(str(r)); err != nil || p.Bits() == 0 {
				out = append(out, fail(o.String(), "loadBalancerSourceRanges admits %s: the whole internet", str(r)))
			}
		}
	}
	return out
}

func internalLB(obj map[string]any) bool {
	return annotation(obj, model.AnnotationLBInternal) == "true" || annotation(obj, model.AnnotationLBScheme) == "internal"
}
