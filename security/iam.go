package security

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/internal/iampolicy"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// policyInputs are the resources carrying a policy document.
var policyInputs = map[string]string{
	"aws:iam/rolePolicy:RolePolicy":    "policy",
	"aws:iam/policy:Policy":            "policy",
	"aws:iam/userPolicy:UserPolicy":    "policy",
	"aws:iam/groupPolicy:GroupPolicy":  "policy",
	"aws:sqs/queuePolicy:QueuePolicy":  "policy",
	"aws:s3/bucketPolicy:BucketPolicy": "policy",
	"aws:kms/key:Key":                  "policy",
}

// adminPolicies are AWS managed policies that amount to */*.
var adminPolicies = []string{"AdministratorAccess", "PowerUserAccess", "IAMFullAccess"}

func iamNoWildcardAdmin(v *view) []Finding {
	var out []Finding
	for typ, key := range policyInputs {
		for _, r := range v.byType[typ] {
			doc := str(r.Inputs[key])
			if doc == "" {
				continue
			}
			if err := iampolicy.CheckNoWildcardAdmin(doc); err != nil {
				out = append(out, fail(res(r), "%v", err))
			}
		}
	}
	for _, typ := range attachmentTypes {
		for _, r := range v.byType[typ] {
			out = append(out, adminAttached(res(r), str(r.Inputs["policyArn"]))...)
		}
	}
	for _, r := range v.byType["aws:iam/role:Role"] {
		arns, _ := r.Inputs["managedPolicyArns"].([]any)
		for _, a := range arns {
			out = append(out, adminAttached(res(r), str(a))...)
		}
		inline, _ := r.Inputs["inlinePolicies"].([]any)
		for _, p := range inline {
			if doc := str(get(p, "policy")); doc != "" {
				if err := iampolicy.CheckNoWildcardAdmin(doc); err != nil {
					out = append(out, fail(res(r), "inline policy %s: %v", str(get(p, "name")), err))
				}
			}
		}
	}
	sortFindings(out)
	return out
}

// attachmentTypes attach a managed policy by ARN.
var attachmentTypes = []string{"aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/userPolicyAttachment:UserPolicyAttachment",
	"aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment"}

// adminAttached fails an AWS managed policy that amounts to */*.
func adminAttached(where, arn string) []Finding {
	for _, p := range adminPolicies {
		if strings.HasSuffix(arn, ":policy/"+p) {
			return []Finding{fail(where, "attaches %s", arn)}
		}
	}
	return nil
}

// serviceAccount is a namespace/name pair and the role ARN bound to it.
type serviceAccount struct{ namespace, name string }

func (s serviceAccount) String() string { return s.namespace + "/" + s.name }

// addonServiceAccounts are the service accounts of the EKS add-ons that
// take a role (serviceAccountRoleArn).
var addonServiceAccounts = map[string]serviceAccount{
	"aws-ebs-csi-driver": {"kube-system", "ebs-csi-controller-sa"},
	"vpc-cni":            {"kube-system", "aws-node"},
	"aws-efs-csi-driver": {"kube-system", "efs-csi-controller-sa"},
}

// boundServiceAccounts are the service accounts the stack deploys with an
// IRSA role, and the role ARN each is bound to: ServiceAccount objects and
// Helm values carrying the eks.amazonaws.com/role-arn annotation, and EKS
// add-ons with a serviceAccountRoleArn.
func (v *view) boundServiceAccounts() map[serviceAccount]string {
	out := map[serviceAccount]string{}
	for _, o := range v.objectsOfKind("ServiceAccount") {
		if arn := annotation(o.Object, model.AnnotationIRSARole); arn != "" {
			out[serviceAccount{o.Namespace(), o.Name()}] = arn
		}
	}
	for _, r := range v.byType["kubernetes:helm.sh/v3:Release"] {
		ns := str(r.Inputs["namespace"])
		values, _ := r.Inputs["values"].(map[string]any)
		fullname := str(values["fullnameOverride"])
		walkMaps(values, "", func(path string, m map[string]any) {
			ann, _ := m["annotations"].(map[string]any)
			arn, ok := ann[model.AnnotationIRSARole].(string)
			if !ok {
				return
			}
			name := str(m["name"])
			if name == "" {
				name = chartServiceAccount(str(r.Inputs["chart"]), fullname, path)
			}
			if name != "" {
				out[serviceAccount{ns, name}] = arn
			}
		})
	}
	for _, r := range v.byType["aws:eks/addon:Addon"] {
		if sa, ok := addonServiceAccounts[str(r.Inputs["addonName"])]; ok && str(r.Inputs["serviceAccountRoleArn"]) != "" {
			out[sa] = str(r.Inputs["serviceAccountRoleArn"])
		}
	}
	return out
}

