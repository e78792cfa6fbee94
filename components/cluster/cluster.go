// Package cluster builds a region's EKS cluster through pulumi-eks: nodes in
// private subnets, control-plane logs, secrets encrypted with a KMS key, a
// private API endpoint unless public CIDRs are listed, an OIDC provider for
// IAM roles for service accounts, the EBS CSI driver, encrypted gp3 storage
// classes for Pulsar's journal and ledgers, and the on-demand system node
// group that runs add-ons and the Karpenter controller, tainted so Pulsar
// never lands there.
package cluster

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	pulumieks "github.com/pulumi/pulumi-eks/sdk/v3/go/eks"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// TypeToken is the component's type.
var TypeToken = kit.Type("cluster", "Cluster")

// ControlPlaneLogTypes are every EKS control-plane log type; all are on.
var ControlPlaneLogTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

// The EKS add-ons the cluster runs. Each is declared at a version EKS
// names for the cluster's Kubernetes version (addonVersion), so the `up`
// that moves the control plane one minor version moves them too, after it
// (each depends on the cluster).
const (
	AddonVPCCNI    = "vpc-cni"
	AddonKubeProxy = "kube-proxy"
	AddonCoreDNS   = "coredns"
	AddonEBSCSI    = "aws-ebs-csi-driver"
	// MetricsServerAddon serves metrics.k8s.io.
	MetricsServerAddon = "metrics-server"
)

// Addons lists the add-ons the cluster runs, each at its default version.
var Addons = []string{AddonVPCCNI, AddonKubeProxy, AddonCoreDNS, AddonEBSCSI, MetricsServerAddon}

// SystemTaint keeps everything but add-ons off the system node group; the
// Karpenter chart and EKS add-ons tolerate it.
var SystemTaint = Taint{Key: "CriticalAddonsOnly", Value: "true", Effect: "NoSchedule"}

// SystemPoolLabel marks system nodes.
const SystemPoolLabel = model.LabelPool

// Taint is a Kubernetes node taint.
type Taint struct {
	Key, Value, Effect string
}

// SystemPool is the managed on-demand node group for add-ons.
type SystemPool struct {
	// InstanceTypes are the on-demand types (one architecture).
	InstanceTypes []string
	// Arch is arm64 or amd64; it selects the AL2023 AMI type.
	Arch model.Arch
	// Min, Desired and Max size the group.
	Min, Desired, Max int
	// RootVolumeGiB is the encrypted gp3 root volume (default 50).
	RootVolumeGiB int
}

// StorageClass is an encrypted gp3 class for Pulsar volumes.
type StorageClass struct {
	Name string
	// ThroughputMiB is the provisioned gp3 throughput per volume.
	ThroughputMiB int
	// IOPS is the provisioned gp3 IOPS per volume.
	IOPS int
	// Default marks the cluster's default class.
	Default bool
}

// EBSDriver is the EBS CSI driver's name.
const EBSDriver = "ebs.csi.aws.com"

// VolumeAttributes are a gp3 volume's provisioned throughput and IOPS.
type VolumeAttributes struct {
	ThroughputMiB, IOPS int
}

// parameters are the EBS CSI driver's parameters of these values, the
// same in a StorageClass and a VolumeAttributesClass.
func (a VolumeAttributes) parameters() pulumi.StringMap {
	return pulumi.StringMap{"throughput": pulumi.Sprintf("%d", a.ThroughputMiB), "iops": pulumi.Sprintf("%d", a.IOPS)}
}

// AttributesClassName names the VolumeAttributesClass of these values:
// the values are immutable in a class, so other values are another class.
func AttributesClassName(a VolumeAttributes) string {
	return fmt.Sprintf("gp3-%dmibs-%diops", a.ThroughputMiB, a.IOPS)
}

// VolumeAttributesSince is the first Kubernetes version that serves
// storage.k8s.io/v1 VolumeAttributesClass (GA in 1.34).
const VolumeAttributesSince = "1.34"

// ServesVolumeAttributes says whether a cluster of that version serves
// VolumeAttributesClass.
func ServesVolumeAttributes(version string) bool {
	v, err := minorNumber(version)
	since, _ := minorNumber(VolumeAttributesSince)
	return err == nil && v >= since
}

