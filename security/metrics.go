package security

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/components/observability"
	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// The flags with which Thanos demands and verifies client certificates on
// its gRPC server, and dials its endpoints with TLS and a certificate.
var (
	mutualTLSServerFlags = []string{"--grpc-server-tls-cert=", "--grpc-server-tls-key=", "--grpc-server-tls-client-ca="}
	mutualTLSClientFlags = []string{"--grpc-client-tls-secure", "--grpc-client-tls-cert=", "--grpc-client-tls-key=", "--grpc-client-tls-ca="}
)

// metricsPorts are the ports that serve metrics or Prometheus' and
// Thanos' APIs.
var metricsPorts = []int{9090, observability.GRPCPort, observability.HTTPPort}

// metricsAuthenticated: every load balancer that serves metrics passes TLS
// through to a workload that demands client certificates, and admits
// listed networks only, none of them the whole internet; every querier
// that dials another region does so with TLS and a certificate.
func metricsAuthenticated(v *view) []Finding {
	var out []Finding
	for _, o := range v.objectsOfKind("Service") {
		if str(get(o.Object, "spec.type")) != "LoadBalancer" || !servesMetrics(o) {
			continue
		}
		if why := v.mutualTLS(o); why != "" {
			out = append(out, fail(o.String(), "metrics endpoint without client authentication: %s", why))
		}
		out = append(out, sourceRanges(o)...)
	}
	for _, w := range v.thanosQueriers() {
		out = append(out, querierTLS(w, command(w))...)
	}
	return out
}

// remoteAddress says whether an endpoint address (a dns+ or dnssrv+ name
// too) is outside the cluster.
func remoteAddress(e string) bool {
	host := e[strings.LastIndex(e, "+")+1:]
	if i := strings.LastIndex(host, ":"); i >= 0 {
		host = host[:i]
	}
	return !strings.HasSuffix(host, ".svc.cluster.local") && !strings.HasSuffix(host, ".svc")
}

// servesMetrics says whether a Service is in the monitoring namespace,
// selects Prometheus or Thanos, or forwards a metrics port.
func servesMetrics(o manifests.Object) bool {
	if o.Namespace() == model.NamespaceMonitoring {
		return true
	}
	sel, _ := get(o.Object, "spec.selector").(map[string]any)
	if n := str(sel[model.LabelAppName]); n == "prometheus" || n == "thanos" {
		return true
	}
	ports, _ := get(o.Object, "spec.ports").([]any)
	for _, p := range ports {
		for _, k := range []string{"port", "targetPort"} {
			if n, ok := get(p, k).(float64); ok && slices.Contains(metricsPorts, int(n)) {
				return true
			}
		}
	}
	return false
}

// sourceRanges fails a load balancer without source ranges or with a
// range that is the whole internet.
func sourceRanges(o manifests.Object) []Finding {
	ranges, _ := get(o.Object, "spec.loadBalancerSourceRanges").([]any)
	if len(ranges) == 0 {
		return []Finding{fail(o.String(), "load balancer without loadBalancerSourceRanges: open to the internet")}
	}
	var out []Finding
	for _, r := range ranges {
		if p, err := netip.ParsePrefix(str(r)); err != nil || p.Bits() < observability.MinEndpointPrefix {
			out = append(out, fail(o.String(), "loadBalancerSourceRanges has %s: wider than /%d, open to much of the internet", str(r), observability.MinEndpointPrefix))
		}
	}
	return out
}

// mutualTLS says why a load balancer does not pass TLS through to a
// workload that demands client certificates ("" when it does): the
// workload its annotation names must exist, be what the Service selects,
// and run with the server flags.
func (v *view) mutualTLS(svc manifests.Object) string {
	name := annotation(svc.Object, observability.AnnotationMutualTLS)
	if name == "" {
		return fmt.Sprintf("no %s annotation naming a workload that checks client certificates", observability.AnnotationMutualTLS)
	}
	sel, _ := get(svc.Object, "spec.selector").(map[string]any)
	if len(sel) == 0 {
		return "the Service has no selector: its endpoints are not the workload's"
	}
	var target *manifests.Object
	for _, w := range v.workloads() {
		selected := w.Namespace() == svc.Namespace() && selects(sel, w)
		switch {
		case w.Name() == name && w.Namespace() == svc.Namespace() && !selected:
			return fmt.Sprintf("the Service does not select %s", name)
		case w.Name() == name && w.Namespace() == svc.Namespace():
			target = &w
		case selected:
			return fmt.Sprintf("the Service also selects %s, which does not check client certificates", w.Name())
		}
	}
	if target == nil {
		return fmt.Sprintf("no workload %s/%s", svc.Namespace(), name)
	}
	args := command(*target)
	if !hasFlags(args, mutualTLSServerFlags) {
		return fmt.Sprintf("%s does not demand client certificates (%s)", name, strings.Join(mutualTLSServerFlags, " "))
	}
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--grpc-server-tls-min-version="); ok && v != "1.2" && v != "1.3" {
			return fmt.Sprintf("%s accepts TLS %s: want 1.2 or 1.3", name, v)
		}
	}
	ports, _ := get(svc.Object, "spec.ports").([]any)
	for _, p := range ports {
		if t := fmt.Sprint(get(p, "targetPort")); t != "grpc" && t != fmt.Sprint(observability.GRPCPort) {
			return fmt.Sprintf("port %v forwards to %s, not to %s's TLS gRPC port", get(p, "port"), t, name)
		}
	}
	return ""
}

// selects says whether a selector matches a workload's pod labels.
func selects(sel map[string]any, w manifests.Object) bool {
	labels, _ := get(w.Object, "spec.template.metadata.labels").(map[string]any)
	for k, val := range sel {
		if labels[k] != val {
			return false
		}
	}
	return true
}

func (v *view) workloads() []manifests.Object {
	return append(v.objectsOfKind("Deployment"), v.objectsOfKind("StatefulSet")...)
}

// thanosQueriers are the workloads that run `thanos query`: a Thanos
// image or binary with the query subcommand in its command or arguments.
func (v *view) thanosQueriers() []manifests.Object {
	var out []manifests.Object
	for _, w := range v.workloads() {
		cs, _ := get(w.Object, "spec.template.spec.containers").([]any)
		args := command(w)
		thanos := len(cs) > 0 && strings.Contains(str(get(cs[0], "image")), "thanos") || len(args) > 0 && strings.HasSuffix(args[0], "thanos")
		if thanos && slices.Contains(args, "query") {
			out = append(out, w)
		}
	}
	return out
}

// command is a workload's first container's command and arguments.
func command(w manifests.Object) []string {
	cs, _ := get(w.Object, "spec.template.spec.containers").([]any)
	if len(cs) == 0 {
		return nil
	}
	var out []string
	for _, k := range []string{"command", "args"} {
		list, _ := get(cs[0], k).([]any)
		for _, a := range list {
			out = append(out, str(a))
		}
	}
	return out
}

// hasFlags says whether args set every flag (a prefix ending in "=", or a
// bare switch).
func hasFlags(args, flags []string) bool {
	for _, f := range flags {
		if !slices.ContainsFunc(args, func(a string) bool {
			return a == f || (strings.HasSuffix(f, "=") && strings.HasPrefix(a, f) && len(a) > len(f))
		}) {
			return false
		}
	}
	return true
}
