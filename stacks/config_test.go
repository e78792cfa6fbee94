package stacks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// repoFiles reads the committed stack files.
func repoFiles(t *testing.T) []StackFile {
	t.Helper()
	files, err := StackFiles("..")
	require.NoError(t, err)
	require.Len(t, files, 3)
	return files
}

func repoFleet(t *testing.T) Fleet {
	t.Helper()
	f, err := FleetFromFiles(repoFiles(t))
	require.NoError(t, err)
	return f
}

func TestCommittedStacksAreValidAndDistinct(t *testing.T) {
	f := repoFleet(t)
	require.NoError(t, ValidateFleet(f))
	roles, regions, cidrs := map[Role]string{}, map[string]bool{}, map[string]bool{}
	weights := map[string]int{}
	for _, s := range f.Stacks {
		roles[s.Role] = s.Stack
		regions[s.Region] = true
		cidrs[s.VPCCIDR] = true
		weights[s.Stack] = s.Routing.Weight
		assert.Equal(t, s.Stack, s.Region, "stacks are named after their region")
	}
	assert.Equal(t, map[Role]string{RolePrimary: "us-east-1", RoleSecondary: "us-west-2", RoleDR: "eu-west-1"}, roles)
	assert.Len(t, regions, 3)
	assert.Len(t, cidrs, 3)
	assert.Equal(t, map[string]int{"us-east-1": 50, "us-west-2": 40, "eu-west-1": 10}, weights)
}

