package security

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"path"
	"regexp"
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
	for _, c := range v.podContainers() {
		runs, direct := thanosRun(c.spec)
		if !runs {
			continue
		}
		args := command(c.spec)
		if why := thanosUnread(c.spec, args, direct); why != "" {
			out = append(out, fail(c.where, "container %s %s", str(get(c.spec, "name")), why))
		}
		if direct && slices.Contains(args, "query") {
			out = append(out, querierTLS(c.where, args, v.inCluster)...)
		}
	}
	return out
}

// thanosWord matches Thanos named as a command word, the binary by any
// path (`thanos`, `/bin/thanos`), alone or in a script; not a name that
// only starts with it (`thanos-query-regional`), nor a directory.
var thanosWord = regexp.MustCompile("(^|[\\s/;&|()'\"`])thanos($|[\\s;&|()'\"`])")

// querierFlag says whether an argument is one of the flags by which a
// Thanos querier names what it dials: a container passing one queries
// other stores, whatever its image is called.
func querierFlag(a string) bool {
	return strings.HasPrefix(a, "--endpoint") || a == "--store" || strings.HasPrefix(a, "--store=") || strings.HasPrefix(a, "--store.sd-")
}

// thanosRun says whether a container runs Thanos (its image, a word of
// its command or a querier's flag says so), and whether it starts the
// binary itself, so that its arguments are Thanos' own flags: a command
// whose first word is the binary, or no command in a Thanos image, whose
// entrypoint is the binary.
func thanosRun(c any) (runs, direct bool) {
	args := command(c)
	image := strings.Contains(str(get(c, "image")), "thanos")
	runs = image || slices.ContainsFunc(args, thanosWord.MatchString) || slices.ContainsFunc(args, querierFlag)
	cmd := list(get(c, "command"))
	direct = len(cmd) > 0 && path.Base(str(cmd[0])) == "thanos" || len(cmd) == 0 && image
	return runs, direct
}

// thanosUnread says why the check cannot read the flags of a container
// that runs Thanos ("" when it can): it runs it through a shell or any
// other program (`sh -c`, `busybox sh`, `env -S`, an image of another name
// whose entrypoint is unknown), or reads the flags from a file (`@file`,
// which Thanos expands). Whether it serves or dials without client
// certificates is then unknown.
func thanosUnread(c any, args []string, direct bool) string {
	if !direct {
		first := cmp.Or(strings.Join(args[:min(1, len(args))], ""), "the image "+str(get(c, "image")))
		return fmt.Sprintf("runs Thanos through %s: the check cannot read its flags; run the binary (/bin/thanos <component> <flags>) with its flags as arguments", first)
	}
	if i := slices.IndexFunc(args, func(a string) bool { return strings.HasPrefix(a, "@") }); i >= 0 {
		return fmt.Sprintf("reads Thanos' flags from a file (%s): the check cannot read them; give them as arguments", args[i])
	}
	return ""
}

// serviceOf is the Service an endpoint address (a dns+ or dnssrv+ name
// too) names by the cluster's DNS, name.namespace.svc[.cluster.local];
// false for any other address.
func serviceOf(address string) (namespace, name string, ok bool) {
	host := address[strings.LastIndex(address, "+")+1:]
	if i := strings.LastIndex(host, ":"); i >= 0 {
		host = host[:i]
	}
	host, ok = strings.CutSuffix(strings.TrimSuffix(host, ".cluster.local"), ".svc")
	if !ok {
		return "", "", false
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return "", "", false
	}
	// A dnssrv+ name starts with _service._proto labels.
	return labels[len(labels)-1], labels[len(labels)-2], true
}

// inCluster says whether an endpoint address leads to pods in the
// cluster: it names a Service of the stack that selects pods. An
// ExternalName Service, one without a selector, or one whose endpoints the
// stack writes by hand may lead anywhere, and a Service the stack does not
// make is unknown.
func (v *view) inCluster(address string) bool {
	ns, name, ok := serviceOf(address)
	if !ok {
		return false
	}
	if v.chartServices()[ns+"/"+name] {
		return true
	}
	if v.handWrittenEndpoints(ns, name) {
		return false
	}
	for _, o := range v.objectsOfKind("Service") {
		if o.Namespace() == ns && o.Name() == name {
			sel, _ := get(o.Object, "spec.selector").(map[string]any)
			return str(get(o.Object, "spec.type")) != "ExternalName" && len(sel) > 0
		}
	}
	return false
}

