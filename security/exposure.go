package security

import (
	"slices"
	"strconv"

	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// lbSourceRanges: every internet-facing load balancer admits listed
// networks, none of them the whole internet. The proxy opened on purpose
// (routing.allowPublicProxy) is reported as a waiver.
func lbSourceRanges(v *view) []Finding {
	var out []Finding
	for _, o := range v.internetFacingLoadBalancers() {
		ranges, _ := get(o.Object, "spec.loadBalancerSourceRanges").([]any)
		if len(ranges) == 0 {
			f := fail(o.String(), "internet-facing load balancer without loadBalancerSourceRanges: open to the whole internet")
			if v.st.Config.Routing.AllowPublicProxy && v.isClientListener(o) {
				f.Waived = "routing.allowPublicProxy is set: the proxy serves clients on the internet, over TLS with token authentication"
			}
			out = append(out, f)
		}
		for _, r := range ranges {
			if worldWide(str(r)) {
				out = append(out, fail(o.String(), "loadBalancerSourceRanges admits %s: wider than /8, the internet or most of it", str(r)))
			}
		}
	}
	return out
}

// isClientListener says whether a Service is the program's client
// listener: its name, in a namespace that runs a Pulsar release, selecting
// the proxies. The waiver covers it alone.
func (v *view) isClientListener(o manifests.Object) bool {
	if o.Name() != pulsar.ExternalName || get(o.Object, "spec.selector.component") != pulsar.CompProxy {
		return false
	}
	return slices.ContainsFunc(v.helmReleases("pulsar"), func(r recorder.Resource) bool { return str(r.Inputs["namespace"]) == o.Namespace() })
}

// internetFacingLoadBalancers are the LoadBalancer Services the EKS
// service controller makes internet-facing.
func (v *view) internetFacingLoadBalancers() []manifests.Object {
	var out []manifests.Object
	for _, o := range v.objectsOfKind("Service") {
		if str(get(o.Object, "spec.type")) == "LoadBalancer" && !internalLB(o.Object) {
			out = append(out, o)
		}
	}
	return out
}

// internalLB is a load balancer the EKS service controller makes internal:
// the in-tree controller reads aws-load-balancer-internal only; the scheme
// annotation counts only for the AWS Load Balancer Controller's class.
func internalLB(obj map[string]any) bool {
	if annotation(obj, model.AnnotationLBInternal) == "true" {
		return true
	}
	return annotation(obj, model.AnnotationLBScheme) == "internal" && str(get(obj, "spec.loadBalancerClass")) == model.LoadBalancerControllerClass
}

// adminNotPublic: no internet-facing load balancer leads to a web port. The
// proxies' and brokers' web API serves admin (tenants, namespaces,
// permissions, topics), so it is on the private listener only, and the
// peers' brokers reach it through the transit gateways.
func adminNotPublic(v *view) []Finding {
	var out []Finding
	for _, o := range v.internetFacingLoadBalancers() {
		ports, _ := get(o.Object, "spec.ports").([]any)
		for _, p := range ports {
			// What is behind the port decides: Thanos' gRPC on 443 is no
			// web API, the proxies' 8443 behind any port is.
			target, ok := targetPort(p)
			switch {
			case !ok:
				out = append(out, fail(o.String(), "port %d forwards to the named port %q, which the check cannot resolve to a number (it may be a web port): forward to the number", num(get(p, "port")), str(get(p, "targetPort"))))
			case slices.Contains(model.WebPorts, target):
				out = append(out, fail(o.String(), "port %d (target %d) on an internet-facing load balancer: a web port, which serves Pulsar's admin API; put it on the private listener (%s)",
					num(get(p, "port")), target, pulsar.PrivateName))
			}
		}
	}
	return out
}

// targetPort is the container port a Service port forwards to: its
// targetPort, or its port when that is left out, 0 or "" (the API server
// defaults all three to the port); false for a named port, or a value
// that is neither a number nor a string. A name is resolved per pod, and
// the preview does not show the charts' pods, which every namespace the
// program uses runs: a workload of the stack declaring the name would
// prove nothing about them.
func targetPort(p any) (int, bool) {
	switch t := get(p, "targetPort").(type) {
	case nil:
		return num(get(p, "port")), true
	case string:
		if t == "" {
			return num(get(p, "port")), true
		}
		n, err := strconv.Atoi(t)
		return n, err == nil
	case float64, int:
		if num(t) == 0 {
			return num(get(p, "port")), true
		}
		return num(t), true
	default:
		return 0, false
	}
}

// list is a JSON array (nil for anything else).
func list(v any) []any { l, _ := v.([]any); return l }

// num is a JSON number as an int (0 for anything else).
func num(v any) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case int:
		return n
	}
	return 0
}
