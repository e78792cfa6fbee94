package tooling

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Select names tools by module, all by default, and refuses an unknown one
// with the known ones listed.
func TestSelect(t *testing.T) {
	all, err := Select(nil)
	require.NoError(t, err)
	assert.Len(t, all, 7)
	some, err := Select([]string{"helm", "kubeapiserver"})
	require.NoError(t, err)
	assert.Equal(t, []string{"helm", "kubeapiserver"}, []string{some[0].Module, some[1].Module})
	_, err = Select([]string{"kubectl"})
	assert.ErrorContains(t, err, `unknown tool "kubectl"`)
	assert.ErrorContains(t, err, "kubernetesprovider")
}
