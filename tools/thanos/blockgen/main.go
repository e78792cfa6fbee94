// Command blockgen writes a TSDB block as a Thanos sidecar uploads it, for
// the Thanos tier: one series of -metric, one sample every 30 seconds for
// ten minutes either side of -at, with -cluster's external labels and the
// replica label in the block's meta.json, uploaded at -uploaded. It uses
// the Prometheus TSDB of the Thanos release in this tools module, so the
// test module needs none of it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

func main() {
	dir := flag.String("dir", "", "bucket directory to write the block into")
	metric := flag.String("metric", "", "the series' metric name")
	cluster := flag.String("cluster", "", "external labels cluster and region")
	replica := flag.String("replica", "", "the replica label's name")
	at := flag.Int64("at", 0, "the samples' middle, Unix seconds")
	uploaded := flag.Int64("uploaded", 0, "meta.json's upload_time, Unix seconds")
	flag.Parse()
	if *dir == "" || *metric == "" || *cluster == "" || *replica == "" || *at == 0 || *uploaded == 0 {
		fmt.Fprintln(os.Stderr, "blockgen: -dir, -metric, -cluster, -replica, -at and -uploaded are required")
		os.Exit(2)
	}
	id, err := write(*dir, *metric, time.Unix(*at, 0))
	if err == nil {
		err = thanosMeta(filepath.Join(id, "meta.json"), *cluster, *replica, time.Unix(*uploaded, 0))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "blockgen:", err)
		os.Exit(1)
	}
	fmt.Println(filepath.Base(id))
}

// write writes the block and returns its directory.
func write(dir, metric string, at time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	var samples []chunks.Sample
	for ts := at.Add(-10 * time.Minute); !ts.After(at.Add(10 * time.Minute)); ts = ts.Add(30 * time.Second) {
		samples = append(samples, sample{t: ts.UnixMilli(), f: 1})
	}
	series := storage.NewListSeries(labels.FromStrings("__name__", metric, "job", "history"), samples)
	return tsdb.CreateBlock([]storage.Series{series}, dir, 0, slog.New(slog.DiscardHandler))
}

// thanosMeta adds a sidecar's Thanos section to the block's meta.json.
func thanosMeta(path, cluster, replica string, uploaded time.Time) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var meta map[string]any
	if err := json.Unmarshal(b, &meta); err != nil {
		return err
	}
	meta["thanos"] = map[string]any{"version": 1, "source": "sidecar", "upload_time": uploaded.UTC().Format(time.RFC3339Nano),
		"downsample": map[string]any{"resolution": 0},
		"labels":     map[string]any{"cluster": cluster, "region": cluster, replica: "prometheus-" + cluster + "-0"}}
	if b, err = json.Marshal(meta); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// sample is one float sample.
type sample struct {
	t int64
	f float64
}

func (s sample) T() int64                      { return s.t }
func (s sample) F() float64                    { return s.f }
func (s sample) H() *histogram.Histogram       { return nil }
func (s sample) FH() *histogram.FloatHistogram { return nil }
func (s sample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s sample) Copy() chunks.Sample           { return s }
