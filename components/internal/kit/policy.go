package kit

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/internal/iampolicy"
)

// PolicyDocument is a typed IAM policy document. ARNs may be outputs; the
// document renders to JSON once every one is known.
type PolicyDocument struct {
	Statements []Statement
}

// Statement is one IAM statement.
type Statement struct {
	Sid        string
	Effect     string // "Allow" or "Deny"; empty means Allow
	Actions    []string
	Resources  []pulumi.StringInput
	Principals []Principal
	Conditions []Condition
}

// Principal is a typed principal ("AWS", "Service", "Federated").
type Principal struct {
	Type        string
	Identifiers []pulumi.StringInput
}

// Condition is one condition operator on one key.
type Condition struct {
	Test     string // StringEquals, StringLike, Bool, ArnLike, ...
	Variable pulumi.StringInput
	Values   []pulumi.StringInput
}

// Strings lifts plain strings into inputs.
func Strings(xs ...string) []pulumi.StringInput {
	out := make([]pulumi.StringInput, len(xs))
	for i, x := range xs {
		out[i] = pulumi.String(x)
	}
	return out
}

// Validate checks the document's shape and forbids a "*" action on a "*"
// resource. Resources that are outputs are checked when rendered.
func (d PolicyDocument) Validate() error {
	if len(d.Statements) == 0 {
		return errors.New("policy document has no statements")
	}
	for i, s := range d.Statements {
		if s.Effect != "" && s.Effect != "Allow" && s.Effect != "Deny" {
			return fmt.Errorf("statement %d (%s): effect %q: want Allow or Deny", i, s.Sid, s.Effect)
		}
		if len(s.Actions) == 0 {
			return fmt.Errorf("statement %d (%s): no actions", i, s.Sid)
		}
		if len(s.Resources) == 0 && len(s.Principals) == 0 {
			return fmt.Errorf("statement %d (%s): no resources", i, s.Sid)
		}
	}
	return nil
}

// JSON renders the document once every input is known.
func (d PolicyDocument) JSON() pulumi.StringOutput {
	var ins []any
	add := func(xs []pulumi.StringInput) {
		for _, x := range xs {
			ins = append(ins, x)
		}
	}
	for _, s := range d.Statements {
		add(s.Resources)
		for _, p := range s.Principals {
			add(p.Identifiers)
		}
		for _, c := range s.Conditions {
			ins = append(ins, c.Variable)
			add(c.Values)
		}
	}
	return pulumi.All(ins...).ApplyT(func(vals []any) (string, error) {
		i := 0
		next := func(n int) []string {
			out := make([]string, n)
			for j := range out {
				out[j] = vals[i].(string)
				i++
			}
			return out
		}
		doc := policyJSON{Version: "2012-10-17"}
		for _, s := range d.Statements {
			st := statementJSON{Sid: s.Sid, Effect: s.Effect, Action: s.Actions, Resource: next(len(s.Resources))}
			if st.Effect == "" {
				st.Effect = "Allow"
			}
			if len(s.Principals) > 0 {
				st.Principal = map[string][]string{}
				for _, p := range s.Principals {
					st.Principal[p.Type] = append(st.Principal[p.Type], next(len(p.Identifiers))...)
				}
			}
			if len(s.Conditions) > 0 {
				st.Condition = map[string]map[string][]string{}
				for _, c := range s.Conditions {
					v := next(1)[0]
					if st.Condition[c.Test] == nil {
						st.Condition[c.Test] = map[string][]string{}
					}
					st.Condition[c.Test][v] = next(len(c.Values))
				}
			}
			doc.Statement = append(doc.Statement, st)
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return "", err
		}
		if err := CheckPolicyJSON(string(b)); err != nil {
			return "", err
		}
		return string(b), nil
	}).(pulumi.StringOutput)
}

type policyJSON struct {
	Version   string          `json:"Version"`
	Statement []statementJSON `json:"Statement"`
}

type statementJSON struct {
	Sid       string                         `json:"Sid,omitempty"`
	Effect    string                         `json:"Effect"`
	Principal map[string][]string            `json:"Principal,omitempty"`
	Action    []string                       `json:"Action"`
	Resource  []string                       `json:"Resource,omitempty"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
}

// ParsedStatement is a statement read back from JSON, for checks.
type ParsedStatement = iampolicy.Statement

// ParsePolicy reads a policy document (string or list forms).
func ParsePolicy(s string) ([]ParsedStatement, error) { return iampolicy.Parse(s) }

// CheckPolicyJSON rejects an Allow statement whose action is "*" (or a
// service wildcard such as "s3:*") on resource "*".
func CheckPolicyJSON(s string) error { return iampolicy.CheckNoWildcardAdmin(s) }
