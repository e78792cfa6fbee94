package security

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/components/observability"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

func pulsarAuth(v *view) []Finding {
	var out []Finding
	releases := v.helmReleases("pulsar")
	if len(releases) == 0 {
		return nil
	}
	for _, r := range releases {
		values, _ := r.Inputs["values"].(map[string]any)
		if !servesClients(values) {
			continue
		}
		if get(values, "auth.authentication.enabled") != true {
			out = append(out, fail(res(r), "auth.authentication.enabled is not true: anyone reaching a broker can produce and consume"))
		}
		// Chart 4.1.0 dropped auth.authentication.provider: jwt.enabled
		// alone selects token authentication.
		if get(values, "auth.authentication.jwt.enabled") != true {
			out = append(out, fail(res(r), "auth.authentication.jwt.enabled is not true, want token (JWT) authentication"))
		}
		if get(values, "auth.authorization.enabled") != true {
			out = append(out, fail(res(r), "auth.authorization.enabled is not true: every authenticated client may use every topic"))
		}
		su, _ := get(values, "auth.superUsers").(map[string]any)
		if len(su) == 0 {
			out = append(out, fail(res(r), "auth.superUsers is empty: brokers and proxies cannot authenticate to each other"))
		}
		out = append(out, authOverrides(res(r), values)...)
	}
	return out
}

// authSettings are the broker and proxy settings that decide who is
// admitted: the chart writes them from auth.*, and a configData entry
// (plain, or PULSAR_PREFIX_, which apply-config-from-env.py applies after)
// would override them, an anonymous role most of all.
var authSettings = []string{"anonymousUserRole", "authenticationEnabled", "authorizationEnabled", "authenticationProviders",
	"authorizationProvider", "superUserRoles", "proxyRoles"}

// authOverrides fails a broker or proxy configData entry that sets one.
func authOverrides(resource string, values map[string]any) []Finding {
	return configDataSets(resource, values, map[string][]string{"broker": authSettings, "proxy": authSettings},
		"who is admitted is auth.*'s to say, not an override")
}

// configDataSets fails each entry of a component's configData that sets
// one of its keys, plain or PULSAR_PREFIX_ (apply-config-from-env.py
// applies both after the chart's own settings), saying why.
func configDataSets(resource string, values map[string]any, keys map[string][]string, why string) []Finding {
	var out []Finding
	for _, c := range slices.Sorted(maps.Keys(keys)) {
		data, _ := get(values, c+".configData").(map[string]any)
		for _, k := range keys[c] {
			for _, key := range []string{k, "PULSAR_PREFIX_" + k} {
				if v, ok := data[key]; ok {
					out = append(out, fail(resource, "%s.configData.%s = %v: %s", c, key, v, why))
				}
			}
		}
	}
	return out
}

// servesClients reports a Pulsar release that runs brokers or proxies (the
// chart's default): one that runs bookies only, such as the
// instance-storage set's, reads no auth settings.
func servesClients(values map[string]any) bool {
	return get(values, "components.broker") != false || get(values, "components.proxy") != false
}

const (
	annSSLCert   = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"
	annSSLPorts  = "service.beta.kubernetes.io/aws-load-balancer-ssl-ports"
	annSSLPolicy = "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy"
)

