package sizing

import (
	"fmt"
	"math"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// gp3's limits (Amazon EBS User Guide, "General Purpose SSD volumes"; the
// size, throughput and IOPS maxima were raised in September 2025): 1 GiB
// to 64 TiB, 125 to 2,000 MiB/s and 3,000 to 80,000 IOPS, the first
// 3,000 IOPS and 125 MiB/s included in the price, at most 0.25 MiB/s of
// throughput per provisioned IOPS and 500 IOPS per GiB.
const (
	GP3MaxBytes         = 64 * 1024 * GiB
	GP3MinThroughput    = 125 * float64(MiB)
	GP3MaxThroughput    = 2000 * float64(MiB)
	GP3BaseIOPS         = 3000
	GP3MaxIOPS          = 80000
	GP3MaxMiBPerIOPS    = 0.25
	GP3MaxIOPSPerGiB    = 500
	journalSizeStepByte = 8 * GiB
)

// MaxBookieDirectMiB caps a bookie's direct memory (podFor). The journal
// volume holds model.JournalBackups old files of model.JournalFileMiB
// beyond the last checkpoint, and every file since it: up to the entries
// the write cache holds before it flushes (a quarter of the direct memory).
const MaxBookieDirectMiB = 64 * 1024

// Volumes are an EBS bookie's two gp3 volumes. Both receive one write of
// every replica (the journal first, the ledger later), so both are
// provisioned with the same throughput.
type Volumes struct {
	LedgerBytes     int64   `json:"ledgerBytes"`
	JournalBytes    int64   `json:"journalBytes"`
	ThroughputBytes float64 `json:"throughputBytes"`
	LedgerIOPS      int     `json:"ledgerIOPS"`
	JournalIOPS     int     `json:"journalIOPS"`
}

// NewVolumes provisions a ledger volume of ledgerBytes and a journal at
// throughput each: IOPS at least the base (the journal's, for its
// fsyncs, is Params.JournalIOPS) and enough for the throughput; the
// journal as small as its files (backups, the current one, and what the
// largest write cache holds unflushed) and its IOPS allow.
func NewVolumes(ledgerBytes int64, throughput float64, p Params) Volumes {
	iops := func(base int) int {
		return max(base, int(math.Ceil(throughput/float64(MiB)/GP3MaxMiBPerIOPS-1e-9)))
	}
	v := Volumes{LedgerBytes: ledgerBytes, ThroughputBytes: throughput, LedgerIOPS: iops(GP3BaseIOPS), JournalIOPS: iops(p.JournalIOPS)}
	files := int64(model.JournalBackups+1)*model.JournalFileMiB*MiB + MaxBookieDirectMiB/4*MiB
	need := max(files, int64(math.Ceil(float64(v.JournalIOPS)/GP3MaxIOPSPerGiB))*GiB)
	v.JournalBytes = (need + journalSizeStepByte - 1) / journalSizeStepByte * journalSizeStepByte
	return v
}

// Validate checks both volumes against gp3's limits.
func (v Volumes) Validate() error {
	for _, vol := range []struct {
		name  string
		bytes int64
		iops  int
	}{{"ledger", v.LedgerBytes, v.LedgerIOPS}, {"journal", v.JournalBytes, v.JournalIOPS}} {
		switch {
		case vol.bytes < GiB || vol.bytes > GP3MaxBytes:
			return &FieldError{vol.name + "Volume", FormatSI(float64(vol.bytes)), "1GiB..64TiB (gp3)"}
		case vol.iops < GP3BaseIOPS || vol.iops > GP3MaxIOPS || vol.iops > GP3MaxIOPSPerGiB*int(vol.bytes/GiB):
			return &FieldError{vol.name + "IOPS", vol.iops, fmt.Sprintf("3000..80000 and at most 500 per GiB (%d for %s)", GP3MaxIOPSPerGiB*int(vol.bytes/GiB), FormatSI(float64(vol.bytes)))}
		case v.ThroughputBytes > float64(vol.iops)*GP3MaxMiBPerIOPS*float64(MiB)+1e-6:
			return &FieldError{vol.name + "Throughput", FormatSI(v.ThroughputBytes) + "/s", fmt.Sprintf("at most 0.25 MiB/s per IOPS (%d IOPS)", vol.iops)}
		}
	}
	if v.ThroughputBytes < GP3MinThroughput || v.ThroughputBytes > GP3MaxThroughput {
		return &FieldError{"volumeThroughput", FormatSI(v.ThroughputBytes) + "/s", "125MiB..2000MiB per second (gp3)"}
	}
	return nil
}

// defaultVolumes are the volumes `size` and the seed comparison size on:
// the workload's ledger disk, Params' journal and throughput.
func defaultVolumes(w Workload, p Params) Volumes {
	v := NewVolumes(w.BookieDiskBytes, p.EBSThroughputBytes, p)
	v.JournalBytes = p.JournalDiskBytes
	return v
}

// LegacyVolumes are the volumes this program gave EBS bookies at a phase
// before it chose them: the phase preset's ledger disk (2 TiB up to 100k,
// 4 TiB after), a 100 GiB journal, 250 MiB/s each. A stack deployed then
// exports no volumes, and runs these.
func LegacyVolumes(phase string) (Volumes, error) {
	ph, err := PhaseByName(phase)
	if err != nil {
		return Volumes{}, err
	}
	v := NewVolumes(ph.BookieDiskBytes, 250*float64(MiB), DefaultParams())
	v.JournalBytes = 100 * GiB
	return v, nil
}

// Volumes are the EBS volumes of a bookie fleet (zero for instance storage).
func (r RoleSize) Volumes() Volumes {
	return Volumes{LedgerBytes: r.LedgerDiskBytes, JournalBytes: r.JournalDiskBytes, ThroughputBytes: r.VolumeThroughputBytes,
		LedgerIOPS: r.LedgerIOPS, JournalIOPS: r.JournalIOPS}
}

// withVolumes records v on r.
func (r RoleSize) withVolumes(v Volumes) RoleSize {
	r.LedgerDiskBytes, r.JournalDiskBytes, r.VolumeThroughputBytes, r.LedgerIOPS, r.JournalIOPS =
		v.LedgerBytes, v.JournalBytes, v.ThroughputBytes, v.LedgerIOPS, v.JournalIOPS
	return r
}

// Monthly prices both volumes.
func (v Volumes) Monthly(pr Prices) float64 {
	return gp3Monthly(pr, float64(v.LedgerBytes), v.ThroughputBytes, v.LedgerIOPS) +
		gp3Monthly(pr, float64(v.JournalBytes), v.ThroughputBytes, v.JournalIOPS)
}

// gp3Monthly prices one gp3 volume of size bytes with throughput bytes/s
// and iops provisioned (the first 125 MiB/s and 3,000 IOPS are free).
func gp3Monthly(pr Prices, size, throughput float64, iops int) float64 {
	c := size / float64(GiB) * pr.GP3PerGBMonth
	if throughput > pr.GP3FreeThroughputBytes {
		c += (throughput - pr.GP3FreeThroughputBytes) / float64(MiB) * pr.GP3PerMBpsMonth
	}
	if iops > GP3BaseIOPS {
		c += float64(iops-GP3BaseIOPS) * pr.GP3PerIOPSMonth
	}
	return c
}

// The ledger sizes (GiB) and throughputs (MiB/s) the planner tries for EBS
// bookies, within gp3's limits.
var (
	ledgerLadderGiB     = []int64{128, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576, 32768, 49152, 65536}
	throughputLadderMiB = []float64{125, 250, 375, 500, 625, 750, 1000, 1250, 1500, 2000}
)

// VolumeChoices are every ledger size and throughput of the ladder, with
// the journal each implies.
func VolumeChoices(p Params) []Volumes {
	var out []Volumes
	for _, s := range ledgerLadderGiB {
		for _, t := range throughputLadderMiB {
			out = append(out, NewVolumes(s*GiB, t*float64(MiB), p))
		}
	}
	return out
}

// cheapestVolumes are the volumes that make the cheapest fleet of EBS
// bookies on t: over the ladder's ledger sizes and throughputs, the price
// of the node count every limit requires (price: the fleet's, split as the
// plan splits it); ties go to smaller volumes. More throughput stops paying once the volumes' throughput no
// longer sets the count, and a larger ledger once neither storage nor
// throughput does.
func cheapestVolumes(w Workload, t InstanceType, p Params, price func(InstanceType, RoleSize) float64) Volumes {
	storage := DataStax(w, 1).StorageBytes
	// Volumes that limit nothing, for the counts no larger volume can beat.
	unbound := func(ledgerBytes int64) Volumes {
		return Volumes{LedgerBytes: ledgerBytes, ThroughputBytes: math.Inf(1)}
	}
	floor := bookieCount(w, t, p, unbound(1<<62), storage)
	var best Volumes
	bestCost := math.Inf(1)
	for _, s := range ledgerLadderGiB {
		n := 0
		for _, tp := range throughputLadderMiB {
			v := NewVolumes(s*GiB, tp*float64(MiB), p)
			n = bookieCount(w, t, p, v, storage)
			if c := price(t, RoleSize{Role: Bookie, Count: n}.withVolumes(v)); c < bestCost-1e-6 {
				best, bestCost = v, c
			}
			if n == bookieCount(w, t, p, unbound(s*GiB), storage) {
				break
			}
		}
		if n == floor {
			break
		}
	}
	return best
}
