package model

import "strings"

// AWS managed policies, in one place: every node role carries
// NodeManagedPolicies (the system node group's and Karpenter's nodes').
const (
	PolicyWorkerNode      = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"
	PolicyCNI             = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"
	PolicyECRReadOnly     = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	PolicySSMManagedCore  = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
	PolicyEBSCSIDriver    = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
	managedPolicyNameTrim = "Amazon"
)

// NodeManagedPolicies are the managed policies of every node role.
var NodeManagedPolicies = []string{PolicyWorkerNode, PolicyCNI, PolicyECRReadOnly, PolicySSMManagedCore}

// PolicyName is a managed policy's short, stable name for resource names:
// attachments are named by policy, never by their place in a list, so
// reordering a list replaces nothing.
func PolicyName(arn string) string {
	name := arn[strings.LastIndex(arn, "/")+1:]
	return strings.ToLower(strings.TrimPrefix(name, managedPolicyNameTrim))
}
