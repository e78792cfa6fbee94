package sizing

import (
	"bytes"
	_ "embed" // the default instance catalog
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// EmbeddedCatalogCSV is the committed instance catalog (data/instance-types.csv):
// facts only, with the date its prices were taken. Every entry point uses it
// unless --catalog or PULSAR_FLEET_CATALOG name a team's own file.
//
//go:embed data/instance-types.csv
var EmbeddedCatalogCSV []byte

// EmbeddedCatalogName names the embedded catalog in reports.
const EmbeddedCatalogName = "embedded sizing/data/instance-types.csv"

// CatalogEnv names a catalog file that replaces the embedded one for every
// entry point (CLI, program, operator, tests).
const CatalogEnv = "PULSAR_FLEET_CATALOG"

// Arch is a CPU architecture as Kubernetes labels it (model.Arch).
type Arch = model.Arch

// The architectures (model's).
const (
	ARM64 = model.ARM64
	AMD64 = model.AMD64
)

// InstanceType holds the facts the planner needs about one EC2 instance type.
type InstanceType struct {
	Name     string
	Family   string
	Size     string
	Arch     Arch
	VCPU     int
	MemGiB   float64
	NetMbps  float64 // sustained (baseline) network bandwidth, megabits per second
	NVMeGB   float64 // local instance-store NVMe, GB; 0 when EBS only
	USDPerHr float64 // us-east-1 on-demand Linux price
	// EBSMaxMbps is the maximum EBS bandwidth, megabits per second (a
	// burst figure for the smaller sizes); 0 when the catalog lacks it.
	EBSMaxMbps float64
	// EBSBaselineMbps is the EBS bandwidth the type sustains, megabits
	// per second (AWS's published baseline); 0 when the catalog lacks it.
	EBSBaselineMbps float64
}

// EBSBytesPerSec is the EBS bandwidth the type sustains, bytes per second:
// the baseline, or the maximum when the catalog has no baseline (a
// team's own file); 0 when it has neither, and EBS is then not a limit.
func (t InstanceType) EBSBytesPerSec() float64 {
	if t.EBSBaselineMbps > 0 {
		return t.EBSBaselineMbps * 1e6 / 8
	}
	return t.EBSMaxMbps * 1e6 / 8
}

// NetBytesPerSec is the sustained bandwidth in bytes per second.
func (t InstanceType) NetBytesPerSec() float64 { return t.NetMbps * 1e6 / 8 }

// HasNVMe reports whether the type has local instance storage.
func (t InstanceType) HasNVMe() bool { return t.NVMeGB > 0 }

// Catalog is an immutable set of instance types keyed by name.
type Catalog struct {
	types  map[string]InstanceType
	sorted []InstanceType
	// PricesAsOf is the date the prices were taken (the "# prices_as_of:"
	// line of the file), empty when the file does not say.
	PricesAsOf string
	// Source names where the catalog came from.
	Source string
}

// NewCatalog builds a catalog from a list of instance types.
func NewCatalog(types []InstanceType) (*Catalog, error) {
	c := &Catalog{types: make(map[string]InstanceType, len(types))}
	for _, t := range types {
		if _, dup := c.types[t.Name]; dup {
			return nil, fmt.Errorf("instance catalog: %s listed twice", t.Name)
		}
		c.types[t.Name] = t
		c.sorted = append(c.sorted, t)
	}
	sort.Slice(c.sorted, func(i, j int) bool { return c.sorted[i].Name < c.sorted[j].Name })
	if len(c.sorted) == 0 {
		return nil, errors.New("instance catalog is empty")
	}
	return c, nil
}

// Lookup returns the named instance type or an error that lists close names.
func (c *Catalog) Lookup(name string) (InstanceType, error) {
	if t, ok := c.types[name]; ok {
		return t, nil
	}
	return InstanceType{}, fmt.Errorf("unknown instance type %q: the catalog has %s", name, strings.Join(c.Names(), ", "))
}

// Names lists every instance type name, sorted.
func (c *Catalog) Names() []string {
	out := make([]string, len(c.sorted))
	for i, t := range c.sorted {
		out[i] = t.Name
	}
	return out
}

// Types returns every instance type, sorted by name.
func (c *Catalog) Types() []InstanceType { return append([]InstanceType(nil), c.sorted...) }

// pricesAsOfPrefix starts the comment line that dates the prices.
const pricesAsOfPrefix = "# prices_as_of:"

// ParseCatalog reads the CSV format of instance-types.csv: '#' comment lines
// (one may be "# prices_as_of: YYYY-MM-DD"), then a header naming at least
// instance_type, arch, vcpu, memory_gib, network_baseline_mbps, nvme_gb and
// on_demand_usd_hour; ebs_max_mbps and ebs_baseline_mbps are optional.
func ParseCatalog(r io.Reader) (*Catalog, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("instance catalog: %w", err)
	}
	c, err := parseRows(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, pricesAsOfPrefix) {
			c.PricesAsOf = strings.TrimSpace(strings.TrimPrefix(line, pricesAsOfPrefix))
		}
	}
	return c, nil
}

