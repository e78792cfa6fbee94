package security

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/components/observability"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

const root = ".."

func catalog(t testing.TB) *sizing.Catalog {
	t.Helper()
	c, err := sizing.DefaultCatalog()
	require.NoError(t, err)
	return c
}

func allPhases() []string {
	var out []string
	for _, p := range sizing.Phases() {
		out = append(out, p.Name)
	}
	return out
}

// checkDay is the day the tests check as of: the committed stacks' version
// is in standard support then (TestStandardSupportEnds moves the day).
var checkDay = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)

// The support rule reads the day: the committed stacks pass on the last
// day of their version's standard support and fail the day after.
func TestStandardSupportEnds(t *testing.T) {
	st := us1(t)
	kv, ok := cluster.LookupKubernetesVersion(st.Config.Cluster.KubernetesVersion)
	require.True(t, ok)
	assert.Empty(t, ofRule(Check(st, kv.EndOfStandard.AddDate(0, 0, -1)), "EKS-STANDARD-SUPPORT"))
	fs := Failed(ofRule(Check(st, kv.EndOfStandard), "EKS-STANDARD-SUPPORT"))
	require.Len(t, fs, 1)
	assert.Contains(t, fs[0].Message, "$0.60 a cluster-hour instead of $0.10")
}

// Every stack at every phase passes the baseline.
func TestFleetPassesBaseline(t *testing.T) {
	rep, err := CheckFleet(stacks.OfflineOptions{Dir: root, Catalog: catalog(t)}, allPhases(), checkDay)
	require.NoError(t, err)
	require.Len(t, rep.Checked, 15)
	waived := 0
	for _, f := range rep.Findings {
		if f.Rule == "LB-SOURCE-RANGES" && f.Waived != "" {
			waived++
			continue
		}
		t.Error(f)
	}
	assert.Equal(t, 15, waived, "one waiver per stack and phase: the proxy the committed stacks open with routing.allowPublicProxy")
}

// baseline previews us-east-1 once; each case works on a deep copy.
var baseline stacks.OfflineStack

func us1(t *testing.T) stacks.OfflineStack {
	t.Helper()
	if baseline.Stack == "" {
		res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: catalog(t), Stacks: []string{"us-east-1"}})
		require.NoError(t, err)
		baseline = res.Stacks[0]
	}
	st := baseline
	b, err := json.Marshal(baseline.Resources)
	require.NoError(t, err)
	st.Resources = nil
	require.NoError(t, json.Unmarshal(b, &st.Resources))
	st.File.Raw = maps.Clone(baseline.File.Raw)
	st.Config.Cluster.PublicAccessCIDRs = slices.Clone(baseline.Config.Cluster.PublicAccessCIDRs)
	return st
}

// edit applies f to the inputs of the first resource of a type (whose name
// ends with suffix).
func edit(t *testing.T, st *stacks.OfflineStack, typ, suffix string, f func(in map[string]any)) {
	t.Helper()
	for i, r := range st.Resources {
		if r.Type == typ && strings.HasSuffix(r.Name, suffix) {
			f(st.Resources[i].Inputs)
			return
		}
	}
	t.Fatalf("no %s named *%s", typ, suffix)
}

func drop(t *testing.T, st *stacks.OfflineStack, typ, suffix string) {
	t.Helper()
	for i, r := range st.Resources {
		if r.Type == typ && strings.HasSuffix(r.Name, suffix) {
			st.Resources = append(st.Resources[:i], st.Resources[i+1:]...)
			return
		}
	}
	t.Fatalf("no %s named *%s", typ, suffix)
}

func m(v any) map[string]any { return v.(map[string]any) }

const (
	sse           = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	svc           = "kubernetes:core/v1:Service"
	nodeClass     = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
	release       = "kubernetes:helm.sh/v3:Release"
	networkPolicy = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	rolePolicy    = "aws:iam/rolePolicy:RolePolicy"
	role          = "aws:iam/role:Role"
	secret        = "kubernetes:core/v1:Secret"
)

func pulsarValues(in map[string]any) map[string]any { return m(in["values"]) }

// thanosCommand edits the command of a Thanos workload of the monitoring
// release.
func thanosCommand(t *testing.T, st *stacks.OfflineStack, name string, f func([]any) []any) {
	t.Helper()
	for _, r := range st.Resources {
		if r.Type != release || r.Inputs["chart"] != observability.ChartName {
			continue
		}
		for _, o := range m(r.Inputs["values"])["extraManifests"].([]any) {
			if k := m(o)["kind"]; m(m(o)["metadata"])["name"] == name && (k == "Deployment" || k == "StatefulSet") {
				c := m(m(m(m(o)["spec"])["template"])["spec"])["containers"].([]any)[0]
				m(c)["command"] = f(m(c)["command"].([]any))
				return
			}
		}
	}
	t.Fatalf("no Thanos workload %s", name)
}

// monitoringManifest edits one of the monitoring release's manifests.
func monitoringManifest(t *testing.T, st *stacks.OfflineStack, kind, name string, f func(obj map[string]any)) {
	t.Helper()
	found := false
	monitoringRelease(t, st, func(values map[string]any) {
		for _, o := range values["extraManifests"].([]any) {
			if m(o)["kind"] == kind && m(m(o)["metadata"])["name"] == name {
				f(m(o))
				found = true
			}
		}
	})
	require.True(t, found, "no %s %s among the monitoring release's manifests", kind, name)
}

// dropManifests removes the monitoring release's NetworkPolicies with
// these names.
func dropManifests(t *testing.T, st *stacks.OfflineStack, names ...string) {
	t.Helper()
	monitoringRelease(t, st, func(values map[string]any) {
		before := len(values["extraManifests"].([]any))
		values["extraManifests"] = slices.DeleteFunc(values["extraManifests"].([]any), func(o any) bool {
			return m(o)["kind"] == "NetworkPolicy" && slices.Contains(names, m(m(o)["metadata"])["name"].(string))
		})
		require.Equal(t, before-len(names), len(values["extraManifests"].([]any)), "dropped %v", names)
	})
}

// monitoringRelease edits the monitoring release's values.
func monitoringRelease(t *testing.T, st *stacks.OfflineStack, f func(values map[string]any)) {
	t.Helper()
	for _, r := range st.Resources {
		if r.Type == release && r.Inputs["chart"] == observability.ChartName {
			f(m(r.Inputs["values"]))
			return
		}
	}
	t.Fatal("no monitoring release")
}

// without drops the arguments that start with prefix.
func without(args []any, prefix string) []any {
	var out []any
	for _, a := range args {
		if !strings.HasPrefix(a.(string), prefix) {
			out = append(out, a)
		}
	}
	return out
}

