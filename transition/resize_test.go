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

// fakeVolumes plays a cluster's bookie claims; modified claims report
// their new capacity and class only when done is set, or the driver's
// verdict in status.
type fakeVolumes struct {
	replicas int
	claims   map[string]*Claim
	done     bool
	status   ModifyStatus
	classes  map[string]bool // nil: every class exists
	calls    []string
}

func newFakeVolumes(sts string, n int, ledger, journal int64) *fakeVolumes {
	f := &fakeVolumes{replicas: n, claims: map[string]*Claim{}}
	for i := 0; i < n; i++ {
		f.claims[ClaimName(sts, VolumeLedgers, i)] = &Claim{RequestBytes: ledger, CapacityBytes: ledger}
		f.claims[ClaimName(sts, VolumeJournal, i)] = &Claim{RequestBytes: journal, CapacityBytes: journal}
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
func (f *fakeVolumes) Modify(_ context.Context, name string, b int64, class string) error {
	f.calls = append(f.calls, fmt.Sprintf("modify %s %dGi %s", name, b/sizing.GiB, class))
	c := f.claims[name]
	if b > 0 {
		c.RequestBytes = b
	}
	if class != "" {
		c.Class, c.Modify, c.ModifyTarget = class, f.status, class
	}
	if f.done {
		c.CapacityBytes, c.CurrentClass, c.Modify, c.ModifyTarget = c.RequestBytes, c.Class, "", ""
	}
	return nil
}
func (f *fakeVolumes) AttributesClassExists(_ context.Context, name string) (bool, error) {
	return f.classes == nil || f.classes[name], nil
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
	slower := from
	slower.LedgerBytes, slower.ThroughputBytes = 1024*sizing.GiB, 100*float64(sizing.MiB)
	for _, tc := range []struct {
		name       string
		to         sizing.Volumes
		done       bool
		status     ModifyStatus
		wantCalls  []string
		wantNotYet string
		wantErr    string
		wantLog    string
	}{
		{"grow, volumes still expanding", bigger, false, "",
			[]string{"modify pulsar-bookie-ledgers-pulsar-bookie-0 6144Gi ", "modify pulsar-bookie-ledgers-pulsar-bookie-1 6144Gi "}, "2 claims still being modified", "", "2048Gi -> 6144Gi"},
		{"grow and expanded: orphaned", bigger, true, "",
			[]string{"modify pulsar-bookie-ledgers-pulsar-bookie-0 6144Gi ", "modify pulsar-bookie-ledgers-pulsar-bookie-1 6144Gi ", "orphan pulsar-bookie"}, "", "", "its bookies left running"},
		{"throughput changes: size and class in one patch", faster, false, "InProgress",
			[]string{"modify pulsar-bookie-ledgers-pulsar-bookie-0 6144Gi gp3-625mibs-3000iops", "modify pulsar-bookie-journal-pulsar-bookie-0 0Gi gp3-625mibs-6000iops",
				"modify pulsar-bookie-ledgers-pulsar-bookie-1 6144Gi gp3-625mibs-3000iops", "modify pulsar-bookie-journal-pulsar-bookie-1 0Gi gp3-625mibs-6000iops"},
			"4 claims still being modified", "", "attributes the storage class's -> gp3-625mibs-6000iops"},
		{"going down, slower: the class alone, the larger size kept", slower, true, "",
			[]string{"modify pulsar-bookie-ledgers-pulsar-bookie-0 0Gi gp3-100mibs-3000iops", "modify pulsar-bookie-journal-pulsar-bookie-0 0Gi gp3-100mibs-6000iops",
				"modify pulsar-bookie-ledgers-pulsar-bookie-1 0Gi gp3-100mibs-3000iops", "modify pulsar-bookie-journal-pulsar-bookie-1 0Gi gp3-100mibs-6000iops", "orphan pulsar-bookie"},
			"", "", "2048Gi -> 2048Gi, attributes the storage class's -> gp3-100mibs-3000iops"},
		{"throughput changes, modified: orphaned", faster, true, "",
			[]string{"modify pulsar-bookie-ledgers-pulsar-bookie-0 6144Gi gp3-625mibs-3000iops", "modify pulsar-bookie-journal-pulsar-bookie-0 0Gi gp3-625mibs-6000iops",
				"modify pulsar-bookie-ledgers-pulsar-bookie-1 6144Gi gp3-625mibs-3000iops", "modify pulsar-bookie-journal-pulsar-bookie-1 0Gi gp3-625mibs-6000iops", "orphan pulsar-bookie"},
			"", "", "pulsar-bookie deleted"},
		{"the driver refuses a modification", faster, false, ModifyInfeasible,
			[]string{"modify pulsar-bookie-ledgers-pulsar-bookie-0 6144Gi gp3-625mibs-3000iops"}, "", "finds its modification to gp3-625mibs-3000iops infeasible", ""},
		{"going down: EBS does not shrink", sizing.Volumes{LedgerBytes: 1024 * sizing.GiB, JournalBytes: 24 * sizing.GiB, ThroughputBytes: from.ThroughputBytes, LedgerIOPS: 3000, JournalIOPS: 6000},
			false, "", []string{"orphan pulsar-bookie"}, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeVolumes(sts, 2, from.LedgerBytes, from.JournalBytes)
			f.done, f.status = tc.done, tc.status
			var log bytes.Buffer
			err := ResizeRun{Resize: Resize{StatefulSet: sts, From: from, To: tc.to}, Log: &log}.Run(context.Background(), f)
			assert.Equal(t, tc.wantCalls, f.calls)
			assert.Contains(t, log.String(), tc.wantLog)
			switch {
			case tc.wantErr != "":
				require.Error(t, err)
				var notYet *NotYetError
				assert.False(t, errors.As(err, &notYet), "a refusal is not a gate to wait at")
				assert.Contains(t, err.Error(), tc.wantErr)
			case tc.wantNotYet != "":
				var notYet *NotYetError
				require.True(t, errors.As(err, &notYet), "%v", err)
				assert.Contains(t, err.Error(), tc.wantNotYet)
				assert.NotContains(t, f.calls, "orphan "+sts, "the StatefulSet stays until every gate is open")
			default:
				require.NoError(t, err)
			}
		})
	}
	t.Run("a class the cluster lacks: refused before any patch", func(t *testing.T) {
		f := newFakeVolumes(sts, 2, from.LedgerBytes, from.JournalBytes)
		f.classes = map[string]bool{"gp3-625mibs-6000iops": true}
		err := ResizeRun{Resize: Resize{StatefulSet: sts, From: from, To: faster}, Log: &bytes.Buffer{}}.Run(context.Background(), f)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the cluster has no VolumeAttributesClass gp3-625mibs-3000iops: run the resize step's `up` first")
		assert.Empty(t, f.calls)
	})
	t.Run("an old refusal toward another class does not stop the run", func(t *testing.T) {
		f := newFakeVolumes(sts, 1, from.LedgerBytes, from.JournalBytes)
		for _, c := range f.claims {
			c.Modify, c.ModifyTarget = ModifyInfeasible, "gp3-9999mibs-3000iops"
		}
		f.done = true
		require.NoError(t, ResizeRun{Resize: Resize{StatefulSet: sts, From: from, To: faster}, Log: &bytes.Buffer{}}.Run(context.Background(), f))
	})
	t.Run("a second run only does what is left", func(t *testing.T) {
		f := newFakeVolumes(sts, 2, from.LedgerBytes, from.JournalBytes)
		r := ResizeRun{Resize: Resize{StatefulSet: sts, From: from, To: faster}, Log: &bytes.Buffer{}}
		require.Error(t, r.Run(context.Background(), f))
		for _, c := range f.claims {
			c.CapacityBytes, c.CurrentClass = c.RequestBytes, c.Class // the volumes finish
		}
		f.calls = nil
		require.NoError(t, r.Run(context.Background(), f))
		assert.Equal(t, []string{"orphan pulsar-bookie"}, f.calls)
	})
}
