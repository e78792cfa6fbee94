package security

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// How a Thanos querier dials its endpoints (cmd/thanos/endpointset.go,
// v0.42.4), as the check reads it from the querier's arguments.
var (
	// endpointFlags each name one endpoint, dialed with the querier's
	// global TLS.
	endpointFlags = []string{"--endpoint=", "--endpoint-strict=", "--endpoint-group=", "--endpoint-group-strict=", "--store="}
	// unseenEndpointFlags read endpoints from files the manifests do not
	// carry.
	unseenEndpointFlags = []string{"--endpoint.sd-config-file=", "--store.sd-files="}
)

// sdConfigFlag carries the endpoint configuration inline.
const sdConfigFlag = "--endpoint.sd-config="

// dialTLS is how one endpoint is dialed: TLS, a client certificate and
// key, a CA to verify the server with, verification skipped.
type dialTLS struct {
	on, cert, key, ca, skip bool
}

// mutual says whether the dial is TLS with a client certificate and a
// verified server.
func (d dialTLS) mutual() bool { return d.on && d.cert && d.key && d.ca && !d.skip }

// why names what a dial lacks.
func (d dialTLS) why() string {
	if !d.on {
		return "in plaintext"
	}
	return "with TLS but without a client certificate, key and CA, or with verification skipped"
}

// flagsTLS is the --grpc-client-tls-* flags' dial.
func flagsTLS(args []string) dialTLS {
	set := func(flag string) bool { return hasFlags(args, []string{flag}) }
	return dialTLS{on: set("--grpc-client-tls-secure"), cert: set("--grpc-client-tls-cert="), key: set("--grpc-client-tls-key="),
		ca: set("--grpc-client-tls-ca="), skip: set("--grpc-client-tls-skip-verify")}
}

// sdConfig is what the check reads of --endpoint.sd-config, as Thanos
// reads it (YAML, of which JSON is a form).
type sdConfig struct {
	Default   sdClient `yaml:"default_client_config"`
	Endpoints []struct {
		Address      string   `yaml:"address"`
		Group        bool     `yaml:"group"`
		ClientConfig sdClient `yaml:"client_config"`
	} `yaml:"endpoints"`
}

type sdClient struct {
	TLS struct {
		Enabled    *bool   `yaml:"enabled"`
		Skip       *bool   `yaml:"insecure_skip_verify"`
		Cert       *string `yaml:"cert_file"`
		Key        *string `yaml:"key_file"`
		CA         *string `yaml:"ca_file"`
		MinVersion *string `yaml:"min_version"`
	} `yaml:"tls_config"`
	ServerName string `yaml:"server_name"`
}

// global says whether the client configuration leaves the dial to the
// querier's global TLS (UseGlobalTLSOpts).
func (c sdClient) global() bool {
	t := c.TLS
	return t.Enabled == nil && t.Skip == nil && t.Cert == nil && t.Key == nil && t.CA == nil && t.MinVersion == nil && c.ServerName == ""
}

// dial is the configuration's dial, its unset fields taken from fallback
// (nil: none), as Thanos' applyDefaults does: TLS is on where it is
// enabled, or where a file or skip-verify is set.
func (c sdClient) dial(fallback *dialTLS) dialTLS {
	var fb dialTLS
	if fallback != nil {
		fb = *fallback
	}
	t := c.TLS
	file := func(v *string, dflt bool) bool {
		if v != nil {
			return *v != ""
		}
		return dflt
	}
	d := dialTLS{on: fb.on, cert: file(t.Cert, fb.cert), key: file(t.Key, fb.key), ca: file(t.CA, fb.ca), skip: fb.skip}
	if t.Skip != nil {
		d.skip = *t.Skip
	}
	switch {
	case t.Enabled != nil:
		d.on = *t.Enabled
	case t.Cert != nil || t.Key != nil || t.CA != nil || t.Skip != nil:
		d.on = true
	}
	return d
}

