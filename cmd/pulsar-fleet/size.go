package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// flagFor maps a workload field to the size command's flag.
var flagFor = map[string]string{
	"rate": "--rate", "messageSize": "--message-size", "writeQuorum": "--replicas", "ackQuorum": "--ack",
	"ensemble": "--ensemble", "ttl": "--ttl", "retention": "--retention", "zones": "--zones",
	"bookieDisk": "--bookie-disk", "diskUsableFraction": "--usable", "targetUtilization": "--utilization",
	"fanout": "--fanout", "geoReplicas": "--geo-replicas", "broker-instance": "--broker-instance",
	"bookie-instance": "--bookie-instance",
}

// sizeResult is the JSON of the size command.
type sizeResult struct {
	// The DataStax method.
	StorageBytes      float64 `json:"storageBytes"`
	StorageKB         float64 `json:"storageKB"`
	BookiesForStorage int     `json:"bookiesForStorage"`
	BrokersForStorage int     `json:"brokersForStorage"`
	// After every limit.
	Bookies              int            `json:"bookies"`
	Brokers              int            `json:"brokers"`
	LimitingFactor       string         `json:"limitingFactor"`
	BookieLimitingFactor string         `json:"bookieLimitingFactor"`
	BrokerLimitingFactor string         `json:"brokerLimitingFactor"`
	BookieInstance       string         `json:"bookieInstance"`
	BrokerInstance       string         `json:"brokerInstance"`
	BookieLimits         []sizing.Limit `json:"bookieLimits"`
	BrokerLimits         []sizing.Limit `json:"brokerLimits"`
	Inputs               sizeInputs     `json:"inputs"`
}

type sizeInputs struct {
	Rate               float64 `json:"rate"`
	MessageBytes       int64   `json:"messageBytes"`
	Ensemble           int     `json:"ensemble"`
	WriteQuorum        int     `json:"writeQuorum"`
	AckQuorum          int     `json:"ackQuorum"`
	TTLSeconds         float64 `json:"ttlSeconds"`
	RetentionSeconds   float64 `json:"retentionSeconds"`
	BookieDiskBytes    int64   `json:"bookieDiskBytes"`
	DiskUsableFraction float64 `json:"diskUsableFraction"`
	Zones              int     `json:"zones"`
}

