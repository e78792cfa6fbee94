package transition

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// fakeVolumes plays a cluster's bookie claims; grown claims report their
// new capacity only when expand is set.
type fakeVolumes struct {
	replicas int
	claims   map[string]*Claim
	expand   bool
	calls    []string
}

func newFakeVolumes(sts string, n int, ledger, journal int64) *fakeVolumes {
	f := &fakeVolumes{replicas: n, claims: map[string]*Claim{}}
	for i := 0; i < n; i++ {
		f.claims[ClaimName(sts, VolumeLedgers, i)] = &Claim{ledger, ledger, fmt.Sprintf("vol-l%d", i)}
		f.claims[ClaimName(sts, VolumeJournal, i)] = &Claim{journal, journal, fmt.Sprintf("vol-j%d", i)}
	}
	return f
}

func (f *fakeVolumes) Replicas(context.Context, string) (int, error) { return f.replicas, nil }
func (f *fakeVolumes) Claim(_ context.Context, name string) (Claim, error) {
	c, ok := f.claims[name]
	if !ok {
		return Claim{}, fmt.Errorf("no claim %s", name)
	}
	return *c, nil
}
func (f *fakeVolumes) Grow(_ context.Context, name string, b int64) error {
	f.calls = append(f.calls, "grow "+name)
	f.claims[name].RequestBytes = b
	if f.expand {
		f.claims[name].CapacityBytes = b
	}
	return nil
}
func (f *fakeVolumes) Orphan(_ context.Context, sts string) error {
	f.calls = append(f.calls, "orphan "+sts)
	return nil
}

func TestResizeRun(t *testing.T) {
	const sts = "pulsar-bookie"
	from := sizing.Volumes{LedgerBytes: 2048 * sizing.GiB, JournalBytes: 24 * sizing.GiB, ThroughputBytes: 125 * float64(sizing.MiB), LedgerIOPS: 3000, JournalIOPS: 6000}
	bigger := from
	bigger.LedgerBytes = 6144 * sizing.GiB
	faster := bigger
	faster.ThroughputBytes, faster.LedgerIOPS = 625*float64(sizing.MiB), 3000
	for _, tc := range []struct {
		name            string
		to              sizing.Volumes
		expand          bool
		volumesModified bool
		wantCalls       []string
		wantNotYet      string
		wantLog         string
	}{
		{"grow, volumes still expanding", bigger, false, false,
			[]string{"grow pulsar-bookie-ledgers-pulsar-bookie-0", "grow pulsar-bookie-ledgers-pulsar-bookie-1"}, "2 claims still growing", "2048Gi -> 6144Gi"},
		{"grow and expanded: orphaned", bigger, true, false,
			[]string{"grow pulsar-bookie-ledgers-pulsar-bookie-0", "grow pulsar-bookie-ledgers-pulsar-bookie-1", "orphan pulsar-bookie"}, "", "its bookies left running"},
		{"throughput changes: the commands, then a stop", faster, true, false,
			[]string{"grow pulsar-bookie-ledgers-pulsar-bookie-0", "grow pulsar-bookie-ledgers-pulsar-bookie-1"}, "--volumes-modified",
			"aws ec2 modify-volume --volume-id vol-j1 --throughput 625 --iops 6000"},
		{"throughput changes, confirmed", faster, true, true,
			[]string{"grow pulsar-bookie-ledgers-pulsar-bookie-0", "grow pulsar-bookie-ledgers-pulsar-bookie-1", "orphan pulsar-bookie"}, "", "--volume-id vol-l0 --throughput 625 --iops 3000"},
		{"going down: EBS does not shrink", sizing.Volumes{LedgerBytes: 1024 * sizing.GiB, JournalBytes: 24 * sizing.GiB, ThroughputBytes: from.ThroughputBytes, LedgerIOPS: 3000, JournalIOPS: 6000},
			false, false, []string{"orphan pulsar-bookie"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeVolumes(sts, 2, from.LedgerBytes, from.JournalBytes)
			f.expand = tc.expand
			var log bytes.Buffer
			err := ResizeRun{Resize: Resize{StatefulSet: sts, From: from, To: tc.to}, VolumesModified: tc.volumesModified, Log: &log}.Run(context.Background(), f)
			assert.Equal(t, tc.wantCalls, f.calls)
			assert.Contains(t, log.String(), tc.wantLog)
			if tc.wantNotYet == "" {
				require.NoError(t, err)
				return
			}
			var notYet *NotYetError
			require.True(t, errors.As(err, &notYet), "%v", err)
			assert.Contains(t, err.Error(), tc.wantNotYet)
			assert.NotContains(t, f.calls, "orphan "+sts, "the StatefulSet stays until every gate is open")
		})
	}
	t.Run("a second run only does what is left", func(t *testing.T) {
		f := newFakeVolumes(sts, 2, from.LedgerBytes, from.JournalBytes)
		r := ResizeRun{Resize: Resize{StatefulSet: sts, From: from, To: bigger}, Log: &bytes.Buffer{}}
		require.Error(t, r.Run(context.Background(), f))
		for _, c := range f.claims {
			c.CapacityBytes = c.RequestBytes // the volumes finish expanding
		}
		f.calls = nil
		require.NoError(t, r.Run(context.Background(), f))
		assert.Equal(t, []string{"orphan pulsar-bookie"}, f.calls)
	})
}