func TestEveryRuleFails(t *testing.T) {
	cases := []struct {
		rule, name string
		change     func(t *testing.T, st *stacks.OfflineStack)
		want       string // part of the message
	}{
		{"S3-ENCRYPTED", "no encryption configuration", func(t *testing.T, st *stacks.OfflineStack) {
			drop(t, st, sse, "-offload")
		}, "no default encryption"},
		{"S3-ENCRYPTED", "a legacy bucket with no settings the rules can read", func(t *testing.T, st *stacks.OfflineStack) {
			st.Resources = append(st.Resources, recorder.Resource{Type: "aws:s3/bucket:Bucket", Name: "us-east-1-scratch", ID: "us-east-1-scratch",
				URN: "urn:pulumi:us-east-1::pulsar-fleet::aws:s3/bucket:Bucket::us-east-1-scratch", Inputs: map[string]any{"bucket": "us-east-1-scratch"}, Protect: true})
		}, "us-east-1-scratch"},
		{"S3-ENCRYPTED", "unknown algorithm", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, sse, "-logs", func(in map[string]any) {
				m(in["rules"].([]any)[0])["applyServerSideEncryptionByDefault"] = map[string]any{"sseAlgorithm": "none"}
			})
		}, "no default encryption"},
		{"S3-VERSIONED", "suspended", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "aws:s3/bucketVersioningV2:BucketVersioningV2", "-offload", func(in map[string]any) {
				in["versioningConfiguration"] = map[string]any{"status": "Suspended"}
			})
		}, "versioning"},
		{"S3-PUBLIC-ACCESS-BLOCKED", "public policy allowed", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "-offload", func(in map[string]any) { in["blockPublicPolicy"] = false })
		}, "blockPublicPolicy"},
		{"S3-PUBLIC-ACCESS-BLOCKED", "policy allows anyone", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "aws:s3/bucketPolicy:BucketPolicy", "-offload", func(in map[string]any) {
				in["policy"] = `{"Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
			})
		}, "allows anyone"},
		{"S3-TLS-ONLY", "no deny without TLS", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "aws:s3/bucketPolicy:BucketPolicy", "-offload", func(in map[string]any) {
				in["policy"] = `{"Statement":[{"Sid":"Other","Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::b"}]}`
			})
		}, "SecureTransport"},
		{"S3-TLS-ONLY", "the deny on the bucket, not its objects", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "aws:s3/bucketPolicy:BucketPolicy", "-offload", func(in map[string]any) {
				in["policy"] = `{"Statement":[{"Sid":"TLSOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
			})
		}, "SecureTransport"},
		{"EKS-SECRETS-ENCRYPTED", "no key", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "eks:index:Cluster", "", func(in map[string]any) { delete(in, "encryptionConfigKeyArn") })
		}, "encryptionConfigKeyArn"},
		{"EKS-ENDPOINT-NOT-PUBLIC", "open to the world", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "eks:index:Cluster", "", func(in map[string]any) {
				in["endpointPublicAccess"] = true
				in["publicAccessCidrs"] = []any{"0.0.0.0/0"}
			})
		}, "open to the world"},
		{"EKS-ENDPOINT-NOT-PUBLIC", "public without CIDRs means everyone", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "eks:index:Cluster", "", func(in map[string]any) { in["endpointPublicAccess"] = true })
		}, "open to the world"},
		{"EKS-CONTROL-PLANE-LOGS", "audit off", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "eks:index:Cluster", "", func(in map[string]any) { in["enabledClusterLogTypes"] = []any{"api"} })
		}, `"audit"`},
		{"NODE-IMDSV2", "node class allows IMDSv1", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, nodeClass, "", func(in map[string]any) { m(m(in["spec"])["metadataOptions"])["httpTokens"] = "optional" })
		}, "httpTokens"},
		{"NODE-IMDSV2", "launch template hop limit 2 (pods reach the node role)", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "aws:ec2/launchTemplate:LaunchTemplate", "-system", func(in map[string]any) {
				m(in["metadataOptions"])["httpPutResponseHopLimit"] = 2.0
			})
		}, "httpPutResponseHopLimit 2: want 1"},
		{"NODE-IMDSV2", "node class hop limit 2", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, nodeClass, "", func(in map[string]any) { m(m(in["spec"])["metadataOptions"])["httpPutResponseHopLimit"] = 2.0 })
		}, "httpPutResponseHopLimit 2: want 1"},
		{"NODE-IMDSV2", "node group on defaults", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "eks:index:ManagedNodeGroup", "", func(in map[string]any) { delete(in, "launchTemplate") })
		}, "IMDSv1"},
		{"NODE-IMDSV2", "the cluster's default node group", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "eks:index:Cluster", "", func(in map[string]any) { delete(in, "skipDefaultNodeGroup") })
		}, "skipDefaultNodeGroup is not true"},
		{"NODE-IMDSV2", "node group with enableIMDSv2 alone", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "eks:index:ManagedNodeGroup", "", func(in map[string]any) { delete(in, "launchTemplate"); in["enableIMDSv2"] = true })
		}, "enableIMDSv2 with no launch template"},
		{"NODE-VOLUMES-ENCRYPTED", "node class volume unencrypted", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, nodeClass, "", func(in map[string]any) {
				m(m(m(in["spec"])["blockDeviceMappings"].([]any)[0])["ebs"])["encrypted"] = false
			})
		}, "encrypted"},
		{"NODE-IMDSV2", "node group on a launch template the stack does not create", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "eks:index:ManagedNodeGroup", "", func(in map[string]any) { m(in["launchTemplate"])["id"] = "lt-0123456789abcdef0" })
		}, `launch template "lt-0123456789abcdef0" is not one the stack creates`},
		{"NODE-IMDSV2", "node group pinned to its launch template's first version", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "eks:index:ManagedNodeGroup", "", func(in map[string]any) { m(in["launchTemplate"])["version"] = "1" })
		}, `at version "1", not its latest`},
		{"NODE-VOLUMES-ENCRYPTED", "node group on its launch template's default version", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "eks:index:ManagedNodeGroup", "", func(in map[string]any) { m(in["launchTemplate"])["version"] = "$Default" })
		}, `at version "$Default", not its latest`},
		{"NODE-IMDSV2", "a self-managed node group", func(t *testing.T, st *stacks.OfflineStack) {
			st.Resources = append(st.Resources, recorder.Resource{Type: "eks:index:NodeGroupV2", Name: "us-east-1-extra",
				Inputs: map[string]any{"enableIMDSv2": true, "nodeRootVolumeEncrypted": true}})
		}, "a self-managed node group"},
		{"NODE-IMDSV2", "an AWS provider node group without a launch template", func(t *testing.T, st *stacks.OfflineStack) {
			st.Resources = append(st.Resources, recorder.Resource{Type: "aws:eks/nodeGroup:NodeGroup", Name: "us-east-1-extra", Inputs: map[string]any{}})
		}, "no launch template and no enableIMDSv2"},
		{"NODE-VOLUMES-ENCRYPTED", "node group on a launch template the stack does not create", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "eks:index:ManagedNodeGroup", "", func(in map[string]any) { m(in["launchTemplate"])["id"] = "lt-0123456789abcdef0" })
		}, "left to the account default"},
		{"NODE-VOLUMES-ENCRYPTED", "launch template leaves the root device to the AMI", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "aws:ec2/launchTemplate:LaunchTemplate", "-system", func(in map[string]any) {
				m(in["blockDeviceMappings"].([]any)[0])["deviceName"] = "/dev/xvdb"
			})
		}, "does not map the root device /dev/xvda encrypted"},
		{"NODE-VOLUMES-ENCRYPTED", "launch template with a custom AMI", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "aws:ec2/launchTemplate:LaunchTemplate", "-system", func(in map[string]any) { in["imageId"] = "ami-0123456789abcdef0" })
		}, "a custom or unknown AMI"},
		{"NODE-VOLUMES-ENCRYPTED", "node class leaves the root device to the AMI", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, nodeClass, "", func(in map[string]any) {
				b := m(m(in["spec"])["blockDeviceMappings"].([]any)[0])
				b["deviceName"] = "/dev/xvdb"
				b["rootVolume"] = true
			})
		}, "no mapping for the device /dev/xvda"},
		{"NODE-VOLUMES-ENCRYPTED", "a Bottlerocket node class without its data device", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, nodeClass, "", func(in map[string]any) {
				m(in["spec"])["amiSelectorTerms"] = []any{map[string]any{"alias": "bottlerocket@latest"}}
			})
		}, "no mapping for the device /dev/xvdb"},
		{"NODE-VOLUMES-ENCRYPTED", "a node class on an AMI by id", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, nodeClass, "", func(in map[string]any) {
				m(in["spec"])["amiSelectorTerms"] = []any{map[string]any{"id": "ami-0123456789abcdef0"}}
			})
		}, "the AMI selector is not one alias whose devices the check knows"},
		{"NODE-VOLUMES-ENCRYPTED", "an Auto Scaling group of its own", func(t *testing.T, st *stacks.OfflineStack) {
			st.Resources = append(st.Resources, recorder.Resource{Type: "aws:autoscaling/group:Group", Name: "us-east-1-extra", Inputs: map[string]any{}})
		}, "machines outside EKS's node groups and Karpenter"},
		{"NODE-IMDSV2", "a NodePool on a node class the stack does not create", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:karpenter.sh/v1:NodePool", "", func(in map[string]any) {
				m(m(m(m(in["spec"])["template"])["spec"])["nodeClassRef"])["name"] = "legacy-imdsv1"
			})
		}, "is not an EC2NodeClass of the stack"},
		{"NODE-VOLUMES-ENCRYPTED", "self-managed node group with the account default", func(t *testing.T, st *stacks.OfflineStack) {
			st.Resources = append(st.Resources, recorder.Resource{Type: "eks:index:NodeGroupV2", Name: "us-east-1-extra", Inputs: map[string]any{}})
		}, "nodeRootVolumeEncrypted is not true"},
		{"NODE-VOLUMES-ENCRYPTED", "storage class unencrypted", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:storage.k8s.io/v1:StorageClass", "-pulsar-ledgers", func(in map[string]any) {
				m(in["parameters"])["encrypted"] = "false"
			})
		}, "parameters.encrypted"},
		{"IAM-NO-WILDCARD-ADMIN", "star on star", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, rolePolicy, "-controller", func(in map[string]any) {
				in["policy"] = `{"Statement":[{"Sid":"Everything","Effect":"Allow","Action":"*","Resource":"*"}]}`
			})
		}, "every resource"},
		{"IAM-NO-WILDCARD-ADMIN", "administrator attached", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "", func(in map[string]any) {
				in["policyArn"] = "arn:aws:iam::aws:policy/AdministratorAccess"
			})
		}, "AdministratorAccess"},
		{"IAM-NO-WILDCARD-ADMIN", "every action but one", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, rolePolicy, "-controller", func(in map[string]any) {
				in["policy"] = `{"Statement":[{"Sid":"AlmostEverything","Effect":"Allow","NotAction":"sts:DecodeAuthorizationMessage","Resource":"*"}]}`
			})
		}, "every action but"},
		{"IAM-NO-WILDCARD-ADMIN", "administrator among a role's managed policies", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "aws:iam/role:Role", "", func(in map[string]any) {
				in["managedPolicyArns"] = []any{"arn:aws:iam::aws:policy/AdministratorAccess"}
			})
		}, "attaches arn:aws:iam::aws:policy/AdministratorAccess"},
		{"IAM-TRUST-SCOPED", "wildcard subject", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, role, "-controller", func(in map[string]any) {
				in["assumeRolePolicy"] = strings.ReplaceAll(in["assumeRolePolicy"].(string), "kube-system:karpenter", "kube-system:*")
			})
		}, "exactly one"},
		{"IAM-TRUST-SCOPED", "StringLike", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, role, "-ebs-csi", func(in map[string]any) {
				in["assumeRolePolicy"] = strings.ReplaceAll(in["assumeRolePolicy"].(string), "StringEquals", "StringLike")
			})
		}, "StringLike"},
		{"IAM-TRUST-SCOPED", "service account not deployed", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, role, "-offload-broker", func(in map[string]any) {
				in["assumeRolePolicy"] = strings.ReplaceAll(in["assumeRolePolicy"].(string), "pulsar:pulsar-broker-acct", "default:default")
			})
		}, "does not deploy"},
		{"IAM-TRUST-SCOPED", "account bound to another role", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, role, "-offload-broker", func(in map[string]any) {
				in["assumeRolePolicy"] = strings.ReplaceAll(in["assumeRolePolicy"].(string), "pulsar:pulsar-broker-acct", "kube-system:karpenter")
			})
		}, "another role"},
		{"IAM-TRUST-SCOPED", "any AWS principal", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, role, "-node", func(in map[string]any) {
				in["assumeRolePolicy"] = `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
			})
		}, "AWS principals"},
		{"IAM-TRUST-SCOPED", "service role without source conditions (confused deputy)", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, role, "-offload-replication", func(in map[string]any) {
				in["assumeRolePolicy"] = `{"Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
			})
		}, "confused deputy"},
		{"PULSAR-AUTH", "bookie-only release turned into brokers without auth", func(t *testing.T, st *stacks.OfflineStack) {
			// A copy of the main release as a bookies-only release (as the
			// instance-storage set's), then with its brokers turned on.
			for _, r := range st.Resources {
				if r.Type == release && r.Inputs["chart"] == "pulsar" {
					b, err := json.Marshal(r)
					require.NoError(t, err)
					var bookies recorder.Resource
					require.NoError(t, json.Unmarshal(b, &bookies))
					bookies.Name += "-nvme-bookies"
					v := pulsarValues(bookies.Inputs)
					delete(v, "auth")
					v["components"] = map[string]any{"bookkeeper": true, "broker": true, "proxy": false}
					st.Resources = append(st.Resources, bookies)
					return
				}
			}
			t.Fatal("no pulsar release")
		}, "auth.authentication.enabled is not true"},
		{"PULSAR-AUTH", "an anonymous role through configData", func(t *testing.T, st *stacks.OfflineStack) {
			forMainRelease(t, st, func(values map[string]any) {
				m(m(values["broker"])["configData"])["PULSAR_PREFIX_anonymousUserRole"] = "admin-us-east-1"
			})
		}, "broker.configData.PULSAR_PREFIX_anonymousUserRole = admin-us-east-1"},
		{"PULSAR-AUTH", "authorization turned off in the proxies' configData", func(t *testing.T, st *stacks.OfflineStack) {
			forMainRelease(t, st, func(values map[string]any) { setConfigData(values, "proxy", "authorizationEnabled", "false") })
		}, "proxy.configData.authorizationEnabled = false"},
		{"PULSAR-AUTH", "authorization off", func(t *testing.T, st *stacks.OfflineStack) {
			for i, r := range st.Resources {
				if r.Type == release && r.Inputs["chart"] == "pulsar" && pulsarValues(r.Inputs)["auth"] != nil {
					m(m(pulsarValues(st.Resources[i].Inputs)["auth"])["authorization"])["enabled"] = false
				}
			}
		}, "authorization"},
		{"PULSAR-AUTH", "no token authentication", func(t *testing.T, st *stacks.OfflineStack) {
			for i, r := range st.Resources {
				if r.Type == release && r.Inputs["chart"] == "pulsar" && pulsarValues(r.Inputs)["auth"] != nil {
					m(m(m(pulsarValues(st.Resources[i].Inputs)["auth"])["authentication"])["jwt"])["enabled"] = false
				}
			}
		}, "jwt.enabled is not true"},
		{"PULSAR-NO-PLAINTEXT", "brokers in plaintext", func(t *testing.T, st *stacks.OfflineStack) {
			for i, r := range st.Resources {
				if r.Type == release && r.Inputs["chart"] == "pulsar" && pulsarValues(r.Inputs)["auth"] != nil {
					m(m(pulsarValues(st.Resources[i].Inputs)["tls"])["broker"])["enabled"] = false
				}
			}
		}, "tls.broker.enabled is not true"},
		{"PULSAR-NO-PLAINTEXT", "autorecovery to the bookies in plaintext", func(t *testing.T, st *stacks.OfflineStack) {
			for i, r := range st.Resources {
				if r.Type == release && r.Inputs["chart"] == "pulsar" && pulsarValues(r.Inputs)["auth"] != nil {
					delete(m(m(pulsarValues(st.Resources[i].Inputs)["autorecovery"])["configData"]), "PULSAR_PREFIX_tlsProviderFactoryClass")
				}
			}
		}, "autorecovery copies ledgers to and from the bookies in plaintext"},
		{"PULSAR-NO-PLAINTEXT", "ZooKeeper's quorum in plaintext", func(t *testing.T, st *stacks.OfflineStack) {
			for i, r := range st.Resources {
				if r.Type == release && r.Inputs["chart"] == "pulsar" && pulsarValues(r.Inputs)["auth"] != nil {
					delete(m(pulsarValues(st.Resources[i].Inputs)["zookeeper"]), "additionalCommand")
				}
			}
		}, "ZooKeeper's servers talk to each other in plaintext"},
		{"PULSAR-NO-PLAINTEXT", "ZooKeeper's plaintext client port open", func(t *testing.T, st *stacks.OfflineStack) {
			for i, r := range st.Resources {
				if r.Type == release && r.Inputs["chart"] == "pulsar" && pulsarValues(r.Inputs)["auth"] != nil {
					m(pulsarValues(st.Resources[i].Inputs)["zookeeper"])["additionalCommand"] = pulsar.QuorumTLSCommand(model.QuorumTLSOnly)
				}
			}
		}, "ZooKeeper still serves plaintext clients on 2181"},
		{"PULSAR-NO-PLAINTEXT", "ZooKeeper's client port put back by configData", func(t *testing.T, st *stacks.OfflineStack) {
			forMainRelease(t, st, func(values map[string]any) { setConfigData(values, "zookeeper", "PULSAR_PREFIX_clientPort", "2181") })
		}, "zookeeper.configData.PULSAR_PREFIX_clientPort = 2181: it opens the plaintext client port"},
		{"PULSAR-NO-PLAINTEXT", "the brokers' plaintext port put back by configData", func(t *testing.T, st *stacks.OfflineStack) {
			forMainRelease(t, st, func(values map[string]any) { setConfigData(values, "broker", "brokerServicePort", "6650") })
		}, "broker.configData.brokerServicePort = 6650"},
		{"PULSAR-NO-PLAINTEXT", "the proxies wait for ZooKeeper's plaintext port", func(t *testing.T, st *stacks.OfflineStack) {
			for i, r := range st.Resources {
				if r.Type == release && r.Inputs["chart"] == "pulsar" && pulsarValues(r.Inputs)["auth"] != nil {
					delete(m(pulsarValues(st.Resources[i].Inputs)["proxy"]), "waitZookeeperTimeout")
				}
			}
		}, "proxy.waitZookeeperTimeout is not 0"},
		{"PULSAR-NO-PLAINTEXT", "no issuer", func(t *testing.T, st *stacks.OfflineStack) {
			for i, r := range st.Resources {
				if r.Type == release && r.Inputs["chart"] == "pulsar" && pulsarValues(r.Inputs)["auth"] != nil {
					m(m(pulsarValues(st.Resources[i].Inputs)["certs"])["internal_issuer"])["enabled"] = false
				}
			}
		}, "no issuer"},
		{"PULSAR-NO-PLAINTEXT", "load balancer to the proxies in plaintext", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-proxy-external", func(in map[string]any) {
				m(m(in["metadata"])["annotations"])["service.beta.kubernetes.io/aws-load-balancer-backend-protocol"] = "tcp"
			})
		}, "-proxy-external): the load balancer ends TLS and reaches its pods in plaintext"},
		{"PULSAR-NO-PLAINTEXT", "the private listener to the proxies in plaintext", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-proxy-private", func(in map[string]any) {
				delete(m(m(in["metadata"])["annotations"]), "service.beta.kubernetes.io/aws-load-balancer-backend-protocol")
			})
		}, "-proxy-private): the load balancer ends TLS and reaches its pods in plaintext"},
		{"PULSAR-CA-KEEPS-KEY", "no patch", func(t *testing.T, st *stacks.OfflineStack) {
			drop(t, st, "kubernetes:cert-manager.io/v1:CertificatePatch", "-ca-key-policy")
		}, "cert-manager would give the CA a new key"},
		{"PULSAR-CA-KEEPS-KEY", "the patch rotates the key", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:cert-manager.io/v1:CertificatePatch", "-ca-key-policy", func(in map[string]any) {
				m(m(in["spec"])["privateKey"])["rotationPolicy"] = "Always"
			})
		}, "rotationPolicy Never on pulsar/pulsar-ca"},
		{"PULSAR-CA-KEEPS-KEY", "the release renamed, the patch left on the old name", func(t *testing.T, st *stacks.OfflineStack) {
			forMainRelease(t, st, func(values map[string]any) { values["fullnameOverride"] = "pulsar-east" })
		}, "rotationPolicy Never on pulsar/pulsar-east-ca"},
		{"PULSAR-CA-KEEPS-KEY", "the patch on another Certificate", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:cert-manager.io/v1:CertificatePatch", "-ca-key-policy", func(in map[string]any) {
				m(in["metadata"])["name"] = "pulsar-tls-broker"
			})
		}, "rotationPolicy Never on pulsar/pulsar-ca"},
		{"PULSAR-TOKENS-OWNED", "the chart's hook makes the key", func(t *testing.T, st *stacks.OfflineStack) {
			for i, r := range st.Resources {
				if r.Type == release && r.Inputs["chart"] == "pulsar" && pulsarValues(r.Inputs)["auth"] != nil {
					m(m(m(m(pulsarValues(st.Resources[i].Inputs)["auth"])["authentication"])["jwt"])["generateSecrets"])["enabled"] = true
				}
			}
		}, "peers' tokens are then minted by hand"},
		{"PULSAR-TOKENS-OWNED", "a super user without its token", func(t *testing.T, st *stacks.OfflineStack) {
			for i, r := range st.Resources {
				if r.Type == secret && strings.HasSuffix(r.Name, "-token-admin-us-east-1") {
					st.Resources = slices.Delete(st.Resources, i, i+1)
					return
				}
			}
			t.Fatal("no admin token Secret")
		}, "no Secret pulsar/pulsar-token-admin-us-east-1"},
		{"PULSAR-TOKENS-OWNED", "the probe's token Secret is missing", func(t *testing.T, st *stacks.OfflineStack) {
			dropSecret(t, st, "-token-probe-us-east-1")
		}, "CronJob pulsar-fleet-probe mounts the token Secret pulsar/pulsar-token-probe-us-east-1, which the program does not make"},
		{"PULSAR-TOKENS-OWNED", "the geo-replication tokens Secret is missing", func(t *testing.T, st *stacks.OfflineStack) {
			dropSecret(t, st, "-geo-tokens")
		}, "values broker.extraVolumes mounts the token Secret pulsar/pulsar-geo-replication-tokens"},
		{"PULSAR-TLS", "plaintext admin port", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-proxy-private", func(in map[string]any) {
				m(m(in["metadata"])["annotations"])["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"] = "pulsarssl"
			})
		}, "plaintext"},
		{"PULSAR-TLS", "a TLS 1.3 policy that still admits 1.0", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-proxy-external", func(in map[string]any) {
				m(m(in["metadata"])["annotations"])["service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy"] = "ELBSecurityPolicy-TLS13-1-0-2021-06"
			})
		}, "below 1.2"},
		{"PULSAR-TLS", "no certificate", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-proxy-external", func(in map[string]any) {
				delete(m(m(in["metadata"])["annotations"]), "service.beta.kubernetes.io/aws-load-balancer-ssl-cert")
			})
		}, "without a TLS certificate"},
		{"PULSAR-TLS", "old TLS", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-proxy-external", func(in map[string]any) {
				m(m(in["metadata"])["annotations"])["service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy"] = "ELBSecurityPolicy-2016-08"
			})
		}, "below 1.2"},
		{"NETWORK-ISOLATED", "the chart's objects moved to another namespace", func(t *testing.T, st *stacks.OfflineStack) {
			forMainRelease(t, st, func(values map[string]any) { values["namespace"] = "streaming" })
		}, `values.namespace "streaming" puts the chart's objects outside the release's namespace "pulsar"`},
		{"ZOOKEEPER-INTERNAL", "ZooKeeper renamed and selected by its new component name", func(t *testing.T, st *stacks.OfflineStack) {
			forMainRelease(t, st, func(values map[string]any) { m(values["zookeeper"])["component"] = "zk" })
			edit(t, st, svc, "-proxy-external", func(in map[string]any) {
				m(in["spec"])["selector"] = map[string]any{"component": "zk"}
			})
		}, "a LoadBalancer Service selects ZooKeeper"},
		{"NETWORK-ISOLATED", "policies not enforced", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "eks:index:Cluster", "", func(in map[string]any) {
				in["vpcCniOptions"] = map[string]any{"enableNetworkPolicy": false}
			})
		}, "enableNetworkPolicy is not true"},
		{"NETWORK-ISOLATED", "no policies", func(t *testing.T, st *stacks.OfflineStack) {
			forMainRelease(t, st, func(values map[string]any) {
				var kept []any
				for _, o := range values["extraDeploy"].([]any) {
					if m(o)["kind"] != "NetworkPolicy" {
						kept = append(kept, o)
					}
				}
				values["extraDeploy"] = kept
			})
		}, "a pod in another namespace reaches zookeeper on port 2181"},
		{"NETWORK-ISOLATED", "bookies open to any pod", func(t *testing.T, st *stacks.OfflineStack) {
			forMainRelease(t, st, func(values map[string]any) {
				for _, o := range values["extraDeploy"].([]any) {
					if m(m(o)["metadata"])["name"] == "pulsar-bookie" {
						delete(m(m(m(o)["spec"])["ingress"].([]any)[0]), "from")
					}
				}
			})
		}, "a proxy reaches bookie on port 3181"},
		{"NETWORK-ISOLATED", "egress open", func(t *testing.T, st *stacks.OfflineStack) {
			forMainRelease(t, st, func(values map[string]any) {
				var kept []any
				for _, o := range values["extraDeploy"].([]any) {
					if m(m(o)["metadata"])["name"] != "pulsar-egress" {
						kept = append(kept, o)
					}
				}
				values["extraDeploy"] = kept
			})
		}, "broker pods in pulsar send to 203.0.113.9 (any address) on port 22"},
		{"NETWORK-ISOLATED", "egress open on every port to anywhere", func(t *testing.T, st *stacks.OfflineStack) {
			forMainRelease(t, st, func(values map[string]any) {
				for _, o := range values["extraDeploy"].([]any) {
					if m(m(o)["metadata"])["name"] == "pulsar-egress" {
						m(m(o)["spec"])["egress"] = []any{map[string]any{}}
					}
				}
			})
		}, "the program's job pods in pulsar send to 203.0.113.9 (any address) on port 22"},
		{"NETWORK-ISOLATED", "another policy opens a plaintext port", withPolicy("open-8080", map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"component": "zookeeper"}}, "egress": []any{map[string]any{"ports": []any{map[string]any{"port": 8080}}}}}), "zookeeper pods in pulsar send to 203.0.113.9 (any address) on port 8080"},
		{"NETWORK-ISOLATED", "a range of ports to the VPC", withPolicy("open-vpc", map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Egress"}, "egress": []any{map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.0.0.0/8"}}}, "ports": []any{map[string]any{"port": 1, "endPort": 65535}}}}}), "bookie pods in pulsar send to 10.0.0.5 (a private address) on port 22"},
		{"NETWORK-ISOLATED", "the stack's own VPC on a plaintext port, for the release's pods", withPolicy("open-own-vpc", map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"release": "pulsar"}}, "policyTypes": []any{"Egress"}, "egress": []any{map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.10.0.0/16"}}}, "ports": []any{map[string]any{"port": 8080}}}}}), "pods in pulsar send to 10.10.0.1 (the VPC) on port 8080"},
		{"NETWORK-ISOLATED", "ZooKeeper opened to every namespace by another policy", withPolicy("open-zk", map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"component": "zookeeper"}}, "ingress": []any{map[string]any{"from": []any{map[string]any{"namespaceSelector": map[string]any{}}}, "ports": []any{map[string]any{"port": 2181}}}}}), "a pod in another namespace reaches zookeeper on port 2181"},
		{"NETWORK-ISOLATED", "ZooKeeper's TLS port opened to every namespace", withPolicy("open-zk-tls", map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"component": "zookeeper"}}, "ingress": []any{map[string]any{"from": []any{map[string]any{"namespaceSelector": map[string]any{}}}, "ports": []any{map[string]any{"port": 2281}}}}}), "a pod in another namespace reaches zookeeper on port 2281"},
		{"NETWORK-ISOLATED", "the quorum ports opened to the chart's pods", withPolicy("open-quorum", map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"component": "zookeeper"}}, "ingress": []any{map[string]any{"from": []any{map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app": "pulsar"}}}}, "ports": []any{map[string]any{"port": 2888}, map[string]any{"port": 3888}}}}}), "a broker reaches zookeeper on port 2888"},
		{"NETWORK-ISOLATED", "a policy the check cannot read", withPolicy("named-port", map[string]any{"podSelector": map[string]any{}, "egress": []any{map[string]any{"ports": []any{map[string]any{"port": "http"}}}}}), "a NetworkPolicy in pulsar the check cannot read"},
		{"NAMESPACES-ISOLATED", "cert-manager's default deny gone", func(t *testing.T, st *stacks.OfflineStack) {
			drop(t, st, networkPolicy, "cert-manager-default-deny")
		}, "namespace cert-manager: a pod no NetworkPolicy isolates takes traffic on every port from any pod or address"},
		{"NAMESPACES-ISOLATED", "cert-manager's default deny made egress-only", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, networkPolicy, "cert-manager-default-deny", func(in map[string]any) {
				m(in["spec"])["policyTypes"] = []any{"Egress"}
			})
		}, "namespace cert-manager: a pod no NetworkPolicy isolates"},
		{"NAMESPACES-ISOLATED", "the webhook's door opened on every port", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, networkPolicy, "cert-manager-default-deny", func(in map[string]any) {
				m(in["spec"])["ingress"] = []any{map[string]any{"from": []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.10.0.0/16"}}}}}
			})
		}, "namespace cert-manager: a pod no NetworkPolicy isolates takes traffic on every port from any pod or address (from 10.10.0.1)"},
		{"NAMESPACES-ISOLATED", "a door opened on every port to one address", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, networkPolicy, "cert-manager-default-deny", func(in map[string]any) {
				m(in["spec"])["ingress"] = []any{map[string]any{"from": []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.10.7.7/32"}}}}}
			})
		}, "(from 10.10.7.7)"},
		{"NAMESPACES-ISOLATED", "monitoring's namespace-wide policies gone", func(t *testing.T, st *stacks.OfflineStack) {
			dropManifests(t, st, "monitoring-default-deny", "monitoring-internal")
		}, "namespace monitoring: a pod no NetworkPolicy isolates"},
		{"NAMESPACES-ISOLATED", "cert-manager's egress policy gone", func(t *testing.T, st *stacks.OfflineStack) {
			drop(t, st, networkPolicy, "cert-manager-egress")
		}, "namespace cert-manager: a pod sends to the instance metadata service (169.254.169.254:80): want an egress policy selecting every pod"},
		{"NAMESPACES-ISOLATED", "cert-manager's egress opened on every port", withEgressRule("cert-manager-egress", map[string]any{}), "NetworkPolicy cert-manager/egress: egress rule 3 sends outside the VPC on every port"},
		{"NAMESPACES-ISOLATED", "cert-manager's DNS opened to any resolver", withEgressRule("cert-manager-egress", map[string]any{"ports": []any{map[string]any{"protocol": "UDP", "port": 53}}}), "NetworkPolicy cert-manager/egress: egress rule 3 sends DNS (53) to addresses beyond the cluster's resolver"},
		{"NAMESPACES-ISOLATED", "cert-manager's DNS to a public resolver", withEgressRule("cert-manager-egress", map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "8.8.8.8/32"}}},
			"ports": []any{map[string]any{"protocol": "UDP", "port": 53}}}), "NetworkPolicy cert-manager/egress: egress rule 3 sends DNS (53) to addresses beyond the cluster's resolver"},
		{"NAMESPACES-ISOLATED", "Pulsar's DNS to a block wider than the Service's address", func(t *testing.T, st *stacks.OfflineStack) {
			withPolicy("dns-wide", map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Egress"},
				"egress": []any{map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "172.16.0.0/12"}}}, "ports": []any{map[string]any{"protocol": "UDP", "port": 53}}}}})(t, st)
		}, "NetworkPolicy pulsar/dns-wide: egress rule 0 sends DNS (53) to addresses beyond the cluster's resolver"},
		{"NAMESPACES-ISOLATED", "monitoring's egress policy gone", func(t *testing.T, st *stacks.OfflineStack) {
			dropManifests(t, st, "monitoring-egress")
		}, "namespace monitoring: a pod sends to the instance metadata service"},
		{"NAMESPACES-ISOLATED", "the metadata service admitted to Thanos' pods", func(t *testing.T, st *stacks.OfflineStack) {
			withMonitoringPolicy(t, st, "thanos-imds", map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{model.LabelAppName: "thanos"}}, "policyTypes": []any{"Egress"},
				"egress": []any{map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "169.254.169.254/32"}}}, "ports": []any{map[string]any{"port": 80}}}}})
		}, "NetworkPolicy monitoring/thanos-imds: egress rule 0 sends outside the VPC on TCP 80"},
		{"NAMESPACES-ISOLATED", "Grafana's pods sent plaintext anywhere but to one address", func(t *testing.T, st *stacks.OfflineStack) {
			withMonitoringPolicy(t, st, "grafana-out", map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{model.LabelAppName: "grafana"}}, "policyTypes": []any{"Egress"},
				"egress": []any{map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "0.0.0.0/0", "except": []any{"203.0.113.9/32"}}}},
					"ports": []any{map[string]any{"protocol": "UDP", "port": 1, "endPort": 65535}}}}})
		}, "NetworkPolicy monitoring/grafana-out: egress rule 0 sends outside the VPC on UDP 1-65535"},
		{"NAMESPACES-ISOLATED", "a monitoring policy the check cannot read", func(t *testing.T, st *stacks.OfflineStack) {
			withMonitoringPolicy(t, st, "named-port", map[string]any{"podSelector": map[string]any{}, "egress": []any{map[string]any{"ports": []any{map[string]any{"port": "smtp"}}}}})
		}, "a NetworkPolicy in monitoring the check cannot read"},
		{"NAMESPACES-ISOLATED", "Karpenter's policy gone", func(t *testing.T, st *stacks.OfflineStack) {
			drop(t, st, networkPolicy, "-karpenter")
		}, "Karpenter's pods in kube-system: no NetworkPolicy isolates them"},
		{"NAMESPACES-ISOLATED", "Karpenter's egress policy gone", func(t *testing.T, st *stacks.OfflineStack) {
			drop(t, st, networkPolicy, "-karpenter-egress")
		}, "Karpenter's pods in kube-system send to the instance metadata service (169.254.169.254:80)"},
		{"NAMESPACES-ISOLATED", "Karpenter's egress opened to plaintext on the internet", withEgressRule("-karpenter-egress", map[string]any{"ports": []any{map[string]any{"protocol": "TCP", "port": 80}}}), "NetworkPolicy kube-system/karpenter-egress: egress rule 3 sends outside the VPC on TCP 80"},
		{"NAMESPACES-ISOLATED", "Fluent Bit's egress policy gone", func(t *testing.T, st *stacks.OfflineStack) {
			dropManifests(t, st, "fluent-bit-egress")
		}, "DaemonSet kube-system/fluent-bit (from urn:pulumi:us-east-1::pulsar-fleet::pulsar-fleet:region:Region$pulsar-fleet:observability:Observability$pulsar-fleet:observability:Monitoring$kubernetes:helm.sh/v3:Release::us-east-1): its pods in kube-system send to the instance metadata service"},
		{"NAMESPACES-ISOLATED", "Fluent Bit's policy gone", func(t *testing.T, st *stacks.OfflineStack) {
			dropManifests(t, st, "fluent-bit")
		}, "DaemonSet kube-system/fluent-bit (from"},
		{"ZOOKEEPER-INTERNAL", "ZooKeeper port on the load balancer", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-proxy-external", func(in map[string]any) {
				spec := m(in["spec"])
				spec["ports"] = append(spec["ports"].([]any), map[string]any{"name": "zk", "port": 2181.0, "targetPort": 2181.0})
			})
		}, "2181"},
		{"PULSAR-TLS", "passed through to a server that ignores client certificates", func(t *testing.T, st *stacks.OfflineStack) {
			thanosCommand(t, st, observability.RegionalQueryName, func(c []any) []any { return without(c, "--grpc-server-tls-client-ca=") })
		}, "passes TLS through, but thanos-query-regional does not demand client certificates"},
		{"METRICS-AUTHENTICATED", "a querier in a second container", func(t *testing.T, st *stacks.OfflineStack) {
			addStoreContainer(t, st, map[string]any{"name": "q", "image": "quay.io/thanos/thanos:v0.39.2",
				"args": []any{"query", "--endpoint=thanos.us-west-2.streaming.example.com:443"}})
		}, "thanos-store (from urn:pulumi:us-east-1::pulsar-fleet::pulsar-fleet:region:Region$pulsar-fleet:observability:Observability$pulsar-fleet:observability:Monitoring$kubernetes:helm.sh/v3:Release::us-east-1): dials other regions' endpoints without TLS"},
		{"METRICS-AUTHENTICATED", "a history store's Service turned into a name outside the cluster", func(t *testing.T, st *stacks.OfflineStack) {
			monitoringManifest(t, st, "Service", "thanos-store-peer-us-west-2", func(o map[string]any) {
				o["spec"] = map[string]any{"type": "ExternalName", "externalName": "thanos.attacker.example.com"}
			})
		}, "dials thanos-store-peer-us-west-2.monitoring.svc.cluster.local:10901, outside the cluster, in plaintext"},
		{"METRICS-AUTHENTICATED", "the endpoint's port served by no declared container", func(t *testing.T, st *stacks.OfflineStack) {
			monitoringManifest(t, st, "Deployment", observability.RegionalQueryName, func(o map[string]any) {
				for _, c := range m(m(m(o["spec"])["template"])["spec"])["containers"].([]any) {
					delete(m(c), "ports")
				}
			})
		}, "no container of thanos-query-regional declares port 10901"},
		{"METRICS-AUTHENTICATED", "the endpoint selecting by a label the chart's Prometheus pods carry", func(t *testing.T, st *stacks.OfflineStack) {
			monitoringManifest(t, st, "Deployment", observability.RegionalQueryName, func(o map[string]any) {
				m(m(m(o["spec"])["template"])["metadata"])["labels"].(map[string]any)["operator.prometheus.io/name"] = "kps-prometheus"
			})
			edit(t, st, svc, "-thanos-endpoint", func(in map[string]any) {
				m(in["spec"])["selector"] = map[string]any{"operator.prometheus.io/name": "kps-prometheus"}
			})
		}, "the Service does not select thanos-query-regional by its app.kubernetes.io/name label"},
		{"METRICS-AUTHENTICATED", "the querier's TLS gRPC moved off the forwarded port", func(t *testing.T, st *stacks.OfflineStack) {
			thanosCommand(t, st, observability.RegionalQueryName, func(c []any) []any { return append(c, "--grpc-address", "0.0.0.0:10911") })
		}, "thanos-query-regional serves gRPC on 0.0.0.0:10911, not on port 10901"},
		{"METRICS-AUTHENTICATED", "the global querier run through a shell", func(t *testing.T, st *stacks.OfflineStack) {
			thanosCommand(t, st, observability.GlobalQueryName, func(c []any) []any {
				return []any{"/bin/sh", "-c", "exec /bin/thanos query --endpoint=thanos.us-west-2.streaming.example.com:443"}
			})
		}, "runs Thanos through /bin/sh: the check cannot read its flags"},
		{"METRICS-AUTHENTICATED", "a querier in a DaemonSet", func(t *testing.T, st *stacks.OfflineStack) {
			addMonitoringObject(t, st, map[string]any{"apiVersion": "apps/v1", "kind": "DaemonSet",
				"metadata": map[string]any{"name": "query-everywhere", "namespace": "monitoring"},
				"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "q", "image": "quay.io/thanos/thanos:v0.39.2",
					"args": []any{"query", "--endpoint=thanos.us-west-2.streaming.example.com:443"}}}}}}})
		}, "DaemonSet monitoring/query-everywhere (from"},
		{"METRICS-AUTHENTICATED", "Thanos run by busybox's shell in another image, from a CronJob", func(t *testing.T, st *stacks.OfflineStack) {
			addMonitoringObject(t, st, map[string]any{"apiVersion": "batch/v1", "kind": "CronJob",
				"metadata": map[string]any{"name": "query-hourly", "namespace": "monitoring"},
				"spec": map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
					"name": "q", "image": "busybox:1.37", "command": []any{"/bin/busybox", "sh", "-c", "thanos query --endpoint=thanos.us-west-2.streaming.example.com:443"}}}}}}}}})
		}, "CronJob monitoring/query-hourly (from urn:pulumi:us-east-1::pulsar-fleet::pulsar-fleet:region:Region$pulsar-fleet:observability:Observability$pulsar-fleet:observability:Monitoring$kubernetes:helm.sh/v3:Release::us-east-1): container q runs Thanos through /bin/busybox"},
		{"METRICS-AUTHENTICATED", "a querier in a mirrored image of another name", func(t *testing.T, st *stacks.OfflineStack) {
			addStoreContainer(t, st, map[string]any{"name": "q", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mirror/querier:v0.39.2",
				"args": []any{"query", "--endpoint=thanos.us-west-2.streaming.example.com:443"}})
		}, "container q runs Thanos through query: the check cannot read its flags"},
		{"METRICS-AUTHENTICATED", "the global querier's flags read from a file", func(t *testing.T, st *stacks.OfflineStack) {
			thanosCommand(t, st, observability.GlobalQueryName, func(c []any) []any { return []any{c[0], "@/etc/query/flags"} })
		}, "reads Thanos' flags from a file (@/etc/query/flags)"},
		{"METRICS-AUTHENTICATED", "the global querier started by env -S", func(t *testing.T, st *stacks.OfflineStack) {
			thanosCommand(t, st, observability.GlobalQueryName, func(c []any) []any {
				return []any{"/usr/bin/env", "-S", "thanos query --endpoint=thanos.us-west-2.streaming.example.com:443"}
			})
		}, "runs Thanos through /usr/bin/env"},
		{"METRICS-AUTHENTICATED", "a querier added to Prometheus' pods through the chart's values", func(t *testing.T, st *stacks.OfflineStack) {
			monitoringRelease(t, st, func(values map[string]any) {
				spec := m(m(values["prometheus"])["prometheusSpec"])
				spec["containers"] = append(list(spec["containers"]), map[string]any{"name": "q", "image": "quay.io/thanos/thanos:v0.39.2",
					"args": []any{"query", "--endpoint=thanos.us-west-2.streaming.example.com:443"}})
			})
		}, "(values.prometheus.prometheusSpec.containers[0]): dials other regions' endpoints without TLS"},
		{"METRICS-AUTHENTICATED", "a history store's endpoints written by hand", func(t *testing.T, st *stacks.OfflineStack) {
			addMonitoringObject(t, st, map[string]any{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
				"metadata":    map[string]any{"name": "peer-by-hand", "namespace": "monitoring", "labels": map[string]any{"kubernetes.io/service-name": "thanos-store-peer-us-west-2"}},
				"addressType": "IPv4", "endpoints": []any{map[string]any{"addresses": []any{"203.0.113.10"}}}, "ports": []any{map[string]any{"port": 443}}})
		}, "dials thanos-store-peer-us-west-2.monitoring.svc.cluster.local:10901, outside the cluster, in plaintext"},
		{"METRICS-AUTHENTICATED", "endpoint open to the internet", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-thanos-endpoint", func(in map[string]any) {
				m(in["spec"])["loadBalancerSourceRanges"] = []any{"198.51.100.7/32", "0.0.0.0/0"}
			})
		}, "loadBalancerSourceRanges has 0.0.0.0/0: wider than /8"},
		{"METRICS-AUTHENTICATED", "endpoint open to two halves of the internet", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-thanos-endpoint", func(in map[string]any) {
				m(in["spec"])["loadBalancerSourceRanges"] = []any{"0.0.0.0/1", "128.0.0.0/1"}
			})
		}, "loadBalancerSourceRanges has 0.0.0.0/1: wider than /8"},
		{"METRICS-AUTHENTICATED", "endpoint forwarding to the plaintext HTTP API", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-thanos-endpoint", func(in map[string]any) {
				m(m(in["spec"])["ports"].([]any)[0])["targetPort"] = 10902.0
			})
		}, "port 443 forwards to 10902, not to thanos-query-regional's TLS gRPC port"},
		{"METRICS-AUTHENTICATED", "endpoint selecting every Thanos pod", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-thanos-endpoint", func(in map[string]any) {
				m(in["spec"])["selector"] = map[string]any{"app.kubernetes.io/name": "thanos"}
			})
		}, "which does not check client certificates"},
		{"METRICS-AUTHENTICATED", "endpoint accepting TLS 1.0", func(t *testing.T, st *stacks.OfflineStack) {
			thanosCommand(t, st, observability.RegionalQueryName, func(c []any) []any { return append(c, "--grpc-server-tls-min-version=1.0") })
		}, "thanos-query-regional accepts TLS 1.0"},
		{"METRICS-AUTHENTICATED", "global querier run through the entrypoint, dialing without TLS", func(t *testing.T, st *stacks.OfflineStack) {
			monitoringManifest(t, st, "Deployment", observability.GlobalQueryName, func(o map[string]any) {
				c := m(m(m(m(o["spec"])["template"])["spec"])["containers"].([]any)[0])
				c["args"] = without(c["command"].([]any)[1:], "--grpc-client-tls-secure")
				delete(c, "command")
			})
		}, "dials other regions' endpoints without TLS"},
		{"METRICS-AUTHENTICATED", "global querier dialing a peer in plaintext through its endpoint configuration", func(t *testing.T, st *stacks.OfflineStack) {
			thanosCommand(t, st, observability.GlobalQueryName, func(c []any) []any {
				return append(c, `--endpoint.sd-config={"endpoints":[{"address":"thanos.us-west-2.streaming.example.com:443","client_config":{"tls_config":{"enabled":false}}}]}`)
			})
		}, "dials thanos.us-west-2.streaming.example.com:443, outside the cluster, in plaintext"},
		{"METRICS-AUTHENTICATED", "global querier whose endpoint configuration turns TLS off for every endpoint", func(t *testing.T, st *stacks.OfflineStack) {
			thanosCommand(t, st, observability.GlobalQueryName, func(c []any) []any {
				return append(c, `--endpoint.sd-config={"default_client_config":{"tls_config":{"enabled":false}},"endpoints":[]}`)
			})
		}, "or its endpoint configuration's default_client_config): in plaintext"},
		{"METRICS-AUTHENTICATED", "global querier with a peer only in its endpoint configuration, without the TLS flags", func(t *testing.T, st *stacks.OfflineStack) {
			thanosCommand(t, st, observability.GlobalQueryName, func(c []any) []any {
				c = without(without(c, "--endpoint=thanos."), "--grpc-client-tls-secure")
				return append(c, `--endpoint.sd-config={"endpoints":[{"address":"thanos.eu-west-1.streaming.example.com:443"}]}`)
			})
		}, "dials thanos.eu-west-1.streaming.example.com:443, outside the cluster, in plaintext"},
		{"METRICS-AUTHENTICATED", "global querier reading its endpoints from a file", func(t *testing.T, st *stacks.OfflineStack) {
			thanosCommand(t, st, observability.GlobalQueryName, func(c []any) []any { return append(c, "--endpoint.sd-config-file=/etc/thanos/endpoints.yaml") })
		}, "reads its endpoints from a file"},
		{"METRICS-AUTHENTICATED", "global querier with an endpoint configuration the check cannot read", func(t *testing.T, st *stacks.OfflineStack) {
			thanosCommand(t, st, observability.GlobalQueryName, func(c []any) []any { return append(c, "--endpoint.sd-config=endpoints: [") })
		}, "an --endpoint.sd-config the check cannot read"},
		{"METRICS-AUTHENTICATED", "endpoint without source ranges", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-thanos-endpoint", func(in map[string]any) { delete(m(in["spec"]), "loadBalancerSourceRanges") })
		}, "without loadBalancerSourceRanges"},
		{"METRICS-AUTHENTICATED", "regional querier without a client CA", func(t *testing.T, st *stacks.OfflineStack) {
			thanosCommand(t, st, observability.RegionalQueryName, func(c []any) []any { return without(c, "--grpc-server-tls-client-ca=") })
		}, "metrics endpoint without client authentication: thanos-query-regional does not demand client certificates"},
		{"METRICS-AUTHENTICATED", "endpoint not marked as passing TLS through", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-thanos-endpoint", func(in map[string]any) {
				delete(m(m(in["metadata"])["annotations"]), observability.AnnotationMutualTLS)
			})
		}, "no pulsar-fleet.io/mutual-tls annotation"},
		{"METRICS-AUTHENTICATED", "endpoint selecting Prometheus itself", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-thanos-endpoint", func(in map[string]any) {
				m(in["spec"])["selector"] = map[string]any{"app.kubernetes.io/name": "prometheus"}
			})
		}, "the Service does not select thanos-query-regional"},
		{"METRICS-AUTHENTICATED", "global querier dialing without TLS", func(t *testing.T, st *stacks.OfflineStack) {
			thanosCommand(t, st, observability.GlobalQueryName, func(c []any) []any { return without(c, "--grpc-client-tls-secure") })
		}, "dials other regions' endpoints without TLS and a client certificate"},
		{"ZOOKEEPER-INTERNAL", "load balancer selecting ZooKeeper", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-thanos-endpoint", func(in map[string]any) {
				m(in["spec"])["selector"] = map[string]any{"component": "zookeeper"}
			})
		}, "selects ZooKeeper"},
		{"ZOOKEEPER-INTERNAL", "load balancer in Pulsar's namespace selecting by release alone", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-proxy-external", func(in map[string]any) {
				m(in["spec"])["selector"] = map[string]any{"release": "pulsar"}
			})
		}, `does not select one component by its "component" label: it may select ZooKeeper`},
		{"ZOOKEEPER-INTERNAL", "ZooKeeper's TLS port behind another port", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, svc, "-proxy-external", func(in map[string]any) {
				spec := m(in["spec"])
				spec["ports"] = append(spec["ports"].([]any), map[string]any{"name": "zk", "port": 8000.0, "targetPort": "2281"})
			})
		}, "exposes ZooKeeper port 8000 (target 2281)"},
		{"SECRET-NOT-IN-CONFIG", "webhook URL in plain config", func(t *testing.T, st *stacks.OfflineStack) {
			st.File.Raw["pulsar-fleet:alertWebhookUrl"] = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXX"
		}, "Slack webhook"},
		{"SECRET-NOT-IN-CONFIG", "password key in plain config", func(t *testing.T, st *stacks.OfflineStack) {
			st.File.Raw["pulsar-fleet:grafana"] = `{"password":"hunter22"}`
		}, "secret in plain text"},
		{"SECRET-NOT-IN-CONFIG", "a plain token beside a secure field of the same key", func(t *testing.T, st *stacks.OfflineStack) {
			st.File.Raw["aws:assumeRoleWithWebIdentity"] = `{"roleArn":"arn:aws:iam::123456789012:role/ci","sessionName":"` + stacks.SecretPlaceholder + `","webIdentityToken":"plain-oidc-token-value"}`
			st.File.SecretKeys = append(st.File.SecretKeys, "aws:assumeRoleWithWebIdentity")
		}, "aws:assumeRoleWithWebIdentity.webIdentityToken is a secret in plain text"},
		{"SECRET-NOT-IN-MANIFESTS", "Pulumi secret in a ConfigMap", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:core/v1:ConfigMap", "-client", func(in map[string]any) {
				m(in["data"])["token"] = "[secret]"
			})
		}, "Pulumi secret rendered"},
		{"SECRET-NOT-IN-MANIFESTS", "an AWS secret key as a container's environment variable", func(t *testing.T, st *stacks.OfflineStack) {
			monitoringManifest(t, st, "StatefulSet", observability.StoreName, func(o map[string]any) {
				c := m(m(m(m(o["spec"])["template"])["spec"])["containers"].([]any)[0])
				c["env"] = append(list(c["env"]), map[string]any{"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
			})
		}, "sets AWS_SECRET_ACCESS_KEY in plain text: take it from a Secret"},
		{"SECRET-NOT-IN-MANIFESTS", "a password under its key in Helm values", func(t *testing.T, st *stacks.OfflineStack) {
			monitoringRelease(t, st, func(values map[string]any) {
				m(values["grafana"])["adminPassword"] = "correct-horse-battery"
			})
		}, "values.grafana.adminPassword is a secret in plain text"},
		{"SECRET-NOT-IN-MANIFESTS", "a JWT signing secret as an environment variable", func(t *testing.T, st *stacks.OfflineStack) {
			forMainRelease(t, st, func(values map[string]any) {
				m(values["broker"])["extraEnv"] = []any{map[string]any{"name": "JWT_SECRET", "value": "not-a-reference-but-the-secret"}}
			})
		}, "sets JWT_SECRET in plain text"},
		{"SECRET-NOT-IN-MANIFESTS", "a password riding on a file:// reference", withConfigData("broker", "PULSAR_PREFIX_tokenSecretKey", "file://admin:hunter2hunter2@keys.example.com/secret.key"), "holds a URL with a password in plain text"},
		{"SECRET-NOT-IN-MANIFESTS", "a key behind a file:// reference", withConfigData("broker", "PULSAR_PREFIX_brokerClientAuthenticationParameters", "file:///pulsar/keys/x\nAKIAIOSFODNN7EXAMPLE"), "holds an AWS access key id in plain text"},
		{"SECRET-NOT-IN-MANIFESTS", "a reference with data behind a non-breaking space", withConfigData("broker", "PULSAR_PREFIX_tokenSecretKey", "file:///pulsar/keys/x\u00a0data:;base64,c2VjcmV0LWtleS1tYXRlcmlhbA"), "configData.PULSAR_PREFIX_tokenSecretKey is a secret in plain text"},
		{"SECRET-NOT-IN-MANIFESTS", "a password in a JSON authentication parameter", withConfigData("broker", "brokerClientAuthenticationParameters", `{"userId":"superuser","password":"hunter2hunter2"}`), "holds a password assignment in plain text"},
		{"SECRET-NOT-IN-MANIFESTS", "an object store's secret key inline in a ConfigMap", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:core/v1:ConfigMap", "-client", func(in map[string]any) {
				m(in["data"])["objstore.yml"] = "type: S3\nconfig:\n  bucket: b\n  access_key: AKIDEXAMPLE\n  secret_key: wJalrXUtnFEMIK7MDENGbPxRfiCY\n"
			})
		}, "a secret key assignment"},
		{"SECRET-NOT-IN-MANIFESTS", "JWT in Helm values", func(t *testing.T, st *stacks.OfflineStack) {
			for i, r := range st.Resources {
				if r.Type == release && r.Inputs["chart"] == "pulsar" {
					pulsarValues(st.Resources[i].Inputs)["clusterName"] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
				}
			}
		}, "JSON web token"},
		{"SECRET-NOT-IN-MANIFESTS", "Secret with data in extraDeploy", func(t *testing.T, st *stacks.OfflineStack) {
			for i, r := range st.Resources {
				if r.Type == release && r.Inputs["chart"] == "pulsar" {
					v := pulsarValues(st.Resources[i].Inputs)
					v["extraDeploy"] = append(v["extraDeploy"].([]any), map[string]any{"apiVersion": "v1", "kind": "Secret",
						"metadata": map[string]any{"name": "leak"}, "stringData": map[string]any{"k": "v"}})
				}
			}
		}, "stringData.k in plain text"},
		{"DATA-PROTECTED", "offload bucket unprotected", func(t *testing.T, st *stacks.OfflineStack) {
			for i, r := range st.Resources {
				if r.Type == "aws:s3/bucketV2:BucketV2" && strings.HasSuffix(r.Name, "-offload") {
					st.Resources[i].Protect = false
				}
			}
		}, "not protected"},
		{"DATA-PROTECTED", "cluster unprotected", func(t *testing.T, st *stacks.OfflineStack) {
			for i, r := range st.Resources {
				if r.Type == "eks:index:Cluster" {
					st.Resources[i].Protect = false
				}
			}
		}, "eks:index:Cluster"},
		{"LB-SOURCE-RANGES", "proxy open without allowPublicProxy", func(t *testing.T, st *stacks.OfflineStack) {
			st.Config.Routing.AllowPublicProxy = false
		}, "without loadBalancerSourceRanges: open to the whole internet"},
		{"ADMIN-NOT-PUBLIC", "the web API on the client listener", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:core/v1:Service", "-proxy-external", func(in map[string]any) {
				m(in["spec"])["ports"] = append(m(in["spec"])["ports"].([]any), map[string]any{"name": "https", "port": 443.0, "targetPort": 8443.0})
			})
		}, "port 443 (target 8443) on an internet-facing load balancer: a web port, which serves Pulsar's admin API"},
		{"ADMIN-NOT-PUBLIC", "the private listener made internet-facing", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:core/v1:Service", "-proxy-private", func(in map[string]any) {
				delete(m(m(in["metadata"])["annotations"]), "service.beta.kubernetes.io/aws-load-balancer-internal")
			})
		}, "-proxy-private): port 443 (target 8443) on an internet-facing load balancer"},
		{"ADMIN-NOT-PUBLIC", "internal by the scheme annotation only, which the in-tree controller ignores", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:core/v1:Service", "-proxy-private", func(in map[string]any) {
				ann := m(m(in["metadata"])["annotations"])
				delete(ann, "service.beta.kubernetes.io/aws-load-balancer-internal")
				ann["service.beta.kubernetes.io/aws-load-balancer-scheme"] = "internal"
			})
		}, "-proxy-private): port 443 (target 8443) on an internet-facing load balancer"},
		{"ADMIN-NOT-PUBLIC", "the web API under another name on a public port", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:core/v1:Service", "-proxy-external", func(in map[string]any) {
				m(in["spec"])["ports"] = append(m(in["spec"])["ports"].([]any), map[string]any{"name": "api", "port": 9443.0, "targetPort": "https"})
			})
		}, `port 9443 forwards to the named port "https", which the check cannot resolve to a number`},
		{"ADMIN-NOT-PUBLIC", "the proxies' own name for their web port", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:core/v1:Service", "-proxy-external", func(in map[string]any) {
				m(in["spec"])["ports"] = append(m(in["spec"])["ports"].([]any), map[string]any{"name": "api", "port": 9443.0, "targetPort": "sts-https"})
			})
		}, `port 9443 forwards to the named port "sts-https"`},
		{"ADMIN-NOT-PUBLIC", "a web port behind target port 0, which the API server sets to the port", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:core/v1:Service", "-proxy-external", func(in map[string]any) {
				m(in["spec"])["ports"] = append(m(in["spec"])["ports"].([]any), map[string]any{"name": "api", "port": 8443.0, "targetPort": 0.0})
			})
		}, "port 8443 (target 8443) on an internet-facing load balancer"},
		{"LB-SOURCE-RANGES", "0.0.0.0/0 admitted", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:core/v1:Service", "-proxy-external", func(in map[string]any) {
				m(in["spec"])["loadBalancerSourceRanges"] = []any{"203.0.113.0/24", "0.0.0.0/0"}
			})
		}, "admits 0.0.0.0/0: wider than /8"},
		{"LB-SOURCE-RANGES", "the internet in two halves", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:core/v1:Service", "-proxy-external", func(in map[string]any) {
				m(in["spec"])["loadBalancerSourceRanges"] = []any{"0.0.0.0/1", "128.0.0.0/1"}
			})
		}, "admits 0.0.0.0/1: wider than /8"},
		{"LB-SOURCE-RANGES", "the waiver does not cover another Service of the same name", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:core/v1:Service", "-proxy-external", func(in map[string]any) {
				m(m(in["spec"])["selector"])["component"] = "broker"
			})
		}, "without loadBalancerSourceRanges: open to the whole internet"},
		{"EKS-STANDARD-SUPPORT", "version in extended support", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "eks:index:Cluster", "", func(in map[string]any) { in["version"] = "1.33" })
		}, "Kubernetes 1.33 left EKS standard support on 2026-07-29"},
		{"EKS-STANDARD-SUPPORT", "version EKS no longer serves", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "eks:index:Cluster", "", func(in map[string]any) { in["version"] = "1.31" })
		}, `Kubernetes "1.31" is not a version EKS serves`},
		{"SECRET-NOT-IN-MANIFESTS", "program-owned Secret with a plain value", func(t *testing.T, st *stacks.OfflineStack) {
			edit(t, st, "kubernetes:core/v1:Secret", "-grafana-admin", func(in map[string]any) {
				in["stringData"] = map[string]any{"admin-user": "admin", "admin-password": "[secret]"}
			})
		}, "stringData.admin-user in plain text"},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.rule+"/"+tc.name, func(t *testing.T) {
			st := us1(t)
			require.Empty(t, Failed(Check(st, checkDay)), "the unchanged stack passes")
			tc.change(t, &st)
			var got []string
			for _, f := range Failed(Check(st, checkDay)) {
				if f.Rule == tc.rule {
					got = append(got, f.String())
				}
			}
			require.NotEmpty(t, got, "%s did not fire", tc.rule)
			assert.Contains(t, strings.Join(got, "\n"), tc.want)
			covered[tc.rule] = true
		})
	}
	for _, id := range RuleIDs() {
		assert.True(t, covered[id], "rule %s has no failing case", id)
	}
}

