package regions

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Every role has a profile, and every profile covers every phase; a phase
// a profile lacks is an error naming it, never a silent 0 (all on-demand).
func TestRoleProfilesCoverEveryPhase(t *testing.T) {
	for _, role := range model.RegionRoles {
		p, err := Profile(role)
		require.NoError(t, err, role)
		for _, ph := range model.PhaseNames {
			s, err := p.SpotShares(ph)
			require.NoError(t, err, "%s %s", role, ph)
			assert.True(t, s.Broker > 0 && s.Broker < 1 && s.Bookie > 0 && s.Bookie < 1, "%s %s: spot shares in (0, 1)", role, ph)
		}
	}
	partial := RoleProfile{Spot: map[model.PhaseName]SpotShares{model.Phase35K: {0.7, 0.7}}, Summary: "partial"}
	_, err := partial.SpotShares(model.Phase1M)
	assert.ErrorContains(t, err, `role profile "partial" has no spot shares for phase "1m": every profile covers 35k, 100k, 1m, 10m or 100m`)
	_, err = Profile("tertiary")
	assert.EqualError(t, err, `role "tertiary": want primary, secondary or dr`)
}
