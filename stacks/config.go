// Package stacks is the edge of the program: it reads each stack's
// configuration once into typed structs, applies defaults, validates the
// stack and the fleet it belongs to, and hands plain structs to regions. It
// also holds the program value that `pulumi up`, the Automation API driver
// and the offline preview all run, the stack graph, and the fleet driver.
package stacks

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Project is the Pulumi project name; config keys live in its namespace.
const Project = "pulsar-fleet"

// Role is a region's part in the fleet (model.RegionRole).
type Role = model.RegionRole

// The region roles (model's).
const (
	RolePrimary   = model.RolePrimary
	RoleSecondary = model.RoleSecondary
	RoleDR        = model.RoleDR
)

// Spot is the planned share of spot nodes per data pool, in [0, 1). A nil
// field takes the role profile's default for the phase.
type Spot struct {
	Broker *float64 `json:"broker,omitempty"`
	Bookie *float64 `json:"bookie,omitempty"`
}

// Routing is the region's place in global routing.
type Routing struct {
	// Weight is this region's Route53 weight (50 / 40 / 10).
	Weight int `json:"weight"`
	// TotalWeight is the declared sum of every stack's weight; the fleet
	// validation checks the stacks really sum to it.
	TotalWeight int `json:"totalWeight"`
	// HostedZoneID is the shared Route53 hosted zone.
	HostedZoneID string `json:"hostedZoneId"`
	// Domain is the hosted zone's domain; the global name is pulsar.<domain>
	// and the regional one pulsar-<region>.<domain>.
	Domain string `json:"domain"`
	// GlobalAccelerator adds an AWS Global Accelerator in front of the
	// regions' NLBs (created by the primary).
	GlobalAccelerator bool `json:"globalAccelerator,omitempty"`
	// ProxyScheme is "internet-facing" or "internal" for the proxy NLB.
	ProxyScheme model.ProxyScheme `json:"proxyScheme,omitempty"`
	// ClientCIDRs restrict who may reach an internet-facing proxy NLB (the
	// client listener; the peers use the private listener).
	ClientCIDRs []string `json:"clientCidrs,omitempty"`
	// AllowPublicProxy opens an internet-facing proxy to the whole internet
	// instead of ClientCIDRs: an explicit choice, which `pulsar-fleet
	// check` reports as a waiver.
	AllowPublicProxy bool `json:"allowPublicProxy,omitempty"`
}

// Durability is the BookKeeper quorum. The design rule is write quorum 3
// and ack quorum 2 (every entry on three bookies in at least two zones,
// acknowledged by two); AllowBelowDesign accepts a smaller write quorum
// for a stack that knowingly gives that up (ack quorum 1 is never allowed).
type Durability struct {
	Ensemble         int  `json:"ensemble"`
	WriteQuorum      int  `json:"writeQuorum"`
	AckQuorum        int  `json:"ackQuorum"`
	AllowBelowDesign bool `json:"allowBelowDesign,omitempty"`
}

// Cluster holds EKS settings.
type Cluster struct {
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// PublicAccessCIDRs opens the API endpoint to these CIDRs; empty keeps
	// the endpoint private.
	PublicAccessCIDRs []string `json:"publicAccessCidrs,omitempty"`
	// NATGateways is "perZone" (default) or "single" (cheaper, one zone's
	// NAT failure cuts egress for all).
	NATGateways model.NATMode `json:"natGateways,omitempty"`
	// CapacityReservationIDs are On-Demand Capacity Reservations the
	// critical (ZooKeeper and proxy) pool may use.
	CapacityReservationIDs []string `json:"capacityReservationIds,omitempty"`
	// Access declares who may use the cluster's Kubernetes API.
	Access Access `json:"access,omitempty"`
	// AddonVersions pins EKS add-ons (cluster.Addons) to versions; an
	// add-on not named follows the version EKS names for the Kubernetes
	// version at each `up` (cluster.NewestBuildAddons).
	AddonVersions map[string]string `json:"addonVersions,omitempty"`
}

