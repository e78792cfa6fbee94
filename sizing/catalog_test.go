package sizing

import (
	"os"
	"path/filepath"
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
		NetMbps: m.NetMbps, USDPerHr: m.USDPerHr, EBSMaxMbps: 4750}, m)
	assert.Positive(t, m.NetMbps)
	assert.Positive(t, m.USDPerHr)
}

// With no catalog file anywhere (an empty working directory, no
// PULSAR_FLEET_CATALOG), every phase plans exactly as from the upstream
// reference CSV.
func TestPlanWithoutAnyCatalogFileEqualsReference(t *testing.T) {
	refCSV := reference.Path(t, "instance-types.csv")
	fromRef, err := LoadCatalog(refCSV)
	require.NoError(t, err)

	t.Chdir(t.TempDir())
	t.Setenv(CatalogEnv, "")
	embedded, err := OpenCatalog("")
	require.NoError(t, err)
	assert.Equal(t, EmbeddedCatalogName, embedded.Source)
	assert.Equal(t, fromRef.Types(), embedded.Types(), "the committed catalog holds the reference facts")

	pe, err := NewPlanner(embedded, DefaultParams())
	require.NoError(t, err)
	pr, err := NewPlanner(fromRef, DefaultParams())
	require.NoError(t, err)
	for _, ph := range Phases() {
		a, err := pe.PlanFleet(ph, testFleet())
		require.NoError(t, err, ph.Name)
		b, err := pr.PlanFleet(ph, testFleet())
		require.NoError(t, err, ph.Name)
		assert.Equal(t, b, a, ph.Name)
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
