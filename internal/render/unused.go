package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Leaf is one value the program sets: a scalar, a list (a list is one
// value to a chart) or an empty map.
type Leaf struct {
	Path  []string
	Value any
}

// Name is the leaf's dotted path.
func (l Leaf) Name() string { return strings.Join(l.Path, ".") }

// Leaves lists every leaf of values, sorted by path.
func Leaves(values map[string]any) []Leaf {
	var out []Leaf
	var walk func(p []string, v any)
	walk = func(p []string, v any) {
		m, ok := v.(map[string]any)
		if !ok || len(m) == 0 {
			out = append(out, Leaf{Path: append([]string(nil), p...), Value: v})
			return
		}
		for k, e := range m {
			walk(append(p, k), e)
		}
	}
	for k, v := range values {
		walk([]string{k}, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Unused returns the leaves of the release's values that no template
// reads: changing the value alone leaves the rendered output as it was.
// It is computed from the chart itself, not from a list:
//  1. one render with every string leaf replaced by a unique marker; a
//     marker that shows in the output proves its leaf is read (a render
//     the markers break is split in halves until it renders);
//  2. every other leaf is changed alone (a string to a marker, a number by
//     one, a bool flipped, a list emptied or filled); a changed output, or
//     a chart that refuses the value, proves the leaf is read.
//
// Output that differs between two renders of the same values (random
// passwords) is ignored.
func (r Renderer) Unused(ctx context.Context, rel Release) ([]string, error) {
	base, err := r.template(ctx, rel, rel.Values)
	if err != nil {
		return nil, err
	}
	again, err := r.template(ctx, rel, rel.Values)
	if err != nil {
		return nil, err
	}
	same := newComparer(base, again)
	leaves := Leaves(rel.Values)
	read := map[string]bool{}
	var strs []Leaf
	for _, l := range leaves {
		if _, ok := l.Value.(string); ok {
			strs = append(strs, l)
		}
	}
	if err := r.markerPass(ctx, rel, strs, read); err != nil {
		return nil, err
	}
	var todo []int
	for i, l := range leaves {
		if !read[l.Name()] {
			todo = append(todo, i)
		}
	}
	ignored := make([]bool, len(leaves))
	errs := make([]error, len(leaves))
	sem := make(chan struct{}, max(1, runtime.NumCPU()))
	var wg sync.WaitGroup
	for _, i := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			ignored[i], errs[i] = r.ignores(ctx, rel, leaves[i], i, same)
		}(i)
	}
	wg.Wait()
	var unused []string
	for _, i := range todo {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if ignored[i] {
			unused = append(unused, leaves[i].Name())
		}
	}
	return unused, nil
}

// ignores renders with one leaf changed and reports whether the output
// stayed the same. A chart that refuses the changed value read it.
func (r Renderer) ignores(ctx context.Context, rel Release, l Leaf, i int, same func([]byte) bool) (bool, error) {
	out, err := r.template(ctx, rel, WithValue(rel.Values, l.Path, mutate(l.Value, i)))
	var te *TemplateError
	switch {
	case errors.As(err, &te):
		return false, nil
	case err != nil:
		return false, err
	}
	return same(out), nil
}

func marker(i int) string { return fmt.Sprintf("pfmark%dz", i) }

// markerPass marks every string leaf at once and records those whose
// marker shows; a render the markers break is split in halves.
func (r Renderer) markerPass(ctx context.Context, rel Release, leaves []Leaf, read map[string]bool) error {
	if len(leaves) == 0 {
		return nil
	}
	values := rel.Values
	for i, l := range leaves {
		values = WithValue(values, l.Path, marker(i))
	}
	out, err := r.template(ctx, rel, values)
	var te *TemplateError
	if errors.As(err, &te) {
		if len(leaves) == 1 {
			return nil // left to the single-leaf pass
		}
		h := len(leaves) / 2
		if err := r.markerPass(ctx, rel, leaves[:h], read); err != nil {
			return err
		}
		return r.markerPass(ctx, rel, leaves[h:], read)
	}
	if err != nil {
		return err
	}
	for i, l := range leaves {
		if bytes.Contains(out, []byte(marker(i))) {
			read[l.Name()] = true
		}
	}
	return nil
}

// mutate returns a different value of the same kind.
func mutate(v any, i int) any {
	switch t := v.(type) {
	case bool:
		return !t
	case float64:
		return t + 1
	case int:
		return t + 1
	case string:
		return marker(i)
	case []any:
		if len(t) > 0 {
			return []any{}
		}
		return []any{marker(i)}
	case map[string]any:
		return map[string]any{marker(i): marker(i)}
	}
	return marker(i)
}

// WithValue returns a copy of values with the leaf at p set to v (maps on the
// path are copied; the rest is shared).
func WithValue(values map[string]any, p []string, v any) map[string]any {
	out := make(map[string]any, len(values))
	for k, e := range values {
		out[k] = e
	}
	if len(p) == 1 {
		out[p[0]] = v
		return out
	}
	child, _ := values[p[0]].(map[string]any)
	out[p[0]] = WithValue(child, p[1:], v)
	return out
}

// newComparer returns a predicate that tells whether an output equals the
// base, ignoring the lines that differed between two renders of the base.
func newComparer(base, again []byte) func([]byte) bool {
	bl := bytes.Split(base, []byte("\n"))
	al := bytes.Split(again, []byte("\n"))
	if len(bl) != len(al) {
		// Randomness that changes the line count: fall back to exact.
		return func(out []byte) bool { return bytes.Equal(out, base) }
	}
	volatile := map[int]bool{}
	for i := range bl {
		if !bytes.Equal(bl[i], al[i]) {
			volatile[i] = true
		}
	}
	return func(out []byte) bool {
		ol := bytes.Split(out, []byte("\n"))
		if len(ol) != len(bl) {
			return false
		}
		for i := range ol {
			if !volatile[i] && !bytes.Equal(ol[i], bl[i]) {
				return false
			}
		}
		return true
	}
}
