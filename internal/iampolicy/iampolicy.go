// Package iampolicy reads IAM policy documents back from JSON, for the
// checks that prove what the program emits (component tests and the
// security baseline).
package iampolicy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Statement is a statement read back from JSON, for checks.
type Statement struct {
	Sid       string
	Effect    string
	Actions   []string
	Resources []string
	// NotActions and NotResources are the statement's exclusions: an
	// Allow with one grants everything else.
	NotActions   []string
	NotResources []string
	Principal    map[string][]string
	Condition    map[string]map[string][]string
}

// Parse reads a policy document (string or list forms).
func Parse(s string) ([]Statement, error) {
	var raw struct {
		Statement []map[string]any `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("policy is not JSON: %w", err)
	}
	var out []Statement
	for _, st := range raw.Statement {
		p := Statement{Principal: map[string][]string{}, Condition: map[string]map[string][]string{}}
		p.Sid, _ = st["Sid"].(string)
		p.Effect, _ = st["Effect"].(string)
		p.Actions = stringList(st["Action"])
		p.Resources = stringList(st["Resource"])
		p.NotActions = stringList(st["NotAction"])
		p.NotResources = stringList(st["NotResource"])
		if pr, ok := st["Principal"].(map[string]any); ok {
			for k, v := range pr {
				p.Principal[k] = stringList(v)
			}
		} else if pr, ok := st["Principal"].(string); ok {
			p.Principal["*"] = []string{pr}
		}
		if c, ok := st["Condition"].(map[string]any); ok {
			for test, kv := range c {
				p.Condition[test] = map[string][]string{}
				if m, ok := kv.(map[string]any); ok {
					for k, v := range m {
						p.Condition[test][k] = stringList(v)
					}
				}
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		sort.Strings(out)
		return out
	}
	return nil
}

// CheckNoWildcardAdmin rejects an Allow statement that grants every action
// of a service (or all) on every resource: "*" or "s3:*" on "*" or on an
// ARN whose service is a wildcard ("arn:aws:*:*:*:*"), and any Allow with
// NotAction (every action but those) or with NotResource and a wildcard
// action (every resource but those).
func CheckNoWildcardAdmin(s string) error {
	sts, err := Parse(s)
	if err != nil {
		return err
	}
	for _, st := range sts {
		if st.Effect != "Allow" {
			continue
		}
		if len(st.NotActions) > 0 {
			return fmt.Errorf("policy statement %q allows every action but %v (NotAction)", st.Sid, st.NotActions)
		}
		wildAction := false
		for _, a := range st.Actions {
			if a == "*" || strings.HasSuffix(a, ":*") {
				wildAction = true
			}
		}
		if wildAction && len(st.NotResources) > 0 {
			return fmt.Errorf("policy statement %q allows %v on every resource but %v (NotResource)", st.Sid, st.Actions, st.NotResources)
		}
		for _, r := range st.Resources {
			if wildResource(r) && wildAction {
				return fmt.Errorf("policy statement %q allows %v on every resource", st.Sid, st.Actions)
			}
		}
	}
	return nil
}

// wildResource says whether a resource names every resource: "*", or an
// ARN whose partition or service is a wildcard.
func wildResource(r string) bool {
	f := strings.Split(r, ":")
	return r == "*" || len(f) > 2 && f[0] == "arn" && (strings.Contains(f[1], "*") || strings.Contains(f[2], "*"))
}
