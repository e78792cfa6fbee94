package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// Every data pool of every stack at every phase keeps an on-demand base:
// one node per zone, and for bookies at least the ensemble, so losing every
// spot node of the region at once never stops writes or loses an entry.
func TestOnDemandBasePerZone(t *testing.T) {
	for _, s := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
		for _, ph := range sizing.PhaseNames {
			d := designAt(t, s, ph, nil)
			p := d.Plan
			zones := len(d.Components.Network.Zones)
			assert.GreaterOrEqual(t, p.Brokers.OnDemand, zones, "%s/%s: on-demand brokers per zone", s, ph)
			assert.GreaterOrEqual(t, p.Bookies.OnDemand, zones, "%s/%s: on-demand bookies per zone", s, ph)
			assert.GreaterOrEqual(t, p.Bookies.OnDemand, p.Quorum.Ensemble, "%s/%s: on-demand bookies >= ensemble", s, ph)
			var found bool
			for _, f := range p.Failures {
				if f.Scenario == sizing.ScenarioRegionSpotLoss {
					found = true
					assert.True(t, f.Pass, "%s/%s: %s: %v", s, ph, f.Scenario, f.Notes)
				}
			}
			assert.True(t, found, "%s/%s checks a region-wide spot loss", s, ph)
			for _, pool := range d.Components.Capacity.Pools {
				if pool.Name == "broker" || pool.Name == "bookie" {
					assert.GreaterOrEqual(t, pool.OnDemandNodes, zones, "%s/%s pool %s", s, ph, pool.Name)
				}
			}
		}
	}
}