// Access declares who may use a cluster's Kubernetes API, as EKS access
// entries: people and teams with an access policy each, and the roles the
// delivery path runs as. Without any, nobody but Karpenter's nodes can
// reach the cluster (EKS API authentication mode creates no admin entry).
type Access struct {
	// Principals are IAM roles or users with an access policy.
	Principals []AccessPrincipal `json:"principals,omitempty"`
	// CIPreviewRoleARN is the pull-request preview role: view access (the
	// Kubernetes provider falls back to a client-side diff where a
	// server-side dry run is forbidden).
	CIPreviewRoleARN string `json:"ciPreviewRoleArn,omitempty"`
	// CIDeployRoleARN is the deploy workflow's role: cluster admin.
	CIDeployRoleARN string `json:"ciDeployRoleArn,omitempty"`
	// OperatorRoleARN is the Pulumi Kubernetes Operator's workspace role
	// (IRSA): cluster admin.
	OperatorRoleARN string `json:"operatorRoleArn,omitempty"`
}

// AccessPrincipal is one IAM principal and its access.
type AccessPrincipal struct {
	ARN    string             `json:"arn"`
	Policy model.AccessPolicy `json:"policy"`
	// Namespaces scope the policy (not clusterAdmin); empty is cluster-wide.
	Namespaces []string `json:"namespaces,omitempty"`
}

// Grants lists every access grant: the principals in order, then the
// preview, deploy and operator roles that are set.
func (a Access) Grants() []model.AccessGrant {
	out, _ := a.grants()
	return out
}

// grantKeys names the config field of each grant of Grants.
func (a Access) grantKeys() []string {
	_, keys := a.grants()
	return keys
}

func (a Access) grants() ([]model.AccessGrant, []string) {
	var out []model.AccessGrant
	var keys []string
	for i, p := range a.Principals {
		out = append(out, model.AccessGrant{PrincipalARN: p.ARN, Policy: p.Policy, Namespaces: p.Namespaces})
		keys = append(keys, fmt.Sprintf("principals[%d]", i))
	}
	for _, r := range []struct {
		key, arn string
		policy   model.AccessPolicy
	}{{"ciPreviewRoleArn", a.CIPreviewRoleARN, model.AccessView}, {"ciDeployRoleArn", a.CIDeployRoleARN, model.AccessClusterAdmin},
		{"operatorRoleArn", a.OperatorRoleARN, model.AccessClusterAdmin}} {
		if r.arn != "" {
			out = append(out, model.AccessGrant{PrincipalARN: r.arn, Policy: r.policy})
			keys = append(keys, r.key)
		}
	}
	return out, keys
}

// TieredStorage holds the offload bucket settings.
type TieredStorage struct {
	// ReplicateTo names the peer stacks whose offload buckets receive this
	// bucket's objects (S3 cross-region replication). Each must be in Peers.
	// Unset, it is the role profile's (regions.RoleProfile.BucketReplicasTo:
	// the primary's DR peers); [] replicates nowhere.
	ReplicateTo []string `json:"replicateTo,omitempty"`
	// replicateToDefaulted is true when ReplicateTo came from the role
	// profile (Fleet.AppliedDefaults reports it).
	replicateToDefaulted bool
	// ReplicationTimeControl turns on S3 RTC (15-minute SLA, extra cost).
	ReplicationTimeControl bool `json:"replicationTimeControl,omitempty"`
	// AccessLogging writes S3 server access logs to a log bucket.
	AccessLogging *bool `json:"accessLogging,omitempty"`
	// RetentionDays is the offload bucket lifetime: the lifecycle expires
	// objects after it. It must cover the longest namespace TTL + retention
	// anyone sets; it also bounds the replicas in peer buckets, which
	// Pulsar never deletes. Default: the phase's TTL + retention + 8 days.
	RetentionDays int `json:"retentionDays,omitempty"`
}

// GeoReplication holds Pulsar geo-replication settings.
type GeoReplication struct {
	// ReplicateTo names the regions (stacks) that receive this region's
	// replicated namespaces. No stack dependency: peers are addressed by
	// their stable regional DNS names.
	ReplicateTo []string `json:"replicateTo,omitempty"`
	// Tenant and Namespaces are the replicated namespaces.
	Tenant     string   `json:"tenant,omitempty"`
	Namespaces []string `json:"namespaces,omitempty"`
}

