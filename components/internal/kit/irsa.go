package kit

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// IRSATrust is the trust policy of a role assumed by exactly one Kubernetes
// service account through the cluster's OIDC provider (IAM Roles for Service
// Accounts). issuer is the provider URL without "https://".
func IRSATrust(providerARN, issuer pulumi.StringInput, namespace, serviceAccount string) PolicyDocument {
	return PolicyDocument{Statements: []Statement{{
		Sid:        "AssumedOnlyBy" + sanitizeSid(namespace+serviceAccount),
		Actions:    []string{"sts:AssumeRoleWithWebIdentity"},
		Principals: []Principal{{Type: "Federated", Identifiers: []pulumi.StringInput{providerARN}}},
		Conditions: []Condition{
			{Test: "StringEquals", Variable: pulumi.Sprintf("%s:sub", issuer), Values: Strings("system:serviceaccount:" + namespace + ":" + serviceAccount)},
			{Test: "StringEquals", Variable: pulumi.Sprintf("%s:aud", issuer), Values: Strings("sts.amazonaws.com")},
		},
	}}}
}

// ServiceTrust is the trust policy of a role assumed by an AWS service.
func ServiceTrust(service string) PolicyDocument {
	return PolicyDocument{Statements: []Statement{{
		Actions:    []string{"sts:AssumeRole"},
		Principals: []Principal{{Type: "Service", Identifiers: Strings(service)}},
	}}}
}

// ScopedServiceTrust is ServiceTrust limited to requests the service makes
// on behalf of one resource of one account (aws:SourceAccount and
// aws:SourceArn), so no other account's resource can use the role through
// the same service (the confused deputy).
func ScopedServiceTrust(service string, sourceAccount, sourceARN pulumi.StringInput) PolicyDocument {
	doc := ServiceTrust(service)
	doc.Statements[0].Conditions = []Condition{
		{Test: "StringEquals", Variable: pulumi.String("aws:SourceAccount"), Values: []pulumi.StringInput{sourceAccount}},
		{Test: "ArnLike", Variable: pulumi.String("aws:SourceArn"), Values: []pulumi.StringInput{sourceARN}},
	}
	return doc
}

// AccountOf is the account field of an ARN (arn:partition:service:region:account:...).
func AccountOf(arn pulumi.StringInput) pulumi.StringOutput {
	return arn.ToStringOutput().ApplyT(func(a string) string {
		if parts := strings.SplitN(a, ":", 6); len(parts) == 6 {
			return parts[4]
		}
		return ""
	}).(pulumi.StringOutput)
}

func sanitizeSid(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			out = append(out, r)
		}
	}
	return string(out)
}
