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
	"net/netip"
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

// MetricsServerAddon is the EKS add-on that serves metrics.k8s.io.
const MetricsServerAddon = "metrics-server"

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
	Arch string
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

// Args configure the cluster.
type Args struct {
	// Name is the EKS cluster name.
	Name string
	// KubernetesVersion is the EKS version, e.g. "1.33".
	KubernetesVersion string
	// VpcID, PrivateSubnetIDs and PublicSubnetIDs come from the network.
	VpcID            pulumi.StringInput
	PrivateSubnetIDs pulumi.StringArrayInput
	PublicSubnetIDs  pulumi.StringArrayInput
	// PublicAccessCIDRs open the API endpoint to these CIDRs; empty keeps it
	// private (deploy from inside the VPC or a peered network).
	PublicAccessCIDRs []string
	// SystemPool sizes the system node group.
	SystemPool SystemPool
	// StorageClasses are created for Pulsar's volumes.
	StorageClasses []StorageClass
	// Access lists the IAM principals that may use the Kubernetes API, each
	// with an EKS access policy (people, CI's roles, the operator).
	Access []model.AccessGrant
	// Protect marks the cluster and its secrets key protected: a destroy
	// or a replacement stops instead of deleting them.
	Protect bool
	// Tags are added to every AWS resource.
	Tags map[string]string
}

func (a Args) withDefaults() Args {
	if a.SystemPool.Min == 0 && a.SystemPool.Desired == 0 && a.SystemPool.Max == 0 {
		a.SystemPool.Min, a.SystemPool.Desired, a.SystemPool.Max = 2, 2, 4
	}
	if a.SystemPool.RootVolumeGiB == 0 {
		a.SystemPool.RootVolumeGiB = 50
	}
	return a
}

// Validate checks the plain arguments.
func (a Args) Validate() error {
	a = a.withDefaults()
	var errs []error
	if a.Name == "" || len(a.Name) > 100 {
		errs = append(errs, fmt.Errorf("name %q: want 1..100 characters", a.Name))
	}
	if !strings.HasPrefix(a.KubernetesVersion, "1.") {
		errs = append(errs, fmt.Errorf("kubernetesVersion %q: want 1.NN", a.KubernetesVersion))
	}
	for _, c := range a.PublicAccessCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			errs = append(errs, fmt.Errorf("publicAccessCidrs: %q is not a CIDR", c))
		}
	}
	sp := a.SystemPool
	if len(sp.InstanceTypes) == 0 {
		errs = append(errs, errors.New("systemPool.instanceTypes: at least one"))
	}
	if sp.Arch != "arm64" && sp.Arch != "amd64" {
		errs = append(errs, fmt.Errorf("systemPool.arch %q: want arm64 or amd64", sp.Arch))
	}
	if !(sp.Min >= 1 && sp.Min <= sp.Desired && sp.Desired <= sp.Max) {
		errs = append(errs, fmt.Errorf("systemPool: min %d <= desired %d <= max %d with min >= 1", sp.Min, sp.Desired, sp.Max))
	}
	if sp.RootVolumeGiB < 20 || sp.RootVolumeGiB > 1000 {
		errs = append(errs, fmt.Errorf("systemPool.rootVolumeGiB %d: want 20..1000", sp.RootVolumeGiB))
	}
	for _, err := range model.ValidateGrants(a.Access) {
		errs = append(errs, err)
	}
	for _, sc := range a.StorageClasses {
		if sc.ThroughputMiB < 125 || sc.ThroughputMiB > 1000 {
			errs = append(errs, fmt.Errorf("storageClass %s: throughput %d MiB/s, want 125..1000 (gp3)", sc.Name, sc.ThroughputMiB))
		}
		if sc.IOPS < 3000 || sc.IOPS > 16000 {
			errs = append(errs, fmt.Errorf("storageClass %s: iops %d, want 3000..16000 (gp3)", sc.Name, sc.IOPS))
		}
	}
	return errors.Join(errs...)
}

// wiring checks the inputs that come from other components.
func (a Args) wiring() error {
	if a.VpcID == nil || a.PrivateSubnetIDs == nil || a.PublicSubnetIDs == nil {
		return errors.New("vpcId, privateSubnetIds and publicSubnetIds are required (from the network component)")
	}
	return nil
}

