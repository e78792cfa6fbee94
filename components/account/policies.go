package account

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
)

// PreviewSubjects are the GitHub token subjects that may assume the preview
// role: pull requests, and the drift check on the drift branch.
func PreviewSubjects(a Args) []string {
	return []string{"repo:" + a.Repository + ":pull_request", "repo:" + a.Repository + ":ref:refs/heads/" + a.DriftBranch}
}

// DeploySubjects are the GitHub token subjects that may assume the deploy
// role: only jobs of the protected deploy environment.
func DeploySubjects(a Args) []string {
	return []string{"repo:" + a.Repository + ":environment:" + a.DeployEnvironment}
}

// GitHubTrust lets GitHub Actions jobs with one of subjects assume a role.
func GitHubTrust(providerARN pulumi.StringInput, subjects []string) kit.PolicyDocument {
	return kit.PolicyDocument{Statements: []kit.Statement{{
		Sid:        "GitHubActions",
		Actions:    []string{"sts:AssumeRoleWithWebIdentity"},
		Principals: []kit.Principal{{Type: "Federated", Identifiers: []pulumi.StringInput{providerARN}}},
		Conditions: []kit.Condition{
			{Test: "StringEquals", Variable: pulumi.String(GitHubIssuer + ":aud"), Values: kit.Strings("sts.amazonaws.com")},
			{Test: "StringEquals", Variable: pulumi.String(GitHubIssuer + ":sub"), Values: kit.Strings(subjects...)},
		},
	}}}
}

// ReadOnlyActions read the metadata of what the stacks create, for
// previews and refreshes. No data is read: no s3:GetObject outside the
// state bucket, no secret values, no KMS decryption outside the state key.
var ReadOnlyActions = []string{
	"sts:GetCallerIdentity",
	"ec2:Describe*", "eks:Describe*", "eks:List*", "elasticloadbalancing:Describe*",
	"iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:GetPolicy",
	"iam:GetPolicyVersion", "iam:GetOpenIDConnectProvider", "iam:GetInstanceProfile", "iam:ListInstanceProfilesForRole",
	"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListResourceTags",
	"s3:GetBucket*", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration",
	"s3:GetIntelligentTieringConfiguration", "s3:GetAccelerateConfiguration", "s3:ListAllMyBuckets",
	"sqs:GetQueueAttributes", "sqs:ListQueueTags", "events:DescribeRule", "events:ListTargetsByRule", "events:ListTagsForResource",
	"route53:GetHostedZone", "route53:GetHealthCheck", "route53:ListResourceRecordSets", "route53:ListTagsForResource",
	"acm:DescribeCertificate", "acm:ListTagsForCertificate", "logs:DescribeLogGroups", "logs:ListTagsForResource",
	"globalaccelerator:Describe*", "globalaccelerator:List*", "ssm:GetParameter",
}

// ManageActions are what the region stacks do to the resources they own,
// by verb (never a whole service on every resource, which
// iampolicy.CheckNoWildcardAdmin refuses). Instances are Karpenter's, with
// its own role; load balancers are the clusters' own.
var ManageActions = []string{
	"ec2:Describe*", "ec2:Create*", "ec2:Delete*", "ec2:Modify*", "ec2:Associate*", "ec2:Disassociate*", "ec2:Attach*",
	"ec2:Detach*", "ec2:Authorize*", "ec2:Revoke*", "ec2:Allocate*", "ec2:Release*", "ec2:ReplaceRoute", "ec2:Get*",
	"eks:Describe*", "eks:List*", "eks:Create*", "eks:Delete*", "eks:Update*", "eks:Associate*", "eks:Disassociate*",
	"eks:TagResource", "eks:UntagResource", "elasticloadbalancing:Describe*",
	"s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucket*", "s3:PutBucket*", "s3:DeleteBucketPolicy",
	"s3:Get*Configuration", "s3:Put*Configuration", "s3:ListAllMyBuckets",
	"kms:CreateKey", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias", "kms:Describe*", "kms:Get*", "kms:List*",
	"kms:EnableKeyRotation", "kms:PutKeyPolicy", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
	"kms:UpdateKeyDescription", "kms:CreateGrant",
	"sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueue*", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue", "sqs:List*",
	"events:PutRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets", "events:Describe*", "events:List*",
	"events:TagResource", "events:UntagResource",
	"route53:ChangeResourceRecordSets", "route53:CreateHealthCheck", "route53:DeleteHealthCheck", "route53:UpdateHealthCheck",
	"route53:Get*", "route53:List*", "route53:ChangeTagsForResource",
	"acm:RequestCertificate", "acm:DeleteCertificate", "acm:Describe*", "acm:List*", "acm:AddTagsToCertificate",
	"acm:RemoveTagsFromCertificate",
	"logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:Describe*", "logs:List*", "logs:TagResource",
	"logs:UntagResource",
	"globalaccelerator:Create*", "globalaccelerator:Delete*", "globalaccelerator:Update*", "globalaccelerator:Describe*",
	"globalaccelerator:List*", "globalaccelerator:TagResource", "globalaccelerator:UntagResource",
	"ssm:GetParameter", "sts:GetCallerIdentity",
}