// An endpoint opened to the world fails, even when the stack file says so
// (which its validation refuses); one opened to listed CIDRs (CI runners'
// egress) is reported as a waiver.
func TestPublicEndpointWaiverAndPass(t *testing.T) {
	st := us1(t)
	edit(t, &st, "eks:index:Cluster", "", func(in map[string]any) {
		in["endpointPublicAccess"] = true
		in["publicAccessCidrs"] = []any{"0.0.0.0/0"}
	})
	st.Config.Cluster.PublicAccessCIDRs = []string{"0.0.0.0/0"}
	fs := ofRule(Check(st, checkDay), "EKS-ENDPOINT-NOT-PUBLIC")
	require.Len(t, fs, 1)
	assert.Equal(t, "EKS-ENDPOINT-NOT-PUBLIC", fs[0].Rule)
	assert.Empty(t, fs[0].Waived, "the internet is never a waiver")
	assert.Len(t, Failed(fs), 1)

	st = us1(t)
	edit(t, &st, "eks:index:Cluster", "", func(in map[string]any) {
		in["endpointPublicAccess"] = true
		in["publicAccessCidrs"] = []any{"0.0.0.0/1", "128.0.0.0/1"}
	})
	fs = ofRule(Check(st, checkDay), "EKS-ENDPOINT-NOT-PUBLIC")
	require.Len(t, fs, 1)
	assert.Empty(t, fs[0].Waived, "two halves of the internet are the internet")
	assert.Len(t, Failed(fs), 1)

	st = us1(t)
	edit(t, &st, "eks:index:Cluster", "", func(in map[string]any) {
		in["endpointPublicAccess"] = true
		in["publicAccessCidrs"] = []any{"198.51.100.0/24"}
	})
	fs = ofRule(Check(st, checkDay), "EKS-ENDPOINT-NOT-PUBLIC")
	require.Len(t, fs, 1)
	assert.Equal(t, "EKS-ENDPOINT-NOT-PUBLIC", fs[0].Rule)
	assert.Contains(t, fs[0].Waived, "CI runners outside the VPC")
	assert.Contains(t, fs[0].Message, "198.51.100.0/24")
	assert.Empty(t, Failed(fs))
}

