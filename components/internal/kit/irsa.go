package kit

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

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

func sanitizeSid(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			out = append(out, r)
		}
	}
	return string(out)
}