// chartServiceAccount is the name a chart gives the service account whose
// values sit at path when the values name none: the Pulsar chart's
// <fullname>-<component>-acct, kube-prometheus-stack's
// <fullname>-prometheus.
func chartServiceAccount(chart, fullname, path string) string {
	switch {
	case strings.HasSuffix(chart, "pulsar") && strings.HasSuffix(path, ".service_account"):
		return fullname + "-" + strings.TrimSuffix(strings.TrimPrefix(path, "."), ".service_account") + "-acct"
	case strings.HasSuffix(chart, "kube-prometheus-stack") && path == ".prometheus.serviceAccount":
		return fullname + "-prometheus"
	}
	return ""
}

func walkMaps(v any, path string, f func(path string, m map[string]any)) {
	switch t := v.(type) {
	case map[string]any:
		f(path, t)
		for k, e := range t {
			walkMaps(e, path+"."+k, f)
		}
	case []any:
		for i, e := range t {
			walkMaps(e, fmt.Sprintf("%s[%d]", path, i), f)
		}
	}
}

// instanceServices assume roles for the account's own instances (instance
// profiles), where source conditions do not apply.
var instanceServices = map[string]bool{"ec2.amazonaws.com": true}

// sourceScoped reports a statement limited to one account's resource.
func sourceScoped(st iampolicy.Statement) bool {
	account := len(st.Condition["StringEquals"]["aws:SourceAccount"]) > 0
	source := len(st.Condition["ArnLike"]["aws:SourceArn"]) > 0 || len(st.Condition["ArnEquals"]["aws:SourceArn"]) > 0
	return account && source
}

func iamTrustScoped(v *view) []Finding {
	var out []Finding
	bound := v.boundServiceAccounts()
	for _, r := range v.byType["aws:iam/role:Role"] {
		sts, err := iampolicy.Parse(str(r.Inputs["assumeRolePolicy"]))
		if err != nil {
			out = append(out, fail(res(r), "assumeRolePolicy: %v", err))
			continue
		}
		roleName := str(r.Inputs["name"])
		if roleName == "" {
			roleName = r.Name
		}
		for _, st := range sts {
			if st.Effect != "Allow" {
				continue
			}
			if anyone(st) || len(st.Principal["AWS"]) > 0 {
				out = append(out, fail(res(r), "statement %q trusts AWS principals %v; only services and service accounts may assume the fleet's roles", st.Sid, st.Principal))
			}
			for _, svc := range st.Principal["Service"] {
				if !strings.HasSuffix(svc, ".amazonaws.com") || !slices.Equal(st.Actions, []string{"sts:AssumeRole"}) {
					out = append(out, fail(res(r), "service principal %s with actions %v: want an AWS service and sts:AssumeRole only", svc, st.Actions))
				}
				if !instanceServices[svc] && !sourceScoped(st) {
					out = append(out, fail(res(r), "service principal %s without aws:SourceAccount and aws:SourceArn conditions: another account's resource could use the role through the service (confused deputy)", svc))
				}
			}
			if len(st.Principal["Federated"]) == 0 {
				continue
			}
			if !slices.Equal(st.Actions, []string{"sts:AssumeRoleWithWebIdentity"}) {
				out = append(out, fail(res(r), "federated statement %q allows %v; want sts:AssumeRoleWithWebIdentity only", st.Sid, st.Actions))
			}
			if len(st.Condition["StringLike"]) > 0 {
				out = append(out, fail(res(r), "federated statement %q uses StringLike: a wildcard admits other service accounts", st.Sid))
			}
			var sub, aud []string
			for k, vals := range st.Condition["StringEquals"] {
				switch {
				case strings.HasSuffix(k, ":sub"):
					sub = vals
				case strings.HasSuffix(k, ":aud"):
					aud = vals
				}
			}
			if !slices.Equal(aud, []string{"sts.amazonaws.com"}) {
				out = append(out, fail(res(r), "federated statement %q: the :aud condition is %v, want [sts.amazonaws.com]", st.Sid, aud))
			}
			if len(sub) != 1 || strings.ContainsAny(sub[0], "*?") || !strings.HasPrefix(sub[0], "system:serviceaccount:") {
				out = append(out, fail(res(r), "federated statement %q: the :sub condition is %v, want exactly one system:serviceaccount:<namespace>:<name>", st.Sid, sub))
				continue
			}
			parts := strings.Split(strings.TrimPrefix(sub[0], "system:serviceaccount:"), ":")
			if len(parts) != 2 {
				out = append(out, fail(res(r), "federated statement %q: malformed subject %s", st.Sid, sub[0]))
				continue
			}
			sa := serviceAccount{parts[0], parts[1]}
			arn, ok := bound[sa]
			switch {
			case !ok:
				out = append(out, fail(res(r), "trusted by service account %s, which the stack does not deploy with this role", sa))
			case !strings.HasSuffix(arn, ":role/"+roleName) && !strings.Contains(arn, "[unknown]") && arn != "preview-unknown":
				out = append(out, fail(res(r), "trusted by service account %s, which is bound to another role (%s)", sa, arn))
			}
		}
	}
	return out
}