// A stack on the chart's key (deployed before the fleet key) is a waiver.
func TestChartSigningKeyWaiver(t *testing.T) {
	st := us1(t)
	for i, r := range st.Resources {
		if r.Type == "kubernetes:helm.sh/v3:Release" && r.Inputs["chart"] == "pulsar" && pulsarValues(r.Inputs)["auth"] != nil {
			m(m(m(m(pulsarValues(st.Resources[i].Inputs)["auth"])["authentication"])["jwt"])["generateSecrets"])["enabled"] = true
		}
	}
	st.Config.Tokens.SigningKey = model.SigningKeyChart
	fs := ofRule(Check(st, checkDay), "PULSAR-TOKENS-OWNED")
	require.Len(t, fs, 1)
	assert.Contains(t, fs[0].Waived, "tokens.signingKey is chart")
	assert.Empty(t, Failed(fs))
}

// ofRule are the findings of one rule.
func ofRule(fs []Finding, rule string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// The proxy restricted to client networks passes; opened on purpose it is
// a waiver, and the only finding of the committed stack.
func TestProxyExposure(t *testing.T) {
	st := us1(t)
	fs := Check(st, checkDay)
	require.Len(t, fs, 1)
	assert.Equal(t, "LB-SOURCE-RANGES", fs[0].Rule)
	assert.Contains(t, fs[0].Waived, "routing.allowPublicProxy")

	st.Config.Routing.AllowPublicProxy = false
	edit(t, &st, "kubernetes:core/v1:Service", "-proxy-external", func(in map[string]any) {
		m(in["spec"])["loadBalancerSourceRanges"] = []any{"203.0.113.0/24", "198.51.100.7/32"}
	})
	assert.Empty(t, ofRule(Check(st, checkDay), "LB-SOURCE-RANGES"))
}

// Every data-bearing resource of every stack is protected; a stack that
// sets allowDataDeletion is reported as a waiver, not a pass.
func TestDataProtectedAndWaiver(t *testing.T) {
	st := us1(t)
	v := newView(st, checkDay)
	bearing := dataBearing(v)
	require.Len(t, bearing, 6, "the offload and metrics buckets, their keys, the cluster and its secrets key")
	assert.Empty(t, dataProtected(v))

	st.Config.AllowDataDeletion = true
	for i := range st.Resources {
		st.Resources[i].Protect = false
	}
	fs := dataProtected(newView(st, checkDay))
	require.Len(t, fs, 6)
	for _, f := range fs {
		assert.Contains(t, f.Waived, "allowDataDeletion")
	}
}

// forMainRelease edits the values of the Pulsar release that runs brokers.
func forMainRelease(t *testing.T, st *stacks.OfflineStack, edit func(values map[string]any)) {
	t.Helper()
	for _, r := range st.Resources {
		if r.Type == release && r.Inputs["chart"] == "pulsar" && pulsarValues(r.Inputs)["auth"] != nil {
			edit(pulsarValues(r.Inputs))
			return
		}
	}
	t.Fatal("no pulsar release with brokers")
}

// dropSecret removes the program's Secret whose resource name ends with
// suffix.
func dropSecret(t *testing.T, st *stacks.OfflineStack, suffix string) {
	t.Helper()
	for i, r := range st.Resources {
		if r.Type == "kubernetes:core/v1:Secret" && strings.HasSuffix(r.Name, suffix) {
			st.Resources = slices.Delete(st.Resources, i, i+1)
			return
		}
	}
	t.Fatalf("no Secret resource named *%s", suffix)
}

// withPolicy adds a NetworkPolicy of that name and spec to the Pulsar
// namespace, in the main release's extraDeploy.
func withPolicy(name string, spec map[string]any) func(*testing.T, *stacks.OfflineStack) {
	return func(t *testing.T, st *stacks.OfflineStack) {
		forMainRelease(t, st, func(values map[string]any) {
			values["extraDeploy"] = append(values["extraDeploy"].([]any), policyObject(name, "pulsar", spec))
		})
	}
}

// withMonitoringPolicy adds a NetworkPolicy to the monitoring release's
// own objects.
func withMonitoringPolicy(t *testing.T, st *stacks.OfflineStack, name string, spec map[string]any) {
	t.Helper()
	addMonitoringObject(t, st, policyObject(name, observability.Namespace, spec))
}

// addMonitoringObject adds an object to the monitoring release's
// pass-through manifests.
func addMonitoringObject(t *testing.T, st *stacks.OfflineStack, obj map[string]any) {
	t.Helper()
	monitoringRelease(t, st, func(values map[string]any) {
		values["extraManifests"] = append(values["extraManifests"].([]any), obj)
	})
}

// addStoreContainer adds a container to the Thanos store's pods.
func addStoreContainer(t *testing.T, st *stacks.OfflineStack, c map[string]any) {
	t.Helper()
	monitoringManifest(t, st, "StatefulSet", observability.StoreName, func(o map[string]any) {
		spec := m(m(m(o["spec"])["template"])["spec"])
		spec["containers"] = append(spec["containers"].([]any), c)
	})
}

// policyObject is a NetworkPolicy object as a release's values carry it.
func policyObject(name, ns string, spec map[string]any) map[string]any {
	return map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec}
}