func runSize(args []string, stdout io.Writer) error {
	fs := newFlags("size", stdout)
	rate := fs.String("rate", "", "incoming messages per second (required)")
	msgSize := fs.String("message-size", "", "average message size with a unit: 1KB = 1000 bytes, 1KiB = 1024 (required)")
	replicas := fs.Int("replicas", 0, "write quorum: copies of each entry (required)")
	ack := fs.Int("ack", 0, "ack quorum (default: replicas - 1)")
	ensemble := fs.Int("ensemble", 0, "ensemble size (default: replicas)")
	ttl := fs.String("ttl", "", "message TTL, e.g. 3h or 2d (required)")
	retention := fs.String("retention", "0s", "retention of acknowledged messages")
	disk := fs.String("bookie-disk", "", "ledger disk per bookie with a unit, e.g. 4TB (required)")
	usable := fs.Float64("usable", sizing.DefaultDiskUsableFraction, "usable fraction of each ledger disk")
	zones := fs.Int("zones", 3, "availability zones")
	fanout := fs.Float64("fanout", 1, "subscriptions reading each message")
	geo := fs.Int("geo-replicas", 0, "other regions the traffic is geo-replicated to")
	util := fs.Float64("utilization", sizing.DefaultTargetUtilization, "planned utilization of network, disk and CPU")
	brokerType := fs.String("broker-instance", "", "fix the broker instance type (default: cheapest that fits)")
	bookieType := fs.String("bookie-instance", "", "fix the bookie instance type (default: cheapest EBS-backed type)")
	catalog := catalogFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := requireFlags([2]string{"--rate", *rate}, [2]string{"--message-size", *msgSize}, [2]string{"--replicas", toFlag(*replicas, 0)},
		[2]string{"--ttl", *ttl}, [2]string{"--bookie-disk", *disk}); err != nil {
		return err
	}
	r, err := strconv.ParseFloat(*rate, 64)
	if err != nil {
		return usagef("--rate %q: want a positive number of messages per second", *rate)
	}
	mb, err := sizing.ParseSize(*msgSize)
	if err != nil {
		return usagef("--message-size: %v", err)
	}
	db, err := sizing.ParseSize(*disk)
	if err != nil {
		return usagef("--bookie-disk: %v", err)
	}
	t, err := sizing.ParseDuration(*ttl)
	if err != nil {
		return usagef("--ttl: %v", err)
	}
	ret, err := sizing.ParseDuration(*retention)
	if err != nil {
		return usagef("--retention: %v", err)
	}
	w := sizing.Workload{ProduceRate: r, MessageBytes: mb, WriteQuorum: *replicas, AckQuorum: *ack, Ensemble: *ensemble,
		TTL: t, Retention: ret, Zones: *zones, BookieDiskBytes: db, DiskUsableFraction: *usable, ConsumerFanout: *fanout,
		GeoReplicationTargets: *geo, TargetUtilization: *util}
	if *ack == 0 && *replicas == 1 {
		w.AckQuorum = 1
	}
	cat, err := openCatalog(*catalog)
	if err != nil {
		return err
	}
	p, err := sizing.NewPlanner(cat, sizing.DefaultParams())
	if err != nil {
		return err
	}
	storage, brokers, bookies, err := p.SizeWorkload(w, *brokerType, *bookieType)
	if err != nil {
		return asFlagError(err)
	}
	w = w.WithDefaults()
	out := sizeResult{
		StorageBytes: storage.StorageBytes, StorageKB: storage.StorageBytes / float64(sizing.KB),
		BookiesForStorage: storage.BookiesForStorage, BrokersForStorage: storage.BrokersForStorage,
		Bookies: bookies.Count, Brokers: brokers.Count,
		LimitingFactor:       fmt.Sprintf("bookies: %s; brokers: %s", bookies.LimitingFactor, brokers.LimitingFactor),
		BookieLimitingFactor: bookies.LimitingFactor, BrokerLimitingFactor: brokers.LimitingFactor,
		BookieInstance: bookies.InstanceType, BrokerInstance: brokers.InstanceType,
		BookieLimits: bookies.Limits, BrokerLimits: brokers.Limits,
		Inputs: sizeInputs{Rate: w.ProduceRate, MessageBytes: w.MessageBytes, Ensemble: w.Ensemble, WriteQuorum: w.WriteQuorum,
			AckQuorum: w.AckQuorum, TTLSeconds: w.TTL.Seconds(), RetentionSeconds: w.Retention.Seconds(),
			BookieDiskBytes: w.BookieDiskBytes, DiskUsableFraction: w.DiskUsableFraction, Zones: w.Zones},
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "DataStax method: storage = %d x %s x %.0f msg/s x %s = %s (%.0f KB)\n", w.WriteQuorum,
		sizing.FormatSI(float64(w.MessageBytes)), w.ProduceRate, (w.TTL + w.Retention).Round(time.Second), sizing.FormatSI(storage.StorageBytes), out.StorageKB)
	fmt.Fprintf(stdout, "  bookies for storage: %d   brokers for storage: %d\n\n", storage.BookiesForStorage, storage.BrokersForStorage)
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tINSTANCE\tLIMIT\tCOUNT\tWHY")
	for _, rs := range []sizing.RoleSize{bookies, brokers} {
		for _, l := range rs.Limits {
			mark := ""
			if l.Name == rs.LimitingFactor && l.Count == rs.Count {
				mark = " <- binding"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s%s\n", rs.Role, rs.InstanceType, l.Name, l.Count, l.Detail, mark)
		}
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\nafter every limit: %d bookies (%s), %d brokers (%s)\n", bookies.Count, bookies.LimitingFactor, brokers.Count, brokers.LimitingFactor)
	return nil
}

// asFlagError rewrites a planner field error in terms of the command's flags.
func asFlagError(err error) error {
	var fe *sizing.FieldError
	if errors.As(err, &fe) {
		name := flagFor[fe.Field]
		if name == "" {
			name = fe.Field
		}
		return usagef("%s: %v is not allowed: want %s", name, fe.Value, fe.Allowed)
	}
	return err
}
