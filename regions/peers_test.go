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

// A region reports the bootstrap's fleet CA setting it applied, the first
// CA for a bootstrap from before the setting; a setting it cannot read
// fails the run.
func TestFleetCAApplied(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setting any // the bootstrap's fleetCa output; nil: none
		want    map[string]any
		err     string
	}{
		{"a rotation's stage", map[string]any{"generation": float64(2), "stage": "sign"}, map[string]any{"generation": 2, "stage": "sign"}, ""},
		{"a bootstrap from before the setting", nil, map[string]any{"generation": 1, "stage": "steady"}, ""},
		{"a setting it cannot read", "sign", nil, "the bootstrap stack organization/pulsar-fleet-bootstrap/admin's fleetCa output sign is not {generation, stage}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := recorder.New("us-east-1")
			if tc.setting != nil {
				rec.StackOutputs["admin"][model.OutputFleetCA] = tc.setting
			}
			got := make(chan map[string]any, 1)
			err := rec.Run("test", "us-east-1", nil, nil, func(ctx *pulumi.Context) error {
				p, err := newPeers(ctx, "organization/pulsar-fleet-bootstrap/admin", nil)
				if err != nil {
					return err
				}
				out, ok := p.FleetCAApplied()
				require.True(t, ok)
				ctx.Export("applied", out.ApplyT(func(m map[string]any) map[string]any { got <- m; return m }))
				return nil
			})
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, <-got)
		})
	}
	rec := recorder.New("us-east-1")
	require.NoError(t, rec.Run("test", "us-east-1", nil, nil, func(ctx *pulumi.Context) error {
		p, err := newPeers(ctx, "", nil)
		require.NoError(t, err)
		_, ok := p.FleetCAApplied()
		assert.False(t, ok, "no bootstrap stack: nothing to report")
		return nil
	}))
}
