// Package recorder runs Pulumi programs under the SDK's mock engine and
// records every resource they register: type, name, URN, parent, inputs,
// dependencies and provider. Tests assert on the record after the run
// returns; the offline preview prints it. Provider responses are simulated:
// every resource echoes its inputs and gains a deterministic id and ARN, and a
// few types gain the outputs the program reads (see outputsFor).
package recorder

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Resource is one registered resource.
type Resource struct {
	URN    string         `json:"urn"`
	Type   string         `json:"type"`
	Name   string         `json:"name"`
	Parent string         `json:"parent"`
	Custom bool           `json:"custom"`
	Remote bool           `json:"remote,omitempty"`
	Inputs map[string]any `json:"inputs"`
	// Dependencies are the URNs named in dependsOn or flowing in through inputs.
	Dependencies []string `json:"dependencies,omitempty"`
	Provider     string   `json:"provider,omitempty"`
	ID           string   `json:"id,omitempty"`
	// Read is true for resources read rather than created (StackReference).
	Read bool `json:"read,omitempty"`
	// Protect and RetainOnDelete are the resource options of that name.
	Protect        bool `json:"protect,omitempty"`
	RetainOnDelete bool `json:"retainOnDelete,omitempty"`
	// Aliases are the names in the resource's alias specs (former names).
	Aliases []string `json:"aliases,omitempty"`
	// FormerURNs are the URNs the resource's alias specs denote: where it
	// was registered before (the engine keeps the resource found there).
	FormerURNs []string `json:"formerUrns,omitempty"`
	// seq is the registration order.
	seq int
}

// Recorder is a pulumi.MockResourceMonitor that records registrations.
type Recorder struct {
	// Project and Stack name the run (set by Run); they build URNs.
	Project, Stack string

	mu        sync.Mutex
	resources []Resource
	// StackOutputs simulates peer stacks for StackReferences, keyed by the
	// fully qualified stack name (org/project/stack) or the bare stack name.
	StackOutputs map[string]map[string]any
	// Account and Region build simulated ARNs.
	Account, Region string
	// Invokes answers function calls by token; unknown tokens return empty.
	Invokes map[string]func(args resource.PropertyMap) resource.PropertyMap
	// Unapplied simulates resources a run does not update (left out by
	// `pulumi up --target`): for such a resource it gives the outputs the
	// engine returns instead of the declared ones, its state from the last
	// run that applied it; nil for the others.
	Unapplied func(args pulumi.MockResourceArgs) map[string]any
}

// New returns a recorder for a region.
func New(region string) *Recorder {
	r := &Recorder{Account: "123456789012", Region: region, StackOutputs: map[string]map[string]any{}}
	r.SimulateBootstrap(model.BootstrapStack)
	return r
}

var _ pulumi.MockResourceMonitor = (*Recorder)(nil)

// Call answers invokes.
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if f, ok := r.Invokes[args.Token]; ok {
		return f(args.Args), nil
	}
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{"accountId": r.Account, "arn": "arn:aws:iam::" + r.Account + ":user/offline", "userId": "offline"}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{"name": r.Region, "id": r.Region}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{"partition": "aws", "dnsSuffix": "amazonaws.com"}), nil
	case "aws:eks/getAddonVersion:getAddonVersion":
		name, version := args.Args["addonName"], args.Args["kubernetesVersion"]
		if !name.IsString() || !version.IsString() {
			return nil, fmt.Errorf("getAddonVersion: addonName and kubernetesVersion are required, got %v", args.Args)
		}
		newest := args.Args["mostRecent"]
		return resource.NewPropertyMapFromMap(map[string]any{"addonName": name.StringValue(), "kubernetesVersion": version.StringValue(),
			"version": SimulatedAddonVersion(name.StringValue(), version.StringValue(), newest.IsBool() && newest.BoolValue())}), nil
	case "aws:lb/getLoadBalancer:getLoadBalancer":
		name := "unknown"
		if v, ok := args.Args["name"]; ok && v.IsString() {
			name = v.StringValue()
		}
		return resource.NewPropertyMapFromMap(map[string]any{"name": name, "arn": fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/net/%s/0123456789abcdef", r.Region, r.Account, name)}), nil
	}
	return resource.PropertyMap{}, nil
}

