package sizing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/reference"
)

// The embedded catalog carries its facts and the date of its prices.
func TestEmbeddedCatalog(t *testing.T) {
	c, err := DefaultCatalog()
	require.NoError(t, err)
	assert.Equal(t, "2026-07-20", c.PricesAsOf)
	assert.Equal(t, EmbeddedCatalogName, c.Source)
	assert.GreaterOrEqual(t, len(c.Names()), 150)
	m, err := c.Lookup("m6g.2xlarge")
	require.NoError(t, err)
	assert.Equal(t, InstanceType{Name: "m6g.2xlarge", Family: "m6g", Size: "2xlarge", Arch: ARM64, VCPU: 8, MemGiB: 32,
		NetMbps: m.NetMbps, USDPerHr: m.USDPerHr, EBSMaxMbps: 4750, EBSBaselineMbps: 2375}, m)
	assert.Equal(t, 2375e6/8, m.EBSBytesPerSec(), "the sustained baseline, not the 30-minute maximum")
	assert.Positive(t, m.NetMbps)
	assert.Positive(t, m.USDPerHr)
}

// With no catalog file anywhere (an empty working directory, no
// PULSAR_FLEET_CATALOG), the planner reads the committed catalog: the
// upstream reference facts, plus AWS's EBS baseline bandwidth for every
// type (which the reference lacks), never above its maximum.
func TestPlanWithoutAnyCatalogFileEqualsReference(t *testing.T) {
	refCSV := reference.Path(t, "instance-types.csv")
	fromRef, err := LoadCatalog(refCSV)
	require.NoError(t, err)

	t.Chdir(t.TempDir())
	t.Setenv(CatalogEnv, "")
	embedded, err := OpenCatalog("")
	require.NoError(t, err)
	assert.Equal(t, EmbeddedCatalogName, embedded.Source)
	var facts []InstanceType
	for _, it := range embedded.Types() {
		assert.True(t, it.EBSBaselineMbps > 0 && it.EBSBaselineMbps <= it.EBSMaxMbps, "%s: baseline %v, maximum %v", it.Name, it.EBSBaselineMbps, it.EBSMaxMbps)
		it.EBSBaselineMbps = 0
		facts = append(facts, it)
	}
	assert.Equal(t, fromRef.Types(), facts, "the committed catalog holds the reference facts")
}

// A catalog without baselines (a team's own file) sizes with the maximum;
// one whose baseline exceeds its maximum is refused, naming the row.
func TestCatalogEBSBaseline(t *testing.T) {
	head := "instance_type,arch,vcpu,memory_gib,network_baseline_mbps,nvme_gb,on_demand_usd_hour,ebs_max_mbps"
	c, err := ParseCatalog(strings.NewReader(head + "\nm6g.2xlarge,arm64,8,32,2500,0,0.308,4750\n"))
	require.NoError(t, err)
	m, _ := c.Lookup("m6g.2xlarge")
	assert.Equal(t, 4750e6/8, m.EBSBytesPerSec())
	_, err = ParseCatalog(strings.NewReader(head + ",ebs_baseline_mbps\nm6g.2xlarge,arm64,8,32,2500,0,0.308,4750,5000\n"))
	assert.EqualError(t, err, "instance catalog row 2 (m6g.2xlarge): ebs_baseline_mbps 5000 is above ebs_max_mbps 4750")
	for _, price := range []string{"NaN", "Inf", "-Inf"} {
		_, err = ParseCatalog(strings.NewReader(head + "\nm6g.2xlarge,arm64,8,32,2500,0," + price + ",4750\n"))
		assert.ErrorContains(t, err, "column on_demand_usd_hour: \""+price+"\" is not a non-negative number", price)
	}
}

// --catalog and PULSAR_FLEET_CATALOG replace the embedded catalog; a bad
// path names the override.
func TestCatalogOverride(t *testing.T) {
	own := filepath.Join(t.TempDir(), "own.csv")
	require.NoError(t, os.WriteFile(own, []byte("# prices_as_of: 2027-01-01\n"+
		"instance_type,arch,vcpu,memory_gib,network_baseline_mbps,nvme_gb,on_demand_usd_hour\n"+
		"m7g.2xlarge,arm64,8,32,3750,0,0.3\n"), 0o600))
	t.Setenv(CatalogEnv, own)
	c, err := OpenCatalog("")
	require.NoError(t, err)
	assert.Equal(t, own, c.Source)
	assert.Equal(t, "2027-01-01", c.PricesAsOf)
	assert.Equal(t, []string{"m7g.2xlarge"}, c.Names())

	t.Setenv(CatalogEnv, "")
	c, err = OpenCatalog(own)
	require.NoError(t, err)
	assert.Equal(t, own, c.Source)

	_, err = OpenCatalog(filepath.Join(t.TempDir(), "missing.csv"))
	assert.ErrorContains(t, err, CatalogEnv)
}
