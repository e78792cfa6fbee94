package manifests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBinaryQuantity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{{"2048Gi", 2048 << 30}, {"2Ti", 2048 << 30}, {"512Mi", 512 << 20}, {"1Ki", 1024}, {"1073741824", 1 << 30}} {
		got, err := BinaryQuantity(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{"", "2G", "lots", "1.5Gi"} {
		_, err := BinaryQuantity(bad)
		assert.Error(t, err, bad)
	}
}
