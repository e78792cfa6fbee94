package regions

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// Every role profile covers every phase; a phase a profile lacks is an
// error naming it, never a silent 0 (all on-demand).
func TestRoleProfilesCoverEveryPhase(t *testing.T) {
	for role, p := range roleProfiles {
		for _, ph := range sizing.PhaseNames {
			b, k, err := p.SpotShares(ph)
			require.NoError(t, err, "%s %s", role, ph)
			assert.True(t, b > 0 && b < 1 && k > 0 && k < 1, "%s %s: spot shares in (0, 1)", role, ph)
		}
	}
	partial := RoleProfile{BrokerSpot: map[string]float64{"35k": 0.7}, BookieSpot: map[string]float64{"35k": 0.7}, Summary: "partial"}
	_, _, err := partial.SpotShares("1m")
	assert.ErrorContains(t, err, `role profile "partial" has no spot shares for phase "1m"`)
}