// Every validation rule, each with a bad value. The error must name the
// key and say what is allowed.
func TestValidationRules(t *testing.T) {
	half, over, one := 0.5, 1.5, 1.0
	neg := -0.1
	for _, tc := range []struct {
		name    string
		stack   string
		mutate  func(*StackConfig)
		wantKey string
		allowed string
	}{
		{"unknown phase", "us-east-1", func(c *StackConfig) { c.Phase = "2m" }, "pulsar-fleet:phase", "35k, 100k, 1m, 10m, 100m"},
		{"runbook base not https", "us-east-1", func(c *StackConfig) { c.Observability.RunbookBaseURL = "github.com/acme/pulsar-fleet" },
			"pulsar-fleet:observability.runbookBaseUrl", "an https:// URL"},
		{"log retention CloudWatch refuses", "us-east-1", func(c *StackConfig) { c.Observability.LogRetentionDays = 45 }, "pulsar-fleet:observability.logRetentionDays", "a retention CloudWatch Logs accepts: one of [1 3 5 7 14 30 60"},
		{"the retired metricsSourceCidrs", "us-east-1", func(c *StackConfig) { c.Observability.MetricsSourceCIDRs = &[]string{"198.51.100.1/32"} }, "pulsar-fleet:observability.metricsSourceCidrs", "the key is retired"},
		{"the retired metricsSourceCidrs, empty", "us-east-1", func(c *StackConfig) { c.Observability.MetricsSourceCIDRs = &[]string{} }, "pulsar-fleet:observability.metricsSourceCidrs", "the key is retired"},
		{"bad workload", "us-east-1", func(c *StackConfig) { c.Workload.MessageSize = "10MB" }, "pulsar-fleet:workload.messageSize", "maxMessageSize"},
		{"unknown role", "us-east-1", func(c *StackConfig) { c.Role = "tertiary" }, "pulsar-fleet:role", "primary, secondary or dr"},
		{"volumes pinned at no phase", "us-east-1", func(c *StackConfig) {
			c.BookieVolumes = &BookieVolumes{Phase: "2m", LedgerGiB: 2048, JournalGiB: 100, ThroughputMiB: 250}
		}, "pulsar-fleet:bookieVolumes.phase", "35k, 100k"},
		{"ledger volume beyond gp3", "us-east-1", func(c *StackConfig) {
			c.BookieVolumes = &BookieVolumes{Phase: "35k", LedgerGiB: 70000, JournalGiB: 100, ThroughputMiB: 250}
		}, "pulsar-fleet:bookieVolumes.ledgerGiB", "1GiB..64TiB"},
		{"journal too small for its IOPS", "us-east-1", func(c *StackConfig) {
			c.BookieVolumes = &BookieVolumes{Phase: "35k", LedgerGiB: 2048, JournalGiB: 8, ThroughputMiB: 250}
		}, "pulsar-fleet:bookieVolumes.journalGiB", "at most 500 per GiB"},
		{"throughput beyond gp3", "us-east-1", func(c *StackConfig) {
			c.BookieVolumes = &BookieVolumes{Phase: "35k", LedgerGiB: 2048, JournalGiB: 100, ThroughputMiB: 2500}
		}, "pulsar-fleet:bookieVolumes.throughputMiB", "125MiB..2000MiB"},
		{"spot share above 1", "us-west-2", func(c *StackConfig) { c.Spot.Broker = &over }, "pulsar-fleet:spot.broker", "[0, 1)"},
		{"spot share below 0", "us-west-2", func(c *StackConfig) { c.Spot.Bookie = &neg }, "pulsar-fleet:spot.bookie", "[0, 1)"},
		{"all spot, no on-demand base", "us-west-2", func(c *StackConfig) { c.Spot.Broker = &one }, "pulsar-fleet:spot.broker", "keeps an on-demand base"},
		{"zone not in region", "eu-west-1", func(c *StackConfig) { c.Zones = []string{"eu-west-1a", "eu-west-1b", "us-east-1c"} }, "pulsar-fleet:zones", "a zone of eu-west-1"},
		{"too few zones", "eu-west-1", func(c *StackConfig) { c.Zones = []string{"eu-west-1a", "eu-west-1b"} }, "pulsar-fleet:zones", "at least 3 zones"},
		{"duplicate zone", "eu-west-1", func(c *StackConfig) { c.Zones = []string{"eu-west-1a", "eu-west-1a", "eu-west-1b"} }, "pulsar-fleet:zones", "each zone once"},
		{"quorum ack above write", "us-east-1", func(c *StackConfig) { c.Durability = Durability{Ensemble: 3, WriteQuorum: 2, AckQuorum: 3} }, "pulsar-fleet:durability", "ensemble >= writeQuorum >= ackQuorum >= 1"},
		{"quorum write above ensemble", "us-east-1", func(c *StackConfig) { c.Durability = Durability{Ensemble: 2, WriteQuorum: 3, AckQuorum: 2} }, "pulsar-fleet:durability", "ensemble >= writeQuorum"},
		{"quorum zero", "us-east-1", func(c *StackConfig) { c.Durability = Durability{Ensemble: 3, WriteQuorum: 3, AckQuorum: 0} }, "pulsar-fleet:durability", "ackQuorum >= 1"},
		{"ensemble of a million", "us-east-1", func(c *StackConfig) { c.Durability = Durability{Ensemble: 1_000_000, WriteQuorum: 3, AckQuorum: 2} }, "pulsar-fleet:durability.ensemble", "at most 9 bookies per ledger"},
		{"ack quorum 1", "us-east-1", func(c *StackConfig) { c.Durability = Durability{Ensemble: 3, WriteQuorum: 3, AckQuorum: 1} }, "pulsar-fleet:durability.ackQuorum", "at least 2"},
		{"bad CIDR", "us-east-1", func(c *StackConfig) { c.VPCCIDR = "10.10.0.0/33" }, "pulsar-fleet:vpcCidr", "IPv4 CIDR"},
		{"CIDR too small", "us-east-1", func(c *StackConfig) { c.VPCCIDR = "10.10.0.0/24" }, "pulsar-fleet:vpcCidr", "/16 to /18"},
		{"CIDR host bits", "us-east-1", func(c *StackConfig) { c.VPCCIDR = "10.10.1.0/16" }, "pulsar-fleet:vpcCidr", "network address"},
		{"unsupported region", "eu-west-1", func(c *StackConfig) { c.Region = "mars-north-1" }, "aws:region", "supported region"},
		{"no hosted zone", "us-east-1", func(c *StackConfig) { c.Routing.HostedZoneID = "" }, "pulsar-fleet:routing.hostedZoneId", "hosted zone"},
		{"bad domain", "us-east-1", func(c *StackConfig) { c.Routing.Domain = "not a domain" }, "pulsar-fleet:routing.domain", "domain name"},
		{"negative weight", "us-east-1", func(c *StackConfig) { c.Routing.Weight = -5 }, "pulsar-fleet:routing.weight", "0..255"},
		{"bucket lifetime shorter than TTL + retention", "us-east-1", func(c *StackConfig) { c.TieredStorage.RetentionDays = 1 }, "pulsar-fleet:tieredStorage.retentionDays", "3..3650 days"},
		{"proxy scheme", "us-east-1", func(c *StackConfig) { c.Routing.ProxyScheme = "public" }, "pulsar-fleet:routing.proxyScheme", "internet-facing or internal"},
		{"kubernetes version", "us-east-1", func(c *StackConfig) { c.Cluster.KubernetesVersion = "1.20" }, "pulsar-fleet:cluster.kubernetesVersion", "one of 1.32, 1.33, 1.34, 1.35"},
		{"chart source", "us-east-1", func(c *StackConfig) { c.ChartSource = "s3://charts" }, "pulsar-fleet:chartSource", "an oci:// or https:// chart mirror"},
		{"nat gateways", "us-east-1", func(c *StackConfig) { c.Cluster.NATGateways = "none" }, "pulsar-fleet:cluster.natGateways", "perZone or single"},
		{"arch", "us-east-1", func(c *StackConfig) { c.Arches = []model.Arch{"riscv64"} }, "pulsar-fleet:arches", "arm64 or amd64"},
		{"peer is self", "us-east-1", func(c *StackConfig) { c.Peers = append(c.Peers, "us-east-1") }, "pulsar-fleet:peers", "other stacks"},
		{"replicate to a stack not in peers", "eu-west-1", func(c *StackConfig) { c.TieredStorage.ReplicateTo = []string{"us-west-2"} }, "pulsar-fleet:tieredStorage.replicateTo", "listed in peers"},
		{"geo-replicate to self", "us-west-2", func(c *StackConfig) { c.GeoReplication.ReplicateTo = []string{"us-west-2"} }, "pulsar-fleet:geoReplication.replicateTo", "other regions"},
		{"webhook not https", "us-west-2", func(c *StackConfig) { c.AlertWebhookURL = "http://hooks.example.com/x" }, "pulsar-fleet:alertWebhookUrl", "an https:// URL"},
		{"webhook on another port", "us-west-2", func(c *StackConfig) { c.AlertWebhookURL = "https://hooks.example.com:8443/x" }, "pulsar-fleet:alertWebhookUrl", "an https:// URL on port 443"},
		{"access policy", "us-west-2", func(c *StackConfig) { c.Cluster.Access.Principals[0].Policy = "root" }, "pulsar-fleet:cluster.access.principals[0]", "want one of clusterAdmin, admin, edit, view"},
		{"access principal", "us-west-2", func(c *StackConfig) { c.Cluster.Access.Principals[1].ARN = "streaming-oncall" }, "pulsar-fleet:cluster.access.principals[1]", "want an IAM role or user ARN"},
		{"access preview role", "us-west-2", func(c *StackConfig) { c.Cluster.Access.CIPreviewRoleARN = "arn:aws:iam::123:role/x" }, "pulsar-fleet:cluster.access.ciPreviewRoleArn", "want an IAM role or user ARN"},
		{"access duplicate", "us-west-2", func(c *StackConfig) { c.Cluster.Access.OperatorRoleARN = c.Cluster.Access.CIDeployRoleARN }, "pulsar-fleet:cluster.access.operatorRoleArn", "one access entry per principal"},
		{"access namespaced cluster admin", "us-west-2", func(c *StackConfig) { c.Cluster.Access.Principals[0].Namespaces = []string{"pulsar"} }, "pulsar-fleet:cluster.access.principals[0]", "cluster-wide only"},
		{"unused spot override is fine", "us-west-2", func(c *StackConfig) { c.Spot.Broker = &half }, "", ""},
		// Holes found by trying bad input.
		{"duplicate peer", "us-east-1", func(c *StackConfig) { c.Peers = append(c.Peers, "us-west-2") }, "pulsar-fleet:peers", "each entry once"},
		{"duplicate geo target", "us-east-1", func(c *StackConfig) { c.GeoReplication.ReplicateTo = []string{"us-west-2", "us-west-2"} }, "pulsar-fleet:geoReplication.replicateTo", "each entry once"},
		{"duplicate bucket target", "us-east-1", func(c *StackConfig) { c.TieredStorage.ReplicateTo = []string{"eu-west-1", "eu-west-1"} }, "pulsar-fleet:tieredStorage.replicateTo", "each entry once"},
		{"duplicate namespace", "us-east-1", func(c *StackConfig) { c.GeoReplication.Namespaces = []string{"orders", "orders"} }, "pulsar-fleet:geoReplication.namespaces", "each entry once"},
		{"tenant dot-dot", "us-east-1", func(c *StackConfig) { c.GeoReplication.Tenant = ".." }, "pulsar-fleet:geoReplication.tenant", "not . or .."},
		{"namespace dot", "us-east-1", func(c *StackConfig) { c.GeoReplication.Namespaces = []string{"."} }, "pulsar-fleet:geoReplication.namespaces", "not . or .."},
		{"tenant too long", "us-east-1", func(c *StackConfig) { c.GeoReplication.Tenant = strings.Repeat("t", 65) }, "pulsar-fleet:geoReplication.tenant", "at most 64 characters"},
		{"namespace too long", "us-east-1", func(c *StackConfig) { c.GeoReplication.Namespaces = []string{strings.Repeat("n", 65)} }, "pulsar-fleet:geoReplication.namespaces", "at most 64 characters"},
		{"domain too long", "us-east-1", func(c *StackConfig) { c.Routing.Domain = strings.Repeat("a", 40) + ".example.com" }, "pulsar-fleet:routing.domain", "ACM's 64"},
		{"write quorum below design", "us-east-1", func(c *StackConfig) { c.Durability = Durability{Ensemble: 2, WriteQuorum: 2, AckQuorum: 2} }, "pulsar-fleet:durability.writeQuorum", "allowBelowDesign"},
		{"write quorum below design, explicit", "us-east-1", func(c *StackConfig) {
			c.Durability = Durability{Ensemble: 2, WriteQuorum: 2, AckQuorum: 2, AllowBelowDesign: true}
		}, "", ""},
		{"Kubernetes API open to the internet", "us-east-1", func(c *StackConfig) { c.Cluster.PublicAccessCIDRs = []string{"0.0.0.0/0"} },
			"pulsar-fleet:cluster.publicAccessCidrs", "the Kubernetes API is never open to the internet"},
		{"Kubernetes API CIDR with host bits", "us-east-1", func(c *StackConfig) { c.Cluster.PublicAccessCIDRs = []string{"203.0.113.7/24"} },
			"pulsar-fleet:cluster.publicAccessCidrs", "a network address (203.0.113.0/24)"},
		{"Kubernetes API CIDR in IPv6", "us-east-1", func(c *StackConfig) { c.Cluster.PublicAccessCIDRs = []string{"2001:db8::/32"} },
			"pulsar-fleet:cluster.publicAccessCidrs", "IPv4 CIDRs"},
		{"client CIDR with host bits", "us-east-1", func(c *StackConfig) { c.Routing.ClientCIDRs = []string{"203.0.113.7/24"} }, "pulsar-fleet:routing.clientCidrs", "a network address (203.0.113.0/24)"},
		{"added zone", "us-west-2", func(c *StackConfig) { c.AddedZones = []model.AddedZone{{Zone: "us-west-2d", CIDR: "10.21.0.0/16"}} }, "", ""},
		{"added zone of another region", "us-west-2", func(c *StackConfig) { c.AddedZones = []model.AddedZone{{Zone: "us-east-1d", CIDR: "10.21.0.0/16"}} },
			"pulsar-fleet:addedZones[0].zone", "a zone of us-west-2: us-west-2a, us-west-2b, us-west-2c, us-west-2d"},
		{"added zone the region spans", "us-west-2", func(c *StackConfig) { c.AddedZones = []model.AddedZone{{Zone: "us-west-2a", CIDR: "10.21.0.0/16"}} },
			"pulsar-fleet:addedZones[0].zone", "a zone the region does not span yet"},
		{"eu-west-1 has no zone to add", "eu-west-1", func(c *StackConfig) { c.AddedZones = []model.AddedZone{{Zone: "eu-west-1d", CIDR: "10.31.0.0/16"}} },
			"pulsar-fleet:addedZones[0].zone", "a zone of eu-west-1: eu-west-1a, eu-west-1b, eu-west-1c"},
		{"added zone inside vpcCidr", "us-west-2", func(c *StackConfig) { c.AddedZones = []model.AddedZone{{Zone: "us-west-2d", CIDR: "10.20.0.0/18"}} },
			"pulsar-fleet:addedZones[0].cidr", "a block that overlaps no other of the VPC (10.20.0.0/16)"},
		{"added zone from another private range", "us-west-2", func(c *StackConfig) { c.AddedZones = []model.AddedZone{{Zone: "us-west-2d", CIDR: "172.16.0.0/16"}} },
			"pulsar-fleet:addedZones[0].cidr", "a block of 10.0.0.0/8 (the VPC CIDR's range) or of 100.64.0.0/10"},
		{"added zone in the shared address space", "us-west-2", func(c *StackConfig) { c.AddedZones = []model.AddedZone{{Zone: "us-west-2d", CIDR: "100.64.0.0/16"}} }, "", ""},
		{"added zone too small", "us-west-2", func(c *StackConfig) { c.AddedZones = []model.AddedZone{{Zone: "us-west-2d", CIDR: "10.21.0.0/24"}} },
			"pulsar-fleet:addedZones[0].cidr", "from /16 to /20"},
		{"added zone twice", "us-west-2", func(c *StackConfig) {
			c.AddedZones = []model.AddedZone{{Zone: "us-west-2d", CIDR: "10.21.0.0/16"}, {Zone: "us-west-2d", CIDR: "10.22.0.0/16"}}
		}, "pulsar-fleet:addedZones[1].zone", "a zone the region does not span yet"},
		{"client CIDRs on an internal proxy", "us-east-1", func(c *StackConfig) {
			c.Routing.ProxyScheme, c.Routing.ClientCIDRs = "internal", []string{"10.0.0.0/8"}
		}, "pulsar-fleet:routing.clientCidrs", "none with proxyScheme internal"},
		{"internet-facing proxy open by omission", "us-east-1", func(c *StackConfig) { c.Routing.AllowPublicProxy, c.Routing.ClientCIDRs = false, nil },
			"pulsar-fleet:routing.clientCidrs", "routing.allowPublicProxy: true to open it"},
		{"public proxy and client CIDRs", "us-east-1", func(c *StackConfig) { c.Routing.ClientCIDRs = []string{"203.0.113.0/24"} },
			"pulsar-fleet:routing.allowPublicProxy", "choose one"},
		{"public internal proxy", "us-east-1", func(c *StackConfig) { c.Routing.ProxyScheme = "internal" },
			"pulsar-fleet:routing.allowPublicProxy", "only an internet-facing proxy"},
		{"unknown signing key", "us-east-1", func(c *StackConfig) { c.Tokens.SigningKey = "vault" }, "pulsar-fleet:tokens.signingKey", "fleet or chart"},
		{"replacing the chart key while keeping it", "us-east-1", func(c *StackConfig) {
			c.Tokens = Tokens{SigningKey: model.SigningKeyChart, ReplaceChartKey: true}
		}, "pulsar-fleet:tokens.replaceChartKey", "only with tokens.signingKey: fleet"},
		{"a pin of an add-on the cluster does not run", "us-east-1", func(c *StackConfig) {
			c.Cluster.AddonVersions = map[string]string{"kube-dns": "v1.0.0-eksbuild.1"}
		}, "pulsar-fleet:cluster.addonVersions.kube-dns", "one of vpc-cni, kube-proxy, coredns, aws-ebs-csi-driver, metrics-server"},
		{"a pin not in an add-on version's form", "us-east-1", func(c *StackConfig) {
			c.Cluster.AddonVersions = map[string]string{"coredns": "latest"}
		}, "pulsar-fleet:cluster.addonVersions.coredns", "v<major>.<minor>.<patch>-eksbuild.<n>"},
		{"a kube-proxy pin left behind by an upgrade", "us-east-1", func(c *StackConfig) {
			c.Cluster.AddonVersions = map[string]string{"kube-proxy": "v1.34.1-eksbuild.2"}
		}, "pulsar-fleet:cluster.addonVersions.kube-proxy", "kube-proxy of the cluster's version, v1.35.<patch>-eksbuild.<n>"},
		{"a key fingerprint not in its form", "us-east-1", func(c *StackConfig) { c.Tokens.AcceptKeyFingerprint = "SHA256:abc" },
			"pulsar-fleet:tokens.acceptKeyFingerprint", "sha256: and 64 lower-case hex digits"},
		{"accepting a fleet key on the chart's", "us-east-1", func(c *StackConfig) {
			c.Tokens = Tokens{SigningKey: model.SigningKeyChart, AcceptKeyFingerprint: "sha256:" + strings.Repeat("ab", 32)}
		}, "pulsar-fleet:tokens.acceptKeyFingerprint", "only with tokens.signingKey: fleet"},
		{"client CIDRs the whole internet", "us-east-1", func(c *StackConfig) {
			c.Routing.AllowPublicProxy, c.Routing.ClientCIDRs = false, []string{"0.0.0.0/0"}
		}, "pulsar-fleet:routing.clientCidrs", "use routing.allowPublicProxy: true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := repoFleet(t)
			c, ok := f.Get(tc.stack)
			require.True(t, ok)
			tc.mutate(&c)
			err := ValidateFleet(f.Replace(c))
			if tc.wantKey == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "config "+tc.wantKey+":")
			assert.Contains(t, err.Error(), tc.allowed)
			assert.Contains(t, err.Error(), "stack "+tc.stack)
		})
	}
}

func TestFleetRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(f Fleet) Fleet
		wantKey string
		allowed string
	}{
		{"weights not summing as declared", func(f Fleet) Fleet {
			c, _ := f.Get("eu-west-1")
			c.Routing.Weight = 5
			return f.Replace(c)
		}, "pulsar-fleet:routing.weight", "sum to the declared routing.totalWeight 100"},
		{"overlapping CIDRs", func(f Fleet) Fleet {
			c, _ := f.Get("eu-west-1")
			c.VPCCIDR = "10.10.0.0/17"
			return f.Replace(c)
		}, "pulsar-fleet:vpcCidr", "a CIDR that does not overlap stack"},
		{"an added zone overlapping another stack's VPC", func(f Fleet) Fleet {
			c, _ := f.Get("us-west-2")
			c.AddedZones = []model.AddedZone{{Zone: "us-west-2d", CIDR: "10.10.0.0/16"}}
			return f.Replace(c)
		}, "pulsar-fleet:addedZones[0].cidr", "a CIDR that does not overlap stack us-east-1's 10.10.0.0/16"},
		{"two primaries", func(f Fleet) Fleet {
			c, _ := f.Get("us-west-2")
			c.Role = RolePrimary
			return f.Replace(c)
		}, "pulsar-fleet:role", "exactly one primary"},
		{"unknown peer", func(f Fleet) Fleet {
			c, _ := f.Get("us-east-1")
			c.Peers = append(c.Peers, "ap-south-1")
			return f.Replace(c)
		}, "pulsar-fleet:peers", "a stack of the fleet"},
		{"peer in the same region", func(f Fleet) Fleet {
			c, _ := f.Get("us-west-2")
			c.Region = "us-east-1"
			c.Zones = []string{"us-east-1a", "us-east-1b", "us-east-1c"}
			return f.Replace(c)
		}, "aws:region", "a region no other stack uses"},
		{"different hosted zones", func(f Fleet) Fleet {
			c, _ := f.Get("us-west-2")
			c.Routing.HostedZoneID = "Z0OTHERZONE000000001"
			return f.Replace(c)
		}, "pulsar-fleet:routing.hostedZoneId", "every stack shares"},
		{"tenants differ", func(f Fleet) Fleet {
			c, _ := f.Get("us-west-2")
			c.GeoReplication.Tenant = "other"
			return f.Replace(c)
		}, "pulsar-fleet:geoReplication.tenant", "the tenant every stack uses"},
		{"a global view not joined to a region", func(f Fleet) Fleet {
			c, _ := f.Get("us-west-2")
			c.Peers = nil
			return f.Replace(c)
		}, "pulsar-fleet:peers", "peers that join this stack to eu-west-1: its global querier reads eu-west-1's Thanos endpoint through the transit gateways"},
		{"the primary not reading the secondary", func(f Fleet) Fleet {
			c, _ := f.Get("us-east-1")
			c.Peers = []string{"eu-west-1"}
			c.TieredStorage.ReplicateTo = []string{"eu-west-1"}
			return f.Replace(c)
		}, "pulsar-fleet:peers", "peers that join this stack to us-west-2"},
		{"replication between two stacks neither of which reads the other", func(f Fleet) Fleet {
			c, _ := f.Get("eu-west-1")
			c.GeoReplication.ReplicateTo = []string{"us-east-1", "us-west-2"}
			w, _ := f.Get("us-west-2")
			w.Peers = nil
			return f.Replace(c).Replace(w)
		}, "pulsar-fleet:geoReplication.replicateTo", "a stack joined to this one: add us-west-2 to this stack's pulsar-fleet:peers, or eu-west-1 to us-west-2's"},
		{"cycle", func(f Fleet) Fleet {
			c, _ := f.Get("us-west-2")
			c.Peers = []string{"us-east-1"}
			return f.Replace(c)
		}, "", "cycle: us-east-1 reads us-west-2 reads us-east-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateFleet(tc.mutate(repoFleet(t)))
			require.Error(t, err)
			if tc.wantKey != "" {
				assert.Contains(t, err.Error(), "config "+tc.wantKey+":")
			}
			assert.Contains(t, err.Error(), tc.allowed)
		})
	}
}