// withEgressRule edits a stack: the NetworkPolicy whose name ends in
// suffix gains an egress rule.
func withEgressRule(suffix string, rule map[string]any) func(*testing.T, *stacks.OfflineStack) {
	return func(t *testing.T, st *stacks.OfflineStack) {
		edit(t, st, networkPolicy, suffix, func(in map[string]any) {
			m(in["spec"])["egress"] = append(m(in["spec"])["egress"].([]any), rule)
		})
	}
}

// withConfigData edits a stack: the main Pulsar release sets a key of a
// component's configData.
func withConfigData(component, key, value string) func(*testing.T, *stacks.OfflineStack) {
	return func(t *testing.T, st *stacks.OfflineStack) {
		forMainRelease(t, st, func(values map[string]any) { setConfigData(values, component, key, value) })
	}
}

// setConfigData sets a key of a component's configData in the values,
// making the map where the program sets none.
func setConfigData(values map[string]any, component, key string, v any) {
	c := m(values[component])
	if c["configData"] == nil {
		c["configData"] = map[string]any{}
	}
	m(c["configData"])[key] = v
}

// A running region's move to quorum TLS is waived at each stage; TLS only
// passes; no command fails.
// The proxies' wait for ZooKeeper is read as the chart reads it.
func TestWaitsForZooKeeper(t *testing.T) {
	for v, want := range map[any]bool{nil: true, 600: true, 600.0: true, "600": true, 0: false, 0.0: false, -1: false, "0": false} {
		assert.Equal(t, want, waitsForZooKeeper(v), "%#v", v)
	}
}

