package cluster

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAllowUpgrade(t *testing.T) {
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"same version", "1.34", "1.34", ""},
		{"one minor up", "1.34", "1.35", ""},
		{"two minors up", "1.33", "1.35", "set 1.34, `pulumi up`, then 1.35"},
		{"downgrade", "1.35", "1.34", "cannot go back to 1.34"},
		{"not a version", "1.35", "2", `"2": want 1.NN`},
		{"deployed not a version", "1.x", "1.35", `"1.x": want 1.NN`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := AllowUpgrade(tc.from, tc.to)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// The calendar is ordered, one minor apart, and each version's extended
// support lasts the 12 months EKS gives it.
func TestKubernetesVersionCalendar(t *testing.T) {
	require.NotEmpty(t, KubernetesVersions)
	for i, v := range KubernetesVersions {
		assert.Equal(t, v.EndOfStandard.AddDate(1, 0, 0), v.EndOfExtended, v.Minor)
		if i == 0 {
			continue
		}
		prev := KubernetesVersions[i-1]
		assert.NoError(t, AllowUpgrade(prev.Minor, v.Minor), "each version is one minor after the one before")
		assert.NotEqual(t, prev.Minor, v.Minor)
		assert.True(t, prev.EndOfStandard.Before(v.EndOfStandard), v.Minor)
	}
	_, ok := LookupKubernetesVersion("1.31")
	assert.False(t, ok, "1.31's extended support ended on 2026-11-26")
}

// docs/operations.md's table is the calendar.
func TestKubernetesVersionsDocIsCurrent(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	require.NoError(t, err)
	for _, v := range KubernetesVersions {
		assert.Contains(t, string(doc), fmt.Sprintf("| %s | %s | %s |", v.Minor, v.EndOfStandard.Format(time.DateOnly), v.EndOfExtended.Format(time.DateOnly)),
			"docs/operations.md, \"Upgrading Kubernetes\", lists %s as the calendar does", v.Minor)
	}
	assert.NotContains(t, string(doc), "| 1.31 |")
}
