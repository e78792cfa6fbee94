package sizing

// Params are the planner's assumptions that are not part of a workload. Each
// default is stated with its source in docs/capacity-plan.md; change them
// here, in one place.
type Params struct {
	// SpotDiscount is the fraction of the on-demand price saved on spot
	// (0.6 = spot costs 40% of on-demand). Spot prices move hourly and are
	// not in the catalog, so they are modelled as one discount.
	SpotDiscount float64
	// BrokerMsgPerVCPU is the planned broker throughput per vCPU for batched
	// messages. A planning assumption: measure with pulsar-perf and adjust.
	BrokerMsgPerVCPU float64
	// BrokerWriteBytesPerVCPU is the write throughput one broker vCPU
	// carries: the Apache Pulsar documentation rates an 8-CPU broker for
	// 100 MB/s of writes ("Deploy a cluster on bare metal", hardware
	// recommendations), 12.5 MB/s per vCPU. A broker needs the larger of
	// the vCPUs its messages and its bytes ask for.
	BrokerWriteBytesPerVCPU float64
	// EBSThroughputBytes and JournalDiskBytes are the gp3 throughput of
	// each bookie volume and the journal's size that `size` and the seed
	// comparison use; the planner chooses both per fleet (Volumes).
	EBSThroughputBytes float64
	JournalDiskBytes   int64
	// JournalIOPS is the least IOPS of a bookie's journal volume: it
	// fsyncs every group commit (more when its throughput needs more).
	JournalIOPS int
	// NVMeWriteBytesPerGB is the sustained write bandwidth of local NVMe per
	// GB of instance storage (RAID0 across the instance's devices). AWS
	// rates its storage-optimized families at one figure per GB: I3en "up
	// to 16 GB/s of sequential disk throughput" on 60 TB, Im4gn and Is4gen
	// 250 and 500 MB/s of 128 KiB reads on their 937 and 1,875 GB sizes:
	// 0.267 MB/s per GB each (docs/capacity-plan.md, with the sources).
	// These are read or undirected ratings: AWS publishes no sequential
	// write bandwidth, so this is a calibration point.
	NVMeWriteBytesPerGB float64
	// ZoneHeadroom sizes every role so that losing one whole zone leaves
	// enough capacity below 100% (N+1 zones). Turning it off is for what-if
	// analysis only: the failure check then reports the gap.
	ZoneHeadroom bool
	// AlternativePriceRatio bounds the instance types offered to Karpenter
	// beside the planned one: at most this times the planned type's price.
	AlternativePriceRatio float64
	// MaxAlternatives caps how many instance types a pool offers.
	MaxAlternatives int
	// Prices for storage and transfer.
	Prices Prices
}

// Prices are AWS list prices (us-east-1) used for storage, request and
// transfer costs; instance prices come from the catalog.
type Prices struct {
	HoursPerMonth float64
	// gp3
	GP3PerGBMonth          float64
	GP3FreeThroughputBytes float64
	GP3PerMBpsMonth        float64
	GP3PerIOPSMonth        float64 // above the 3,000 included
	// S3 Intelligent-Tiering
	S3FrequentPerGBMonth   float64
	S3InfrequentPerGBMonth float64 // objects not accessed for 30 days
	S3ArchiveIAPerGBMonth  float64 // Archive Instant Access, 90 days
	S3MonitoringPer1000    float64 // per 1,000 objects per month
	S3PutPer1000           float64
	S3TransitionPer1000    float64 // lifecycle transition to INTELLIGENT_TIERING
	S3ReplicationPerGB     float64 // inter-region transfer for CRR
	S3RTCPerGB             float64 // S3 Replication Time Control, per replicated GB
	// RootVolumeBytes is the gp3 root volume of every node.
	RootVolumeBytes int64
	// OffloadObjectBytes is the average size of one offloaded ledger object.
	OffloadObjectBytes int64
}

// NVMeBytesPerGBRated is AWS's rating of instance storage, 16 GB/s over
// 60,000 GB (I3en; Im4gn and Is4gen match it): about 0.267 MB/s per GB.
const NVMeBytesPerGBRated = 16 * float64(GB) / 60_000

// DefaultParams returns the documented defaults.
func DefaultParams() Params {
	return Params{
		SpotDiscount:            0.6,
		BrokerMsgPerVCPU:        25000,
		BrokerWriteBytesPerVCPU: 12.5 * float64(MB),
		EBSThroughputBytes:      250 * float64(MiB),
		JournalDiskBytes:        100 * GiB,
		JournalIOPS:             6000,
		NVMeWriteBytesPerGB:     NVMeBytesPerGBRated,
		ZoneHeadroom:            true,
		AlternativePriceRatio:   1.6,
		MaxAlternatives:         12,
		Prices: Prices{
			HoursPerMonth:          730,
			GP3PerGBMonth:          0.08,
			GP3FreeThroughputBytes: 125 * float64(MiB),
			GP3PerMBpsMonth:        0.04,
			GP3PerIOPSMonth:        0.005,
			S3FrequentPerGBMonth:   0.023,
			S3InfrequentPerGBMonth: 0.0125,
			S3ArchiveIAPerGBMonth:  0.004,
			S3MonitoringPer1000:    0.0025,
			S3PutPer1000:           0.005,
			S3TransitionPer1000:    0.01,
			S3ReplicationPerGB:     0.02,
			S3RTCPerGB:             0.015,
			RootVolumeBytes:        80 * GiB,
			OffloadObjectBytes:     1 * GiB,
		},
	}
}

// Validate checks the parameters.
func (p Params) Validate() error {
	switch {
	case !(p.SpotDiscount >= 0 && p.SpotDiscount < 1):
		return &FieldError{"spotDiscount", p.SpotDiscount, "a fraction in [0, 1)"}
	case !(p.BrokerMsgPerVCPU > 0):
		return &FieldError{"brokerMsgPerVCPU", p.BrokerMsgPerVCPU, "a positive number"}
	case !(p.BrokerWriteBytesPerVCPU > 0):
		return &FieldError{"brokerWriteBytesPerVCPU", p.BrokerWriteBytesPerVCPU, "a positive number"}
	case !(p.EBSThroughputBytes >= GP3MinThroughput && p.EBSThroughputBytes <= GP3MaxThroughput):
		return &FieldError{"ebsThroughput", p.EBSThroughputBytes, "125MiB..2000MiB per second (gp3 limits)"}
	case p.JournalIOPS < GP3BaseIOPS || p.JournalIOPS > GP3MaxIOPS:
		return &FieldError{"journalIOPS", p.JournalIOPS, "3000..80000 (gp3 limits)"}
	case p.JournalDiskBytes <= 0:
		return &FieldError{"journalDisk", p.JournalDiskBytes, "a positive size"}
	case !(p.NVMeWriteBytesPerGB > 0):
		return &FieldError{"nvmeWriteBytesPerGB", p.NVMeWriteBytesPerGB, "a positive number"}
	case !(p.AlternativePriceRatio >= 1):
		return &FieldError{"alternativePriceRatio", p.AlternativePriceRatio, "at least 1"}
	case p.MaxAlternatives < 1:
		return &FieldError{"maxAlternatives", p.MaxAlternatives, "at least 1"}
	}
	return nil
}
