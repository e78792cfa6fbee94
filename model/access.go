// Package model holds the closed sets of values that config, the planner,
// the region design and the components share, each a type with one
// Valid() that names the allowed values.
package model

import (
	"fmt"
	"regexp"
	"strings"
)

// AccessPolicy is the Kubernetes access an IAM principal gets through an
// EKS access entry: one of EKS's cluster access policies.
type AccessPolicy string

// The access policies, widest first.
const (
	AccessClusterAdmin AccessPolicy = "clusterAdmin"
	AccessAdmin        AccessPolicy = "admin"
	AccessEdit         AccessPolicy = "edit"
	AccessView         AccessPolicy = "view"
)

// AccessPolicies lists every access policy.
var AccessPolicies = []AccessPolicy{AccessClusterAdmin, AccessAdmin, AccessEdit, AccessView}

var accessPolicyARN = map[AccessPolicy]string{
	AccessClusterAdmin: "AmazonEKSClusterAdminPolicy",
	AccessAdmin:        "AmazonEKSAdminPolicy",
	AccessEdit:         "AmazonEKSEditPolicy",
	AccessView:         "AmazonEKSViewPolicy",
}

// Valid reports an unknown policy, naming the allowed ones.
func (p AccessPolicy) Valid() error {
	if _, ok := accessPolicyARN[p]; ok {
		return nil
	}
	return fmt.Errorf("access policy %q: want one of %s", string(p), joinAccessPolicies())
}

// ARN is the EKS cluster access policy's ARN.
func (p AccessPolicy) ARN() string {
	return "arn:aws:eks::aws:cluster-access-policy/" + accessPolicyARN[p]
}

// ClusterWide reports whether the policy may only be granted cluster-wide
// (EKS refuses AmazonEKSClusterAdminPolicy scoped to namespaces).
func (p AccessPolicy) ClusterWide() bool { return p == AccessClusterAdmin }

func joinAccessPolicies() string {
	names := make([]string, len(AccessPolicies))
	for i, p := range AccessPolicies {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}

// principalARN is an IAM role or user ARN in the aws partition (paths
// allowed); an assumed-role session or a group cannot hold an access entry.
var principalARN = regexp.MustCompile(`^arn:aws:iam::[0-9]{12}:(role|user)/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)

// ValidPrincipalARN reports whether arn can hold an EKS access entry.
func ValidPrincipalARN(arn string) error {
	if principalARN.MatchString(arn) {
		return nil
	}
	return fmt.Errorf("principal %q: want an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admins "+
		"(not an assumed-role session, a group or another partition)", arn)
}

// AccessGrant gives one IAM principal Kubernetes access: an EKS access
// entry with one access policy association.
type AccessGrant struct {
	// PrincipalARN is an IAM role or user.
	PrincipalARN string `json:"principalArn"`
	// Policy is the EKS access policy.
	Policy AccessPolicy `json:"policy"`
	// Namespaces scope the policy; empty means cluster-wide.
	Namespaces []string `json:"namespaces,omitempty"`
}

// Valid checks one grant: the principal, the policy, and namespaces that
// are Kubernetes names and allowed for the policy.
func (g AccessGrant) Valid() error {
	if err := ValidPrincipalARN(g.PrincipalARN); err != nil {
		return err
	}
	if err := g.Policy.Valid(); err != nil {
		return err
	}
	if g.Policy.ClusterWide() && len(g.Namespaces) > 0 {
		return fmt.Errorf("access policy %s is cluster-wide only: use admin, edit or view with namespaces", g.Policy)
	}
	for _, ns := range g.Namespaces {
		if !IsKubernetesName(ns) {
			return fmt.Errorf("namespace %q: want a Kubernetes namespace name", ns)
		}
	}
	return nil
}

// GrantError is a problem with grants[Index].
type GrantError struct {
	Index int
	Err   error
}

func (e *GrantError) Error() string { return fmt.Sprintf("access[%d]: %v", e.Index, e.Err) }

func (e *GrantError) Unwrap() error { return e.Err }

// ValidateGrants checks every grant and that no principal is listed twice
// (EKS holds one access entry per principal).
func ValidateGrants(grants []AccessGrant) []*GrantError {
	var errs []*GrantError
	seen := map[string]int{}
	for i, g := range grants {
		if err := g.Valid(); err != nil {
			errs = append(errs, &GrantError{i, err})
		}
		if j, dup := seen[g.PrincipalARN]; dup {
			errs = append(errs, &GrantError{i, fmt.Errorf("principal %s is already access[%d]: EKS holds one access entry per principal", g.PrincipalARN, j)})
		}
		seen[g.PrincipalARN] = i
	}
	return errs
}
