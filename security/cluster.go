package security

import (
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