// tls12Policy says whether an ELB negotiation policy refuses TLS below
// 1.2: its name carries its lowest version (ELBSecurityPolicy-TLS13-1-2-…,
// -TLS13-1-3-…, -TLS-1-2-…, -FS-1-2-…; TLS13-1-0 and TLS13-1-1 add TLS 1.3
// to old versions, and are refused).
func tls12Policy(p string) bool {
	for _, prefix := range []string{"ELBSecurityPolicy-TLS13-1-2-", "ELBSecurityPolicy-TLS13-1-3-", "ELBSecurityPolicy-TLS-1-2-", "ELBSecurityPolicy-FS-1-2-"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

func pulsarTLS(v *view) []Finding {
	var out []Finding
	for _, o := range v.objectsOfKind("Service") {
		if str(get(o.Object, "spec.type")) != "LoadBalancer" {
			continue
		}
		if annotation(o.Object, observability.AnnotationMutualTLS) != "" {
			// TLS passed through to a workload that ends it itself
			// (Thanos: TLS 1.3 by default) and checks client certificates.
			if why := v.mutualTLS(o); why != "" {
				out = append(out, fail(o.String(), "passes TLS through, but %s", why))
			}
			continue
		}
		if annotation(o.Object, annSSLCert) == "" {
			out = append(out, fail(o.String(), "load balancer without a TLS certificate (%s)", annSSLCert))
			continue
		}
		if p := annotation(o.Object, annSSLPolicy); !tls12Policy(p) {
			out = append(out, fail(o.String(), "negotiation policy %q admits TLS below 1.2", p))
		}
		sslPorts := strings.Split(annotation(o.Object, annSSLPorts), ",")
		for i := range sslPorts {
			sslPorts[i] = strings.TrimSpace(sslPorts[i])
		}
		ports, _ := get(o.Object, "spec.ports").([]any)
		for _, p := range ports {
			name, num := str(get(p, "name")), fmt.Sprint(get(p, "port"))
			if !slices.Contains(sslPorts, "*") && !slices.Contains(sslPorts, name) && !slices.Contains(sslPorts, num) {
				out = append(out, fail(o.String(), "port %s (%s) is plaintext: not in %s", name, num, annSSLPorts))
			}
		}
	}
	// The chart's own Services carry no TLS: they must stay inside the cluster.
	for _, r := range v.helmReleases("pulsar") {
		values, _ := r.Inputs["values"].(map[string]any)
		for _, c := range []string{"proxy", "broker", "pulsar_manager", "toolset"} {
			if t := str(get(values, c+".service.type")); t == "LoadBalancer" || t == "NodePort" {
				out = append(out, fail(res(r), "%s.service.type is %s: the chart's listener is plaintext; expose Pulsar through the TLS load balancer", c, t))
			}
		}
	}
	return out
}

// zookeeperPorts are client, TLS client, quorum and election ports.
var zookeeperPorts = []int{2181, 2281, 2888, 3888}

// zookeeperInternal: no Service outside the cluster's network leads to
// ZooKeeper. In a namespace that runs a Pulsar release, such a Service
// must select one Pulsar component by the chart's component label, not
// ZooKeeper; anywhere, it must not forward a ZooKeeper port.
func zookeeperInternal(v *view) []Finding {
	pulsarNamespaces := map[string]bool{}
	zookeeper := map[string]bool{}
	for _, r := range v.helmReleases("pulsar") {
		pulsarNamespaces[str(r.Inputs["namespace"])] = true
		zookeeper[cmp.Or(str(get(r.Inputs["values"], "zookeeper.component")), pulsar.CompZooKeeper)] = true
	}
	var out []Finding
	for _, o := range v.objectsOfKind("Service") {
		typ := str(get(o.Object, "spec.type"))
		if typ != "LoadBalancer" && typ != "NodePort" && get(o.Object, "spec.externalIPs") == nil {
			continue
		}
		sel := str(get(o.Object, "spec.selector."+pulsar.LabelComponent))
		switch {
		case zookeeper[sel]:
			out = append(out, fail(o.String(), "a %s Service selects ZooKeeper", typ))
		case sel == "" && pulsarNamespaces[o.Namespace()]:
			out = append(out, fail(o.String(), "a %s Service in Pulsar's namespace that does not select one component by its %q label: it may select ZooKeeper", typ, pulsar.LabelComponent))
		}
		for _, p := range list(get(o.Object, "spec.ports")) {
			target, ok := targetPort(p)
			if slices.Contains(zookeeperPorts, num(get(p, "port"))) || ok && slices.Contains(zookeeperPorts, target) {
				out = append(out, fail(o.String(), "a %s Service exposes ZooKeeper port %v (target %v)", typ, get(p, "port"), get(p, "targetPort")))
			}
		}
	}
	for _, r := range v.helmReleases("pulsar") {
		values, _ := r.Inputs["values"].(map[string]any)
		if t := str(get(values, "zookeeper.service.type")); t != "" && t != "ClusterIP" {
			out = append(out, fail(res(r), "zookeeper.service.type is %s", t))
		}
	}
	return out
}

// pulsarTokensOwned checks that a release's tokens are the program's: the
// chart's hook generates nothing, and the key and every super user's token
// are Secrets the program makes in the release's namespace (minted from
// the fleet key). The chart's own key is a waiver (tokens.signingKey:
// chart), for stacks deployed before the fleet key.
func pulsarTokensOwned(v *view) []Finding {
	secrets := map[string]bool{}
	for _, o := range v.objectsOfKind("Secret") {
		secrets[o.Namespace()+"/"+o.Name()] = true
	}
	var out []Finding
	for _, r := range v.helmReleases("pulsar") {
		values, _ := r.Inputs["values"].(map[string]any)
		if !servesClients(values) {
			continue
		}
		if get(values, "auth.authentication.jwt.generateSecrets.enabled") == true {
			f := fail(res(r), "the chart's hook generates the JWT key and tokens: peers' tokens are then minted by hand")
			if v.st.Config.Tokens.SigningKey == model.SigningKeyChart {
				f.Waived = "tokens.signingKey is chart: a stack deployed before the fleet key keeps its tokens (docs/operations.md, \"Moving a region to the fleet signing key\")"
			}
			out = append(out, f)
			continue
		}
		ns := str(r.Inputs["namespace"])
		want := []string{pulsar.KeySecret}
		su, _ := get(values, "auth.superUsers").(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(su)) {
			want = append(want, pulsar.TokenSecret(str(su[k])))
		}
		for _, name := range want {
			if !secrets[ns+"/"+name] {
				out = append(out, fail(res(r), "no Secret %s/%s: with the chart's hook off, the program must make it", ns, name))
			}
		}
		for _, m := range mountedTokenSecrets(v, ns, values) {
			if !secrets[ns+"/"+m.secret] {
				out = append(out, fail(res(r), "%s mounts the token Secret %s/%s, which the program does not make: it would wait for a human to create it", m.by, ns, m.secret))
			}
		}
	}
	return out
}

// tokenMount is a token Secret a workload mounts.
type tokenMount struct{ by, secret string }

// mountedTokenSecrets are the token Secrets (the program's names: a
// role's token, or the geo-replication tokens) that the release's values
// (the brokers' and proxies' extra volumes) and the program's workloads
// in its namespace (the probe, the jobs) mount, optional ones aside.
func mountedTokenSecrets(v *view, ns string, values map[string]any) []tokenMount {
	isToken := func(name string) bool {
		return strings.HasPrefix(name, pulsar.TokenSecret("")) || name == pulsar.GeoTokensSecret
	}
	var out []tokenMount
	for _, comp := range slices.Sorted(maps.Keys(values)) {
		for _, name := range secretVolumes(get(values, comp+".extraVolumes")) {
			if isToken(name) {
				out = append(out, tokenMount{"values " + comp + ".extraVolumes", name})
			}
		}
	}
	for _, o := range v.objects {
		if o.Namespace() != ns || o.Kind() == "Secret" {
			continue
		}
		for _, name := range secretVolumes(o.Object["spec"]) {
			if isToken(name) {
				out = append(out, tokenMount{o.Kind() + " " + o.Name(), name})
			}
		}
	}
	return out
}

// secretVolumes are the names of the non-optional Secret volumes anywhere
// under v ({secret: {secretName, optional}}).
func secretVolumes(v any) []string {
	var out []string
	switch t := v.(type) {
	case map[string]any:
		if s, ok := t["secret"].(map[string]any); ok && s["optional"] != true {
			if name := str(s["secretName"]); name != "" {
				out = append(out, name)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			out = append(out, secretVolumes(t[k])...)
		}
	case []any:
		for _, e := range t {
			out = append(out, secretVolumes(e)...)
		}
	}
	return out
}

// pulsarNoPlaintext checks that no Pulsar component listens in plaintext
// on a data, admin or metadata port: every release that runs brokers and
// proxies turns TLS on for them, the bookies and ZooKeeper, with
// certificates from the region's CA, and has autorecovery's BookKeeper
// client speak TLS to the bookies, and ZooKeeper's quorum too (waived while
// a running region moves to it); a release of bookies only turns it on
// for its bookies and their ZooKeeper client, with the main release's CA;
// and the proxies' load balancer opens TLS again to the proxies. (The
// web port 8080 stays plaintext for Prometheus; NETWORK-ISOLATED keeps
// everyone else off it.)
// certificatePatch is the type of a server-side patch of a cert-manager
// Certificate.
const certificatePatch = "kubernetes:cert-manager.io/v1:CertificatePatch"

func pulsarCAKeepsKey(v *view) []Finding {
	var out []Finding
	for _, r := range v.helmReleases("pulsar") {
		values, _ := r.Inputs["values"].(map[string]any)
		if get(values, "certs.internal_issuer.enabled") != true || cmp.Or(str(get(values, "certs.internal_issuer.type")), "selfsigning") != "selfsigning" {
			continue // a release of another's CA (the instance-storage bookies), or of a CA the chart does not make
		}
		ns, name := str(r.Inputs["namespace"]), chartFullname(r, 63)+"-ca"
		if !v.caKeyPatched(ns, name) {
			out = append(out, fail(res(r), "no %s sets spec.privateKey.rotationPolicy %s on %s/%s: cert-manager would give the CA a new key when it renews or re-issues it",
				certificatePatch, pulsar.CAKeyPolicy, ns, name))
		}
	}
	return out
}

// chartFullname is the name a chart's standard fullname helper gives a
// release: fullnameOverride, or the release name when it contains the
// chart's name, or both joined; cut to max characters, with no trailing
// dash.
func chartFullname(r recorder.Resource, max int) string {
	values, _ := r.Inputs["values"].(map[string]any)
	full := str(values["fullnameOverride"])
	if full == "" {
		chart := str(r.Inputs["chart"])
		chart = cmp.Or(str(values["nameOverride"]), chart[strings.LastIndex(chart, "/")+1:])
		full = str(r.Inputs["name"])
		if !strings.Contains(full, chart) {
			full += "-" + chart
		}
	}
	if len(full) > max {
		full = full[:max]
	}
	return strings.TrimSuffix(full, "-")
}

// caKeyPatched reports whether the CA's Certificate is patched to keep
// its key.
func (v *view) caKeyPatched(ns, name string) bool {
	for _, p := range v.byType[certificatePatch] {
		if get(p.Inputs, "metadata.name") == name && get(p.Inputs, "metadata.namespace") == ns &&
			get(p.Inputs, "spec.privateKey.rotationPolicy") == pulsar.CAKeyPolicy {
			return true
		}
	}
	return false
}

func pulsarNoPlaintext(v *view) []Finding {
	var out []Finding
	for _, r := range v.helmReleases("pulsar") {
		values, _ := r.Inputs["values"].(map[string]any)
		want := []string{"tls.enabled", "tls.bookie.enabled", "tls.zookeeper.enabled"}
		if servesClients(values) {
			want = append(want, "tls.proxy.enabled", "tls.broker.enabled")
		}
		for _, k := range want {
			if get(values, k) != true {
				out = append(out, fail(res(r), "%s is not true: that component listens in plaintext", k))
			}
		}
		if get(values, "components.autorecovery") != false && get(values, "autorecovery.configData.PULSAR_PREFIX_tlsProviderFactoryClass") != pulsar.AutorecoveryTLS()["PULSAR_PREFIX_tlsProviderFactoryClass"] {
			out = append(out, fail(res(r), "autorecovery.configData sets no TLS provider: autorecovery copies ledgers to and from the bookies in plaintext"))
		}
		if get(values, "components.zookeeper") != false {
			out = append(out, quorumTLS(res(r), str(get(values, "zookeeper.additionalCommand")))...)
		}
		out = append(out, plaintextSettings(res(r), values)...)
		if get(values, "components.proxy") != false && waitsForZooKeeper(get(values, "proxy.waitZookeeperTimeout")) {
			out = append(out, fail(res(r), "proxy.waitZookeeperTimeout is not 0: the chart's wait-zookeeper-ready container dials ZooKeeper on 2181 in plaintext, which the NetworkPolicies refuse (and the last quorum stage closes), so the proxies would never start"))
		}
		if get(values, "certs.internal_issuer.enabled") != true && str(get(values, "certs.issuers.ca.name")) == "" {
			out = append(out, fail(res(r), "no issuer for the components' certificates (certs.internal_issuer or certs.issuers.ca)"))
		}
	}
	// Every load balancer that ends TLS opens it again to its pods.
	for _, o := range v.objectsOfKind("Service") {
		if str(get(o.Object, "spec.type")) != "LoadBalancer" || annotation(o.Object, annSSLCert) == "" {
			continue
		}
		if p := annotation(o.Object, annBackendProtocol); p != pulsar.BackendProtocol {
			out = append(out, fail(o.String(), "the load balancer ends TLS and reaches its pods in plaintext (%s %q, want %q)", annBackendProtocol, p, pulsar.BackendProtocol))
		}
	}
	return out
}

// plaintextPorts are the settings that open a component's plaintext
// client port, by the values' component key: the chart leaves them out
// with TLS on (and the ZooKeeper command deletes the image's clientPort),
// but a configData entry would put one back: apply-config-from-env.py
// adds a PULSAR_PREFIX_ key after the command has run, and sets a key the
// file already has.
var plaintextPorts = map[string][]string{
	"zookeeper": {"clientPort"},
	"broker":    {"brokerServicePort"},
	"proxy":     {"servicePort"},
}

// plaintextSettings fails a configData entry that opens a plaintext
// client port.
func plaintextSettings(resource string, values map[string]any) []Finding {
	return configDataSets(resource, values, plaintextPorts, "it opens the plaintext client port the TLS settings close")
}

// waitsForZooKeeper reads proxy.waitZookeeperTimeout as the chart does:
// the wait runs for a timeout above 0, and the chart's default is 600.
func waitsForZooKeeper(v any) bool {
	var n float64
	if _, err := fmt.Sscan(fmt.Sprint(v), &n); err != nil {
		return v != false && v != ""
	}
	return n > 0
}

// quorumTLS judges ZooKeeper's quorum by the command its values run: TLS
// only passes; the stages of a running region's move to it are waived
// (they still accept plaintext); anything else fails.
func quorumTLS(resource, command string) []Finding {
	if command == pulsar.QuorumTLSCommand(model.QuorumTLSOnly) {
		return []Finding{fail(resource, "ZooKeeper still serves plaintext clients on 2181 (the image's clientPort): zookeeper.additionalCommand does not close it")}
	}
	for _, q := range model.QuorumTLSStages {
		if command != pulsar.ZooKeeperCommand(q) {
			continue
		}
		if q == model.QuorumTLSOnly {
			return nil
		}
		f := fail(resource, "ZooKeeper's quorum still accepts plaintext, and its clients still have port 2181 (zookeeper.quorumTls: %s)", q)
		f.Waived = "the region is moving its quorum to TLS, one rolling restart per stage (docs/operations.md, \"Moving ZooKeeper's quorum to TLS\")"
		return []Finding{f}
	}
	return []Finding{fail(resource, "zookeeper.additionalCommand does not run the quorum TLS command: ZooKeeper's servers talk to each other in plaintext")}
}

const annBackendProtocol = "service.beta.kubernetes.io/aws-load-balancer-backend-protocol"
