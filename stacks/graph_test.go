package stacks

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fleetOf(reads map[string][]string) Fleet {
	var f Fleet
	for s, r := range reads {
		f.Stacks = append(f.Stacks, StackConfig{Stack: s, Peers: r})
	}
	return f
}

func TestGraphOfCommittedStacks(t *testing.T) {
	g, err := NewGraph(repoFleet(t))
	require.NoError(t, err)
	// The secondary reads the DR region's transit gateway (its global view
	// joins it), and the primary reads both: DR, secondary, primary.
	assert.Equal(t, [][]string{{"eu-west-1"}, {"us-west-2"}, {"us-east-1"}}, g.Levels)
	assert.Equal(t, []string{"us-east-1"}, g.Dependents("us-west-2"))
	assert.Equal(t, []string{"eu-west-1", "us-west-2"}, g.Prerequisites("us-east-1"))
}

func TestGraphLevelsAndCycles(t *testing.T) {
	g, err := NewGraph(fleetOf(map[string][]string{"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": nil, "e": nil}))
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"d", "e"}, {"b", "c"}, {"a"}}, g.Levels)
	assert.Equal(t, []string{"a", "b", "c"}, g.Dependents("d"))

	_, err = NewGraph(fleetOf(map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}}))
	var ce *CycleError
	require.True(t, errors.As(err, &ce))
	assert.Equal(t, []string{"a", "b", "c", "a"}, ce.Path)

	_, err = NewGraph(fleetOf(map[string][]string{"a": {"a"}}))
	require.Error(t, err)
}

func TestJoinedTo(t *testing.T) {
	f := repoFleet(t)
	get := func(s string) StackConfig { c, _ := f.Get(s); return c }
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"us-east-1", "us-west-2", true}, {"us-west-2", "us-east-1", true}, // the primary reads the secondary
		{"us-west-2", "eu-west-1", true}, {"eu-west-1", "us-west-2", true}, // the secondary reads the DR region
		{"eu-west-1", "us-east-1", true},
	} {
		assert.Equal(t, tc.want, get(tc.a).JoinedTo(get(tc.b)), "%s and %s", tc.a, tc.b)
	}
	w := get("us-west-2")
	w.Peers = nil
	assert.False(t, w.JoinedTo(get("eu-west-1")), "neither reads the other")
	assert.False(t, get("eu-west-1").JoinedTo(w))
}