// endpointDial is how Thanos dials one endpoint of the configuration: a
// dns+ or dnssrv+ address (not a group) and one that leaves its client
// configuration unset with the global TLS; one that turns TLS on with its
// own fields only; one that leaves it unset with its fields over the
// global ones.
func endpointDial(address string, group bool, c sdClient, global dialTLS) dialTLS {
	switch {
	case (strings.Contains(address, "+") && !group) || c.global():
		return global
	case c.TLS.Enabled != nil && *c.TLS.Enabled:
		return c.dial(nil)
	case c.TLS.Enabled != nil:
		return dialTLS{}
	}
	return c.dial(&global)
}

// querierTLS fails a querier that dials an endpoint outside the cluster
// without TLS, a client certificate and a verified server: through its
// endpoint flags, or through its endpoint configuration. The global TLS is
// the --grpc-client-tls-* flags', or the configuration's
// default_client_config where that sets anything. It fails a configuration
// it cannot read or cannot see (a file).
func querierTLS(where string, args []string, inCluster func(address string) bool) []Finding {
	args = joinFlagValues(args)
	var out []Finding
	global := flagsTLS(args)
	var configs []sdConfig
	for _, a := range args {
		if slices.ContainsFunc(unseenEndpointFlags, func(f string) bool { return strings.HasPrefix(a, f) }) {
			out = append(out, fail(where, "reads its endpoints from a file (%s): the check cannot see how it dials them; give the configuration inline (--endpoint.sd-config)", a))
		}
		content, ok := strings.CutPrefix(a, sdConfigFlag)
		if !ok {
			continue
		}
		var c sdConfig
		if err := yaml.Unmarshal([]byte(content), &c); err != nil {
			out = append(out, fail(where, "an --endpoint.sd-config the check cannot read (%v): its endpoints' TLS is unknown", err))
			continue
		}
		if !c.Default.global() {
			global = c.Default.dial(nil)
		}
		configs = append(configs, c)
	}
	if slices.ContainsFunc(args, func(a string) bool { return remoteFlagEndpoint(a, inCluster) }) && !global.mutual() {
		out = append(out, fail(where, "dials other regions' endpoints without TLS and a client certificate (the %s flags, or its endpoint configuration's default_client_config): %s",
			strings.Join(mutualTLSClientFlags, " "), global.why()))
	}
	for _, c := range configs {
		for _, e := range c.Endpoints {
			if d := endpointDial(e.Address, e.Group, e.ClientConfig, global); !inCluster(e.Address) && !d.mutual() {
				out = append(out, fail(where, "dials %s, outside the cluster, %s (--endpoint.sd-config)", e.Address, d.why()))
			}
		}
	}
	return out
}

// remoteFlagEndpoint says whether an argument is an endpoint flag naming
// an address outside the cluster.
func remoteFlagEndpoint(a string, inCluster func(address string) bool) bool {
	for _, f := range endpointFlags {
		if v, ok := strings.CutPrefix(a, f); ok {
			return !inCluster(v)
		}
	}
	return false
}

// joinFlagValues writes "--flag value" as "--flag=value", as the querier's
// flag parser reads both.
func joinFlagValues(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "--") && !strings.Contains(a, "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && takesValue(a) {
			a, i = a+"="+args[i+1], i+1
		}
		out = append(out, a)
	}
	return out
}

// takesValue says whether a flag without "=" takes the next argument: the
// endpoint flags, the endpoint configuration and the TLS flags with a
// value do.
func takesValue(flag string) bool {
	f := flag + "="
	return f == sdConfigFlag || slices.Contains(endpointFlags, f) || slices.Contains(unseenEndpointFlags, f) || slices.Contains(mutualTLSClientFlags, f) ||
		slices.Contains(mutualTLSServerFlags, f) || f == "--grpc-address=" || f == "--grpc-server-tls-min-version="
}