// Every declared key reaches StackConfig: a key declared but not parsed
// would be accepted and silently ignored (tokens was, once).
func TestEveryDeclaredKeyIsParsed(t *testing.T) {
	sf := repoFiles(t)[0]
	for _, k := range ConfigKeys {
		if _, set := sf.Raw[Key(k.Name)]; set {
			continue // parsed by every other test
		}
		raw := cloneRaw(sf.Raw)
		raw[Key(k.Name)] = map[string]string{"string": `x`, "object": `{}`, "array": `[]`, "boolean": "false", "integer": "0"}[k.Type]
		_, err := ParseConfig(sf.Stack, raw)
		if err != nil {
			assert.NotContains(t, err.Error(), "not parsed", k.Name)
		}
	}
	raw := cloneRaw(sf.Raw)
	raw["pulsar-fleet:tokens"] = `{"signingKey": "chart"}`
	c, err := ParseConfig(sf.Stack, raw)
	require.NoError(t, err)
	assert.Equal(t, Tokens{SigningKey: model.SigningKeyChart}, c.Tokens)
	raw["pulsar-fleet:tokens"] = `{"signingKey": "fleet", "replaceChartKey": true}`
	c, err = ParseConfig(sf.Stack, raw)
	require.NoError(t, err)
	assert.Equal(t, Tokens{SigningKey: model.SigningKeyFleet, ReplaceChartKey: true}, c.Tokens)
	raw["pulsar-fleet:tokens"] = `{"signingKee": "chart"}`
	_, err = ParseConfig(sf.Stack, raw)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "signingKee", "a typo inside tokens is refused")
}