func TestQuorumTLSStagesAreWaived(t *testing.T) {
	assert.Empty(t, quorumTLS("r", pulsar.ZooKeeperCommand(model.QuorumTLSOnly)))
	for _, q := range []model.QuorumTLS{model.QuorumAccept, model.QuorumDial} {
		fs := quorumTLS("r", pulsar.ZooKeeperCommand(q))
		require.Len(t, fs, 1)
		assert.Contains(t, fs[0].Message, "still accepts plaintext, and its clients still have port 2181 (zookeeper.quorumTls: "+string(q)+")")
		assert.NotEmpty(t, fs[0].Waived, q)
	}
	fs := quorumTLS("r", pulsar.QuorumTLSCommand(model.QuorumTLSOnly))
	require.Len(t, fs, 1, "TLS only, with 2181 still open")
	assert.Empty(t, fs[0].Waived)
	fs = quorumTLS("r", "")
	require.Len(t, fs, 1)
	assert.Empty(t, fs[0].Waived)
}

// A Service port's target is its number, or its port when left out; a
// name is never resolved (the charts' pods, which the preview does not
// show, may give it any number).
func TestTargetPort(t *testing.T) {
	cases := []struct {
		name string
		port map[string]any
		want int
		ok   bool
	}{
		{"a number", map[string]any{"port": 443.0, "targetPort": 10901.0}, 10901, true},
		{"left out", map[string]any{"port": 443.0}, 443, true},
		{"zero, which the API server sets to the port", map[string]any{"port": 8443.0, "targetPort": 0.0}, 8443, true},
		{"empty, which the API server sets to the port", map[string]any{"port": 8443.0, "targetPort": ""}, 8443, true},
		{"neither a number nor a string", map[string]any{"port": 443.0, "targetPort": true}, 0, false},
		{"a number as a string", map[string]any{"port": 443.0, "targetPort": "8443"}, 8443, true},
		{"a name a workload of the stack declares", map[string]any{"port": 443.0, "targetPort": "grpc"}, 0, false},
		{"the chart's name for the proxies' web port", map[string]any{"port": 443.0, "targetPort": "sts-https"}, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := targetPort(c.port)
			assert.Equal(t, c.ok, ok)
			if ok {
				assert.Equal(t, c.want, got)
			}
		})
	}
}