// AMIType is the managed node group AMI for an architecture.
func AMIType(arch string) string {
	if arch == "arm64" {
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
}

// NewCluster registers the cluster.
func NewCluster(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	args = args.withDefaults()
	if err := errors.Join(args.Validate(), args.wiring()); err != nil {
		return nil, kit.Wrap("cluster", name, err)
	}
	c := &Cluster{Name: args.Name}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, kit.Wrap("cluster", name, err)
	}
	parent := pulumi.Parent(c)
	tags := kit.Tags(args.Tags)
	fail := func(err error) (*Cluster, error) { return nil, kit.Wrap("cluster", name, err) }

	key, err := kms.NewKey(ctx, name+"-secrets", &kms.KeyArgs{
		Description:          pulumi.Sprintf("EKS secrets envelope encryption for %s", args.Name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Tags:                 tags,
	}, parent, pulumi.Protect(args.Protect))
	if err != nil {
		return fail(err)
	}
	if _, err := kms.NewAlias(ctx, name+"-secrets", &kms.AliasArgs{
		Name: pulumi.String("alias/" + args.Name + "-secrets"), TargetKeyId: key.KeyId,
	}, parent); err != nil {
		return fail(err)
	}
	private, public := EndpointAccess(args.PublicAccessCIDRs)
	clusterArgs := &pulumieks.ClusterArgs{
		Name:                         pulumi.String(args.Name),
		Version:                      pulumi.String(args.KubernetesVersion),
		VpcId:                        args.VpcID,
		PrivateSubnetIds:             args.PrivateSubnetIDs,
		PublicSubnetIds:              args.PublicSubnetIDs,
		NodeAssociatePublicIpAddress: pulumi.BoolRef(false),
		EndpointPrivateAccess:        pulumi.Bool(private),
		EndpointPublicAccess:         pulumi.Bool(public),
		EnabledClusterLogTypes:       kit.StringInputs(ControlPlaneLogTypes),
		EncryptionConfigKeyArn:       key.Arn,
		CreateOidcProvider:           pulumi.Bool(true),
		SkipDefaultNodeGroup:         pulumi.BoolRef(true),
		SkipDefaultSecurityGroups:    pulumi.BoolRef(true),
		Tags:                         tags,
	}
	mode := pulumieks.AuthenticationModeApi
	clusterArgs.AuthenticationMode = &mode
	if public {
		clusterArgs.PublicAccessCidrs = kit.StringInputs(args.PublicAccessCIDRs)
	}
	ekc, err := pulumieks.NewCluster(ctx, name, clusterArgs, parent, pulumi.Protect(args.Protect))
	if err != nil {
		return fail(err)
	}
	c.EKS = ekc

	nodeRole, err := iam.NewRole(ctx, name+"-system-node", &iam.RoleArgs{
		AssumeRolePolicy: kit.ServiceTrust("ec2.amazonaws.com").JSON(),
		Description:      pulumi.Sprintf("System node group of %s", args.Name),
		Tags:             tags,
	}, parent)
	if err != nil {
		return fail(err)
	}
	for _, p := range model.NodeManagedPolicies {
		if _, err := iam.NewRolePolicyAttachment(ctx, name+"-system-node-"+model.PolicyName(p), &iam.RolePolicyAttachmentArgs{
			Role: nodeRole.Name, PolicyArn: pulumi.String(p),
		}, parent); err != nil {
			return fail(err)
		}
	}
	sp := args.SystemPool
	// Our own launch template (pulumi-eks's enableIMDSv2 template leaves the
	// root volume to the account's EBS default): IMDSv2 only, one hop so
	// pods cannot reach the node role (add-ons use IRSA), an encrypted gp3
	// root volume.
	lt, err := ec2.NewLaunchTemplate(ctx, name+"-system", &ec2.LaunchTemplateArgs{
		Description: pulumi.Sprintf("System node group of %s", args.Name),
		MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint: pulumi.String("enabled"), HttpTokens: pulumi.String("required"),
			HttpPutResponseHopLimit: pulumi.Int(1),
		},
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{&ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/xvda"),
			Ebs: &ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				Encrypted: pulumi.String("true"), VolumeType: pulumi.String("gp3"), VolumeSize: pulumi.Int(sp.RootVolumeGiB),
				DeleteOnTermination: pulumi.String("true"),
			},
		}},
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{
			&ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("instance"), Tags: tags},
			&ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("volume"), Tags: tags},
		},
		Tags: tags,
	}, parent)
	if err != nil {
		return fail(err)
	}
	if _, err := pulumieks.NewManagedNodeGroup(ctx, name+"-system", &pulumieks.ManagedNodeGroupArgs{
		Cluster:       ekc,
		NodeRole:      nodeRole,
		NodeGroupName: pulumi.String("system"),
		CapacityType:  pulumi.String("ON_DEMAND"),
		InstanceTypes: kit.StringInputs(sp.InstanceTypes),
		AmiType:       pulumi.String(AMIType(sp.Arch)),
		SubnetIds:     args.PrivateSubnetIDs,
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
		Tags: tags,
	}, parent); err != nil {
		return fail(err)
	}

	// EBS CSI driver, through IRSA, for the journal, ledger and ZooKeeper volumes.
	csiRole, err := iam.NewRole(ctx, name+"-ebs-csi", &iam.RoleArgs{
		AssumeRolePolicy: kit.IRSATrust(ekc.OidcProviderArn, ekc.OidcIssuer, "kube-system", "ebs-csi-controller-sa").JSON(),
		Description:      pulumi.Sprintf("EBS CSI driver of %s", args.Name),
		Tags:             tags,
	}, parent)
	if err != nil {
		return fail(err)
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, name+"-ebs-csi", &iam.RolePolicyAttachmentArgs{
		Role: csiRole.Name, PolicyArn: pulumi.String(model.PolicyEBSCSIDriver),
	}, parent); err != nil {
		return fail(err)
	}
	if _, err := eks.NewAddon(ctx, name+"-ebs-csi", &eks.AddonArgs{
		ClusterName:              pulumi.String(args.Name),
		AddonName:                pulumi.String("aws-ebs-csi-driver"),
		ServiceAccountRoleArn:    csiRole.Arn,
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
		Tags:                     tags,
	}, parent, pulumi.DependsOn([]pulumi.Resource{ekc})); err != nil {
		return fail(err)
	}

	// Metrics Server (an EKS community add-on) serves the resource metrics
	// the broker and proxy HPAs scale on; without it they hold their
	// minimum forever. It schedules on the system node group or, failing
	// that, the untainted general pool.
	if _, err := eks.NewAddon(ctx, name+"-metrics-server", &eks.AddonArgs{
		ClusterName:              pulumi.String(args.Name),
		AddonName:                pulumi.String(MetricsServerAddon),
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
		Tags:                     tags,
	}, parent, pulumi.DependsOn([]pulumi.Resource{ekc})); err != nil {
		return fail(err)
	}

	if err := newAccessEntries(ctx, name, args, ekc, tags, parent); err != nil {
		return fail(err)
	}

	provider, err := kubernetes.NewProvider(ctx, name, &kubernetes.ProviderArgs{
		Kubeconfig:            ekc.KubeconfigJson,
		EnableServerSideApply: pulumi.Bool(true),
		DeleteUnreachable:     pulumi.Bool(false),
	}, parent)
	if err != nil {
		return fail(err)
	}
	c.Provider = provider
	for _, sc := range args.StorageClasses {
		ann := pulumi.StringMap{}
		if sc.Default {
			ann["storageclass.kubernetes.io/is-default-class"] = pulumi.String("true")
		}
		if _, err := storagev1.NewStorageClass(ctx, name+"-"+sc.Name, &storagev1.StorageClassArgs{
			Metadata:             &metav1.ObjectMetaArgs{Name: pulumi.String(sc.Name), Annotations: ann},
			Provisioner:          pulumi.String("ebs.csi.aws.com"),
			VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
			AllowVolumeExpansion: pulumi.Bool(true),
			ReclaimPolicy:        pulumi.String("Retain"),
			Parameters: pulumi.StringMap{
				"type": pulumi.String("gp3"), "encrypted": pulumi.String("true"), "csi.storage.k8s.io/fstype": pulumi.String("xfs"),
				"throughput": pulumi.Sprintf("%d", sc.ThroughputMiB), "iops": pulumi.Sprintf("%d", sc.IOPS),
			},
		}, parent, pulumi.Provider(provider)); err != nil {
			return fail(err)
		}
	}

	c.KubeconfigJSON = pulumi.ToSecret(ekc.KubeconfigJson).(pulumi.StringOutput)
	c.OIDCProviderARN = ekc.OidcProviderArn
	c.OIDCIssuer = ekc.OidcIssuer
	c.ClusterSecurityGroupID = ekc.ClusterSecurityGroupId
	c.SecretsKeyARN = key.Arn
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"clusterName": pulumi.String(args.Name), "kubeconfig": c.KubeconfigJSON, "oidcProviderArn": c.OIDCProviderARN,
		"clusterSecurityGroupId": c.ClusterSecurityGroupID, "secretsKeyArn": c.SecretsKeyARN,
	}); err != nil {
		return fail(err)
	}
	return c, nil
}