// Config configures the cluster: plain values only.
type Config struct {
	// Name is the EKS cluster name.
	Name string
	// KubernetesVersion is the EKS version, e.g. "1.35".
	KubernetesVersion string
	// AddonVersions pins add-ons (of Addons) to versions; the others
	// follow addonVersion's lookup.
	AddonVersions map[string]string `json:",omitempty"`
	// PublicAccessCIDRs open the API endpoint to these CIDRs; empty keeps it
	// private (deploy from inside the VPC or a peered network).
	PublicAccessCIDRs []string
	// SystemPool sizes the system node group.
	SystemPool SystemPool
	// StorageClasses are created for Pulsar's volumes.
	StorageClasses []StorageClass
	// VolumeAttributes are the gp3 throughput and IOPS a bound volume can
	// be moved to, each a VolumeAttributesClass named by its values
	// (AttributesClassName): a resize sets a claim's class and its size in
	// one patch, which the EBS CSI driver makes one EC2 modification
	// (two, a few hours apart, would meet EBS' cooldown). Kubernetes 1.34
	// and later only (storage.k8s.io/v1); none are created below it.
	VolumeAttributes []VolumeAttributes
	// Access lists the IAM principals that may use the Kubernetes API, each
	// with an EKS access policy (people, CI's roles, the operator).
	Access []model.AccessGrant
	// Protect marks the cluster and its secrets key protected: a destroy
	// or a replacement stops instead of deleting them.
	Protect bool
	// Tags are added to every AWS resource.
	Tags map[string]string
}

// Deps are the network's outputs the cluster needs.
type Deps struct {
	// VpcID is the network's VPC.
	VpcID pulumi.StringInput
	// PrivateSubnetIDs hold the nodes and the private API endpoint.
	PrivateSubnetIDs pulumi.StringArrayInput
	// PublicSubnetIDs hold the public load balancers.
	PublicSubnetIDs pulumi.StringArrayInput
}

// Validate reports the network outputs that are missing.
func (d Deps) Validate() error {
	return kit.Missing(map[string]any{
		"vpcId": d.VpcID, "privateSubnetIds": d.PrivateSubnetIDs, "publicSubnetIds": d.PublicSubnetIDs,
	})
}

// WithDefaults fills the defaults: a system pool of 2 (up to 4) nodes with
// 50 GiB root volumes.
func (c Config) WithDefaults() Config {
	if c.SystemPool.Min == 0 && c.SystemPool.Desired == 0 && c.SystemPool.Max == 0 {
		c.SystemPool.Min, c.SystemPool.Desired, c.SystemPool.Max = 2, 2, 4
	}
	if c.SystemPool.RootVolumeGiB == 0 {
		c.SystemPool.RootVolumeGiB = 50
	}
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	if c.Name == "" || len(c.Name) > 100 {
		errs = append(errs, fmt.Errorf("name %q: want 1..100 characters", c.Name))
	}
	if !strings.HasPrefix(c.KubernetesVersion, "1.") {
		errs = append(errs, fmt.Errorf("kubernetesVersion %q: want 1.NN", c.KubernetesVersion))
	}
	for _, cidr := range c.PublicAccessCIDRs {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			errs = append(errs, fmt.Errorf("publicAccessCidrs: %q is not a CIDR", cidr))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.AddonVersions)) {
		if v := c.AddonVersions[name]; !slices.Contains(Addons, name) || v == "" {
			errs = append(errs, fmt.Errorf("addonVersions.%s %q: want a version of one of %s", name, c.AddonVersions[name], strings.Join(Addons, ", ")))
		}
	}
	sp := c.SystemPool
	if len(sp.InstanceTypes) == 0 {
		errs = append(errs, errors.New("systemPool.instanceTypes: at least one"))
	}
	if !sp.Arch.Valid() {
		errs = append(errs, model.Invalid("systemPool.arch", sp.Arch, model.Arches))
	}
	if !(sp.Min >= 1 && sp.Min <= sp.Desired && sp.Desired <= sp.Max) {
		errs = append(errs, fmt.Errorf("systemPool: min %d <= desired %d <= max %d with min >= 1", sp.Min, sp.Desired, sp.Max))
	}
	if sp.RootVolumeGiB < 20 || sp.RootVolumeGiB > 1000 {
		errs = append(errs, fmt.Errorf("systemPool.rootVolumeGiB %d: want 20..1000", sp.RootVolumeGiB))
	}
	for _, err := range model.ValidateGrants(c.Access) {
		errs = append(errs, err)
	}
	for _, sc := range c.StorageClasses {
		if sc.ThroughputMiB < 125 || sc.ThroughputMiB > 2000 {
			errs = append(errs, fmt.Errorf("storageClass %s: throughput %d MiB/s, want 125..2000 (gp3)", sc.Name, sc.ThroughputMiB))
		}
		if sc.IOPS < 3000 || sc.IOPS > 16000 {
			errs = append(errs, fmt.Errorf("storageClass %s: iops %d, want 3000..16000 (gp3)", sc.Name, sc.IOPS))
		}
	}
	return errors.Join(errs...)
}