// Tokens say what signs the region's Pulsar tokens.
type Tokens struct {
	// SigningKey is fleet (the bootstrap stack's key: the program mints
	// every token, the replicators' included) or chart (the chart's hook
	// makes a key per region; peers' tokens are minted by hand).
	SigningKey model.SigningKey `json:"signingKey,omitempty"`
	// ReplaceChartKey lets one `up` move a stack deployed with the chart's
	// key to the fleet key. Every token signed by the old key stops working
	// (docs/operations.md, "Moving a region to the fleet signing key").
	ReplaceChartKey bool `json:"replaceChartKey,omitempty"`
	// AcceptKeyFingerprint lets `up`s move a stack deployed with one fleet
	// key to the bootstrap stack's new one, named by its fingerprint
	// (model.KeyFingerprint), and to no other (docs/operations.md,
	// "Rotating the fleet signing key").
	AcceptKeyFingerprint string `json:"acceptKeyFingerprint,omitempty"`
}

// ZooKeeper holds the metadata store's settings.
type ZooKeeper struct {
	// QuorumTLS is the quorum's stage: tls (the default, and every new
	// region's), or accept and dial while a running region moves to it
	// (docs/operations.md, "Moving ZooKeeper's quorum to TLS").
	QuorumTLS model.QuorumTLS `json:"quorumTls,omitempty"`
}

// Observability holds monitoring settings.
type Observability struct {
	// MetricsSourceCIDRs is retired (the Thanos endpoint is internal and
	// admits the joined regions' VPCs): parsed only so that validation can
	// refuse it by name.
	MetricsSourceCIDRs *[]string `json:"metricsSourceCidrs,omitempty"`
	// LogRetentionDays is how long the region's pod log group keeps logs
	// (0: 30 days); one of the retentions CloudWatch Logs accepts.
	LogRetentionDays int `json:"logRetentionDays,omitempty"`
	// RunbookBaseURL is where the repository's files are browsed (e.g.
	// https://github.com/acme/pulsar-fleet/blob/main): alerts then link
	// their runbooks absolutely; empty keeps them repository-relative.
	RunbookBaseURL string `json:"runbookBaseUrl,omitempty"`
}

// StackConfig is one stack's validated, defaulted configuration.
type StackConfig struct {
	Stack   string   `json:"stack"`
	Region  string   `json:"region"`
	Role    Role     `json:"role"`
	Phase   string   `json:"phase"`
	Zones   []string `json:"zones"`
	VPCCIDR string   `json:"vpcCidr"`
	// AddedZones are zones added to the running region, each with its own
	// VPC secondary CIDR (docs/operations.md, "Adding a zone").
	AddedZones     []model.AddedZone `json:"addedZones,omitempty"`
	Peers          []string          `json:"peers"`
	Spot           Spot              `json:"spot"`
	Routing        Routing           `json:"routing"`
	Durability     Durability        `json:"durability"`
	Cluster        Cluster           `json:"cluster"`
	TieredStorage  TieredStorage     `json:"tieredStorage"`
	GeoReplication GeoReplication    `json:"geoReplication"`
	Observability  Observability     `json:"observability"`
	Tokens         Tokens            `json:"tokens"`
	ZooKeeper      ZooKeeper         `json:"zookeeper"`
	Arches         []model.Arch      `json:"arches"`
	// Workload is the team's workload over the phase presets.
	Workload Workload `json:"workload,omitempty"`
	// Calibration is the team's measurements over the planner's defaults.
	Calibration Calibration `json:"calibration,omitempty"`
	// BookieVolumes, when set, pins the EBS bookies' volumes at a phase.
	BookieVolumes *BookieVolumes `json:"bookieVolumes,omitempty"`
	// Transition, when set, declares a state between two phases: the step
	// of the transition from another phase to Phase (pulsar-fleet
	// transition lists them). The last step is Phase itself, without it.
	Transition *TransitionStep `json:"transition,omitempty"`
	// ChartSource is where the Helm charts come from (empty: their public
	// repositories).
	ChartSource model.ChartSource `json:"chartSource,omitempty"`
	// AllowDataDeletion lifts Pulumi's protect from the resources that hold
	// data or make it readable (offload buckets, their KMS keys, the EKS
	// cluster and its secrets key). Set it only to tear a region down:
	// `up` with it, then `destroy`.
	AllowDataDeletion bool `json:"allowDataDeletion,omitempty"`
	// AlertWebhookURL is where Alertmanager sends alerts: a secret config
	// value (pulumi config set --secret), which the program stores in a
	// Kubernetes Secret; empty routes alerts nowhere (with a warning).
	AlertWebhookURL model.Secret `json:"alertWebhookUrl,omitempty"`
}

