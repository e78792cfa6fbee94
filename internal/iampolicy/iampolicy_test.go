package iampolicy

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every form of "everything on everything" is refused; scoped grants and
// denies pass.
func TestCheckNoWildcardAdmin(t *testing.T) {
	for _, tc := range []struct {
		name, statement, want string
	}{
		{"star on star", `{"Effect":"Allow","Action":"*","Resource":"*"}`, "on every resource"},
		{"a service on star", `{"Effect":"Allow","Action":["s3:GetObject","s3:*"],"Resource":"*"}`, "on every resource"},
		{"star on an ARN of every service", `{"Effect":"Allow","Action":"*","Resource":"arn:aws:*:*:*:*"}`, "on every resource"},
		{"star on an ARN of every partition", `{"Effect":"Allow","Action":"iam:*","Resource":"arn:*:iam::123456789012:role/x"}`, "on every resource"},
		{"NotAction", `{"Effect":"Allow","NotAction":"sts:DecodeAuthorizationMessage","Resource":"*"}`, "every action but"},
		{"NotResource", `{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::x"}`, "every resource but"},
		{"scoped", `{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bucket/*"}`, ""},
		{"an action on star", `{"Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"}`, ""},
		{"a deny", `{"Effect":"Deny","Action":"*","Resource":"*"}`, ""},
		{"a deny with NotAction", `{"Effect":"Deny","NotAction":"s3:GetObject","Resource":"*"}`, ""},
	} {
		err := CheckNoWildcardAdmin(`{"Version":"2012-10-17","Statement":[` + tc.statement + `]}`)
		if tc.want == "" {
			assert.NoError(t, err, tc.name)
		} else {
			assert.ErrorContains(t, err, tc.want, tc.name)
		}
	}
	assert.Error(t, CheckNoWildcardAdmin("not json"))
}