// AMIType is the managed node group AMI for an architecture.
func AMIType(arch model.Arch) string {
	if arch == model.ARM64 {
		return "AL2023_ARM_64_STANDARD"
	}
	return "AL2023_x86_64_STANDARD"
}

// EndpointAccess is the API endpoint's (private, public) access.
func EndpointAccess(publicCIDRs []string) (private, public bool) { return true, len(publicCIDRs) > 0 }

// Cluster is the component.
type Cluster struct {
	pulumi.ResourceState

	Name                   string
	KubeconfigJSON         pulumi.StringOutput
	OIDCProviderARN        pulumi.StringOutput
	OIDCIssuer             pulumi.StringOutput
	ClusterSecurityGroupID pulumi.StringOutput
	SecretsKeyARN          pulumi.StringOutput
	// Provider talks to the cluster; every Kubernetes resource uses it.
	Provider *kubernetes.Provider
	// EKS is the pulumi-eks cluster, for resources that depend on it.
	EKS *pulumieks.Cluster
	// Ready is every resource of the cluster: what needs the whole cluster
	// depends on these. (Depending on the component itself races with the
	// registration of its children, so the set could vary run to run.)
	Ready []pulumi.Resource
}

// New registers the cluster.
func New(ctx *pulumi.Context, name string, cfg Config, deps Deps, opts ...pulumi.ResourceOption) (*Cluster, error) {
	c := &Cluster{Name: cfg.Name}
	return kit.Construct(ctx, TypeToken, name, cfg, deps, c, func(cfg Config, parent pulumi.ResourceOption) (pulumi.Map, error) {
		b := &builder{ctx: ctx, name: name, cfg: cfg, deps: deps, parent: parent, tags: kit.Tags(cfg.Tags)}
		if err := b.build(c); err != nil {
			return nil, err
		}
		return pulumi.Map{
			"clusterName": pulumi.String(cfg.Name), "kubeconfig": c.KubeconfigJSON, "oidcProviderArn": c.OIDCProviderARN,
			"clusterSecurityGroupId": c.ClusterSecurityGroupID, "secretsKeyArn": c.SecretsKeyARN,
		}, nil
	}, opts...)
}

// builder registers the cluster's resources, one kind at a time.
type builder struct {
	ctx    *pulumi.Context
	name   string
	cfg    Config
	deps   Deps
	parent pulumi.ResourceOption
	tags   pulumi.StringMap

	key      *kms.Key
	ekc      *pulumieks.Cluster
	provider *kubernetes.Provider
	// ready is every resource registered, in order (Cluster.Ready).
	ready []pulumi.Resource
}

// keep records registered resources for Cluster.Ready.
func (b *builder) keep(rs ...pulumi.Resource) { b.ready = append(b.ready, rs...) }

// build registers every resource in order and fills the component's
// outputs.
func (b *builder) build(c *Cluster) error {
	for _, step := range []func() error{
		b.secretsKey, b.eksCluster, b.systemNodeGroup, b.ebsCSIDriver, b.metricsServer,
		b.accessEntries, b.kubernetesProvider, b.storageClasses,
	} {
		if err := step(); err != nil {
			return err
		}
	}
	c.EKS = b.ekc
	c.Provider = b.provider
	c.Ready = b.ready
	c.KubeconfigJSON = pulumi.ToSecret(b.ekc.KubeconfigJson).(pulumi.StringOutput)
	c.OIDCProviderARN = b.ekc.OidcProviderArn
	c.OIDCIssuer = b.ekc.OidcIssuer
	c.ClusterSecurityGroupID = b.ekc.ClusterSecurityGroupId
	c.SecretsKeyARN = b.key.Arn
	return nil
}