func TestParseConfigRejectsTyposAndMissing(t *testing.T) {
	sf := repoFiles(t)[0]
	raw := cloneRaw(sf.Raw)
	raw["pulsar-fleet:phaze"] = "35k"
	_, err := ParseConfig(sf.Stack, raw)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pulsar-fleet:phaze")
	assert.Contains(t, err.Error(), "one of role, phase")

	raw = cloneRaw(sf.Raw)
	raw["pulsar-fleet:routing"] = `{"weight": 10, "totalWeigth": 100}`
	_, err = ParseConfig(sf.Stack, raw)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "totalWeigth")

	raw = cloneRaw(sf.Raw)
	delete(raw, "pulsar-fleet:phase")
	_, err = ParseConfig(sf.Stack, raw)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "config pulsar-fleet:phase: (missing)")

	raw = cloneRaw(sf.Raw)
	raw["pulsar-fleet:zones"] = "us-east-1a"
	_, err = ParseConfig(sf.Stack, raw)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "config pulsar-fleet:zones")
}

// A 0 where the program would read 0 as "left out" is refused, naming
// the field; the same object without the field takes the default.
func TestExplicitZeroIsNotTheDefault(t *testing.T) {
	sf := repoFiles(t)[0]
	for key, fields := range zeroReadsAsUnset {
		for f, z := range fields {
			for _, name := range []string{f, strings.ToUpper(f[:1]) + f[1:], strings.ToLower(f)} {
				raw := cloneRaw(sf.Raw)
				raw[Key(key)] = `{"` + name + `": 0}`
				_, err := ParseConfig(sf.Stack, raw)
				require.Error(t, err, "%s.%s", key, name)
				assert.Contains(t, err.Error(), "config "+Key(key+"."+f)+": 0 is not allowed: want "+z.allowed+" (0 would silently read as the field left out: "+z.unset+")")
			}
		}
	}
	raw0 := cloneRaw(sf.Raw)
	raw0[Key("workload")] = `{"geoReplicatedShare": 0.5, "GeoReplicatedShare": 0}`
	_, err0 := ParseConfig(sf.Stack, raw0)
	assert.ErrorContains(t, err0, "workload.geoReplicatedShare: 0 is not allowed", "the decoder takes the last of two spellings")
	raw := cloneRaw(sf.Raw)
	raw[Key("tieredStorage")] = `{"retentionDays": null}`
	_, err := ParseConfig(sf.Stack, raw)
	assert.NoError(t, err, "null is left out")
	raw[Key("workload")] = `{"geoReplicatedShare": 0.0}`
	_, err = ParseConfig(sf.Stack, raw)
	assert.ErrorContains(t, err, "workload.geoReplicatedShare: 0 is not allowed", "0.0 is 0 too")
	raw[Key("workload")] = `{"geoReplicatedShare": 0.25}`
	_, err = ParseConfig(sf.Stack, raw)
	assert.NoError(t, err)
}

func TestDefaultsApplied(t *testing.T) {
	c, err := ParseConfig("x", Raw{
		"aws:region": "us-east-2", "pulsar-fleet:role": "dr", "pulsar-fleet:phase": "35k", "pulsar-fleet:vpcCidr": "10.1.0.0/16",
		"pulsar-fleet:zones": `["us-east-2a","us-east-2b","us-east-2c"]`, "pulsar-fleet:routing": `{"weight":1,"hostedZoneId":"Z123456","domain":"a.example.com"}`,
	})
	require.NoError(t, err)
	assert.Equal(t, Durability{Ensemble: 3, WriteQuorum: 3, AckQuorum: 2}, c.Durability)
	assert.Equal(t, DefaultKubernetesVersion, c.Cluster.KubernetesVersion)
	assert.Equal(t, model.NATPerZone, c.Cluster.NATGateways)
	assert.Equal(t, 100, c.Routing.TotalWeight)
	assert.Equal(t, model.SchemeInternetFacing, c.Routing.ProxyScheme)
	assert.Equal(t, []model.Arch{"arm64", "amd64"}, c.Arches)
	assert.Equal(t, []string{}, c.Peers)
	require.NotNil(t, c.TieredStorage.AccessLogging)
	assert.True(t, *c.TieredStorage.AccessLogging)
}

func TestProjectFileDeclaresEveryKey(t *testing.T) {
	b, err := os.ReadFile("../Pulumi.yaml")
	require.NoError(t, err)
	assert.Contains(t, string(b), "name: "+Project)
	assert.Contains(t, string(b), "runtime: go")
	assert.True(t, strings.HasSuffix(string(b), ProjectConfigYAML()),
		"Pulumi.yaml's config block must equal stacks.ProjectConfigYAML(); regenerate it:\n%s", ProjectConfigYAML())
}

func TestSecureValuesNeverLeak(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(dir+"/Pulumi.s.yaml", []byte("config:\n  pulsar-fleet:alertWebhookUrl:\n    secure: v1:abc\n  aws:region: us-east-1\n"), 0o600))
	sf, err := ReadStackFile(dir + "/Pulumi.s.yaml")
	require.NoError(t, err)
	assert.Equal(t, []string{"pulsar-fleet:alertWebhookUrl"}, sf.SecretKeys)
	assert.Equal(t, SecretPlaceholder, sf.Raw["pulsar-fleet:alertWebhookUrl"])
}

// Invalid config must fail before a single resource is registered.
func TestInvalidConfigRegistersNothing(t *testing.T) {
	cat, err := sizing.DefaultCatalog()
	require.NoError(t, err)
	for name, mutate := range map[string]func(Raw){
		"bad phase":                             func(r Raw) { r["pulsar-fleet:phase"] = "7m" },
		"bad quorum":                            func(r Raw) { r["pulsar-fleet:durability"] = `{"ensemble":2,"writeQuorum":3,"ackQuorum":2}` },
		"overlapping CIDR":                      func(r Raw) { r["pulsar-fleet:vpcCidr"] = "10.20.0.0/16" },
		"spot share 1 leaves no on-demand base": func(r Raw) { r["pulsar-fleet:spot"] = `{"broker":1.0,"bookie":0.7}` },
	} {
		t.Run(name, func(t *testing.T) {
			files := repoFiles(t)
			var self StackFile
			for _, f := range files {
				if f.Stack == "us-east-1" {
					self = f
				}
			}
			raw := cloneRaw(self.Raw)
			mutate(raw)
			fleet, err := FleetFromFiles(files)
			require.NoError(t, err)
			rec := recorder.New("us-east-1")
			err = rec.Run(Project, "us-east-1", raw, nil, NewProgram(WithFleet(fleet), WithCatalog(cat)))
			require.Error(t, err)
			assert.Empty(t, rec.Resources(), "nothing may be registered when config is invalid")
		})
	}
}

