package security

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// How the check reads a querier's dialing, case by case, after Thanos'
// own rules (cmd/thanos/endpointset.go): "" where the querier passes.
func TestQuerierTLS(t *testing.T) {
	const peer = "thanos.us-west-2.streaming.example.com:443"
	tlsFlags := []string{"--grpc-client-tls-secure", "--grpc-client-tls-cert=/t/tls.crt", "--grpc-client-tls-key=/t/tls.key", "--grpc-client-tls-ca=/t/ca.crt"}
	withFlags := func(args ...string) []string { return append(append([]string{"query"}, tlsFlags...), args...) }
	sd := func(c string) string { return "--endpoint.sd-config=" + c }
	mutualDefault := `{"default_client_config":{"tls_config":{"enabled":true,"cert_file":"/t/tls.crt","key_file":"/t/tls.key","ca_file":"/t/ca.crt"}},`
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"the flags and a peer":                          {withFlags("--endpoint=" + peer), ""},
		"the program's history stores in plaintext":     {withFlags("--endpoint="+peer, sd(`{"endpoints":[{"address":"thanos-store-mirror-us-east-1.monitoring.svc.cluster.local:10901","client_config":{"tls_config":{"enabled":false}}}]}`)), ""},
		"no flags, a peer":                              {[]string{"query", "--endpoint=" + peer}, "dials other regions' endpoints without TLS and a client certificate"},
		"no flags, a peer in the cluster only":          {[]string{"query", "--endpoint=dnssrv+_grpc._tcp.thanos-store.monitoring.svc.cluster.local"}, ""},
		"verification skipped":                          {withFlags("--endpoint="+peer, "--grpc-client-tls-skip-verify"), "or with verification skipped"},
		"a strict endpoint without the flags":           {[]string{"query", "--endpoint-strict=" + peer}, "without TLS"},
		"a peer in the configuration, by the flags":     {withFlags(sd(`{"endpoints":[{"address":"` + peer + `"}]}`)), ""},
		"a peer in the configuration, no flags":         {[]string{"query", sd(`{"endpoints":[{"address":"` + peer + `"}]}`)}, "dials " + peer + ", outside the cluster, in plaintext"},
		"a peer in plaintext":                           {withFlags(sd(`{"endpoints":[{"address":"` + peer + `","client_config":{"tls_config":{"enabled":false}}}]}`)), "in plaintext"},
		"a peer with TLS and no certificate":            {withFlags(sd(`{"endpoints":[{"address":"` + peer + `","client_config":{"tls_config":{"enabled":true}}}]}`)), "with TLS but without a client certificate"},
		"a peer with a CA only, over the flags' files":  {withFlags(sd(`{"endpoints":[{"address":"` + peer + `","client_config":{"tls_config":{"ca_file":"/o/ca.crt"}}}]}`)), ""},
		"a dns+ peer's own TLS is ignored":              {[]string{"query", sd(`{"endpoints":[{"address":"dns+` + peer + `","client_config":{"tls_config":{"enabled":true,"cert_file":"a","key_file":"b","ca_file":"c"}}}]}`)}, "in plaintext"},
		"the default turns TLS off for the flags' peer": {withFlags("--endpoint="+peer, sd(`{"default_client_config":{"tls_config":{"enabled":false}}}`)), "default_client_config): in plaintext"},
		"a default with a server name only":             {withFlags("--endpoint="+peer, sd(`{"default_client_config":{"server_name":"x"}}`)), "default_client_config): in plaintext"},
		"a mutual default and no flags":                 {[]string{"query", "--endpoint=" + peer, sd(mutualDefault + `"endpoints":[{"address":"` + peer + `"}]}`)}, ""},
		"the value as the next argument":                {withFlags("--endpoint.sd-config", `{"endpoints":[{"address":"`+peer+`","client_config":{"tls_config":{"enabled":false}}}]}`), "in plaintext"},
		"an endpoint file":                              {withFlags("--endpoint.sd-config-file=/e.yaml"), "reads its endpoints from a file"},
		"store files":                                   {withFlags("--store.sd-files=/s.yaml"), "reads its endpoints from a file"},
		"a configuration it cannot read":                {withFlags(sd("endpoints: [")), "cannot read"},
		"a cluster name for a Service not in the stack": {withFlags(sd(`{"endpoints":[{"address":"thanos-elsewhere.monitoring.svc:10901","client_config":{"tls_config":{"enabled":false}}}]}`)), "outside the cluster, in plaintext"},
		"a cluster name, no flags, not in the stack":    {[]string{"query", "--endpoint=dnssrv+_grpc._tcp.thanos-elsewhere.monitoring.svc.cluster.local"}, "dials other regions' endpoints without TLS"},
	} {
		findings := querierTLS("Deployment monitoring/q", c.args, stackServices)
		var got []string
		for _, f := range findings {
			got = append(got, f.Message)
		}
		if c.want == "" {
			assert.Empty(t, got, name)
			continue
		}
		assert.True(t, len(got) > 0 && strings.Contains(strings.Join(got, "\n"), c.want), "%s: want %q, got %q", name, c.want, got)
	}
}

// stackServices stands for the stack's Services that select pods: the
// history stores.
func stackServices(address string) bool {
	ns, name, ok := serviceOf(address)
	return ok && ns == "monitoring" && (name == "thanos-store" || name == "thanos-store-mirror-us-east-1")
}

// An address names a Service by the cluster's DNS, with or without the
// cluster domain, a port, a dns+ or dnssrv+ prefix and SRV labels.
func TestServiceOf(t *testing.T) {
	for _, c := range []struct {
		address, ns, name string
		ok                bool
	}{
		{"thanos-store.monitoring.svc.cluster.local:10901", "monitoring", "thanos-store", true},
		{"thanos-store.monitoring.svc:10901", "monitoring", "thanos-store", true},
		{"dnssrv+_grpc._tcp.thanos-store.monitoring.svc.cluster.local", "monitoring", "thanos-store", true},
		{"dns+thanos-store.monitoring.svc:10901", "monitoring", "thanos-store", true},
		{"thanos.us-west-2.streaming.example.com:443", "", "", false},
		{"thanos-store.svc:10901", "", "", false},
		{"thanos-store:10901", "", "", false},
		{"10.0.0.1:10901", "", "", false},
	} {
		ns, name, ok := serviceOf(c.address)
		assert.Equal(t, []any{c.ns, c.name, c.ok}, []any{ns, name, ok}, c.address)
	}
}