// secretsKey registers the KMS key that envelope-encrypts the cluster's
// secrets, and its alias.
func (b *builder) secretsKey() error {
	key, err := kms.NewKey(b.ctx, b.name+"-secrets", &kms.KeyArgs{
		Description:          pulumi.Sprintf("EKS secrets envelope encryption for %s", b.cfg.Name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Tags:                 b.tags,
	}, b.parent, pulumi.Protect(b.cfg.Protect))
	if err != nil {
		return err
	}
	alias, err := kms.NewAlias(b.ctx, b.name+"-secrets", &kms.AliasArgs{
		Name: pulumi.String("alias/" + b.cfg.Name + "-secrets"), TargetKeyId: key.KeyId,
	}, b.parent)
	if err != nil {
		return err
	}
	b.key = key
	b.keep(key, alias)
	return nil
}

// eksCluster registers the pulumi-eks cluster.
func (b *builder) eksCluster() error {
	private, public := EndpointAccess(b.cfg.PublicAccessCIDRs)
	clusterArgs := &pulumieks.ClusterArgs{
		Name:                         pulumi.String(b.cfg.Name),
		Version:                      pulumi.String(b.cfg.KubernetesVersion),
		VpcId:                        b.deps.VpcID,
		PrivateSubnetIds:             b.deps.PrivateSubnetIDs,
		PublicSubnetIds:              b.deps.PublicSubnetIDs,
		NodeAssociatePublicIpAddress: pulumi.BoolRef(false),
		EndpointPrivateAccess:        pulumi.Bool(private),
		EndpointPublicAccess:         pulumi.Bool(public),
		EnabledClusterLogTypes:       kit.StringInputs(ControlPlaneLogTypes),
		EncryptionConfigKeyArn:       b.key.Arn,
		CreateOidcProvider:           pulumi.Bool(true),
		SkipDefaultNodeGroup:         pulumi.BoolRef(true),
		SkipDefaultSecurityGroups:    pulumi.BoolRef(true),
		// The VPC CNI enforces NetworkPolicies (the Pulsar namespace's
		// isolation); without it they would be stored and ignored.
		VpcCniOptions: &pulumieks.VpcCniOptionsArgs{EnableNetworkPolicy: pulumi.BoolPtr(true), AddonVersion: b.addonVersion(AddonVPCCNI)},
		// pulumi-eks manages kube-proxy as an EKS add-on.
		KubeProxyAddonOptions: &pulumieks.KubeProxyAddonOptionsArgs{Version: b.addonVersion(AddonKubeProxy)},
		// pulumi-eks creates a CoreDNS add-on only with its default node
		// group or Fargate; off, said so: CoreDNS is the program's own
		// add-on (coreDNS), after the system nodes that run it.
		CorednsAddonOptions: &pulumieks.CoreDnsAddonOptionsArgs{Enabled: pulumi.BoolRef(false)},
		Tags:                b.tags,
	}
	mode := pulumieks.AuthenticationModeApi
	clusterArgs.AuthenticationMode = &mode
	if public {
		clusterArgs.PublicAccessCidrs = kit.StringInputs(b.cfg.PublicAccessCIDRs)
	}
	ekc, err := pulumieks.NewCluster(b.ctx, b.name, clusterArgs, b.parent, pulumi.Protect(b.cfg.Protect))
	if err != nil {
		return err
	}
	b.ekc = ekc
	b.keep(ekc)
	return nil
}

// systemNodeGroup registers the system node group with its node role and
// its hardened launch template.
func (b *builder) systemNodeGroup() error {
	nodeRole, err := b.systemNodeRole()
	if err != nil {
		return err
	}
	lt, err := b.systemLaunchTemplate()
	if err != nil {
		return err
	}
	sp := b.cfg.SystemPool
	group, err := pulumieks.NewManagedNodeGroup(b.ctx, b.name+"-system", &pulumieks.ManagedNodeGroupArgs{
		Cluster:       b.ekc,
		NodeRole:      nodeRole,
		NodeGroupName: pulumi.String("system"),
		CapacityType:  pulumi.String("ON_DEMAND"),
		// The group follows the control plane's version: an upgrade rolls
		// its nodes after the control plane, under their PDBs.
		Version:       pulumi.String(b.cfg.KubernetesVersion),
		InstanceTypes: kit.StringInputs(sp.InstanceTypes),
		AmiType:       pulumi.String(AMIType(sp.Arch)),
		SubnetIds:     b.deps.PrivateSubnetIDs,
		LaunchTemplate: &eks.NodeGroupLaunchTemplateArgs{
			Id:      lt.ID(),
			Version: lt.LatestVersion.ApplyT(func(v int) string { return fmt.Sprint(v) }).(pulumi.StringOutput),
		},
		ScalingConfig: &eks.NodeGroupScalingConfigArgs{
			MinSize: pulumi.Int(sp.Min), DesiredSize: pulumi.Int(sp.Desired), MaxSize: pulumi.Int(sp.Max),
		},
		Labels: pulumi.StringMap{SystemPoolLabel: pulumi.String("system")},
		Taints: eks.NodeGroupTaintArray{&eks.NodeGroupTaintArgs{
			Key: pulumi.String(SystemTaint.Key), Value: pulumi.String(SystemTaint.Value), Effect: pulumi.String("NO_SCHEDULE"),
		}},
		Tags: b.tags,
	}, b.parent)
	if err != nil {
		return err
	}
	b.keep(lt, group)
	return b.coreDNS(group)
}

// systemNodeRole registers the system nodes' role with the managed node
// policies.
func (b *builder) systemNodeRole() (*iam.Role, error) {
	nodeRole, err := iam.NewRole(b.ctx, b.name+"-system-node", &iam.RoleArgs{
		AssumeRolePolicy: kit.ServiceTrust("ec2.amazonaws.com").JSON(),
		Description:      pulumi.Sprintf("System node group of %s", b.cfg.Name),
		Tags:             b.tags,
	}, b.parent)
	if err != nil {
		return nil, err
	}
	b.keep(nodeRole)
	for _, p := range model.NodeManagedPolicies {
		att, err := iam.NewRolePolicyAttachment(b.ctx, b.name+"-system-node-"+model.PolicyName(p), &iam.RolePolicyAttachmentArgs{
			Role: nodeRole.Name, PolicyArn: pulumi.String(p),
		}, b.parent)
		if err != nil {
			return nil, err
		}
		b.keep(att)
	}
	return nodeRole, nil
}

// systemLaunchTemplate registers our own launch template (pulumi-eks's
// enableIMDSv2 template leaves the root volume to the account's EBS
// default): IMDSv2 only, one hop so pods cannot reach the node role
// (add-ons use IRSA), an encrypted gp3 root volume.
func (b *builder) systemLaunchTemplate() (*ec2.LaunchTemplate, error) {
	return ec2.NewLaunchTemplate(b.ctx, b.name+"-system", &ec2.LaunchTemplateArgs{
		Description: pulumi.Sprintf("System node group of %s", b.cfg.Name),
		MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint: pulumi.String("enabled"), HttpTokens: pulumi.String("required"),
			HttpPutResponseHopLimit: pulumi.Int(1),
		},
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{&ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/xvda"),
			Ebs: &ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				Encrypted: pulumi.String("true"), VolumeType: pulumi.String("gp3"), VolumeSize: pulumi.Int(b.cfg.SystemPool.RootVolumeGiB),
				DeleteOnTermination: pulumi.String("true"),
			},
		}},
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{
			&ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("instance"), Tags: b.tags},
			&ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("volume"), Tags: b.tags},
		},
		Tags: b.tags,
	}, b.parent)
}

