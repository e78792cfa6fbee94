// Package security is the fleet's security baseline: rules with stable ids,
// checked over the offline preview of every stack at every phase (what the
// program would ask AWS and Kubernetes for), each finding naming the rule,
// the stack, the phase and the resource it fails on. `pulsar-fleet check`
// runs it; tests prove every rule has a passing and a failing case.
//
// Why not a Pulumi policy pack: the Go policy SDK (policyx in sdk/v3) is
// experimental, and a policy pack runs only inside a real `pulumi preview`,
// which here needs provider plugins that cannot be installed offline. The
// rules are plain functions over recorded resources, so they run in unit
// tests, in the CLI and in CI without credentials; wrapping them in a policy
// pack later only needs an adapter from policy resources to
// recorder.Resource.
package security

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// Finding is one rule failing on one resource.
type Finding struct {
	Rule     string `json:"rule"`
	Stack    string `json:"stack"`
	Phase    string `json:"phase"`
	Resource string `json:"resource"`
	Message  string `json:"message"`
	// Waived says why an explicitly configured exception is accepted; a
	// waived finding does not fail the check.
	Waived string `json:"waived,omitempty"`
}

func (f Finding) String() string {
	status := "FAIL"
	if f.Waived != "" {
		status = "WAIVED"
	}
	s := fmt.Sprintf("%s %s %s/%s %s: %s", status, f.Rule, f.Stack, f.Phase, f.Resource, f.Message)
	if f.Waived != "" {
		s += " (" + f.Waived + ")"
	}
	return s
}

// Rule is one check.
type Rule struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	check func(v *view) []Finding
}

// Rules returns the baseline, in a stable order.
func Rules() []Rule {
	return []Rule{
		{"S3-ENCRYPTED", "S3 buckets encrypt objects by default (SSE-KMS or SSE-S3)", s3Encrypted},
		{"S3-VERSIONED", "S3 buckets are versioned", s3Versioned},
		{"S3-PUBLIC-ACCESS-BLOCKED", "S3 buckets block every form of public access", s3PublicAccessBlocked},
		{"S3-TLS-ONLY", "S3 bucket policies deny requests without TLS", s3TLSOnly},
		{"EKS-SECRETS-ENCRYPTED", "EKS encrypts Kubernetes Secrets with a KMS key", eksSecretsEncrypted},
		{"EKS-ENDPOINT-NOT-PUBLIC", "The EKS API endpoint is never open to the world; one open to listed networks (cluster.publicAccessCidrs) is a waiver", eksEndpoint},
		{"EKS-CONTROL-PLANE-LOGS", "EKS control-plane logs (api, audit, authenticator) are on", eksLogs},
		{"EKS-STANDARD-SUPPORT", "The cluster's Kubernetes version is one EKS serves and is in standard support on the day of the check: past it EKS bills extended support and, a year later, upgrades the cluster itself", eksStandardSupport},
		{"NODE-IMDSV2", "Nodes require IMDSv2 with a hop limit of 1 (pods cannot reach the node role)", nodeIMDSv2},
		{"NODE-VOLUMES-ENCRYPTED", "Node and persistent volumes are encrypted", nodeVolumesEncrypted},
		{"IAM-NO-WILDCARD-ADMIN", "No IAM policy allows every action on every resource", iamNoWildcardAdmin},
		{"IAM-TRUST-SCOPED", "Roles are trusted only by their intended service or service account", iamTrustScoped},
		{"PULSAR-AUTH", "Pulsar token authentication and authorization are on", pulsarAuth},
		{"PULSAR-NO-PLAINTEXT", "No Pulsar component listens in plaintext: TLS on proxies, brokers, bookies and ZooKeeper from the region's CA, autorecovery's connections to the bookies and ZooKeeper's quorum over TLS, and TLS from the load balancer to the proxies", pulsarNoPlaintext},
		{"PULSAR-CA-KEEPS-KEY", "The region's in-cluster CA keeps its key when cert-manager renews or re-issues it: every Pulsar release that makes its own CA has that CA Certificate patched to rotationPolicy Never (a new key would break every TLS hop in the region until each component's certificate is re-issued)", pulsarCAKeepsKey},
		{"PULSAR-TOKENS-OWNED", "Pulsar's JWT key and tokens are the program's (minted from the fleet key, no private key in the cluster), not the chart hook's, and every token Secret a workload mounts (the brokers' geo-replication tokens, the probe's, the jobs') is one the program makes; the chart's key is a waiver (tokens.signingKey: chart)", pulsarTokensOwned},
		{"PULSAR-TLS", "Every load-balanced listener terminates TLS 1.2+, at the NLB or, passed through, in a workload that checks client certificates", pulsarTLS},
		{"METRICS-AUTHENTICATED", "Metrics endpoints outside the cluster demand client certificates and admit no 0.0.0.0/0; queriers dial other regions over TLS with a certificate", metricsAuthenticated},
		{"ADMIN-NOT-PUBLIC", "No internet-facing load balancer leads to a web port (80, 443, 8080, 8443) or to a port by name: Pulsar's admin API is on the private listener only, which admits this VPC and the joined regions' VPCs", adminNotPublic},
		{"LB-SOURCE-RANGES", "Internet-facing load balancers admit listed networks only, never 0.0.0.0/0; an open proxy needs routing.allowPublicProxy (a waiver)", lbSourceRanges},
		{"ZOOKEEPER-INTERNAL", "ZooKeeper is not exposed outside the cluster", zookeeperInternal},
		{"NETWORK-ISOLATED", "NetworkPolicies are enforced and keep ZooKeeper and the bookies from other namespaces and from the proxies, and the Pulsar pods from plaintext ports outside their namespace", networkIsolated},
		{"NAMESPACES-ISOLATED", "Every namespace the program creates (Pulsar, monitoring, cert-manager) has a NetworkPolicy selecting all its pods, and every pod it adds to kube-system (Karpenter, Fluent Bit) is selected by one: nothing reaches them that a policy does not admit; and in the namespaces it creates an egress policy selects every pod, and no egress rule sends outside the VPC but DNS and TLS (never to the instance metadata service)", namespacesIsolated},
		{"SECRET-NOT-IN-CONFIG", "No secret value in stack config (only secure values)", secretNotInConfig},
		{"SECRET-NOT-IN-MANIFESTS", "No secret value in emitted manifests (only references or Pulumi secrets)", secretNotInManifests},
		{"DATA-PROTECTED", "Offload and metrics buckets (the metrics mirrors too), KMS keys and the EKS cluster are protected from deletion unless allowDataDeletion is set", dataProtected},
	}
}

