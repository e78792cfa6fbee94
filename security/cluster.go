package security

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// eksClusterTypes are the cluster resources the rules read.
var eksClusterTypes = []string{"eks:index:Cluster", "aws:eks/cluster:Cluster"}

func eksSecretsEncrypted(v *view) []Finding {
	var out []Finding
	for _, r := range v.byType["eks:index:Cluster"] {
		if str(r.Inputs["encryptionConfigKeyArn"]) == "" {
			out = append(out, fail(res(r), "encryptionConfigKeyArn is not set: Secrets are stored in etcd without envelope encryption"))
		}
	}
	for _, r := range v.byType["aws:eks/cluster:Cluster"] {
		if get(r.Inputs, "encryptionConfig.provider.keyArn") == nil {
			out = append(out, fail(res(r), "encryptionConfig.provider.keyArn is not set"))
		}
	}
	return out
}

var world = []string{"0.0.0.0/0", "::/0"}

// worldWide is a CIDR that is the internet, or most of it: 0.0.0.0/0, or
// any network wider than /8 (stack validation's bound), or one that does
// not parse.
func worldWide(cidr string) bool {
	p, err := netip.ParsePrefix(cidr)
	return err != nil || slices.Contains(world, cidr) || p.Bits() < 8
}

func eksEndpoint(v *view) []Finding {
	var out []Finding
	for _, typ := range eksClusterTypes {
		for _, r := range v.byType[typ] {
			public, cidrs := r.Inputs["endpointPublicAccess"], strs(r.Inputs["publicAccessCidrs"])
			if typ == "aws:eks/cluster:Cluster" {
				public, cidrs = get(r.Inputs, "vpcConfig.endpointPublicAccess"), strs(get(r.Inputs, "vpcConfig.publicAccessCidrs"))
			}
			if public == false {
				continue
			}
			open := len(cidrs) == 0
			for _, c := range cidrs {
				open = open || worldWide(c)
			}
			if !open {
				// Listed addresses (CI runners' egress, say): reported,
				// never a silent pass.
				f := fail(res(r), "the API endpoint is public, limited to %v", cidrs)
				f.Waived = "cluster.publicAccessCidrs lists who may reach the endpoint (for CI runners outside the VPC)"
				out = append(out, f)
				continue
			}
			// Never waived, even when the stack file lists 0.0.0.0/0
			// (which its validation refuses): the Kubernetes API is not
			// for the whole internet.
			out = append(out, fail(res(r), "the public endpoint is open to the world (publicAccessCidrs %v; empty means 0.0.0.0/0)", cidrs))
		}
	}
	return out
}

func eksLogs(v *view) []Finding {
	var out []Finding
	for _, typ := range eksClusterTypes {
		for _, r := range v.byType[typ] {
			logs := strs(r.Inputs["enabledClusterLogTypes"])
			for _, want := range []string{"api", "audit", "authenticator"} {
				if !slices.Contains(logs, want) {
					out = append(out, fail(res(r), "control-plane log %q is off (enabled: %v)", want, logs))
				}
			}
		}
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
	for _, r := range v.byType["aws:ec2/launchTemplate:LaunchTemplate"] {
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
	for _, r := range v.byType["eks:index:ManagedNodeGroup"] {
		switch {
		case r.Inputs["launchTemplate"] != nil:
		case r.Inputs["enableIMDSv2"] == true:
			out = append(out, fail(res(r), "enableIMDSv2 without a launch template: the hop limit is the provider's, not one the check can read: want a launch template with hop limit 1"))
		default:
			out = append(out, fail(res(r), "neither a launch template nor enableIMDSv2: the node group allows IMDSv1"))
		}
	}
	return out
}

func nodeVolumesEncrypted(v *view) []Finding {
	var out []Finding
	for _, o := range v.objectsOfKind("EC2NodeClass") {
		bdms, _ := get(o.Object, "spec.blockDeviceMappings").([]any)
		if len(bdms) == 0 {
			out = append(out, fail(o.String(), "no blockDeviceMappings: the root volume follows the AMI, unencrypted unless the account default says otherwise"))
		}
		for i, b := range bdms {
			if get(b, "ebs.encrypted") != true {
				out = append(out, fail(o.String(), "spec.blockDeviceMappings[%d].ebs.encrypted is not true", i))
			}
		}
	}
	for _, r := range v.byType["aws:ec2/launchTemplate:LaunchTemplate"] {
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
	for _, r := range v.byType["eks:index:ManagedNodeGroup"] {
		if r.Inputs["launchTemplate"] == nil {
			out = append(out, fail(res(r), "no launch template: the root volume's encryption is left to the account default"))
		}
	}
	for _, o := range v.objectsOfKind("StorageClass") {
		if str(o.Object["provisioner"]) == "ebs.csi.aws.com" && str(get(o.Object, "parameters.encrypted")) != "true" {
			out = append(out, fail(o.String(), "parameters.encrypted is not \"true\""))
		}
	}
	return out
}

// eksStandardSupport fails a cluster whose version EKS no longer serves,
// or serves only in extended support on the day of the check.
func eksStandardSupport(v *view) []Finding {
	var out []Finding
	for _, typ := range eksClusterTypes {
		for _, r := range v.byType[typ] {
			minor := str(r.Inputs["version"])
			kv, ok := cluster.LookupKubernetesVersion(minor)
			switch {
			case !ok:
				out = append(out, fail(res(r), "Kubernetes %q is not a version EKS serves (%v)", minor, cluster.KubernetesVersionNames()))
			case !kv.InStandardSupport(v.on):
				out = append(out, fail(res(r), "Kubernetes %s left EKS standard support on %s: EKS bills extended support, $%.2f a cluster-hour instead of $%.2f, and upgrades the cluster itself from %s. "+
					"Upgrade one minor version at a time (docs/operations.md, \"Upgrading Kubernetes\")",
					minor, kv.EndOfStandard.Format(time.DateOnly), sizing.EKSControlPlaneExtendedPerHour, sizing.EKSControlPlanePerHour, kv.EndOfExtended.Format(time.DateOnly)))
			}
		}
	}
	return out
}