// ManageIAMActions are the IAM actions the stacks need: roles, their
// policies, instance profiles (Karpenter) and the clusters' OIDC providers.
// Users, groups and access keys are not among them.
var ManageIAMActions = []string{
	"iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole",
	"iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
	"iam:CreatePolicy", "iam:DeletePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:TagPolicy",
	"iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile",
	"iam:TagInstanceProfile", "iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider",
	"iam:UpdateOpenIDConnectProviderThumbprint", "iam:TagOpenIDConnectProvider", "iam:CreateServiceLinkedRole",
}

// PassRoleServices are the services the stacks hand roles to.
var PassRoleServices = []string{"eks.amazonaws.com", "ec2.amazonaws.com", "s3.amazonaws.com"}

// DeniedActions are refused to the deploy and operator roles whatever
// else grants them: long-lived credentials, and changes to
// the account or organization.
var DeniedActions = []string{
	"iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:AttachUserPolicy", "iam:PutUserPolicy",
	"iam:AddUserToGroup", "organizations:*", "account:*",
}

// statePolicy reads and writes the Pulumi state and uses its key.
func statePolicy(bucketARN, keyARN pulumi.StringInput, write bool) []kit.Statement {
	objects := []string{"s3:GetObject", "s3:GetObjectVersion"}
	if write {
		objects = append(objects, "s3:PutObject", "s3:DeleteObject")
	}
	key := []string{"kms:Decrypt", "kms:DescribeKey"}
	if write {
		key = append(key, "kms:Encrypt", "kms:GenerateDataKey")
	}
	return []kit.Statement{
		{Sid: "StateList", Actions: []string{"s3:ListBucket", "s3:GetBucketLocation"}, Resources: []pulumi.StringInput{bucketARN}},
		{Sid: "StateObjects", Actions: objects, Resources: []pulumi.StringInput{pulumi.Sprintf("%s/*", bucketARN)}},
		{Sid: "StateKey", Actions: key, Resources: []pulumi.StringInput{keyARN}},
	}
}

// PreviewPolicy is the preview role's: read the state, decrypt its
// secrets, take the preview lock, read resource metadata. It changes
// nothing in the account.
func PreviewPolicy(bucketARN, keyARN pulumi.StringInput) kit.PolicyDocument {
	st := statePolicy(bucketARN, keyARN, false)
	st = append(st,
		kit.Statement{Sid: "StateLocks", Actions: []string{"s3:PutObject", "s3:DeleteObject"},
			Resources: []pulumi.StringInput{pulumi.Sprintf("%s/.pulumi/locks/*", bucketARN)}},
		kit.Statement{Sid: "ReadMetadata", Actions: ReadOnlyActions, Resources: kit.Strings("*")},
	)
	return kit.PolicyDocument{Statements: st}
}

// DeployPolicy is the deploy (and operator) role's: the state, the
// services the stacks manage, IAM roles and policies, roles passed only to
// the services that take them, and explicit denies. The state bucket and
// key cannot be deleted with it.
func DeployPolicy(bucketARN, keyARN pulumi.StringInput) kit.PolicyDocument {
	st := statePolicy(bucketARN, keyARN, true)
	st = append(st,
		kit.Statement{Sid: "Manage", Actions: ManageActions, Resources: kit.Strings("*")},
		kit.Statement{Sid: "ManageIAM", Actions: append(append([]string(nil), ManageIAMActions...), "iam:Get*", "iam:List*"), Resources: kit.Strings("*")},
		kit.Statement{Sid: "PassRoles", Actions: []string{"iam:PassRole"}, Resources: kit.Strings("*"),
			Conditions: []kit.Condition{{Test: "StringEquals", Variable: pulumi.String("iam:PassedToService"), Values: kit.Strings(PassRoleServices...)}}},
		kit.Statement{Sid: "DenyCredentialsAndAccount", Effect: "Deny", Actions: DeniedActions, Resources: kit.Strings("*")},
		kit.Statement{Sid: "KeepState", Effect: "Deny", Actions: []string{"s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketVersioning"},
			Resources: []pulumi.StringInput{bucketARN}},
		kit.Statement{Sid: "KeepStateKey", Effect: "Deny", Actions: []string{"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy"},
			Resources: []pulumi.StringInput{keyARN}},
	)
	return kit.PolicyDocument{Statements: st}
}
