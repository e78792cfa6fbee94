package model

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("https://hooks.example.com/T0/B0/xyz")
	b, err := json.Marshal(struct{ URL Secret }{s})
	require.NoError(t, err)
	assert.JSONEq(t, `{"URL":"[secret]"}`, string(b))
	for _, f := range []string{"%v", "%s", "%#v", "%+v"} {
		assert.NotContains(t, fmt.Sprintf(f, struct{ URL Secret }{s}), "hooks", f)
	}
	assert.Equal(t, "https://hooks.example.com/T0/B0/xyz", s.Reveal())
	assert.Equal(t, "", Secret("").String())
}
