package stacks

import (
	"fmt"
	"iter"
	"slices"
	"sort"
	"strings"
)

// Graph is the stack graph: which stack reads which stacks' outputs. It is
// derived from the stacks' peers in one place and is acyclic by construction.
type Graph struct {
	// Reads maps a stack to the stacks whose outputs it reads (its
	// prerequisites: they deploy first).
	Reads map[string][]string
	// Levels are the stacks in deployment order; stacks in one level do not
	// depend on each other and may run in parallel.
	Levels [][]string
}

// CycleError reports a dependency cycle with its path.
type CycleError struct{ Path []string }

func (e *CycleError) Error() string {
	return "stack graph has a cycle: " + strings.Join(e.Path, " reads ") +
		" (break it: a stack may read its peers' outputs only if they never read its own; use stable DNS names instead)"
}

// NewGraph builds the graph of a fleet and rejects cycles.
func NewGraph(f Fleet) (*Graph, error) {
	g := &Graph{Reads: map[string][]string{}}
	for _, s := range f.Stacks {
		deps := append([]string(nil), s.Peers...)
		sort.Strings(deps)
		g.Reads[s.Stack] = deps
	}
	if cyc := g.findCycle(); cyc != nil {
		return nil, &CycleError{Path: cyc}
	}
	done := map[string]bool{}
	for len(done) < len(g.Reads) {
		var level []string
		for _, s := range g.sorted() {
			if done[s] {
				continue
			}
			ready := true
			for _, d := range g.Reads[s] {
				if _, known := g.Reads[d]; known && !done[d] {
					ready = false
				}
			}
			if ready {
				level = append(level, s)
			}
		}
		if len(level) == 0 { // unreachable: cycles were rejected
			return nil, fmt.Errorf("stack graph: no progress ordering %v", g.sorted())
		}
		for _, s := range level {
			done[s] = true
		}
		g.Levels = append(g.Levels, level)
	}
	return g, nil
}

func (g *Graph) sorted() []string {
	out := make([]string, 0, len(g.Reads))
	for s := range g.Reads {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// findCycle returns a cycle path (first node repeated at the end) or nil.
func (g *Graph) findCycle() []string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(string) []string
	visit = func(n string) []string {
		color[n] = grey
		stack = append(stack, n)
		for _, d := range g.Reads[n] {
			if _, known := g.Reads[d]; !known {
				continue
			}
			switch color[d] {
			case grey:
				for i, s := range stack {
					if s == d {
						return append(append([]string(nil), stack[i:]...), d)
					}
				}
			case white:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return nil
	}
	for _, n := range g.sorted() {
		if color[n] == white {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

// LeavingJoins are the joins the deployed stacks hold that the fleet no
// longer declares, to a peer that keeps no other join: that peer's next
// `up` deletes its transit gateway, which AWS refuses while the leaving
// stack's peering attachment is there. (A peer that keeps a join keeps its
// gateway and needs no order; and, joined to none, it has no edge in the
// graph, so ordering it after the leavers makes no cycle.) joined maps a
// stack to the peers its deployed state is joined to (its joinedPeers
// output); the result maps each such peer to the stacks that leave it,
// sorted.
func (g *Graph) LeavingJoins(joined map[string][]string) map[string][]string {
	out := map[string][]string{}
	for s, p := range g.heldJoins(joined) {
		if !g.joined(p) {
			out[p] = append(out[p], s)
		}
	}
	for p := range out {
		sort.Strings(out[p])
	}
	return out
}

// HeldJoins are, for a destroy, the deployed joins the graph does not
// order: for each stack a deployed state is joined to and that no longer
// reads it, the stacks it must be destroyed after (theirs hold the peering
// attachment to its gateway).
func (g *Graph) HeldJoins(joined map[string][]string) map[string][]string {
	out := map[string][]string{}
	for s, p := range g.heldJoins(joined) {
		out[s] = append(out[s], p)
	}
	for s := range out {
		sort.Strings(out[s])
	}
	return out
}

// heldJoins are the (stack, peer) pairs of the deployed joins between two
// stacks of the fleet that the stack no longer reads the peer for.
func (g *Graph) heldJoins(joined map[string][]string) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, s := range g.sorted() {
			for _, p := range joined[s] {
				if _, inFleet := g.Reads[p]; !inFleet || slices.Contains(g.Reads[s], p) {
					continue
				}
				if !yield(s, p) {
					return
				}
			}
		}
	}
}

// joined says whether a stack reads another or is read by one: whether it
// keeps a transit gateway.
func (g *Graph) joined(s string) bool {
	if len(g.Reads[s]) > 0 {
		return true
	}
	for _, reads := range g.Reads {
		if slices.Contains(reads, s) {
			return true
		}
	}
	return false
}

// After is the graph with each stack also ordered after the stacks in
// extra[stack]: a peer after the stacks that leave its join, whose `up`
// deletes the peering attachment AWS requires gone before the peer's
// gateway may go. A cycle is refused.
func (g *Graph) After(extra map[string][]string) (*Graph, error) {
	var f Fleet
	for _, s := range g.sorted() {
		deps := append(append([]string(nil), g.Reads[s]...), extra[s]...)
		slices.Sort(deps)
		f.Stacks = append(f.Stacks, StackConfig{Stack: s, Peers: slices.Compact(deps)})
	}
	ng, err := NewGraph(f)
	if err != nil {
		return nil, fmt.Errorf("ordering each peer after the stacks leaving its join (%v): %w; remove the joins in separate runs", extra, err)
	}
	return ng, nil
}

// Order is the deployment order (dependencies first), flattened.
func (g *Graph) Order() []string {
	var out []string
	for _, l := range g.Levels {
		out = append(out, l...)
	}
	return out
}

// Dependents lists the stacks that read s, directly or transitively.
func (g *Graph) Dependents(s string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(x string) {
		for _, n := range g.sorted() {
			if !seen[n] && slices.Contains(g.Reads[n], x) {
				seen[n] = true
				walk(n)
			}
		}
	}
	walk(s)
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Prerequisites lists the stacks s reads, directly or transitively.
func (g *Graph) Prerequisites(s string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(x string) {
		for _, d := range g.Reads[x] {
			if !seen[d] {
				seen[d] = true
				walk(d)
			}
		}
	}
	walk(s)
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