func parseRows(r io.Reader) (*Catalog, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("instance catalog: %w", err)
	}
	if len(rows) < 2 {
		return nil, errors.New("instance catalog: no rows")
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimSpace(h)] = i
	}
	need := []string{"instance_type", "arch", "vcpu", "memory_gib", "network_baseline_mbps", "nvme_gb", "on_demand_usd_hour"}
	for _, n := range need {
		if _, ok := col[n]; !ok {
			return nil, fmt.Errorf("instance catalog: header lacks column %q (have %v)", n, rows[0])
		}
	}
	var types []InstanceType
	for li, row := range rows[1:] {
		get := func(n string) string {
			if col[n] >= len(row) {
				return ""
			}
			return strings.TrimSpace(row[col[n]])
		}
		num := func(n string) (float64, error) {
			v, err := strconv.ParseFloat(get(n), 64)
			if err != nil || !(v >= 0) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("instance catalog row %d (%s): column %s: %q is not a non-negative number", li+2, get("instance_type"), n, get(n))
			}
			return v, nil
		}
		name := get("instance_type")
		family, size, ok := strings.Cut(name, ".")
		if !ok {
			return nil, fmt.Errorf("instance catalog row %d: %q is not family.size", li+2, name)
		}
		arch := Arch(get("arch"))
		if !arch.Valid() {
			return nil, fmt.Errorf("instance catalog row %d (%s): %w", li+2, name, model.Invalid("arch", arch, model.Arches))
		}
		t := InstanceType{Name: name, Family: family, Size: size, Arch: arch}
		vcpu, err := num("vcpu")
		if err != nil {
			return nil, err
		}
		t.VCPU = int(vcpu)
		if t.MemGiB, err = num("memory_gib"); err != nil {
			return nil, err
		}
		if t.NetMbps, err = num("network_baseline_mbps"); err != nil {
			return nil, err
		}
		if t.NVMeGB, err = num("nvme_gb"); err != nil {
			return nil, err
		}
		if t.USDPerHr, err = num("on_demand_usd_hour"); err != nil {
			return nil, err
		}
		for n, dst := range map[string]*float64{"ebs_max_mbps": &t.EBSMaxMbps, "ebs_baseline_mbps": &t.EBSBaselineMbps} {
			if _, ok := col[n]; ok {
				if *dst, err = num(n); err != nil {
					return nil, err
				}
			}
		}
		if t.EBSMaxMbps > 0 && t.EBSBaselineMbps > t.EBSMaxMbps {
			return nil, fmt.Errorf("instance catalog row %d (%s): ebs_baseline_mbps %v is above ebs_max_mbps %v", li+2, name, t.EBSBaselineMbps, t.EBSMaxMbps)
		}
		if t.VCPU == 0 || t.NetMbps == 0 || t.USDPerHr == 0 {
			return nil, fmt.Errorf("instance catalog row %d (%s): vcpu, network and price must be positive", li+2, name)
		}
		types = append(types, t)
	}
	return NewCatalog(types)
}

// LoadCatalog reads a catalog file.
func LoadCatalog(path string) (*Catalog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("instance catalog: %w (--catalog and %s name a team's own catalog; without them the embedded one is used)", err, CatalogEnv)
	}
	defer f.Close()
	c, err := ParseCatalog(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.Source = path
	return c, nil
}

// DefaultCatalog is the embedded catalog.
func DefaultCatalog() (*Catalog, error) {
	c, err := ParseCatalog(bytes.NewReader(EmbeddedCatalogCSV))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EmbeddedCatalogName, err)
	}
	c.Source = EmbeddedCatalogName
	return c, nil
}

// OpenCatalog returns the catalog every entry point uses: the file named by
// explicit (a --catalog flag), else the one PULSAR_FLEET_CATALOG names, else
// the embedded one.
func OpenCatalog(explicit string) (*Catalog, error) {
	if explicit == "" {
		explicit = os.Getenv(CatalogEnv)
	}
	if explicit == "" {
		return DefaultCatalog()
	}
	return LoadCatalog(explicit)
}
