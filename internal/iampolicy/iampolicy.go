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
	Principal map[string][]string
	Condition map[string]map[string][]string
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

// CheckNoWildcardAdmin rejects an Allow statement whose action is "*" (or a
// service wildcard such as "s3:*") on resource "*".
func CheckNoWildcardAdmin(s string) error {
	sts, err := Parse(s)
	if err != nil {
		return err
	}
	for _, st := range sts {
		if st.Effect != "Allow" {
			continue
		}
		wildAction := false
		for _, a := range st.Actions {
			if a == "*" || strings.HasSuffix(a, ":*") {
				wildAction = true
			}
		}
		for _, r := range st.Resources {
			if r == "*" && wildAction {
				return fmt.Errorf("policy statement %q allows %v on every resource", st.Sid, st.Actions)
			}
		}
	}
	return nil
}