// ebsCSIDriver registers the EBS CSI driver, through IRSA, for the
// journal, ledger and ZooKeeper volumes.
func (b *builder) ebsCSIDriver() error {
	csiRole, err := iam.NewRole(b.ctx, b.name+"-ebs-csi", &iam.RoleArgs{
		AssumeRolePolicy: kit.IRSATrust(b.ekc.OidcProviderArn, b.ekc.OidcIssuer, "kube-system", "ebs-csi-controller-sa").JSON(),
		Description:      pulumi.Sprintf("EBS CSI driver of %s", b.cfg.Name),
		Tags:             b.tags,
	}, b.parent)
	if err != nil {
		return err
	}
	att, err := iam.NewRolePolicyAttachment(b.ctx, b.name+"-ebs-csi", &iam.RolePolicyAttachmentArgs{
		Role: csiRole.Name, PolicyArn: pulumi.String(model.PolicyEBSCSIDriver),
	}, b.parent)
	if err != nil {
		return err
	}
	addon, err := eks.NewAddon(b.ctx, b.name+"-ebs-csi", &eks.AddonArgs{
		ClusterName:              pulumi.String(b.cfg.Name),
		AddonName:                pulumi.String(AddonEBSCSI),
		AddonVersion:             b.addonVersion(AddonEBSCSI),
		ServiceAccountRoleArn:    csiRole.Arn,
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
		Tags:                     b.tags,
	}, b.parent, pulumi.DependsOn([]pulumi.Resource{b.ekc}))
	if err != nil {
		return err
	}
	b.keep(csiRole, att, addon)
	return nil
}

