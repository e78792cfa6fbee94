package security

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
)

const launchTemplateType = "aws:ec2/launchTemplate:LaunchTemplate"

// The node groups the rules judge. A managed group runs a launch template
// the rules read; pulumi-eks builds a self-managed group's template
// itself, out of the rules' sight.
var (
	managedNodeGroupTypes     = []string{"eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup"}
	selfManagedNodeGroupTypes = []string{"eks:index:NodeGroupV2", "eks:index:NodeGroup"}
	// otherCapacityTypes are machines outside EKS's node groups and
	// Karpenter, which the rules do not read: each fails.
	otherCapacityTypes = []string{"aws:autoscaling/group:Group", "aws:ec2/instance:Instance", "aws:ec2/spotInstanceRequest:SpotInstanceRequest", "aws:ec2/fleet:Fleet", "aws:ec2/spotFleetRequest:SpotFleetRequest"}
)

// otherCapacity fails every machine outside the node groups and
// Karpenter's node classes.
func (v *view) otherCapacity() []Finding {
	var out []Finding
	for _, r := range v.ofTypes(otherCapacityTypes) {
		out = append(out, fail(res(r), "machines outside EKS's node groups and Karpenter: the check does not read their metadata options and volumes; run nodes as a managed node group or a Karpenter NodePool"))
	}
	return out
}

// nodePoolClasses fails a Karpenter NodePool whose node class is not one
// of the stack's: its metadata options and volumes are out of sight.
func (v *view) nodePoolClasses() []Finding {
	classes := map[string]bool{}
	for _, o := range v.objectsOfKind("EC2NodeClass") {
		classes[o.Name()] = true
	}
	var out []Finding
	for _, o := range v.objectsOfKind("NodePool") {
		ref := get(o.Object, "spec.template.spec.nodeClassRef")
		if str(get(ref, "kind")) != "EC2NodeClass" || !classes[str(get(ref, "name"))] {
			out = append(out, fail(o.String(), "spec.template.spec.nodeClassRef %v is not an EC2NodeClass of the stack: the check cannot read its nodes' settings", ref))
		}
	}
	return out
}

func (v *view) ofTypes(types []string) []recorder.Resource {
	var out []recorder.Resource
	for _, t := range types {
		out = append(out, v.byType[t]...)
	}
	return out
}

// hopLimitOK wants a hop limit of 1: a pod's packets are one hop
// further from the node than the node's own (the VPC CNI routes them
// through the host), so 2 would let every pod read the node role's
// credentials.
func hopLimitOK(v any) bool {
	n, ok := v.(float64)
	return ok && n == 1
}

// launchTemplateOf is the stack's launch template a managed node group
// runs, or why there is none the rules can read: none, one the stack
// does not create (its settings are not in the preview), or a version
// other than the template's latest. The preview shows a template's
// latest settings: a node group on a version given by number, or on the
// template's default, which stays the first unless the template moves it,
// may run older ones. The preview's engine reports every template's
// latest version as a number of its own
// (recorder.SimulatedLaunchTemplateVersion).
func (v *view) launchTemplateOf(group recorder.Resource) (recorder.Resource, string) {
	ref := asMap(group.Inputs["launchTemplate"])
	if ref == nil {
		return recorder.Resource{}, "no launch template"
	}
	id, name := str(ref["id"]), str(ref["name"])
	for _, t := range v.byType[launchTemplateType] {
		if id == "" && name == "" || id != "" && t.ID != id || name != "" && str(t.Inputs["name"]) != name {
			continue
		}
		version := ""
		if ref["version"] != nil {
			version = fmt.Sprint(ref["version"])
		}
		if version != strconv.Itoa(recorder.SimulatedLaunchTemplateVersion(t.Name)) {
			return recorder.Resource{}, fmt.Sprintf("launch template %q at version %q, not its latest (give the template's latestVersion output): the nodes may run settings older than the ones the check reads", cmp.Or(id, name), version)
		}
		return t, ""
	}
	return recorder.Resource{}, fmt.Sprintf("launch template %q is not one the stack creates, so the check cannot read it", cmp.Or(id, name))
}