// TransitionStep is a step of the transition from phase From.
type TransitionStep struct {
	From string `json:"from"`
	Step int    `json:"step"`
}

// ConfigError names the config key, the bad value and what is allowed.
type ConfigError struct {
	Stack   string
	Key     string
	Value   any
	Allowed string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("stack %s: config %s: %v is not allowed: want %s", e.Stack, e.Key, fmtValue(e.Value), e.Allowed)
}

// marker is a placeholder value printed without quotes.
type marker string

const (
	missing    marker = "(missing)"
	unknownKey marker = "(unknown key)"
	plainText  marker = "(plain text)"
)

func fmtValue(v any) string {
	switch x := v.(type) {
	case marker:
		return string(x)
	case string:
		return fmt.Sprintf("%q", x)
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// Key is a fully qualified config key.
func Key(k string) string { return Project + ":" + k }

// Ref is the fully qualified name of the region stack stack in org.
func Ref(org, stack string) string { return org + "/" + Project + "/" + stack }

// keySpec declares one config key: its type for Pulumi.yaml, whether it is
// required, and a description. The list is the single source for parsing,
// unknown-key detection and the project file's declarations (a test checks
// Pulumi.yaml matches).
type keySpec struct {
	Name        string
	Type        string // string, integer, boolean, array, object
	Required    bool
	Description string
	// Default is the JSON default of an optional key (the engine applies
	// it from Pulumi.yaml; ParseConfig applies the same one offline).
	Default string
}

// ConfigKeys declares every project config key.
var ConfigKeys = []keySpec{
	{"role", "string", true, "Region role: primary, secondary or dr.", ""},
	{"phase", "string", true, "Scaling phase: 35k, 100k, 1m, 10m or 100m (messages per second across the fleet).", ""},
	{"zones", "array", true, "Availability zones of the region to span (at least 3 for zone-loss tolerance).", ""},
	{"vpcCidr", "string", true, "VPC CIDR; must not overlap any other stack's.", ""},
	{"addedZones", "array", false, "Zones added to the running region after its first `up`, in order, each with its own VPC secondary CIDR so that no subnet of `zones` changes: [{zone, cidr}] (docs/operations.md, \"Adding a zone\").", "[]"},
	{"peers", "array", false, "Stacks whose outputs this stack reads through StackReferences.", "[]"},
	{"routing", "object", true, "Global routing: weight, totalWeight, hostedZoneId, domain, globalAccelerator, proxyScheme, clientCidrs (required for an internet-facing proxy), allowPublicProxy (true opens it to the internet instead, reported by check as a waiver).", ""},
	{"spot", "object", false, "Spot share per data pool in [0, 1) (every spot pool keeps an on-demand base): broker, bookie. Defaults come from the role profile and phase.", "{}"},
	{"workload", "object", false, "The team's workload over the phase presets, the same in every stack: messageSize (e.g. 4KB), subscriptions (fan-out), ttl, retention (e.g. 24h, 2h), compressionRatio (producer batch compression, e.g. 2), geoReplicatedShare (share of traffic in geo-replicated namespaces, e.g. 0.25). Unset fields keep the phase's preset.", "{}"},
	{"calibration", "object", false, "The team's measurements over the planner's assumptions, the same in every stack: brokerMsgPerVcpu (pulsar-perf, default 25000), brokerWriteMBpsPerVcpu (pulsar-perf, default 12.5, the Pulsar documentation's rating), nvmeWriteMBpsPerTB (fio on the bookies' instance storage, default 267, AWS's rating).", "{}"},
	{"bookieVolumes", "object", false, "The EBS bookies' volumes a running stack has at one phase, in place of the planner's choice: {phase, ledgerGiB, journalGiB, throughputMiB}. The guard asks for it, with the values, when the stack runs other volumes than the plan chooses; volumes change only in a phase transition's resize step (docs/operations.md, \"Bookie volumes\").", ""},
	{"durability", "object", false, "BookKeeper quorum: ensemble, writeQuorum, ackQuorum (default 3 / 3 / 2; ensemble at most 9; write quorum below 3 only with allowBelowDesign: true).", "{}"},
	{"cluster", "object", false, "EKS: kubernetesVersion, publicAccessCidrs (empty = private endpoint), natGateways (perZone or single), capacityReservationIds, access (principals [{arn, policy: clusterAdmin|admin|edit|view, namespaces}], ciPreviewRoleArn, ciDeployRoleArn, operatorRoleArn), addonVersions (pins: {vpc-cni: v1.20.4-eksbuild.1, ...}; an add-on not pinned follows the version EKS names for the Kubernetes version at each up).", "{}"},
	{"tieredStorage", "object", false, "Offload bucket: replicateTo (peer stacks; unset: the role profile's, the primary's DR peers; [] for none), replicationTimeControl, accessLogging, retentionDays (bucket lifetime; must cover the longest namespace TTL + retention).", "{}"},
	{"geoReplication", "object", false, "Pulsar geo-replication: replicateTo (regions), tenant, namespaces.", "{}"},
	{"observability", "object", false, "Monitoring: logRetentionDays, runbookBaseUrl (where the repository is browsed, e.g. https://github.com/acme/pulsar-fleet/blob/main: alerts link their runbooks there).", "{}"},
	{"tokens", "object", false, "Pulsar token signing: signingKey (fleet: the bootstrap stack's key, from which the program mints every token, the replicators' included; chart: the chart's own key per region, for stacks deployed before), replaceChartKey (true lets one `up` move a chart-key stack to the fleet key, which invalidates every token the old key signed), acceptKeyFingerprint (the new fleet key's fingerprint, sha256:<64 hex>, during a rotation of the fleet key; without it an `up` is refused when the bootstrap stack's key is not the one the stack deployed).", "{}"},
	{"zookeeper", "object", false, "ZooKeeper: quorumTls (the quorum's TLS stage: tls, the default; accept, then dial, one `up` each, while a region deployed with a plaintext quorum moves to tls: docs/operations.md, \"Moving ZooKeeper's quorum to TLS\").", "{}"},
	{"alertWebhookUrl", "string", false, "Alertmanager webhook URL (https, on port 443: the monitoring namespace sends TLS outside the VPCs on 443 only). A secret: set it with `pulumi config set --secret`; the program keeps it in a Kubernetes Secret.", ""},
	{"arches", "array", false, "CPU architectures for data pools: arm64, amd64 (default both, Graviton preferred by price).", `["arm64","amd64"]`},
	{"transition", "object", false, "A state between two phases while the region moves to `phase`: {from: the phase it ran before, step: N}, one step at a time, each after the previous step's gate passed (`pulsar-fleet transition` lists the steps). The last step is `phase` alone: remove this key.", ""},
	{"chartSource", "string", false, "Where the Helm charts come from: empty for their public repositories, or the team's mirror holding each chart under its own name: oci://registry/path, https://chart-repository, or a directory of unpacked charts (<dir>/<chart>).", ""},
	{"allowDataDeletion", "boolean", false, "Lift Pulumi's protect from the offload buckets, their KMS keys and the EKS cluster (only to tear a region down: up with it, then destroy).", "false"},
}

// objectItems are the array keys whose items are objects (the others'
// are strings).
var objectItems = map[string]bool{"addedZones": true}

// SecretKeys are the keys whose value must be a Pulumi secret.
var SecretKeys = map[string]bool{"alertWebhookUrl": true}

// ProjectConfigYAML renders the config block of Pulumi.yaml from
// ConfigKeys; a test keeps the committed file in sync.
func ProjectConfigYAML() string {
	var b strings.Builder
	b.WriteString("config:\n")
	for _, k := range ConfigKeys {
		fmt.Fprintf(&b, "  %s:\n    type: %s\n", Key(k.Name), k.Type)
		switch {
		case k.Type == "array" && objectItems[k.Name]:
			b.WriteString("    items:\n      type: object\n")
		case k.Type == "array":
			b.WriteString("    items:\n      type: string\n")
		}
		fmt.Fprintf(&b, "    description: %q\n", k.Description)
		if SecretKeys[k.Name] {
			b.WriteString("    secret: true\n")
		}
		if k.Default != "" {
			fmt.Fprintf(&b, "    default: %s\n", k.Default)
		}
	}
	return b.String()
}

// Raw is a stack's config as the engine hands it over: "ns:key" -> value,
// structured values JSON-encoded.
type Raw map[string]string

// ProviderNamespaces are the config namespaces besides the project's that a
// stack may set: the providers the program uses, and Pulumi's own.
var ProviderNamespaces = []string{"aws", "kubernetes", "eks", "random", "pulumi"}

// unknownNamespace returns the first key whose namespace is neither the
// project's nor a provider's (a typo such as pulsar_fleet:durability would
// otherwise be ignored), and what to say about it.
func unknownNamespace(raw Raw) (string, string) {
	var names []string
	for _, ks := range ConfigKeys {
		names = append(names, ks.Name)
	}
	k, meant := UnknownNamespace(raw, Project, ProviderNamespaces, names)
	if k == "" {
		return "", ""
	}
	allowed := "a key in the namespace " + Project + " or a provider's (" + strings.Join(ProviderNamespaces, ", ") + ")"
	if meant != "" {
		allowed = "did you mean " + meant + "? " + allowed
	}
	return k, allowed
}

// UnknownNamespace returns the first key of raw, in name order, whose
// namespace is neither project nor one of providers, and the key of
// project it may stand for: the same name in project's namespace, when
// names holds it ("" otherwise). The SDK cannot list config keys, so a
// mistyped namespace would otherwise be ignored and its default taken.
func UnknownNamespace(raw map[string]string, project string, providers, names []string) (key, meant string) {
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		ns, name, ok := strings.Cut(k, ":")
		if ok && (ns == project || slices.Contains(providers, ns)) {
			continue
		}
		if slices.Contains(names, name) {
			return k, project + ":" + name
		}
		return k, ""
	}
	return "", ""
}

// ParseConfig turns raw config into a StackConfig with defaults applied. It
// checks types, unknown keys and that SecretKeys are among secretKeys (the
// keys whose stack-file value is `secure:`); Validate checks values.
func ParseConfig(stack string, raw Raw, secretKeys ...string) (StackConfig, error) {
	if k, allowed := unknownNamespace(raw); k != "" {
		return StackConfig{}, &ConfigError{stack, k, unknownKey, allowed}
	}
	known := map[string]keySpec{}
	for _, k := range ConfigKeys {
		known[Key(k.Name)] = k
	}
	var unknown []string
	for k := range raw {
		if strings.HasPrefix(k, Project+":") {
			if _, ok := known[k]; !ok {
				unknown = append(unknown, k)
			}
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		names := make([]string, len(ConfigKeys))
		for i, k := range ConfigKeys {
			names[i] = k.Name
		}
		return StackConfig{}, &ConfigError{stack, unknown[0], unknownKey, "one of " + strings.Join(names, ", ")}
	}
	c := StackConfig{Stack: stack, Region: raw["aws:region"]}
	for _, k := range ConfigKeys {
		v, ok := raw[Key(k.Name)]
		if !ok || v == "" {
			v = k.Default
		}
		if v == "" {
			if k.Required {
				return StackConfig{}, &ConfigError{stack, Key(k.Name), missing, k.Description}
			}
			continue
		}
		if SecretKeys[k.Name] && !slices.Contains(secretKeys, Key(k.Name)) {
			return StackConfig{}, &ConfigError{stack, Key(k.Name), plainText,
				fmt.Sprintf("a secret: pulumi config set --secret %s <value> (then remove the plain value from Pulumi.%s.yaml and from git history)", Key(k.Name), stack)}
		}
		var err error
		switch k.Name {
		case "alertWebhookUrl":
			c.AlertWebhookURL = model.Secret(v)
		case "role":
			c.Role = Role(v)
		case "phase":
			c.Phase = v
		case "vpcCidr":
			c.VPCCIDR = v
		case "chartSource":
			c.ChartSource = model.ChartSource(v)
		case "zones":
			err = json.Unmarshal([]byte(v), &c.Zones)
		case "addedZones":
			err = strictJSON(v, &c.AddedZones)
		case "peers":
			err = json.Unmarshal([]byte(v), &c.Peers)
		case "arches":
			err = json.Unmarshal([]byte(v), &c.Arches)
		case "allowDataDeletion":
			c.AllowDataDeletion, err = strconv.ParseBool(v)
		case "routing":
			err = strictJSON(v, &c.Routing)
		case "spot":
			err = strictJSON(v, &c.Spot)
		case "durability":
			err = strictJSON(v, &c.Durability)
		case "workload":
			err = strictJSON(v, &c.Workload)
		case "calibration":
			err = strictJSON(v, &c.Calibration)
		case "bookieVolumes":
			err = strictJSON(v, &c.BookieVolumes)
		case "transition":
			err = strictJSON(v, &c.Transition)
		case "cluster":
			err = strictJSON(v, &c.Cluster)
		case "tieredStorage":
			err = strictJSON(v, &c.TieredStorage)
		case "geoReplication":
			err = strictJSON(v, &c.GeoReplication)
		case "observability":
			err = strictJSON(v, &c.Observability)
		case "tokens":
			err = strictJSON(v, &c.Tokens)
		case "zookeeper":
			err = strictJSON(v, &c.ZooKeeper)
		default:
			// A declared key with no case here would be accepted and
			// ignored (TestEveryDeclaredKeyIsParsed).
			err = fmt.Errorf("declared in ConfigKeys but not parsed (a defect of the program)")
		}
		if err != nil {
			return StackConfig{}, &ConfigError{stack, Key(k.Name), v, fmt.Sprintf("%s (%s): %v", k.Type, k.Description, err)}
		}
		if field, z := explicitZero(v, zeroReadsAsUnset[k.Name]); field != "" {
			return StackConfig{}, &ConfigError{stack, Key(k.Name + "." + field), 0,
				z.allowed + " (0 would silently read as the field left out: " + z.unset + ")"}
		}
	}
	if c.Region == "" {
		return StackConfig{}, &ConfigError{stack, "aws:region", missing, "the AWS region of the stack, e.g. us-east-1"}
	}
	return c.withDefaults(), nil
}

// zeroField is a field where the program reads 0 as "left out": what it
// allows, and what leaving it out gives.
type zeroField struct{ allowed, unset string }

// quorumField is each durability quorum's entry: only a 0 in all three
// reads as left out, and the refusal says what each allows.
var quorumField = zeroField{"ensemble >= writeQuorum >= 3 and ackQuorum >= 2 (the design rule)",
	"0 in every quorum reads as all three left out, 3 / 3 / 2"}

// zeroReadsAsUnset are the fields of object keys where the program reads
// 0 as "left out" and takes the default: a 0 written in the stack file is
// refused rather than silently replaced (geoReplicatedShare: 0 would plan
// all the traffic as replicated; retentionDays: 0 would keep the default
// lifetime).
var zeroReadsAsUnset = map[string]map[string]zeroField{
	"routing":    {"totalWeight": {allowedTotalWeight, fmt.Sprintf("left out, it is %d", DefaultTotalWeight)}},
	"durability": {"ensemble": quorumField, "writeQuorum": quorumField, "ackQuorum": quorumField},
	"workload": {
		"subscriptions":      {allowedSubscriptions, "left out, the phase's preset fan-out is planned"},
		"compressionRatio":   {allowedCompressionRatio, "left out, the phase's preset ratio is planned"},
		"geoReplicatedShare": {allowedGeoReplicatedShare, "left out, all the traffic is planned as replicated"},
	},
	"calibration": {
		"brokerMsgPerVcpu":       {allowedMsgPerVCPU, "left out, the default rating is planned"},
		"brokerWriteMBpsPerVcpu": {allowedMBpsPerVCPU, "left out, the default rating is planned"},
		"nvmeWriteMBpsPerTB":     {allowedNVMeMBpsTB, "left out, the default rating is planned"}},
	"tieredStorage": {"retentionDays": {"days from the phase's TTL plus retention to 3650", "left out, the bucket keeps the phase's default lifetime"}},
	"observability": {"logRetentionDays": {allowedLogRetention, "left out, a month; 0, never expire, is not offered"}},
}

// explicitZero returns the first field (in name order) that the object s
// sets to 0, as the decoder matches it (any case: encoding/json matches
// names case-insensitively), and its entry; a null is left out.
func explicitZero(s string, fields map[string]zeroField) (string, zeroField) {
	if len(fields) == 0 {
		return "", zeroField{}
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(s), &obj) != nil {
		return "", zeroField{}
	}
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			var n *float64
			if strings.EqualFold(k, f) && json.Unmarshal(obj[k], &n) == nil && n != nil && *n == 0 {
				return f, fields[f]
			}
		}
	}
	return "", zeroField{}
}