// NewResource records a registration and simulates its outputs.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	res := Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Provider: args.Provider, ID: args.ID}
	res.Inputs = plain(args.Inputs)
	if rpc := args.RegisterRPC; rpc != nil {
		res.Parent = rpc.GetParent()
		res.Remote = rpc.GetRemote()
		res.Protect, res.RetainOnDelete = rpc.GetProtect(), rpc.GetRetainOnDelete()
		for _, a := range rpc.GetAliases() {
			if n := a.GetSpec().GetName(); n != "" {
				res.Aliases = append(res.Aliases, n)
			}
			if spec := a.GetSpec(); spec != nil {
				res.FormerURNs = append(res.FormerURNs, r.formerURN(res, spec))
			}
		}
		deps := map[string]bool{}
		for _, d := range rpc.GetDependencies() {
			deps[d] = true
		}
		for _, pd := range rpc.GetPropertyDependencies() {
			for _, d := range pd.GetUrns() {
				deps[d] = true
			}
		}
		for d := range deps {
			res.Dependencies = append(res.Dependencies, d)
		}
		sort.Strings(res.Dependencies)
	}
	if rpc := args.ReadRPC; rpc != nil {
		res.Parent = rpc.GetParent()
		res.Read = true
	}
	res.URN = r.urn(res.Parent, res.Type, res.Name)
	id := args.ID
	if id == "" {
		id = args.Name + "-id"
	}
	outputs := r.outputsFor(args, id)

	r.mu.Lock()
	res.seq = len(r.resources)
	res.ID = id
	r.resources = append(r.resources, res)
	r.mu.Unlock()
	return id, outputs, nil
}

// formerURN is the URN an alias spec denotes: each part the spec leaves
// out is the resource's own.
func (r *Recorder) formerURN(res Resource, spec *pulumirpc.Alias_Spec) string {
	name, typ, parent := res.Name, res.Type, res.Parent
	if spec.GetName() != "" {
		name = spec.GetName()
	}
	if spec.GetType() != "" {
		typ = spec.GetType()
	}
	if spec.GetParentUrn() != "" {
		parent = spec.GetParentUrn()
	}
	if spec.GetNoParent() {
		parent = ""
	}
	return r.urn(parent, typ, name)
}

// urn computes the URN the mock engine gives a resource (its parent's
// qualified type prefixes the type unless the parent is the stack).
func (r *Recorder) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(r.Stack), tokens.PackageName(r.Project), parentType, tokens.Type(typ), name))
}

// StackURN is the URN of the run's root stack resource.
func (r *Recorder) StackURN() string {
	return string(resource.NewURN(tokens.QName(r.Stack), tokens.PackageName(r.Project), "", resource.RootStackType, r.Project+"-"+r.Stack))
}

// Run runs program under the mock engine as project/stack with the given
// stack config (keys "namespace:key", structured values JSON-encoded) and
// secret keys. Resources are recorded on r.
func (r *Recorder) Run(project, stack string, cfg map[string]string, secretKeys []string, program pulumi.RunFunc) error {
	r.Project, r.Stack = project, stack
	return pulumi.RunErr(program, pulumi.WithMocksWithOrganization("organization", project, stack, r), func(ri *pulumi.RunInfo) {
		ri.Config = cfg
		ri.ConfigSecretKeys = secretKeys
	})
}

