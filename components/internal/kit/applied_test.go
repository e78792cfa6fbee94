package kit

import (
	"math"
	"testing"
)

func TestSameValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b any
		same bool
	}{
		{"equal trees", map[string]any{"a": map[string]any{"b": "x"}}, map[string]any{"a": map[string]any{"b": "x"}}, true},
		{"an int and the float the engine records", map[string]any{"replicas": 3}, map[string]any{"replicas": 3.0}, true},
		{"null leaves left out", map[string]any{"a": nil, "b": []any{map[string]any{"c": nil, "d": 1}}}, map[string]any{"b": []any{map[string]any{"d": 1}}}, true},
		{"another value", map[string]any{"replicas": 3}, map[string]any{"replicas": 4}, false},
		{"a key more", map[string]any{"a": 1}, map[string]any{"a": 1, "b": 2}, false},
		{"an empty map is not no key", map[string]any{"a": map[string]any{}}, map[string]any{}, false},
		{"an empty list is recorded as null", map[string]any{"a": []any{}, "b": 1}, map[string]any{"a": nil, "b": 1}, true},
		{"nulls in a list are dropped", map[string]any{"a": []any{"x", nil}}, map[string]any{"a": []any{"x"}}, true},
		{"a tree that does not encode", map[string]any{"a": math.NaN()}, map[string]any{"a": math.NaN()}, false},
		{"list order counts", map[string]any{"a": []any{1, 2}}, map[string]any{"a": []any{2, 1}}, false},
		{"nothing recorded", nil, map[string]any{"a": 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SameValues(tc.a, tc.b); got != tc.same {
				t.Errorf("SameValues(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.same)
			}
		})
	}
}