func nodeIMDSv2(v *view) []Finding {
	var out []Finding
	for _, o := range v.objectsOfKind("EC2NodeClass") {
		md := get(o.Object, "spec.metadataOptions")
		if str(get(md, "httpTokens")) != "required" {
			out = append(out, fail(o.String(), "spec.metadataOptions.httpTokens is %q, want required", str(get(md, "httpTokens"))))
		}
		if !hopLimitOK(get(md, "httpPutResponseHopLimit")) {
			out = append(out, fail(o.String(), "spec.metadataOptions.httpPutResponseHopLimit %v: want 1 so pods cannot reach the node role", get(md, "httpPutResponseHopLimit")))
		}
	}
	for _, r := range v.byType[launchTemplateType] {
		if str(get(r.Inputs, "metadataOptions.httpTokens")) != "required" {
			out = append(out, fail(res(r), "metadataOptions.httpTokens is not required"))
		}
		if !hopLimitOK(get(r.Inputs, "metadataOptions.httpPutResponseHopLimit")) {
			out = append(out, fail(res(r), "metadataOptions.httpPutResponseHopLimit %v: want 1 so pods cannot reach the node role", get(r.Inputs, "metadataOptions.httpPutResponseHopLimit")))
		}
	}
	for _, r := range v.byType["eks:index:Cluster"] {
		if r.Inputs["skipDefaultNodeGroup"] != true {
			out = append(out, fail(res(r), "skipDefaultNodeGroup is not true: pulumi-eks would add a default node group whose metadata options the check cannot read"))
		}
	}
	for _, r := range v.ofTypes(managedNodeGroupTypes) {
		_, why := v.launchTemplateOf(r)
		switch {
		case why == "":
		case r.Inputs["enableIMDSv2"] == true:
			out = append(out, fail(res(r), "enableIMDSv2 with %s: the hop limit is the provider's, not one the check can read: want the stack's launch template with hop limit 1", why))
		default:
			out = append(out, fail(res(r), "%s and no enableIMDSv2: the node group may allow IMDSv1", why))
		}
	}
	for _, r := range v.ofTypes(selfManagedNodeGroupTypes) {
		out = append(out, fail(res(r), "a self-managed node group: pulumi-eks makes its launch template, whose hop limit the check cannot read; use a managed node group with the stack's launch template"))
	}
	return append(append(out, v.nodePoolClasses()...), v.otherCapacity()...)
}

// familyDevices are the devices an EKS AMI family boots from and keeps
// its containers on, by the family's name as a Karpenter alias gives it
// (al2023@latest) and, upper case, as a managed node group's amiType
// begins (AL2023_x86_64_STANDARD): unlisted, they would be created from
// the AMI's own mapping, encrypted only if the account says so.
var familyDevices = map[string][]string{
	"al2023":       {"/dev/xvda"},
	"al2":          {"/dev/xvda"},
	"bottlerocket": {"/dev/xvda", "/dev/xvdb"},
}

// rootDevices are a managed node group's root devices; false when the
// check cannot know them (a custom AMI, an unknown type). EKS's default
// type, amiType left out, is AL2023's.
func rootDevices(group, template recorder.Resource) ([]string, bool) {
	if str(template.Inputs["imageId"]) != "" {
		return nil, false
	}
	family, _, ok := strings.Cut(cmp.Or(str(group.Inputs["amiType"]), "AL2023_x86_64_STANDARD"), "_")
	devices, known := familyDevices[strings.ToLower(family)]
	return devices, ok && known && family == strings.ToUpper(family)
}

// encryptedDevices are the devices of a launch template's mappings with
// EBS encryption on.
func encryptedDevices(bdms []any) []string {
	var out []string
	for _, b := range bdms {
		if fmt.Sprint(get(b, "ebs.encrypted")) == "true" {
			out = append(out, str(get(b, "deviceName")))
		}
	}
	return out
}