// handWrittenEndpoints says whether the stack writes a Service's
// endpoints itself (an Endpoints object, or an EndpointSlice labelled
// with its name), which may lead anywhere.
func (v *view) handWrittenEndpoints(ns, name string) bool {
	for _, o := range v.objectsOfKind("Endpoints") {
		if o.Namespace() == ns && o.Name() == name {
			return true
		}
	}
	for _, o := range v.objectsOfKind("EndpointSlice") {
		if o.Namespace() == ns && asMap(get(o.Object, "metadata.labels"))["kubernetes.io/service-name"] == name {
			return true
		}
	}
	return false
}

// chartServices are the Services, selecting pods, that the monitoring
// chart makes and the preview does not show, as namespace/name: the
// sidecars' discovery Service (prometheus.thanosService), a ClusterIP
// named after the chart's fullname (cut to 26 characters).
func (v *view) chartServices() map[string]bool {
	out := map[string]bool{}
	for _, r := range v.helmReleases(observability.ChartName) {
		values := asMap(r.Inputs["values"])
		ns := cmp.Or(str(values["namespaceOverride"]), str(r.Inputs["namespace"]))
		t := str(get(values, "prometheus.thanosService.type"))
		if get(values, "prometheus.enabled") != false && get(values, "prometheus.thanosService.enabled") == true && (t == "" || t == "ClusterIP") {
			out[ns+"/"+chartFullname(r, 26)+"-thanos-discovery"] = true
		}
	}
	return out
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
// and run with the server flags on the port the Service forwards to.
func (v *view) mutualTLS(svc manifests.Object) string {
	name := annotation(svc.Object, observability.AnnotationMutualTLS)
	if name == "" {
		return fmt.Sprintf("no %s annotation naming a workload that checks client certificates", observability.AnnotationMutualTLS)
	}
	target, why := v.selectedAlone(svc, name)
	if why != "" {
		return why
	}
	ports, _ := get(svc.Object, "spec.ports").([]any)
	for _, p := range ports {
		if t, ok := targetPort(p); !ok || t != observability.GRPCPort {
			return fmt.Sprintf("port %v forwards to %v, not to %s's TLS gRPC port %d", get(p, "port"), get(p, "targetPort"), name, observability.GRPCPort)
		}
	}
	c, ok := serving(target, observability.GRPCPort)
	if !ok {
		return fmt.Sprintf("no container of %s declares port %d: what serves it is unknown", name, observability.GRPCPort)
	}
	return demandsCertificates(name, command(c))
}

// identityLabels are the labels by which a Service must select the one
// workload it leads to: the charts' pods, which the preview does not
// show, carry other names and components.
var identityLabels = []string{model.LabelAppName, model.LabelAppComponent}

// selectedAlone is the workload name in the Service's namespace, when the
// Service selects it by its identity labels and selects no other workload
// of the stack; else why not.
func (v *view) selectedAlone(svc manifests.Object, name string) (manifests.Object, string) {
	sel, _ := get(svc.Object, "spec.selector").(map[string]any)
	if len(sel) == 0 {
		return manifests.Object{}, "the Service has no selector: its endpoints are not the workload's"
	}
	var target *manifests.Object
	for _, w := range v.workloads() {
		selected := w.Namespace() == svc.Namespace() && selects(sel, w)
		switch {
		case w.Name() == name && w.Namespace() == svc.Namespace() && !selected:
			return manifests.Object{}, fmt.Sprintf("the Service does not select %s", name)
		case w.Name() == name && w.Namespace() == svc.Namespace():
			target = &w
		case selected:
			return manifests.Object{}, fmt.Sprintf("the Service also selects %s, which does not check client certificates", w.Name())
		}
	}
	if target == nil {
		return manifests.Object{}, fmt.Sprintf("no workload %s/%s", svc.Namespace(), name)
	}
	labels, _ := podLabels(*target)
	for _, k := range identityLabels {
		if labels[k] == "" || str(sel[k]) != labels[k] {
			return manifests.Object{}, fmt.Sprintf("the Service does not select %s by its %s label: it may select the charts' pods too", name, k)
		}
	}
	return *target, ""
}

// demandsCertificates says why a Thanos server's arguments do not demand
// client certificates with TLS 1.2 or later on the gRPC port ("" when
// they do).
func demandsCertificates(name string, args []string) string {
	args = joinFlagValues(args)
	if !hasFlags(args, mutualTLSServerFlags) {
		return fmt.Sprintf("%s does not demand client certificates (%s)", name, strings.Join(mutualTLSServerFlags, " "))
	}
	for _, a := range args {
		if ver, ok := strings.CutPrefix(a, "--grpc-server-tls-min-version="); ok && ver != "1.2" && ver != "1.3" {
			return fmt.Sprintf("%s accepts TLS %s: want 1.2 or 1.3", name, ver)
		}
		if addr, ok := strings.CutPrefix(a, "--grpc-address="); ok && !strings.HasSuffix(addr, fmt.Sprintf(":%d", observability.GRPCPort)) {
			return fmt.Sprintf("%s serves gRPC on %s, not on port %d, which the Service forwards to", name, addr, observability.GRPCPort)
		}
	}
	return ""
}

// selects says whether a selector matches a workload's pod labels.
func selects(sel map[string]any, w manifests.Object) bool {
	labels, _ := podLabels(w)
	for k, val := range sel {
		if got, ok := labels[k]; !ok || got != str(val) {
			return false
		}
	}
	return true
}

// podTemplateAt is where each kind that runs pods keeps its pod template
// ("" for a Pod, which is its own).
var podTemplateAt = map[string]string{
	"Deployment": "spec.template", "StatefulSet": "spec.template", "DaemonSet": "spec.template",
	"ReplicaSet": "spec.template", "ReplicationController": "spec.template", "Job": "spec.template",
	"CronJob": "spec.jobTemplate.spec.template", "Pod": "",
}

// podTemplate is the pod an object runs (its metadata and spec); false
// for a kind that runs none.
func podTemplate(o manifests.Object) (map[string]any, bool) {
	at, ok := podTemplateAt[o.Kind()]
	if !ok {
		return nil, false
	}
	if at == "" {
		return o.Object, true
	}
	t, _ := get(o.Object, at).(map[string]any)
	return t, true
}

// workloads are the stack's objects that run pods, of every kind.
func (v *view) workloads() []manifests.Object {
	var out []manifests.Object
	for _, o := range v.objects {
		if _, ok := podTemplate(o); ok {
			out = append(out, o)
		}
	}
	return out
}

// podContainer is a container the stack runs, and where it is declared.
type podContainer struct {
	where string
	spec  any
}

// podContainers are every container the stack runs, in any place: those
// of every workload, and those a Helm release's values add to the chart's
// pods (a list under a key that ends in containers or sidecars, such as
// kube-prometheus-stack's prometheus.prometheusSpec.containers). The
// values' pass-through objects are workloads already.
func (v *view) podContainers() []podContainer {
	var out []podContainer
	for _, w := range v.workloads() {
		for _, c := range containers(w) {
			out = append(out, podContainer{w.String(), c})
		}
	}
	for _, r := range v.byType["kubernetes:helm.sh/v3:Release"] {
		values := maps.Clone(asMap(r.Inputs["values"]))
		for _, k := range manifests.PassThroughKeys {
			delete(values, k)
		}
		walkMaps(values, "values", func(at string, m map[string]any) {
			for k, l := range m {
				lk := strings.ToLower(k)
				if !strings.HasSuffix(lk, "containers") && !strings.HasSuffix(lk, "sidecars") {
					continue
				}
				for i, c := range list(l) {
					if _, ok := c.(map[string]any); ok {
						out = append(out, podContainer{fmt.Sprintf("%s (%s.%s[%d])", res(r), at, k, i), c})
					}
				}
			}
		})
	}
	return out
}

// containers are a workload's containers and init containers (a native
// sidecar is an init container that keeps running).
func containers(w manifests.Object) []any {
	t, _ := podTemplate(w)
	return append(list(get(t, "spec.containers")), list(get(t, "spec.initContainers"))...)
}

// command is a container's command and arguments.
func command(c any) []string {
	var out []string
	for _, k := range []string{"command", "args"} {
		for _, a := range list(get(c, k)) {
			out = append(out, str(a))
		}
	}
	return out
}

// serving is the container of a workload that declares a port; false when
// none does (whatever listens there is not one the check can name).
func serving(w manifests.Object, port int) (any, bool) {
	for _, c := range containers(w) {
		for _, p := range list(get(c, "ports")) {
			if num(get(p, "containerPort")) == port {
				return c, true
			}
		}
	}
	return nil, false
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
