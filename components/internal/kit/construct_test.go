package kit

import (
	"errors"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
)

// toyConfig has one default and one rule.
type toyConfig struct{ Size int }

func (c toyConfig) WithDefaults() toyConfig {
	if c.Size == 0 {
		c.Size = 3
	}
	return c
}

func (c toyConfig) Validate() error {
	if c.WithDefaults().Size > 5 {
		return errors.New("size: at most 5")
	}
	return nil
}

// toyDeps need an input always, and a peer's input when Size is 4 or more.
type toyDeps struct{ ID, Peer pulumi.StringInput }

func (d toyDeps) Validate() error { return Missing(map[string]any{"id": d.ID}) }

func (d toyDeps) ValidateFor(c toyConfig) error {
	if c.Size >= 4 && d.Peer == nil {
		return errors.New("peer: required from size 4")
	}
	return nil
}

type toy struct{ pulumi.ResourceState }

func runToy(t *testing.T, cfg toyConfig, deps toyDeps) (*recorder.Recorder, int, error) {
	t.Helper()
	rec := recorder.New("us-east-1")
	seen := 0
	err := rec.Run("test", "test", nil, nil, func(ctx *pulumi.Context) error {
		_, err := Construct(ctx, Type("toy", "Toy"), "t", cfg, deps, &toy{}, func(c toyConfig, parent pulumi.ResourceOption) (pulumi.Map, error) {
			seen = c.Size
			return pulumi.Map{"size": pulumi.Int(c.Size)}, nil
		})
		return err
	})
	return rec, seen, err
}

func TestConstructDefaultsThenRegisters(t *testing.T) {
	rec, size, err := runToy(t, toyConfig{}, toyDeps{ID: pulumi.String("x")})
	require.NoError(t, err)
	assert.Equal(t, 3, size, "children see the defaulted config")
	comp, err := rec.Component("pulsar-fleet:toy:Toy")
	require.NoError(t, err)
	assert.Equal(t, "t", comp.Name)
}

// A bad config, a missing dependency or a dependency the config needs
// registers nothing, and the error names the component and the problem.
func TestConstructRefusesBeforeRegistering(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  toyConfig
		deps toyDeps
		want string
	}{
		{"config", toyConfig{Size: 9}, toyDeps{ID: pulumi.String("x")}, `toy "t": size: at most 5`},
		{"missing", toyConfig{}, toyDeps{}, `toy "t": missing dependencies: id`},
		{"needed by the config", toyConfig{Size: 4}, toyDeps{ID: pulumi.String("x")}, "peer: required from size 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, _, err := runToy(t, tc.cfg, tc.deps)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, rec.Resources())
		})
	}
}

func TestMissingSeesNilsInsideInterfaces(t *testing.T) {
	var arr pulumi.StringArray
	assert.EqualError(t, Missing(map[string]any{"b": arr, "a": nil, "c": pulumi.String("ok")}), "missing dependencies: a, b")
	assert.NoError(t, Missing(map[string]any{"c": pulumi.String("ok")}))
}