// A typo in a stack file (where `pulumi config set` and the Automation API
// write) or in the engine's PULUMI_CONFIG fails the program before anything
// is registered.
func TestUnknownKeyRegistersNothing(t *testing.T) {
	cat, err := sizing.DefaultCatalog()
	require.NoError(t, err)
	dir := t.TempDir()
	for _, f := range repoFiles(t) {
		b, err := os.ReadFile(f.Path)
		require.NoError(t, err)
		if f.Stack == "us-east-1" {
			b = append(b, []byte("  pulsar-fleet:spotShare: \"0.5\"\n")...)
		}
		require.NoError(t, os.WriteFile(dir+"/Pulumi."+f.Stack+".yaml", b, 0o600))
	}
	self, err := ReadStackFile(dir + "/Pulumi.us-east-1.yaml")
	require.NoError(t, err)
	rec := recorder.New("us-east-1")
	err = rec.Run(Project, "us-east-1", self.Raw, nil, NewProgram(WithDir(dir), WithCatalog(cat)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "config pulsar-fleet:spotShare: (unknown key)")
	assert.Empty(t, rec.Resources())

	t.Setenv("PULUMI_CONFIG", `{"pulsar-fleet:phaze":"35k"}`)
	good := repoFiles(t)[2]
	rec = recorder.New("us-east-1")
	err = rec.Run(Project, good.Stack, good.Raw, nil, NewProgram(WithDir(".."), WithCatalog(cat)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pulsar-fleet:phaze")
	assert.Empty(t, rec.Resources())

	// A mistyped namespace in the engine's config is caught the same way.
	t.Setenv("PULUMI_CONFIG", `{"pulsar_fleet:durability":"{}","aws:profile":"prod"}`)
	rec = recorder.New("us-east-1")
	err = rec.Run(Project, good.Stack, good.Raw, nil, NewProgram(WithDir(".."), WithCatalog(cat)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "config pulsar_fleet:durability: (unknown key)")
	assert.Contains(t, err.Error(), "did you mean pulsar-fleet:durability?")
	assert.Empty(t, rec.Resources())
}

// The committed stacks grant Kubernetes access to people, CI and the
// operator, with the CI preview role read-only.
func TestCommittedAccess(t *testing.T) {
	for _, s := range repoFleet(t).Stacks {
		grants := s.Cluster.Access.Grants()
		require.Len(t, grants, 5, s.Stack)
		policies := map[string]model.AccessPolicy{}
		for _, g := range grants {
			policies[g.PrincipalARN[strings.LastIndex(g.PrincipalARN, "/")+1:]] = g.Policy
		}
		assert.Equal(t, map[string]model.AccessPolicy{"platform-admins": model.AccessClusterAdmin, "streaming-oncall": model.AccessEdit,
			"pulsar-fleet-ci-preview": model.AccessView, "pulsar-fleet-ci-deploy": model.AccessClusterAdmin,
			"pulsar-fleet-operator": model.AccessClusterAdmin}, policies, s.Stack)
	}
}

// A secret key set in plain text is refused, naming the key and how to set
// it; set as a secret it is accepted and never printed.
func TestSecretConfigMustBeSecret(t *testing.T) {
	sf := repoFiles(t)[0]
	raw := cloneRaw(sf.Raw)
	raw[Key("alertWebhookUrl")] = "https://hooks.example.com/T0/B0/plain"
	_, err := ParseConfig(sf.Stack, raw, sf.SecretKeys...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "config pulsar-fleet:alertWebhookUrl: (plain text) is not allowed: want a secret: pulumi config set --secret pulsar-fleet:alertWebhookUrl")
	assert.NotContains(t, err.Error(), "hooks.example.com", "the error does not repeat the value")

	c, err := ParseConfig(sf.Stack, raw, append(sf.SecretKeys, Key("alertWebhookUrl"))...)
	require.NoError(t, err)
	assert.Equal(t, "https://hooks.example.com/T0/B0/plain", c.AlertWebhookURL.Reveal())
	b, err := json.Marshal(c)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "hooks.example.com")
}

// A stack file with the webhook as a secure value passes the offline
// preview: the value is a placeholder there, and the Secret is created.
func TestSecureWebhookInStackFile(t *testing.T) {
	dir := t.TempDir()
	pf, err := os.ReadFile("../Pulumi.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dir+"/Pulumi.yaml", pf, 0o600))
	for _, sf := range repoFiles(t) {
		b, err := os.ReadFile(sf.Path)
		require.NoError(t, err)
		if sf.Stack == "us-east-1" {
			b = append(b, []byte("  pulsar-fleet:alertWebhookUrl:\n    secure: v1:ciphertext\n")...)
		}
		require.NoError(t, os.WriteFile(dir+"/"+filepath.Base(sf.Path), b, 0o600))
	}
	cat, err := sizing.DefaultCatalog()
	require.NoError(t, err)
	res, err := PreviewOffline(OfflineOptions{Dir: dir, Catalog: cat, Stacks: []string{"us-east-1"}})
	require.NoError(t, err)
	var secrets []string
	for _, r := range res.Stacks[0].Resources {
		if r.Type == "kubernetes:core/v1:Secret" {
			secrets = append(secrets, r.Name)
		}
	}
	assert.ElementsMatch(t, []string{"us-east-1-alert-webhook", "us-east-1-thanos-objstore", "us-east-1-thanos-grpc-tls", "us-east-1-grafana-admin",
		"us-east-1-thanos-objstore-peer-us-west-2", "us-east-1-thanos-objstore-peer-eu-west-1", "us-east-1-token-key", "us-east-1-token-broker-us-east-1", "us-east-1-token-proxy-us-east-1", "us-east-1-token-admin-us-east-1",
		"us-east-1-token-probe-us-east-1",
		"us-east-1-geo-tokens"}, secrets)
}

// A key in a mistyped namespace is refused (it would be ignored), with a
// suggestion when the name is one of the program's keys.
func TestMistypedNamespace(t *testing.T) {
	sf := repoFiles(t)[0]
	for key, want := range map[string]string{
		"pulsar_fleet:durability": "did you mean pulsar-fleet:durability?",
		"pulsarfleet:phase":       "did you mean pulsar-fleet:phase?",
		"awz:region":              "a key in the namespace pulsar-fleet or a provider's (aws, kubernetes, eks, random, pulumi)",
	} {
		raw := cloneRaw(sf.Raw)
		raw[key] = "x"
		_, err := ParseConfig(sf.Stack, raw, sf.SecretKeys...)
		require.Error(t, err, key)
		assert.Contains(t, err.Error(), "config "+key+": (unknown key) is not allowed: want ")
		assert.Contains(t, err.Error(), want, key)
	}
	raw := cloneRaw(sf.Raw)
	raw["kubernetes:enableServerSideApply"] = "true"
	_, err := ParseConfig(sf.Stack, raw, sf.SecretKeys...)
	assert.NoError(t, err, "provider namespaces are allowed")
}

// The project file the real engine reads must agree with the program;
// the offline preview refuses one that does not, naming the key.
func TestProjectFileMustAgree(t *testing.T) {
	orig, err := os.ReadFile("../Pulumi.yaml")
	require.NoError(t, err)
	require.NoError(t, CheckProjectFile(".."))
	for name, tc := range map[string]struct{ from, to, want string }{
		"default": {"default: [\"arm64\",\"amd64\"]", "default: [\"amd64\"]", `config pulsar-fleet:arches has default ["amd64"]: the program's is ["arm64","amd64"]`},
		"type":    {"  pulsar-fleet:phase:\n    type: string", "  pulsar-fleet:phase:\n    type: integer", `config pulsar-fleet:phase has type "integer": want "string"`},
		"extra":   {"config:\n", "config:\n  pulsar-fleet:colour:\n    type: string\n", "config pulsar-fleet:colour is declared but the program does not read it"},
		"missing": {"  pulsar-fleet:role:\n", "  pulsar-fleet:rolle:\n", "config pulsar-fleet:role is not declared"},
		"secret":  {"    secret: true\n", "", "config pulsar-fleet:alertWebhookUrl has secret: false: want true"},
		"name":    {"name: pulsar-fleet\n", "name: pulsar\n", `name "pulsar": want "pulsar-fleet"`},
	} {
		body := strings.Replace(string(orig), tc.from, tc.to, 1)
		require.NotEqual(t, string(orig), body, name)
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte(body), 0o600))
		assert.ErrorContains(t, CheckProjectFile(dir), tc.want, name)
	}
	_, err = PreviewOffline(OfflineOptions{Dir: t.TempDir()})
	assert.ErrorContains(t, err, "the project file", "no Pulumi.yaml, no preview")
}

// The caller's PULUMI_CONFIG is not the stack's config under the mock
// engine: the offline preview ignores it.
func TestOfflinePreviewIgnoresCallersEngineConfig(t *testing.T) {
	cat, err := sizing.DefaultCatalog()
	require.NoError(t, err)
	t.Setenv("PULUMI_CONFIG", `{"pulsar-fleet:phaze":"1m","pulsar_fleet:durability":"{}"}`)
	res, err := PreviewOffline(OfflineOptions{Dir: "..", Catalog: cat, Stacks: []string{"eu-west-1"}})
	require.NoError(t, err)
	assert.Equal(t, "35k", res.Stacks[0].Phase)
}

func TestAllowDataDeletion(t *testing.T) {
	sf := repoFiles(t)[0]
	c, err := ParseConfig(sf.Stack, sf.Raw, sf.SecretKeys...)
	require.NoError(t, err)
	assert.False(t, c.AllowDataDeletion, "protected by default")
	spec, err := c.RegionSpec(repoFleet(t), "organization")
	require.NoError(t, err)
	assert.True(t, spec.ProtectData)

	raw := cloneRaw(sf.Raw)
	raw[Key("allowDataDeletion")] = "maybe"
	_, err = ParseConfig(sf.Stack, raw, sf.SecretKeys...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "config pulsar-fleet:allowDataDeletion:")
	assert.Contains(t, err.Error(), "boolean")
	raw[Key("allowDataDeletion")] = "true"
	c, err = ParseConfig(sf.Stack, raw, sf.SecretKeys...)
	require.NoError(t, err)
	assert.True(t, c.AllowDataDeletion)
}

func TestTransitionGuard(t *testing.T) {
	fleet, _, err := LoadFleet("..")
	require.NoError(t, err)
	cat, err := sizing.OpenCatalog("")
	require.NoError(t, err)
	at := func(phase string, step *TransitionStep) Fleet {
		f := Fleet{}
		for _, s := range fleet.Stacks {
			s.Phase, s.Transition = phase, nil
			if s.Stack == "us-east-1" {
				s.Transition = step
			}
			f.Stacks = append(f.Stacks, s)
		}
		return f
	}
	pin := &BookieVolumes{Phase: "35k", LedgerGiB: 2048, JournalGiB: 100, ThroughputMiB: 250}
	pinned := func(f Fleet) Fleet {
		for i := range f.Stacks {
			if f.Stacks[i].Stack == "us-east-1" {
				f.Stacks[i].BookieVolumes = pin
			}
		}
		return f
	}
	// 100k -> 1m grows ZooKeeper and moves the bookies to instance
	// storage (steps 1, 2, 3); 1m -> 100k shrinks ZooKeeper and moves them
	// back to EBS (1, 2, 3).
	flip := func(n int) *TransitionStep { return &TransitionStep{From: "100k", Step: n} }
	down := func(n int) *TransitionStep { return &TransitionStep{From: "1m", Step: n} }
	// transitionFrom is where a state declared at phase comes from.
	transitionFrom := map[string]string{"1m": "100k", "100k": "1m"}
	volumes := func(v sizing.Volumes) map[string]any { return regions.VolumesOutput(v).Map() }
	// planned are the EBS volumes of the plan at phase, or at 100k (the
	// last EBS phase) for a state that claims EBS bookies where the plan
	// has none.
	var planned func(phase string) map[string]any
	planned = func(phase string) map[string]any {
		d, err := DesignFor(fleet, "us-east-1", phase, cat)
		require.NoError(t, err)
		v, ok := regions.EBSVolumes(d.Components)
		if !ok {
			require.NotEqual(t, "100k", phase, "the plan at 100k has EBS bookies")
			return planned("100k")
		}
		return volumes(v)
	}
	out := func(phase, sets string, between ...int) map[string]any {
		m := map[string]any{"phase": phase, "bookieSets": sets, "tokenSigningKey": "fleet", "kubernetesVersion": "1.35", "zookeeperQuorumTls": "tls"}
		if len(between) > 0 {
			m["transition"] = map[string]any{"from": transitionFrom[phase], "step": float64(between[0])}
		}
		if strings.Contains(sets, "ebs") {
			from := phase
			if len(between) > 0 {
				from = transitionFrom[phase]
			}
			m["bookieVolumes"] = planned(from)
		}
		return m
	}
	with := func(m map[string]any, k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range m {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	for _, tc := range []struct {
		name     string
		declared Fleet
		deployed map[string]any
		want     string // empty: allowed
	}{
		{"never deployed", at("10m", nil), nil, ""},
		// A first `up` that stopped before the Pulsar releases: what runs
		// is still guarded.
		{"no release yet, the same network", at("10m", nil), map[string]any{"kubernetesVersion": "1.35",
			"network": map[string]any{"vpcCidr": "10.10.0.0/16", "zones": []any{"us-east-1a", "us-east-1b", "us-east-1c"}}}, ""},
		{"no release yet, another VPC CIDR", at("10m", nil), map[string]any{"kubernetesVersion": "1.35",
			"network": map[string]any{"vpcCidr": "10.99.0.0/16", "zones": []any{"us-east-1a", "us-east-1b", "us-east-1c"}}}, "vpcCidr"},
		{"no release yet, two Kubernetes versions up", at("10m", nil), map[string]any{"kubernetesVersion": "1.33"}, "set 1.34"},
		{"same phase", at("10m", nil), out("10m", "nvme"), ""},
		{"direct 100k -> 1m", at("1m", nil), out("100k", "ebs"), "pulsar-fleet transition --stack us-east-1 --from 100k --to 1m"},
		{"direct 100m -> 10m", at("10m", nil), out("100m", "nvme"), "bookies would leave at once"},
		{"direct 35k -> 100k resizes volumes", at("100k", nil), out("35k", "ebs"), "the EBS bookies' volumes would change (ledgers 768Gi -> 2048Gi)"},
		{"spot edit flips storage at one phase", at("1m", nil), out("1m", "ebs"), "a change at phase 1m is refused"},
		{"first step from the old phase", at("1m", flip(1)), out("100k", "ebs"), ""},
		{"a later step first", at("1m", flip(2)), out("100k", "ebs"), "the transition starts with step 1"},
		{"a step from another phase", at("1m", flip(1)), out("35k", "ebs"), "the stack runs phase 35k"},
		{"the same step again", at("1m", flip(2)), out("1m", "ebs,nvme", 2), ""},
		{"a step that drops a running set", at("1m", flip(2)), out("1m", "ebs,gp2", 2), "the stack runs gp2 bookies and the declared step has none"},
		{"the next step", at("1m", flip(2)), out("1m", "ebs", 1), ""},
		{"a step skipped", at("100k", down(3)), out("100k", "nvme", 1), "steps go forward one at a time"},
		{"a step back", at("1m", flip(1)), out("1m", "ebs,nvme", 2), "steps go forward one at a time"},
		{"the phase before the last step", at("100k", nil), out("100k", "nvme,ebs", 2), "phase 100k is the last step, after step 3"},
		{"the phase after the last step", at("1m", nil), out("1m", "ebs,nvme", 3), ""},
		{"another phase mid-transition", at("10m", nil), out("1m", "ebs,nvme", 2), "finish the transition first"},
		{"nvme deployed before bookie sets", at("10m", nil), map[string]any{"phase": "10m", "bookieStorage": "nvme"}, "deployed before bookie sets"},
		{"ebs deployed before the planner chose volumes", at("100k", nil), map[string]any{"phase": "100k", "bookieStorage": "ebs"},
			"journal 100Gi -> 24Gi, throughput 250MiB/s -> 125MiB/s): a StatefulSet's volumeClaimTemplates cannot change"},
		{"its remedy names the pin", at("100k", nil), map[string]any{"phase": "100k", "bookieStorage": "ebs"},
			"`pulsar-fleet:bookieVolumes: {phase: 100k, ledgerGiB: 2048, journalGiB: 100, throughputMiB: 250}`"},
		{"running volumes the plan would change", at("35k", nil), with(out("35k", "ebs"), "bookieVolumes", volumes(pin.Volumes())), "pin the running volumes"},
		{"running volumes pinned", pinned(at("35k", nil)), with(out("35k", "ebs"), "bookieVolumes", volumes(pin.Volumes())), ""},
		{"a transition from pinned volumes resizes them", pinned(at("100k", nil)), with(out("35k", "ebs"), "bookieVolumes", volumes(pin.Volumes())),
			"journal 100Gi -> 24Gi, throughput 250MiB/s -> 125MiB/s"},
		{"a phase change from other volumes than the running ones", at("100k", nil), with(out("35k", "ebs"), "bookieVolumes", volumes(pin.Volumes())),
			"the EBS bookies run other volumes than the plan for phase 35k gives them"},
		{"a first step from other volumes than the running ones", at("1m", flip(1)), with(out("100k", "ebs"), "bookieVolumes", volumes(pin.Volumes())),
			"the EBS bookies run other volumes than the plan for phase 100k gives them"},
		{"volumes output that does not read", at("35k", nil), with(out("35k", "ebs"), "bookieVolumes", "6Ti"), `output bookieVolumes: "6Ti" is not allowed`},
		{"the same Kubernetes version", at("10m", nil), with(out("10m", "nvme"), "kubernetesVersion", "1.35"), ""},
		{"Kubernetes one minor up", at("10m", nil), with(out("10m", "nvme"), "kubernetesVersion", "1.34"), ""},
		{"Kubernetes two minors up", at("10m", nil), with(out("10m", "nvme"), "kubernetesVersion", "1.33"),
			"stack us-east-1: pulsar-fleet:cluster.kubernetesVersion: 1.35: the cluster runs Kubernetes 1.33 and EKS upgrades one minor version at a time: set 1.34"},
		{"Kubernetes downgrade", at("10m", nil), with(out("10m", "nvme"), "kubernetesVersion", "1.36"), "cannot go back to 1.35"},
		{"deployed before the version was exported: 1.33", at("10m", nil), map[string]any{"phase": "10m", "bookieSets": "nvme", "tokenSigningKey": "fleet", "zookeeperQuorumTls": "tls"},
			"the cluster runs Kubernetes 1.33 and EKS upgrades one minor version at a time: set 1.34"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := TransitionGuard(tc.declared, cat, nil)("us-east-1", tc.deployed)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// A declared step must be one the transition has, and `transition` must
// name another phase; both are refused by key before anything runs.
func TestTransitionConfigIsValidated(t *testing.T) {
	fleet, _, err := LoadFleet("..")
	require.NoError(t, err)
	cat, err := sizing.OpenCatalog("")
	require.NoError(t, err)
	with := func(phase string, step TransitionStep) Fleet {
		f := Fleet{}
		for _, s := range fleet.Stacks {
			s.Phase = phase
			if s.Stack == "us-east-1" {
				s.Transition = &step
			}
			f.Stacks = append(f.Stacks, s)
		}
		return f
	}
	for _, tc := range []struct {
		name  string
		fleet Fleet
		want  string
	}{
		{"no such step", with("1m", TransitionStep{From: "100k", Step: 4}), "config pulsar-fleet:transition.step: 4 is not allowed: want transition from 100k to 1m, step 4: want one of 1, 2, 3"},
		{"a safe move has no steps", with("100m", TransitionStep{From: "10m", Step: 1}), "one `up` of phase 100m is safe"},
		{"from the phase itself", with("1m", TransitionStep{From: "1m", Step: 1}), "config pulsar-fleet:transition.from: \"1m\" is not allowed"},
		{"from no phase", with("1m", TransitionStep{From: "2m", Step: 1}), "transition.from: \"2m\""},
		{"step zero", with("1m", TransitionStep{From: "100k", Step: 0}), "transition.step: 0 is not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DesignFor(tc.fleet, "us-east-1", "", cat)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	d, err := DesignFor(with("1m", TransitionStep{From: "100k", Step: 2}), "us-east-1", "", cat)
	require.NoError(t, err)
	assert.Equal(t, "ebs,nvme", regions.BookieSets(d.Components.Pulsar), "the step adds the instance-storage set")
	assert.Equal(t, 4, d.Components.Pulsar.ZooKeeper.Replicas)
	d, err = DesignFor(with("1m", TransitionStep{From: "100k", Step: 1}), "us-east-1", "", cat)
	require.NoError(t, err)
	assert.Equal(t, "ebs", regions.BookieSets(d.Components.Pulsar), "the ZooKeeper step keeps the set")
	assert.Equal(t, 4, d.Components.Pulsar.ZooKeeper.Replicas)
}

// The default version is the calendar's newest.
func TestDefaultKubernetesVersionIsTheNewest(t *testing.T) {
	names := cluster.KubernetesVersionNames()
	assert.Equal(t, names[len(names)-1], DefaultKubernetesVersion)
	assert.Contains(t, names, LegacyKubernetesVersion, "a stack deployed before the output can still be upgraded from it")
}