// metricsServer registers Metrics Server (an EKS community add-on): it
// serves the resource metrics the broker and proxy HPAs scale on; without
// it they hold their minimum forever. It schedules on the system node
// group or, failing that, the untainted general pool.
func (b *builder) metricsServer() error {
	addon, err := eks.NewAddon(b.ctx, b.name+"-metrics-server", &eks.AddonArgs{
		ClusterName:              pulumi.String(b.cfg.Name),
		AddonName:                pulumi.String(MetricsServerAddon),
		AddonVersion:             b.addonVersion(MetricsServerAddon),
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
		Tags:                     b.tags,
	}, b.parent, pulumi.DependsOn([]pulumi.Resource{b.ekc}))
	if err != nil {
		return err
	}
	b.keep(addon)
	return nil
}

// coreDNS takes over the CoreDNS that EKS installs with every cluster as
// an EKS add-on (its settings overwritten by EKS's), so that it follows
// the cluster's version. It waits for the system node group, where its
// pods run; the add-on is ACTIVE only once they do. Deleting the add-on
// leaves CoreDNS running (preserve): the cluster's DNS never goes with a
// resource.
func (b *builder) coreDNS(group pulumi.Resource) error {
	addon, err := eks.NewAddon(b.ctx, b.name+"-coredns", &eks.AddonArgs{
		ClusterName:              pulumi.String(b.cfg.Name),
		AddonName:                pulumi.String(AddonCoreDNS),
		AddonVersion:             b.addonVersion(AddonCoreDNS),
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
		Preserve:                 pulumi.Bool(true),
		Tags:                     b.tags,
	}, b.parent, pulumi.DependsOn([]pulumi.Resource{b.ekc, group}))
	if err != nil {
		return err
	}
	b.keep(addon)
	return nil
}

// NewestBuildAddons take EKS's newest build for the Kubernetes version,
// the others its default. pulumi-eks gave these two the newest build
// before the program declared their versions; the default, usually older,
// would downgrade every running cluster's VPC CNI and kube-proxy, and EKS
// moves the VPC CNI one minor version at a time. The others were created
// at the default of their day, and a default only moves forward.
var NewestBuildAddons = []string{AddonVPCCNI, AddonKubeProxy}

// addonVersion is the add-on's pinned version (Config.AddonVersions), or
// else the version EKS names for the cluster's Kubernetes version
// (describe-addon-versions): the newest build for NewestBuildAddons, the
// default for the others. The lookup runs at each preview and `up`, so a
// build AWS publishes is applied by the next `up`, the operator's resync
// included; a pin holds it until a reviewed change moves it.
func (b *builder) addonVersion(name string) pulumi.StringOutput {
	if v, ok := b.cfg.AddonVersions[name]; ok {
		return pulumi.String(v).ToStringOutput()
	}
	return eks.GetAddonVersionOutput(b.ctx, eks.GetAddonVersionOutputArgs{
		AddonName: pulumi.String(name), KubernetesVersion: pulumi.String(b.cfg.KubernetesVersion),
		MostRecent: pulumi.BoolPtr(slices.Contains(NewestBuildAddons, name)),
	}).Version()
}

// AccessName is the resource name part of a principal: its account and
// its name, so entries keep their names when the list is reordered.
func AccessName(principalARN string) string {
	account := strings.Split(principalARN, ":")[4]
	return account + "-" + strings.ToLower(principalARN[strings.LastIndex(principalARN, "/")+1:])
}

