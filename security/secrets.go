package security

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// credentialPatterns recognise secret values by their shape.
var credentialPatterns = []struct {
	name string
	re   *regexp.Regexp
}{
	{"an AWS access key id", regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"a private key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)},
	{"a JSON web token", regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)},
	{"a URL with a password", regexp.MustCompile(`\b[a-z][a-z0-9+.-]*://[^/\s:@"']+:[^/\s@"']+@`)},
	{"a Slack webhook", regexp.MustCompile(`hooks\.slack\.com/services/[A-Za-z0-9]+/`)},
	{"a GitHub token", regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{30,}`)},
	{"a Pulumi access token", regexp.MustCompile(`\bpul-[a-f0-9]{40}\b`)},
	{"a password assignment", regexp.MustCompile(`(?i)\b(password|passwd|pwd)["']?\s*[:=]\s*["']?[^\s,;&"'$]{6,}`)},
	{"a secret key assignment", regexp.MustCompile(`(?i)\b(secret_key|secret_access_key|aws_secret_access_key)\s*[:=]\s*["']?[^\s,;&"'$]{8,}`)},
}

// secretKeyNames are config or value keys whose plain value is a secret:
// names ending in the words (adminPassword, webIdentityToken; not
// httpTokens, a setting).
var secretKeyNames = regexp.MustCompile(`(?i)(password|passwd|token|apiKey|accessKey|secretKey|privateKey|webhookUrl|(client|jwt|api|app|shared|signing|hmac|session)Secret)$`)

// references are values that name where a secret is, not the secret: a
// file (Pulsar's file:// settings, an absolute path of plain
// characters) or another variable ($(NAME)), whole, so nothing rides
// behind the reference (a space of any kind, a fragment, a query). A value that has a
// credential's shape fails first, reference or not.
var references = regexp.MustCompile(`^(file:///[A-Za-z0-9._/-]+|\$\([A-Za-z_][A-Za-z0-9_]*\))$`)

// secretName says whether a config key, value key or environment
// variable names a secret: AWS_SECRET_ACCESS_KEY as awsSecretAccessKey.
func secretName(k string) bool {
	return secretKeyNames.MatchString(strings.NewReplacer("_", "", "-", "", ".", "").Replace(k))
}

// credential names the kind of secret a string looks like, or "".
func credential(s string) string {
	for _, p := range credentialPatterns {
		if p.re.MatchString(s) {
			return p.name
		}
	}
	return ""
}

// walkStrings visits every string (and map key) under v with its path.
func walkStrings(v any, path string, f func(path, key, s string)) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if s, ok := e.(string); ok {
				f(path+"."+k, k, s)
				continue
			}
			walkStrings(e, path+"."+k, f)
		}
	case []any:
		for i, e := range t {
			walkStrings(e, fmt.Sprintf("%s[%d]", path, i), f)
		}
	case string:
		f(path, "", t)
	}
}

func secretNotInConfig(v *view) []Finding {
	var out []Finding
	file := v.st.File
	where := file.Path
	if where == "" {
		where = "Pulumi." + v.st.Stack + ".yaml"
	}
	// Every key is walked, a secret one's too: a key with one secure field
	// may hold others in plain text; the secure values read as the
	// placeholder and are passed over.
	for _, key := range sortedKeys(file.Raw) {
		raw := file.Raw[key]
		var tree any = raw
		if strings.HasPrefix(raw, "{") || strings.HasPrefix(raw, "[") {
			_ = json.Unmarshal([]byte(raw), &tree)
		}
		walkStrings(tree, key, func(path, k, s string) {
			if path == key {
				// A top-level value: its name is the key after the namespace.
				_, k, _ = strings.Cut(key, ":")
			}
			if s == stacks.SecretPlaceholder {
				return
			}
			if c := credential(s); c != "" {
				out = append(out, fail(where, "%s holds %s in plain text: use `pulumi config set --secret` or a reference", path, c))
			} else if k != "" && secretName(k) && s != "" {
				out = append(out, fail(where, "%s is a secret in plain text: use `pulumi config set --secret`", path))
			}
		})
	}
	return out
}

func sortedKeys(m stacks.Raw) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// plainSecretData reports a Secret's values that are not Pulumi secrets:
// a value the program owns must be one (encrypted in state, redacted in
// previews); anything else belongs out of band, referenced by name.
func plainSecretData(o manifests.Object) []Finding {
	var out []Finding
	for _, field := range []string{"data", "stringData"} {
		if slices.Contains(o.Redacted, field) {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(asMap(o.Object[field]))) {
			if asMap(o.Object[field])[k] != "[secret]" {
				out = append(out, fail(o.String(), "a Secret with %s.%s in plain text in the manifest: make it a Pulumi secret, or create it out of band and reference it", field, k))
			}
		}
	}
	return out
}

func secretNotInManifests(v *view) []Finding {
	var out []Finding
	for _, o := range v.objects {
		if o.Kind() == "Secret" {
			out = append(out, plainSecretData(o)...)
			continue
		}
		out = append(out, scanObject(o)...)
	}
	for _, r := range v.byType["kubernetes:helm.sh/v3:Release"] {
		// A Pulumi secret in Helm values stays encrypted in Pulumi state
		// and lands in Helm's release Secret: that is a secret path. The
		// pass-through objects are judged above, as objects.
		values := maps.Clone(asMap(r.Inputs["values"]))
		for _, k := range manifests.PassThroughKeys {
			delete(values, k)
		}
		out = append(out, scanValues(res(r), "values", values)...)
	}
	return out
}

// scanValues reports credentials in plain text under v: by their shape,
// under a secret's key name, or as an environment variable's value whose
// name is a secret's.
func scanValues(where, root string, v any) []Finding {
	var out []Finding
	walkStrings(v, root, func(path, k, s string) {
		switch {
		case s == "" || s == stacks.SecretPlaceholder:
		case credential(s) != "":
			out = append(out, fail(where, "%s holds %s in plain text", path, credential(s)))
		case references.MatchString(s):
		case k != "" && secretName(k):
			out = append(out, fail(where, "%s is a secret in plain text", path))
		}
	})
	walkMaps(v, root, func(path string, m map[string]any) {
		name, _ := m["name"].(string)
		if value, ok := m["value"].(string); ok && value != "" && value != stacks.SecretPlaceholder && !references.MatchString(value) && secretName(name) && credential(value) == "" {
			out = append(out, fail(where, "%s sets %s in plain text: take it from a Secret (valueFrom.secretKeyRef)", path, name))
		}
	})
	return out
}

func scanObject(o manifests.Object) []Finding {
	var out []Finding
	walkStrings(o.Object, "", func(path, _, s string) {
		if s == stacks.SecretPlaceholder {
			out = append(out, fail(o.String(), "%s is a Pulumi secret rendered into a plain %s", path, o.Kind()))
		}
	})
	return append(out, scanValues(o.String(), "", o.Object)...)
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
