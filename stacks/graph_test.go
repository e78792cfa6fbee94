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