// accessEntries registers one access entry and one policy association per
// principal.
func (b *builder) accessEntries() error {
	for _, e := range b.cfg.Access {
		n := b.name + "-access-" + AccessName(e.PrincipalARN)
		entry, err := eks.NewAccessEntry(b.ctx, n, &eks.AccessEntryArgs{
			ClusterName: pulumi.String(b.cfg.Name), PrincipalArn: pulumi.String(e.PrincipalARN), Type: pulumi.String("STANDARD"), Tags: b.tags,
		}, b.parent, pulumi.DependsOn([]pulumi.Resource{b.ekc}))
		if err != nil {
			return err
		}
		scope := &eks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")}
		if len(e.Namespaces) > 0 {
			scope = &eks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("namespace"), Namespaces: kit.StringInputs(e.Namespaces)}
		}
		assoc, err := eks.NewAccessPolicyAssociation(b.ctx, n+"-"+string(e.Policy), &eks.AccessPolicyAssociationArgs{
			ClusterName: pulumi.String(b.cfg.Name), PrincipalArn: entry.PrincipalArn, PolicyArn: pulumi.String(e.Policy.ARN()), AccessScope: scope,
		}, b.parent)
		if err != nil {
			return err
		}
		b.keep(entry, assoc)
	}
	return nil
}

// ProviderArgs are the settings of the provider that talks to a region's
// cluster (the real-provider tier uses them too):
//   - server-side apply, so fields other managers own are left alone;
//   - never delete what is unreachable from state;
//   - mutable ConfigMaps: the program's ConfigMaps (the client settings,
//     the Grafana dashboards) are read live by what mounts or watches
//     them, so a change updates them in place instead of replacing them,
//     which would delete and re-create a named ConfigMap and leave a gap.
//     None of them is meant to be immutable; the charts' own ConfigMaps
//     are Helm's to manage either way.
func ProviderArgs(kubeconfig pulumi.StringInput) *kubernetes.ProviderArgs {
	return &kubernetes.ProviderArgs{
		Kubeconfig:             kubeconfig,
		EnableServerSideApply:  pulumi.Bool(true),
		DeleteUnreachable:      pulumi.Bool(false),
		EnableConfigMapMutable: pulumi.Bool(true),
	}
}

// kubernetesProvider registers the provider that talks to the cluster.
func (b *builder) kubernetesProvider() error {
	provider, err := kubernetes.NewProvider(b.ctx, b.name, ProviderArgs(b.ekc.KubeconfigJson), b.parent)
	if err != nil {
		return err
	}
	b.provider = provider
	b.keep(provider)
	return nil
}

// storageClasses registers the encrypted gp3 storage classes through the
// cluster's provider.
func (b *builder) storageClasses() error {
	for _, sc := range b.cfg.StorageClasses {
		ann := pulumi.StringMap{}
		if sc.Default {
			ann["storageclass.kubernetes.io/is-default-class"] = pulumi.String("true")
		}
		params := VolumeAttributes{ThroughputMiB: sc.ThroughputMiB, IOPS: sc.IOPS}.parameters()
		params["type"], params["encrypted"], params["csi.storage.k8s.io/fstype"] = pulumi.String("gp3"), pulumi.String("true"), pulumi.String("xfs")
		class, err := storagev1.NewStorageClass(b.ctx, b.name+"-"+sc.Name, &storagev1.StorageClassArgs{
			Metadata:             &metav1.ObjectMetaArgs{Name: pulumi.String(sc.Name), Annotations: ann},
			Provisioner:          pulumi.String(EBSDriver),
			VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
			AllowVolumeExpansion: pulumi.Bool(true),
			ReclaimPolicy:        pulumi.String("Retain"),
			Parameters:           params,
		}, b.parent, pulumi.Provider(b.provider))
		if err != nil {
			return err
		}
		b.keep(class)
	}
	return b.attributesClasses()
}

// attributesClasses registers a VolumeAttributesClass for each of
// VolumeAttributes (clusters of 1.34 and later).
func (b *builder) attributesClasses() error {
	if !ServesVolumeAttributes(b.cfg.KubernetesVersion) {
		return nil
	}
	for _, a := range b.cfg.VolumeAttributes {
		name := AttributesClassName(a)
		vac, err := storagev1.NewVolumeAttributesClass(b.ctx, b.name+"-"+name, &storagev1.VolumeAttributesClassArgs{
			Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(name)},
			DriverName: pulumi.String(EBSDriver),
			Parameters: a.parameters(),
			// Kept in the cluster when no longer declared: claims and
			// retained volumes may still name it, and its protection
			// finalizer would hold a delete forever. Declared again, it
			// is adopted (the provider applies server-side).
		}, b.parent, pulumi.Provider(b.provider), pulumi.RetainOnDelete(true))
		if err != nil {
			return err
		}
		b.keep(vac)
	}
	return nil
}
