package upstream

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/chartref"
	"github.com/pulsar-fleet/pulsar-fleet/internal/reference"
)

// The committed key lists are Pulsar's, key for key.
func TestKeyListsMatchReference(t *testing.T) {
	for file, committed := range map[string]map[string]bool{"broker-keys.txt": BrokerKeys(), "bookkeeper-keys.txt": BookKeeperKeys()} {
		f, err := os.Open(reference.Path(t, file))
		require.NoError(t, err)
		ref, err := ParseList(f)
		f.Close()
		require.NoError(t, err)
		assert.Equal(t, sortedKeys(ref), sortedKeys(committed), file)
	}
}

// known loads what chart c accepts from the reference directory.
func known(t *testing.T, c Chart) *chartref.Known {
	t.Helper()
	values := ""
	if c.Module != "" {
		values = filepath.Join(reference.Module(t, c.Module, c.Version), c.ChartDir, "values.yaml")
	} else {
		values = reference.Path(t, c.Name+"-"+valuesName(c)+"-values.yaml")
	}
	k, err := chartref.FromValuesFile(values)
	require.NoError(t, err)
	if c.Name == PulsarChart.Name {
		require.NoError(t, k.AddPathList(reference.Path(t, "pulsar-chart-4.7.0-value-paths.txt")))
	}
	// A subchart reads its values under its name in the parent's.
	for _, sub := range c.Subcharts {
		require.NoError(t, k.AddValuesFile(sub, reference.Path(t, "charts/"+c.Name+"/charts/"+sub+"/values.yaml")))
	}
	for _, f := range c.FreeForm {
		k.FreeForm[f] = true
	}
	return k
}

func valuesName(c Chart) string {
	if c.Name == "pulsar" {
		return "chart-" + c.Version
	}
	return c.Version
}

// Every value path the program sets exists in the released chart: in its
// values.yaml, among the paths its templates read, or at a free-form key
// the chart has.
func TestChartPathsExistUpstream(t *testing.T) {
	for _, c := range Charts {
		used, err := c.UsedPaths()
		require.NoError(t, err)
		require.NotEmpty(t, used, c.Name)
		assert.Empty(t, known(t, c).Unknown(used), "%s %s: value paths not in the released chart", c.Name, c.Version)
	}
}

// The check has teeth: the design notes' invented keys, and a key chart
// 4.1.0 dropped, are unknown.
func TestUnknownChartPathsAreCaught(t *testing.T) {
	bad := []string{"auth.authentication.provider", "bookkeeper.additionalBkConfigs.x", "broker.additionalClusterConfigs.y"}
	got := known(t, PulsarChart).Unknown(append([]string{"broker.configData.anything", "auth.authentication.jwt.enabled"}, bad...))
	sort.Strings(bad)
	assert.Equal(t, bad, got)
	assert.Equal(t, []string{"settings.nodeTerminationHandler"},
		known(t, KarpenterChart).Unknown([]string{"settings.interruptionQueue", "settings.nodeTerminationHandler"}))
	// webhook.pdb was never a key; minAvailable is read by the template
	// but not in values.yaml, so the program does not set it.
	assert.Equal(t, []string{"webhook.pdb.enabled", "webhook.podDisruptionBudget.minAvailable"},
		known(t, CertManagerChart).Unknown([]string{"crds.enabled", "webhook.podDisruptionBudget.enabled", "webhook.podDisruptionBudget.minAvailable", "webhook.pdb.enabled"}))
}

// A path ending at a free-form key is accepted only where the chart has
// that key.
func TestFreeFormOnlyWhereTheChartHasIt(t *testing.T) {
	k := known(t, PulsarChart)
	assert.Empty(t, k.Unknown([]string{"broker.configData", "bookkeeper.nodeSelector"}))
	assert.Equal(t, []string{"nosuch.configData"}, k.Unknown([]string{"nosuch.configData"}))
}

func TestParseList(t *testing.T) {
	_, err := ParseList(strings.NewReader("# only a comment\n\n"))
	assert.Error(t, err, "an empty list is refused")
	set, err := ParseList(strings.NewReader("a (commented)\n b\n# c\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"a": true, "b": true}, set)
}