// Containers that only name Thanos' Services or directories are not
// Thanos: a wait for the querier in a shell, a path under /etc/thanos.
func TestThanosMentionsThatPass(t *testing.T) {
	st := us1(t)
	addMonitoringObject(t, &st, map[string]any{"apiVersion": "batch/v1", "kind": "Job",
		"metadata": map[string]any{"name": "wait-for-query", "namespace": "monitoring"},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"name": "wait", "image": "busybox:1.37", "command": []any{"sh", "-c", "until wget -qO- http://thanos-query-regional.monitoring:10902/-/ready; do sleep 2; done"}},
			map[string]any{"name": "cat", "image": "busybox:1.37", "command": []any{"cat", "/etc/thanos/objstore.yml"}},
		}}}}})
	assert.Empty(t, ofRule(Check(st, checkDay), "METRICS-AUTHENTICATED"))
}

// A release's fullname is the charts' standard helper's.
func TestChartFullname(t *testing.T) {
	for _, c := range []struct {
		name, chart string
		values      map[string]any
		want        string
	}{
		{"pulsar", "pulsar", map[string]any{"fullnameOverride": "pulsar"}, "pulsar"},
		{"pulsar", "pulsar", map[string]any{}, "pulsar"},
		{"east", "pulsar", map[string]any{}, "east-pulsar"},
		{"pulsar-east", "oci://example.com/charts/pulsar", map[string]any{}, "pulsar-east"},
		{"east", "pulsar", map[string]any{"nameOverride": "streams"}, "east-streams"},
		{"x", "pulsar", map[string]any{"fullnameOverride": strings.Repeat("a", 62) + "-b"}, strings.Repeat("a", 62)},
	} {
		r := recorder.Resource{Inputs: map[string]any{"name": c.name, "chart": c.chart, "values": c.values}}
		assert.Equal(t, c.want, chartFullname(r, 63), "%s %s %v", c.name, c.chart, c.values)
	}
}

// A value that names where a secret is passes: a file (Pulsar's token
// settings), another variable; and an object in a chart's pass-through
// list is reported once, as an object.
func TestSecretReferencesPass(t *testing.T) {
	st := us1(t)
	forMainRelease(t, &st, func(values map[string]any) {
		setConfigData(values, "broker", "PULSAR_PREFIX_tokenSecretKey", "file:///pulsar/keys/token/secret.key")
		m(values["broker"])["extraEnv"] = []any{map[string]any{"name": "DB_PASSWORD", "value": "$(DB_PASSWORD_FROM_SECRET)"}}
	})
	assert.Empty(t, ofRule(Check(st, checkDay), "SECRET-NOT-IN-MANIFESTS"))

	monitoringManifest(t, &st, "StatefulSet", observability.StoreName, func(o map[string]any) {
		c := m(m(m(m(o["spec"])["template"])["spec"])["containers"].([]any)[0])
		c["env"] = append(list(c["env"]), map[string]any{"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
	})
	assert.Len(t, ofRule(Check(st, checkDay), "SECRET-NOT-IN-MANIFESTS"), 1)
}
