package stacks

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
)

// WriteText prints the offline preview as `pulsar-fleet preview --offline`
// shows it, and as its goldens pin it: the note, then per stack its
// resource tree (children sorted by type and name), its resources by type
// and its simulated outputs.
func (r OfflineResult) WriteText(w io.Writer) {
	fmt.Fprintln(w, "NOTE:", r.Note)
	for _, st := range r.Stacks {
		fmt.Fprintf(w, "\n== stack %s  (%s, %s, phase %s): %d resources\n", st.Stack, st.Role, st.Region, st.Phase, len(st.Resources))
		st.WriteText(w)
	}
}

// WriteText prints one stack: its tree, its resources by type and its
// simulated outputs.
func (s OfflineStack) WriteText(w io.Writer) {
	s.WriteTree(w)
	fmt.Fprintln(w, "  resources by type:")
	counts := s.CountByType()
	for _, t := range SortedTypes(counts) {
		fmt.Fprintf(w, "    %4d  %s\n", counts[t], t)
	}
	if len(s.Outputs) == 0 {
		return
	}
	fmt.Fprintln(w, "  outputs (simulated):")
	keys := make([]string, 0, len(s.Outputs))
	for k := range s.Outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "    %s: %v\n", k, shortValue(s.Outputs[k]))
	}
}

// WriteTree prints the stack's resources as a tree, each component above
// its children, children sorted by type and name so the tree does not
// depend on the order the engine registered them in.
func (s OfflineStack) WriteTree(w io.Writer) {
	if len(s.Resources) == 0 {
		return
	}
	children := map[string][]recorder.Resource{}
	for _, r := range s.Resources[1:] {
		children[r.Parent] = append(children[r.Parent], r)
	}
	var walk func(urn string, depth int)
	walk = func(urn string, depth int) {
		kids := children[urn]
		sort.SliceStable(kids, func(a, b int) bool {
			if kids[a].Type != kids[b].Type {
				return kids[a].Type < kids[b].Type
			}
			return kids[a].Name < kids[b].Name
		})
		for _, c := range kids {
			fmt.Fprintf(w, "  %s%s  %s\n", strings.Repeat("  ", depth), c.Type, c.Name)
			walk(c.URN, depth+1)
		}
	}
	fmt.Fprintf(w, "  %s  %s\n", s.Resources[0].Type, s.Resources[0].Name)
	walk(s.StackURN, 1)
}

func shortValue(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 100 {
		return s[:97] + "..."
	}
	return s
}
