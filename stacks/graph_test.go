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

// A join the deployed state holds and the fleet no longer declares is
// leaving; a peer that keeps no other join (its gateway goes) is ordered
// after the stack that leaves it, one that keeps a join is not, and an
// order that would need a cycle is refused. For a destroy, every held
// join orders the holder first.
func TestLeavingJoins(t *testing.T) {
	g, err := NewGraph(fleetOf(map[string][]string{"east": {"west"}, "west": nil, "dr": nil}))
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		joined map[string][]string
		want   map[string][]string
	}{
		{"nothing deployed", nil, map[string][]string{}},
		{"joins still declared", map[string][]string{"east": {"west"}}, map[string][]string{}},
		{"east left dr", map[string][]string{"east": {"dr", "west"}}, map[string][]string{"dr": {"east"}}},
		{"two leave one peer", map[string][]string{"east": {"dr"}, "west": {"dr"}}, map[string][]string{"dr": {"east", "west"}}},
		{"a stack gone from the fleet", map[string][]string{"gone": {"dr"}}, map[string][]string{}},
		{"a peer gone from the fleet", map[string][]string{"east": {"gone"}}, map[string][]string{}},
	} {
		assert.Equal(t, tc.want, g.LeavingJoins(tc.joined), tc.name)
	}
	kept, err := NewGraph(fleetOf(map[string][]string{"a": {"c"}, "c": {"b"}, "b": nil}))
	require.NoError(t, err)
	assert.Empty(t, kept.LeavingJoins(map[string][]string{"a": {"b", "c"}}),
		"b keeps c's join, so its gateway stays: no order (and none to make a cycle of a after c after b)")
	assert.Equal(t, map[string][]string{"a": {"b"}}, kept.HeldJoins(map[string][]string{"a": {"b", "c"}}),
		"destroying b waits for a, which holds the attachment")
	assert.Empty(t, g.HeldJoins(map[string][]string{"east": {"west"}}), "a join still declared is the graph's to order")
	after, err := g.After(map[string][]string{"dr": {"east"}})
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"west"}, {"east"}, {"dr"}}, after.Levels, "dr after east, which still reads west")
	assert.Equal(t, []string{"west"}, g.Reads["east"], "the fleet's own graph is unchanged")
	_, err = g.After(map[string][]string{"west": {"east"}})
	require.ErrorContains(t, err, "stack graph has a cycle")
	assert.ErrorContains(t, err, "remove the joins in separate runs")
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
