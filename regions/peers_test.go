package regions

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// A region trusts every CA the bootstrap holds (its bundle), and, from a
// bootstrap deployed before the bundle output, the one CA it has.
func TestFleetCABundle(t *testing.T) {
	const cert = "-----BEGIN CERTIFICATE-----\nthe only CA\n-----END CERTIFICATE-----\n"
	for _, tc := range []struct {
		name    string
		outputs map[string]any
		want    string
	}{
		{"a bundle", map[string]any{model.OutputFleetCACert: cert, model.OutputFleetCABundle: recorder.SimulatedCABundle}, recorder.SimulatedCABundle},
		{"a bootstrap from before the bundle", map[string]any{model.OutputFleetCACert: cert}, cert},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := recorder.New("us-east-1")
			rec.StackOutputs["admin"] = tc.outputs
			got := make(chan string, 1)
			require.NoError(t, rec.Run("test", "us-east-1", nil, nil, func(ctx *pulumi.Context) error {
				p, err := newPeers(ctx, "organization/pulsar-fleet-bootstrap/admin", nil)
				if err != nil {
					return err
				}
				p.FleetCABundle().ApplyT(func(s string) string { got <- s; return s })
				return nil
			}))
			assert.Equal(t, tc.want, <-got)
		})
	}
}
