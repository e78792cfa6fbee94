package capacity

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
)

// InterruptionRule is one EventBridge rule feeding the interruption queue.
type InterruptionRule struct {
	Name        string
	Description string
	Pattern     EventPattern
}

// EventPattern is an EventBridge event pattern.
type EventPattern struct {
	Source     []string `json:"source"`
	DetailType []string `json:"detail-type"`
}

// InterruptionRules are the events Karpenter acts on: it cordons and drains
// a node before a spot reclaim, on a rebalance recommendation, before
// scheduled maintenance, and cleans up after instances stop or terminate.
func InterruptionRules() []InterruptionRule {
	return []InterruptionRule{
		{"spot-interruption", "EC2 spot interruption warnings (2 minutes notice)", EventPattern{[]string{"aws.ec2"}, []string{"EC2 Spot Instance Interruption Warning"}}},
		{"rebalance", "EC2 instance rebalance recommendations", EventPattern{[]string{"aws.ec2"}, []string{"EC2 Instance Rebalance Recommendation"}}},
		{"scheduled-change", "AWS Health scheduled changes", EventPattern{[]string{"aws.health"}, []string{"AWS Health Event"}}},
		{"instance-state-change", "EC2 instance state changes", EventPattern{[]string{"aws.ec2"}, []string{"EC2 Instance State-change Notification"}}},
	}
}

// QueuePolicy lets only the interruption rules (and SQS itself) send to the
// queue, and denies any access without TLS.
func QueuePolicy(queueARN pulumi.StringInput, ruleARNs []pulumi.StringInput) kit.PolicyDocument {
	return kit.PolicyDocument{Statements: []kit.Statement{
		{
			Sid:        "EventBridgeRulesSend",
			Actions:    []string{"sqs:SendMessage"},
			Resources:  []pulumi.StringInput{queueARN},
			Principals: []kit.Principal{{Type: "Service", Identifiers: kit.Strings("events.amazonaws.com", "sqs.amazonaws.com")}},
			Conditions: []kit.Condition{{Test: "ArnEquals", Variable: pulumi.String("aws:SourceArn"), Values: ruleARNs}},
		},
		{
			Sid:        "DenyInsecureTransport",
			Effect:     "Deny",
			Actions:    []string{"sqs:*"},
			Resources:  []pulumi.StringInput{queueARN},
			Principals: []kit.Principal{{Type: "AWS", Identifiers: kit.Strings("*")}},
			Conditions: []kit.Condition{{Test: "Bool", Variable: pulumi.String("aws:SecureTransport"), Values: kit.Strings("false")}},
		},
	}}
}