// RuleIDs lists the rule ids.
func RuleIDs() []string {
	var ids []string
	for _, r := range Rules() {
		ids = append(ids, r.ID)
	}
	return ids
}

// Check runs every rule over one previewed stack, as on the given day
// (the rules about support windows read it).
func Check(st stacks.OfflineStack, on time.Time) []Finding {
	v := newView(st, on)
	var out []Finding
	for _, r := range Rules() {
		for _, f := range r.check(v) {
			f.Rule, f.Stack, f.Phase = r.ID, st.Stack, st.Phase
			out = append(out, f)
		}
	}
	return out
}

// Failed returns the findings that are not waived.
func Failed(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Waived == "" {
			out = append(out, f)
		}
	}
	return out
}

// Report is the baseline over several stacks and phases.
type Report struct {
	Rules    []Rule    `json:"rules"`
	Checked  []string  `json:"checked"` // stack/phase pairs
	Findings []Finding `json:"findings"`
}

// Passed reports whether no finding fails.
func (r Report) Passed() bool { return len(Failed(r.Findings)) == 0 }

// CheckFleet previews the stacks (all when none are named) at each phase
// (the stacks' own when phases is empty) and checks them as on the given
// day.
func CheckFleet(o stacks.OfflineOptions, phases []string, on time.Time) (Report, error) {
	rep := Report{Rules: Rules()}
	if len(phases) == 0 {
		phases = []string{""}
	}
	for _, ph := range phases {
		o.Phase = ph
		res, err := stacks.PreviewOffline(o)
		if err != nil {
			return rep, err
		}
		for _, st := range res.Stacks {
			rep.Checked = append(rep.Checked, st.Stack+"/"+st.Phase)
			rep.Findings = append(rep.Findings, Check(st, on)...)
		}
	}
	return rep, nil
}

// view indexes one stack's resources for the rules.
type view struct {
	st      stacks.OfflineStack
	byType  map[string][]recorder.Resource
	byID    map[string]recorder.Resource
	objects []manifests.Object
	// on is the day the check is made as of.
	on time.Time
}

func newView(st stacks.OfflineStack, on time.Time) *view {
	v := &view{st: st, on: on, byType: map[string][]recorder.Resource{}, byID: map[string]recorder.Resource{}}
	for _, r := range st.Resources {
		v.byType[r.Type] = append(v.byType[r.Type], r)
		if r.ID != "" {
			v.byID[r.ID] = r
		}
	}
	v.objects = manifests.From(st.Resources)
	return v
}

// attached returns the resources of a type whose "bucket" (or other key)
// input is the given resource's ID.
func (v *view) attached(typ, key, id string) []recorder.Resource {
	var out []recorder.Resource
	for _, r := range v.byType[typ] {
		if s, _ := r.Inputs[key].(string); s == id {
			out = append(out, r)
		}
	}
	return out
}

func (v *view) objectsOfKind(kind string) []manifests.Object {
	var out []manifests.Object
	for _, o := range v.objects {
		if o.Kind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// helmReleases returns the Helm releases of a chart (matched by suffix, so
// OCI references match too).
func (v *view) helmReleases(chart string) []recorder.Resource {
	var out []recorder.Resource
	for _, r := range v.byType["kubernetes:helm.sh/v3:Release"] {
		if c, _ := r.Inputs["chart"].(string); c == chart || strings.HasSuffix(c, "/"+chart) {
			out = append(out, r)
		}
	}
	return out
}

func fail(resource, format string, a ...any) Finding {
	return Finding{Resource: resource, Message: fmt.Sprintf(format, a...)}
}

func res(r recorder.Resource) string { return r.Type + " " + r.Name }

// get walks a dotted path through maps.
func get(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func str(v any) string { s, _ := v.(string); return s }

func strs(v any) []string {
	var out []string
	if xs, ok := v.([]any); ok {
		for _, x := range xs {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// sortFindings orders findings by resource, then message.
func sortFindings(fs []Finding) {
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Resource != fs[j].Resource {
			return fs[i].Resource < fs[j].Resource
		}
		return fs[i].Message < fs[j].Message
	})
}

// annotation reads metadata.annotations[key] (keys contain dots, so not
// through get).
func annotation(obj map[string]any, key string) string {
	ann, _ := get(obj, "metadata.annotations").(map[string]any)
	return str(ann[key])
}