// strictJSON decodes an object and rejects unknown fields (typos).
func strictJSON(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// Defaults, in one place.
const (
	DefaultKubernetesVersion = "1.35"
	// LegacyKubernetesVersion is what every stack deployed before the
	// kubernetesVersion output ran: the guard reads a missing output as it.
	LegacyKubernetesVersion = "1.33"
	DefaultNATGateways      = model.NATPerZone
	// NATSingle is the cheaper NAT layout: one gateway for every zone.
	NATSingle          = model.NATSingle
	DefaultProxyScheme = model.SchemeInternetFacing
	DefaultTotalWeight = 100
	DefaultTenant      = "fleet"
)

// DefaultNamespaces are the geo-replicated namespaces when none are listed.
var DefaultNamespaces = []string{"replicated"}

func (c StackConfig) withDefaults() StackConfig {
	if d := c.Durability; d.Ensemble == 0 && d.WriteQuorum == 0 && d.AckQuorum == 0 {
		c.Durability = Durability{Ensemble: 3, WriteQuorum: 3, AckQuorum: 2, AllowBelowDesign: d.AllowBelowDesign}
	}
	if c.Cluster.KubernetesVersion == "" {
		c.Cluster.KubernetesVersion = DefaultKubernetesVersion
	}
	if c.Cluster.NATGateways == "" {
		c.Cluster.NATGateways = DefaultNATGateways
	}
	if c.Routing.TotalWeight == 0 {
		c.Routing.TotalWeight = DefaultTotalWeight
	}
	if c.Routing.ProxyScheme == "" {
		c.Routing.ProxyScheme = DefaultProxyScheme
	}
	if len(c.Arches) == 0 {
		c.Arches = append([]model.Arch(nil), model.Arches...)
	}
	if c.GeoReplication.Tenant == "" {
		c.GeoReplication.Tenant = DefaultTenant
	}
	if c.Tokens.SigningKey == "" {
		c.Tokens.SigningKey = model.SigningKeyFleet
	}
	if c.ZooKeeper.QuorumTLS == "" {
		c.ZooKeeper.QuorumTLS = model.QuorumTLSOnly
	}
	if len(c.GeoReplication.Namespaces) == 0 {
		c.GeoReplication.Namespaces = append([]string(nil), DefaultNamespaces...)
	}
	if c.TieredStorage.AccessLogging == nil {
		on := true
		c.TieredStorage.AccessLogging = &on
	}
	return c
}