// ControllerPolicy is the Karpenter v1 controller's policy, scoped to this
// cluster's tagged resources, its region, its queue and its node role.
func ControllerPolicy(cluster, region string, queueARN, nodeRoleARN pulumi.StringInput) kit.PolicyDocument {
	ec2 := func(res string) pulumi.StringInput { return pulumi.String("arn:aws:ec2:" + region + ":*:" + res) }
	owned := "aws:RequestTag/kubernetes.io/cluster/" + cluster
	resOwned := "aws:ResourceTag/kubernetes.io/cluster/" + cluster
	cond := func(test, v string, vals ...string) kit.Condition {
		return kit.Condition{Test: test, Variable: pulumi.String(v), Values: kit.Strings(vals...)}
	}
	tagged := []pulumi.StringInput{ec2("fleet/*"), ec2("instance/*"), ec2("volume/*"), ec2("network-interface/*"), ec2("launch-template/*")}
	return kit.PolicyDocument{Statements: []kit.Statement{
		{Sid: "AllowScopedEC2InstanceActions", Actions: []string{"ec2:RunInstances", "ec2:CreateFleet"},
			Resources: []pulumi.StringInput{pulumi.String("arn:aws:ec2:" + region + "::image/*"), pulumi.String("arn:aws:ec2:" + region + "::snapshot/*"),
				ec2("spot-instances-request/*"), ec2("security-group/*"), ec2("subnet/*"), ec2("launch-template/*"), ec2("capacity-reservation/*")}},
		{Sid: "AllowScopedEC2InstanceActionsWithTags", Actions: []string{"ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"},
			Resources:  tagged,
			Conditions: []kit.Condition{cond("StringEquals", owned, "owned"), cond("StringLike", "aws:RequestTag/karpenter.sh/nodepool", "*")}},
		{Sid: "AllowScopedResourceCreationTagging", Actions: []string{"ec2:CreateTags"}, Resources: tagged,
			Conditions: []kit.Condition{cond("StringEquals", owned, "owned"), cond("StringEquals", "ec2:CreateAction", "RunInstances", "CreateFleet", "CreateLaunchTemplate"),
				cond("StringLike", "aws:RequestTag/karpenter.sh/nodepool", "*")}},
		{Sid: "AllowScopedResourceTagging", Actions: []string{"ec2:CreateTags"}, Resources: []pulumi.StringInput{ec2("instance/*")},
			Conditions: []kit.Condition{cond("StringEquals", resOwned, "owned"), cond("StringLike", "aws:ResourceTag/karpenter.sh/nodepool", "*"),
				cond("ForAllValues:StringEquals", "aws:TagKeys", "karpenter.sh/nodeclaim", "Name")}},
		{Sid: "AllowScopedDeletion", Actions: []string{"ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"},
			Resources:  []pulumi.StringInput{ec2("instance/*"), ec2("launch-template/*")},
			Conditions: []kit.Condition{cond("StringEquals", resOwned, "owned"), cond("StringLike", "aws:ResourceTag/karpenter.sh/nodepool", "*")}},
		{Sid: "AllowRegionalReadActions", Actions: []string{"ec2:DescribeAvailabilityZones", "ec2:DescribeCapacityReservations", "ec2:DescribeImages",
			"ec2:DescribeInstances", "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplates",
			"ec2:DescribePlacementGroups", "ec2:DescribeSecurityGroups", "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets"},
			Resources: kit.Strings("*"), Conditions: []kit.Condition{cond("StringEquals", "aws:RequestedRegion", region)}},
		{Sid: "AllowSSMReadActions", Actions: []string{"ssm:GetParameter"},
			Resources: kit.Strings("arn:aws:ssm:" + region + "::parameter/aws/service/*")},
		{Sid: "AllowPricingReadActions", Actions: []string{"pricing:GetProducts"}, Resources: kit.Strings("*")},
		{Sid: "AllowInterruptionQueueActions", Actions: []string{"sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"},
			Resources: []pulumi.StringInput{queueARN}},
		{Sid: "AllowPassingInstanceRole", Actions: []string{"iam:PassRole"}, Resources: []pulumi.StringInput{nodeRoleARN},
			Conditions: []kit.Condition{cond("StringEquals", "iam:PassedToService", "ec2.amazonaws.com")}},
		{Sid: "AllowScopedInstanceProfileCreationActions", Actions: []string{"iam:CreateInstanceProfile"}, Resources: kit.Strings("*"),
			Conditions: []kit.Condition{cond("StringEquals", owned, "owned"), cond("StringEquals", "aws:RequestTag/topology.kubernetes.io/region", region),
				cond("StringLike", "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass", "*")}},
		{Sid: "AllowScopedInstanceProfileTagActions", Actions: []string{"iam:TagInstanceProfile"}, Resources: kit.Strings("*"),
			Conditions: []kit.Condition{cond("StringEquals", resOwned, "owned"), cond("StringEquals", "aws:ResourceTag/topology.kubernetes.io/region", region),
				cond("StringEquals", owned, "owned"), cond("StringEquals", "aws:RequestTag/topology.kubernetes.io/region", region),
				cond("StringLike", "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass", "*"), cond("StringLike", "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass", "*")}},
		{Sid: "AllowScopedInstanceProfileActions", Actions: []string{"iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"},
			Resources: kit.Strings("*"),
			Conditions: []kit.Condition{cond("StringEquals", resOwned, "owned"), cond("StringEquals", "aws:ResourceTag/topology.kubernetes.io/region", region),
				cond("StringLike", "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass", "*")}},
		{Sid: "AllowInstanceProfileReadActions", Actions: []string{"iam:GetInstanceProfile"}, Resources: kit.Strings("*")},
		{Sid: "AllowAPIServerEndpointDiscovery", Actions: []string{"eks:DescribeCluster"},
			Resources: []pulumi.StringInput{pulumi.Sprintf("arn:aws:eks:%s:*:cluster/%s", region, cluster)}},
	}}
}
