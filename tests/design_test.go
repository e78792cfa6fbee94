package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/golden"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// Every stack at every phase has a reviewed design golden: the plan's
// fleet and every component's configuration, as `pulsar-fleet design
// --json` prints it. A change to what a region would be shows in the
// diff of testdata/design/.
func TestDesignGoldens(t *testing.T) {
	fleet, _, err := stacks.LoadFleet(root)
	require.NoError(t, err)
	cat := catalog(t)
	for _, s := range fleet.Names() {
		for _, ph := range sizing.PhaseNames {
			d, err := stacks.DesignFor(fleet, s, ph, cat)
			require.NoError(t, err, "%s/%s", s, ph)
			b, err := d.JSON()
			require.NoError(t, err)
			assert.NotContains(t, string(b), "[unknown]", "a design holds no output")
			again, err := stacks.DesignFor(fleet, s, ph, cat)
			require.NoError(t, err)
			b2, err := again.JSON()
			require.NoError(t, err)
			require.Equal(t, string(b), string(b2), "%s/%s: the design is a pure value", s, ph)
			golden.Assert(t, "design/"+s+"-"+ph+".json", b)
		}
	}
}