// outputsFor echoes inputs and adds the outputs programs commonly read.
func (r *Recorder) outputsFor(args pulumi.MockResourceArgs, id string) resource.PropertyMap {
	out := args.Inputs.Copy()
	set := func(k string, v any) {
		if _, ok := out[resource.PropertyKey(k)]; !ok {
			out[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
		}
	}
	typ := args.TypeToken
	if typ == "pulumi:pulumi:StackReference" {
		name := args.ID
		if name == "" {
			name = args.Name
		}
		outs, ok := r.StackOutputs[name]
		if !ok {
			if i := strings.LastIndex(name, "/"); i >= 0 {
				outs = r.StackOutputs[name[i+1:]]
			}
		}
		if outs == nil {
			outs = map[string]any{}
		}
		return resource.PropertyMap{
			"name":              resource.NewPropertyValue(name),
			"outputs":           resource.NewPropertyValue(outs),
			"secretOutputNames": resource.NewPropertyValue([]any{}),
		}
	}
	switch typ {
	case "tls:index/privateKey:PrivateKey":
		// An RSA key is real (SimulatedTokenKey), as the tls provider
		// writes it: its fingerprint and the tokens minted from it are
		// computed, not simulated.
		if a := args.Inputs["algorithm"]; a.IsString() && a.StringValue() == "RSA" {
			set("privateKeyPem", SimulatedTokenKey())
		}
	case "tls:index/selfSignedCert:SelfSignedCert":
		// A CA's certificate names its resource, so a test tells two apart.
		set("certPem", "-----BEGIN CERTIFICATE-----\nsimulated "+args.Name+"\n-----END CERTIFICATE-----\n")
	case "eks:index:Cluster":
		// pulumi-eks is a remote component: simulate the outputs it reports.
		name := args.Name
		if v, ok := args.Inputs["name"]; ok && v.IsString() {
			name = v.StringValue()
		}
		issuer := "oidc.eks." + r.Region + ".amazonaws.com/id/OFFLINE" + strings.ToUpper(strings.ReplaceAll(name, "-", ""))
		set("kubeconfigJson", `{"apiVersion":"v1","kind":"Config","clusters":[{"name":"`+name+`","cluster":{"server":"https://offline.invalid"}}]}`)
		set("oidcIssuer", issuer)
		set("oidcProviderUrl", "https://"+issuer)
		set("oidcProviderArn", "arn:aws:iam::"+r.Account+":oidc-provider/"+issuer)
		set("clusterSecurityGroupId", "sg-"+name+"-cluster")
		set("nodeSecurityGroupId", "sg-"+name+"-cluster")
		return out
	}
	if !args.Custom {
		return out
	}
	set("id", id)
	set("name", args.Name)
	set("arn", r.arn(typ, args.Name))
	switch typ {
	case "aws:s3/bucketV2:BucketV2", "aws:s3/bucket:Bucket":
		bucket := args.Name
		if v, ok := args.Inputs["bucket"]; ok && v.IsString() {
			bucket = v.StringValue()
		}
		out["bucket"] = resource.NewPropertyValue(bucket)
		out["arn"] = resource.NewPropertyValue("arn:aws:s3:::" + bucket)
		set("bucketRegionalDomainName", bucket+".s3."+r.Region+".amazonaws.com")
	case "aws:kms/key:Key":
		set("keyId", id)
	case "aws:ec2/launchTemplate:LaunchTemplate":
		set("latestVersion", SimulatedLaunchTemplateVersion(args.Name))
	case "aws:sqs/queue:Queue":
		set("url", "https://sqs."+r.Region+".amazonaws.com/"+r.Account+"/"+args.Name)
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		set("url", "oidc.eks."+r.Region+".amazonaws.com/id/OFFLINE")
	case "aws:ec2/eip:Eip":
		// Distinct per address (TEST-NET-3), stable across runs.
		h := fnv.New32a()
		h.Write([]byte(args.Name))
		set("publicIp", fmt.Sprintf("203.0.113.%d", 1+h.Sum32()%254))
		set("allocationId", id)
	case "aws:route53/healthCheck:HealthCheck":
		set("id", id)
	case "aws:ec2transitgateway/transitGateway:TransitGateway":
		set("associationDefaultRouteTableId", "tgw-rtb-"+args.Name)
		set("propagationDefaultRouteTableId", "tgw-rtb-"+args.Name)
	case "aws:globalaccelerator/accelerator:Accelerator":
		set("dnsName", args.Name+".awsglobalaccelerator.com")
	case "aws:acm/certificate:Certificate":
		var opts []any
		names := []string{}
		if v, ok := args.Inputs["domainName"]; ok && v.IsString() {
			names = append(names, v.StringValue())
		}
		if v, ok := args.Inputs["subjectAlternativeNames"]; ok && v.IsArray() {
			for _, e := range v.ArrayValue() {
				if e.IsString() {
					names = append(names, e.StringValue())
				}
			}
		}
		for _, n := range names {
			opts = append(opts, map[string]any{"domainName": n, "resourceRecordName": "_acme." + n + ".",
				"resourceRecordType": "CNAME", "resourceRecordValue": "_token.acm-validations.aws."})
		}
		set("domainValidationOptions", opts)
	case "aws:route53/record:Record":
		if v, ok := args.Inputs["name"]; ok && v.IsString() {
			set("fqdn", v.StringValue())
		}
	case "kubernetes:helm.sh/v3:Release":
		// What Helm reports of an installed release.
		set("status", map[string]any{"status": "deployed", "revision": 1})
	case "kubernetes:core/v1:Service":
		if spec, ok := args.Inputs["spec"]; ok && spec.IsObject() {
			if t, ok := spec.ObjectValue()["type"]; ok && t.IsString() && t.StringValue() == "LoadBalancer" {
				set("status", map[string]any{"loadBalancer": map[string]any{"ingress": []any{
					map[string]any{"hostname": "a" + strings.ReplaceAll(args.Name, "-", "") + "-0123456789abcdef.elb." + r.Region + ".amazonaws.com"}}}})
			}
		}
	}
	if r.Unapplied != nil {
		for k, v := range r.Unapplied(args) {
			out[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
		}
	}
	return out
}

// arn builds a deterministic, plausible ARN for a resource type.
func (r *Recorder) arn(typ, name string) string {
	svc := "unknown"
	if strings.HasPrefix(typ, "aws:") {
		mod := strings.SplitN(strings.TrimPrefix(typ, "aws:"), "/", 2)[0]
		svc = mod
	}
	switch svc {
	case "iam":
		return fmt.Sprintf("arn:aws:iam::%s:%s/%s", r.Account, strings.ToLower(lastSegment(typ)), name)
	case "s3":
		return "arn:aws:s3:::" + name
	}
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", svc, r.Region, r.Account, strings.ToLower(lastSegment(typ)), name)
}

func lastSegment(typ string) string {
	if i := strings.LastIndex(typ, ":"); i >= 0 {
		return typ[i+1:]
	}
	return typ
}

// Resources returns every recorded resource in registration order.
func (r *Recorder) Resources() []Resource {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]Resource(nil), r.resources...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// ByType returns the resources of one type token.
func (r *Recorder) ByType(typ string) []Resource {
	var out []Resource
	for _, res := range r.Resources() {
		if res.Type == typ {
			out = append(out, res)
		}
	}
	return out
}

// One returns the single resource of a type and name, or an error.
func (r *Recorder) One(typ, name string) (Resource, error) {
	var found []Resource
	for _, res := range r.ByType(typ) {
		if res.Name == name {
			found = append(found, res)
		}
	}
	if len(found) != 1 {
		return Resource{}, fmt.Errorf("want one %s named %q, found %d", typ, name, len(found))
	}
	return found[0], nil
}

// ByURN indexes the recorded resources.
func (r *Recorder) ByURN() map[string]Resource {
	m := map[string]Resource{}
	for _, res := range r.Resources() {
		m[res.URN] = res
	}
	return m
}

// plain converts a PropertyMap to JSON-friendly Go values: secrets become
// the string "[secret]", unknowns "[unknown]", resource references their URN.
func plain(pm resource.PropertyMap) map[string]any {
	out := map[string]any{}
	for k, v := range pm {
		out[string(k)] = plainValue(v)
	}
	return out
}

func plainValue(v resource.PropertyValue) any {
	switch {
	case v.IsNull():
		return nil
	case v.IsSecret():
		return "[secret]"
	case v.IsComputed() || (v.IsOutput() && !v.OutputValue().Known):
		return "[unknown]"
	case v.IsOutput():
		if v.OutputValue().Secret {
			return "[secret]"
		}
		return plainValue(v.OutputValue().Element)
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = plainValue(e)
		}
		return out
	case v.IsObject():
		return plain(v.ObjectValue())
	case v.IsAsset() || v.IsArchive():
		return "[asset]"
	default:
		return v.V
	}
}

// JSON renders any value as indented JSON (for golden files and debugging).
func JSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

// Component returns the single component resource of a type.
func (r *Recorder) Component(typ string) (Resource, error) {
	found := r.ByType(typ)
	if len(found) != 1 {
		return Resource{}, fmt.Errorf("want one %s, found %d", typ, len(found))
	}
	return found[0], nil
}

// CheckParented verifies that every recorded resource other than the
// components of rootType descends from a rootType component. Reads (a
// program's stack references) create nothing and are not checked.
func (r *Recorder) CheckParented(rootType string) error {
	byURN := r.ByURN()
	for _, res := range r.Resources() {
		if res.Type == rootType || res.Read {
			continue
		}
		urn, hops := res.Parent, 0
		for {
			p, ok := byURN[urn]
			if !ok {
				return fmt.Errorf("%s %q: parent chain leaves the recorded resources at %q before reaching a %s", res.Type, res.Name, urn, rootType)
			}
			if p.Type == rootType {
				break
			}
			if urn, hops = p.Parent, hops+1; hops > 50 {
				return fmt.Errorf("%s %q: parent chain loops", res.Type, res.Name)
			}
		}
	}
	return nil
}

// DirectChildren lists the resources whose parent is urn.
func (r *Recorder) DirectChildren(urn string) []Resource {
	var out []Resource
	for _, res := range r.Resources() {
		if res.Parent == urn {
			out = append(out, res)
		}
	}
	return out
}

// Input reads a nested input by dotted path ("spec.template.metadata").
func (res Resource) Input(path string) any {
	var cur any = res.Inputs
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// CheckMoved verifies a component split: the one component of innerType
// is a child of the one of outerType, and every resource directly under
// it carries exactly one alias, to the URN it had directly under the
// outer component, so a running stack keeps it in place. It returns the
// resources that moved.
func (r *Recorder) CheckMoved(outerType, innerType string) ([]Resource, error) {
	outer, err := r.Component(outerType)
	if err != nil {
		return nil, err
	}
	inner, err := r.Component(innerType)
	if err != nil {
		return nil, err
	}
	if inner.Parent != outer.URN {
		return nil, fmt.Errorf("%s is not a child of %s", innerType, outerType)
	}
	moved := r.DirectChildren(inner.URN)
	if len(moved) == 0 {
		return nil, fmt.Errorf("%s has no children", innerType)
	}
	for _, res := range moved {
		want := r.urn(outer.URN, res.Type, res.Name)
		if len(res.FormerURNs) != 1 || res.FormerURNs[0] != want {
			return nil, fmt.Errorf("%s %q: aliases %v, want [%s]", res.Type, res.Name, res.FormerURNs, want)
		}
	}
	return moved, nil
}

// SimulatedAddonVersion is the version the simulated EKS names as an
// add-on's default, or its newest build, for a Kubernetes version (a real
// one reads v1.19.2-eksbuild.1).
func SimulatedAddonVersion(addon, kubernetesVersion string, newest bool) string {
	which := "default"
	if newest {
		which = "newest"
	}
	return "v0.0.0-" + which + "-" + addon + "-for-" + kubernetesVersion
}

// SimulateBootstrap simulates the bootstrap stack's outputs the region
// stacks read (the fleet CA and the fleet token key) under the name ref.
// New does it under the bare stack name, which every reference to the
// bootstrap stack ends with.
func (r *Recorder) SimulateBootstrap(ref string) {
	r.StackOutputs[ref] = map[string]any{
		model.OutputFleetCACert:   "-----BEGIN CERTIFICATE-----\nsimulated fleet CA (bootstrap stack)\n-----END CERTIFICATE-----\n",
		model.OutputFleetCAKey:    "simulated fleet CA key (bootstrap stack)",
		model.OutputFleetCABundle: SimulatedCABundle,
		model.OutputFleetTokenKey: SimulatedTokenKey(),
	}
}

// SimulatedLaunchTemplateVersion is a launch template's latest version in
// the preview: a number of its own, from its name, between 1000 and
// 99999. A node group whose version follows its template's latestVersion
// output can then be told from one given a number (the first version, a
// small one) or another template's (security's NODE-IMDSV2).
func SimulatedLaunchTemplateVersion(name string) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	return 1000 + int(h.Sum32()%99000)
}

// SimulatedCABundle is the bootstrap's simulated trust bundle: its CA and
// another, as during a rotation, so a test tells it from the CA alone.
const SimulatedCABundle = "-----BEGIN CERTIFICATE-----\nsimulated fleet CA (bootstrap stack)\n-----END CERTIFICATE-----\n" +
	"-----BEGIN CERTIFICATE-----\nsimulated next fleet CA (bootstrap stack)\n-----END CERTIFICATE-----\n"

// SimulatedTokenKey is a real RSA key, as the bootstrap stack's tls
// provider writes it (PKCS #1 PEM): the region stacks mint tokens from it.
// It is made once per process and never leaves it.
// Should the system's randomness fail, it is empty, and the region stacks
// fail naming the missing output.
var SimulatedTokenKey = sync.OnceValue(func() string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
})