// AccessName is the resource name part of a principal: its account and
// its name, so entries keep their names when the list is reordered.
func AccessName(principalARN string) string {
	account := strings.Split(principalARN, ":")[4]
	return account + "-" + strings.ToLower(principalARN[strings.LastIndex(principalARN, "/")+1:])
}

// newAccessEntries registers one access entry and one policy association
// per principal.
func newAccessEntries(ctx *pulumi.Context, name string, args Args, ekc *pulumieks.Cluster, tags pulumi.StringMap, parent pulumi.ResourceOption) error {
	for _, e := range args.Access {
		n := name + "-access-" + AccessName(e.PrincipalARN)
		entry, err := eks.NewAccessEntry(ctx, n, &eks.AccessEntryArgs{
			ClusterName: pulumi.String(args.Name), PrincipalArn: pulumi.String(e.PrincipalARN), Type: pulumi.String("STANDARD"), Tags: tags,
		}, parent, pulumi.DependsOn([]pulumi.Resource{ekc}))
		if err != nil {
			return err
		}
		scope := &eks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")}
		if len(e.Namespaces) > 0 {
			scope = &eks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("namespace"), Namespaces: kit.StringInputs(e.Namespaces)}
		}
		if _, err := eks.NewAccessPolicyAssociation(ctx, n+"-"+string(e.Policy), &eks.AccessPolicyAssociationArgs{
			ClusterName: pulumi.String(args.Name), PrincipalArn: entry.PrincipalArn, PolicyArn: pulumi.String(e.Policy.ARN()), AccessScope: scope,
		}, parent); err != nil {
			return err
		}
	}
	return nil
}
