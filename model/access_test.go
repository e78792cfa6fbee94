package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAccessPolicy(t *testing.T) {
	for _, p := range AccessPolicies {
		assert.NoError(t, p.Valid())
		assert.Regexp(t, `^arn:aws:eks::aws:cluster-access-policy/AmazonEKS\w+Policy$`, p.ARN())
	}
	assert.Equal(t, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", AccessView.ARN())
	err := AccessPolicy("root").Valid()
	assert.EqualError(t, err, `access policy "root": want one of clusterAdmin, admin, edit, view`)
	assert.True(t, AccessClusterAdmin.ClusterWide())
	assert.False(t, AccessEdit.ClusterWide())
}

func TestValidPrincipalARN(t *testing.T) {
	for _, ok := range []string{
		"arn:aws:iam::123456789012:role/platform-admins",
		"arn:aws:iam::123456789012:role/teams/streaming/oncall",
		"arn:aws:iam::123456789012:user/alice",
	} {
		assert.NoError(t, ValidPrincipalARN(ok), ok)
	}
	for _, bad := range []string{
		"", "platform-admins", "arn:aws:iam::12345:role/x",
		"arn:aws:sts::123456789012:assumed-role/admins/alice",
		"arn:aws:iam::123456789012:group/admins",
		"arn:aws-cn:iam::123456789012:role/x",
		"arn:aws:iam::123456789012:role/",
	} {
		assert.ErrorContains(t, ValidPrincipalARN(bad), "want an IAM role or user ARN", bad)
	}
}

func TestValidateGrants(t *testing.T) {
	admin := "arn:aws:iam::123456789012:role/admins"
	ok := []AccessGrant{{PrincipalARN: admin, Policy: AccessClusterAdmin},
		{PrincipalARN: "arn:aws:iam::123456789012:role/devs", Policy: AccessEdit, Namespaces: []string{"pulsar"}}}
	assert.Empty(t, ValidateGrants(ok))
	for name, tc := range map[string]struct {
		grants []AccessGrant
		want   string
	}{
		"duplicate":        {append(ok, AccessGrant{PrincipalARN: admin, Policy: AccessView}), "access[2]: principal " + admin + " is already access[0]"},
		"unknown policy":   {[]AccessGrant{{PrincipalARN: admin, Policy: "owner"}}, `access[0]: access policy "owner": want one of clusterAdmin, admin, edit, view`},
		"bad arn":          {[]AccessGrant{{PrincipalARN: "admins", Policy: AccessView}}, `access[0]: principal "admins"`},
		"namespaced admin": {[]AccessGrant{{PrincipalARN: admin, Policy: AccessClusterAdmin, Namespaces: []string{"pulsar"}}}, "cluster-wide only"},
		"bad namespace":    {[]AccessGrant{{PrincipalARN: admin, Policy: AccessView, Namespaces: []string{"Pulsar_NS"}}}, `namespace "Pulsar_NS"`},
	} {
		errs := ValidateGrants(tc.grants)
		if assert.Len(t, errs, 1, name) {
			assert.ErrorContains(t, errs[0], tc.want, name)
		}
		assert.Equal(t, len(tc.grants)-1, errs[0].Index, name)
	}
}

func TestPolicyName(t *testing.T) {
	names := map[string]bool{}
	for _, p := range append(NodeManagedPolicies, PolicyEBSCSIDriver) {
		n := PolicyName(p)
		assert.Regexp(t, `^[a-z0-9_]+$`, n)
		assert.False(t, names[n], "%s: names are distinct", n)
		names[n] = true
	}
	assert.Equal(t, "eksworkernodepolicy", PolicyName(PolicyWorkerNode))
	assert.Equal(t, "ebscsidriverpolicy", PolicyName(PolicyEBSCSIDriver))
}