func nodeVolumesEncrypted(v *view) []Finding {
	var out []Finding
	for _, o := range v.objectsOfKind("EC2NodeClass") {
		out = append(out, nodeClassVolumes(o.String(), o.Object)...)
	}
	for _, r := range v.byType[launchTemplateType] {
		bdms, _ := r.Inputs["blockDeviceMappings"].([]any)
		if len(bdms) == 0 {
			out = append(out, fail(res(r), "no blockDeviceMappings: the root volume follows the AMI"))
		}
		for i, b := range bdms {
			if fmt.Sprint(get(b, "ebs.encrypted")) != "true" {
				out = append(out, fail(res(r), "blockDeviceMappings[%d].ebs.encrypted is not true", i))
			}
		}
	}
	for _, r := range v.ofTypes(managedNodeGroupTypes) {
		out = append(out, v.nodeGroupVolumes(r)...)
	}
	for _, r := range v.ofTypes(selfManagedNodeGroupTypes) {
		if r.Inputs["nodeRootVolumeEncrypted"] != true {
			out = append(out, fail(res(r), "nodeRootVolumeEncrypted is not true: the root volume's encryption is left to the account default"))
		}
	}
	for _, o := range v.objectsOfKind("StorageClass") {
		if str(o.Object["provisioner"]) == "ebs.csi.aws.com" && str(get(o.Object, "parameters.encrypted")) != "true" {
			out = append(out, fail(o.String(), "parameters.encrypted is not \"true\""))
		}
	}
	return append(append(out, v.nodePoolClasses()...), v.otherCapacity()...)
}

// nodeGroupVolumes wants a managed node group's launch template to be the
// stack's, with every root device of its AMI encrypted.
func (v *view) nodeGroupVolumes(r recorder.Resource) []Finding {
	lt, why := v.launchTemplateOf(r)
	if why != "" {
		return []Finding{fail(res(r), "%s: the root volume's encryption is left to the account default", why)}
	}
	devices, ok := rootDevices(r, lt)
	if !ok {
		return []Finding{fail(res(r), "amiType %q with launch template %s: a custom or unknown AMI, whose root device the check cannot know", str(r.Inputs["amiType"]), lt.Name)}
	}
	var out []Finding
	bdms, _ := lt.Inputs["blockDeviceMappings"].([]any)
	for _, d := range devices {
		if !slices.Contains(encryptedDevices(bdms), d) {
			out = append(out, fail(res(r), "launch template %s does not map the root device %s encrypted: the AMI's own mapping would make it, encrypted only by the account default", lt.Name, d))
		}
	}
	return out
}

// nodeClassRootDevices are the devices a Karpenter AMI alias's family
// boots from and keeps its containers on; false for other selectors.
func nodeClassRootDevices(class map[string]any) ([]string, bool) {
	terms, _ := get(class, "spec.amiSelectorTerms").([]any)
	if len(terms) != 1 {
		return nil, false
	}
	family, _, _ := strings.Cut(str(get(terms[0], "alias")), "@")
	devices, ok := familyDevices[family]
	return devices, ok
}

// nodeClassVolumes wants every mapping encrypted and every device of the
// AMI family among them (rootVolume only marks the kubelet's volume, not
// the boot device).
func nodeClassVolumes(where string, class map[string]any) []Finding {
	bdms, _ := get(class, "spec.blockDeviceMappings").([]any)
	if len(bdms) == 0 {
		return []Finding{fail(where, "no blockDeviceMappings: the root volume follows the AMI, unencrypted unless the account default says otherwise")}
	}
	var out []Finding
	for i, b := range bdms {
		if get(b, "ebs.encrypted") != true {
			out = append(out, fail(where, "spec.blockDeviceMappings[%d].ebs.encrypted is not true", i))
		}
	}
	devices, ok := nodeClassRootDevices(class)
	if !ok {
		return append(out, fail(where, "the AMI selector is not one alias whose devices the check knows (al2023, al2, bottlerocket): its root device may be left to the AMI's own mapping"))
	}
	for _, d := range devices {
		if !slices.ContainsFunc(bdms, func(b any) bool { return str(get(b, "deviceName")) == d }) {
			out = append(out, fail(where, "no mapping for the device %s: the AMI's own mapping would make it, encrypted only by the account default", d))
		}
	}
	return out
}
