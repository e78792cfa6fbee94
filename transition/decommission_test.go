package transition

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeCluster is a region's bookies as BookKeeper's shell shows them: the
// StatefulSets' replicas, which bookies are read-only, and the ledgers
// under-replicated now. Decommissioning a bookie re-replicates its ledgers.
type fakeCluster struct {
	replicas         map[string]int
	readOnly         map[string]bool
	underReplicated  []string
	failDecommission bool
	calls            []string
}

func (f *fakeCluster) Replicas(_ context.Context, sts string) (int, error) {
	n, ok := f.replicas[sts]
	if !ok {
		return 0, fmt.Errorf("statefulset %s not found", sts)
	}
	return n, nil
}

func (f *fakeCluster) Scale(_ context.Context, sts string, n int) error {
	f.calls = append(f.calls, fmt.Sprintf("scale %s %d", sts, n))
	f.replicas[sts] = n
	return nil
}

func (f *fakeCluster) SetReadOnly(_ context.Context, pod string) error {
	f.calls = append(f.calls, "read-only "+pod)
	f.readOnly[pod] = true
	return nil
}

func (f *fakeCluster) Shell(_ context.Context, args ...string) (string, error) {
	switch args[0] {
	case "listunderreplicated":
		return "2026-11-30T08:00:00,000 INFO  org.apache.bookkeeper.tools.cli - loading\n" + strings.Join(f.underReplicated, "\n"), nil
	case "listbookies":
		var b strings.Builder
		b.WriteString("ReadWrite Bookies :\n")
		for sts, n := range f.replicas {
			for i := 0; i < n; i++ {
				pod := fmt.Sprintf("%s-%d", sts, i)
				if !f.readOnly[pod] {
					fmt.Fprintf(&b, "BookieID:%s.%s.pulsar.svc.cluster.local:3181, IP:10.0.0.%d, Port:3181, Hostname:%s\n", pod, sts, i, pod)
				}
			}
		}
		return b.String(), nil
	case "decommissionbookie":
		f.calls = append(f.calls, "decommission "+args[2])
		if f.failDecommission {
			return "", errors.New("exit status 1")
		}
		return "", nil
	}
	return "", fmt.Errorf("unexpected shell %v", args)
}

func newFakeCluster(replicas map[string]int) *fakeCluster {
	return &fakeCluster{replicas: replicas, readOnly: map[string]bool{}}
}

func TestDecommissionOneAtATime(t *testing.T) {
	c := newFakeCluster(map[string]int{"pulsar-nvme-bookie": 5})
	d := Decommission{StatefulSet: "pulsar-nvme-bookie", Namespace: "pulsar", To: 3, Ensemble: 3}
	require.NoError(t, d.Run(context.Background(), c))
	assert.Equal(t, []string{
		"scale pulsar-nvme-bookie 4", "decommission pulsar-nvme-bookie-4.pulsar-nvme-bookie.pulsar.svc.cluster.local:3181",
		"scale pulsar-nvme-bookie 3", "decommission pulsar-nvme-bookie-3.pulsar-nvme-bookie.pulsar.svc.cluster.local:3181",
	}, c.calls, "the highest ordinal first, each stopped then decommissioned before the next")
}

// Draining a whole set beside another: every bookie leaving is read-only
// first, so re-replicated copies land on the set that stays.
func TestDecommissionDrainsASet(t *testing.T) {
	c := newFakeCluster(map[string]int{"pulsar-bookie": 3, "pulsar-nvme-bookie": 9})
	d := Decommission{StatefulSet: "pulsar-bookie", Namespace: "pulsar", To: 0, Ensemble: 3, ReadOnlyFirst: true}
	require.NoError(t, d.Run(context.Background(), c))
	assert.Equal(t, []string{"read-only pulsar-bookie-0", "read-only pulsar-bookie-1", "read-only pulsar-bookie-2"}, c.calls[:3])
	assert.Equal(t, "scale pulsar-bookie 0", c.calls[len(c.calls)-2])
	assert.Equal(t, 9, c.replicas["pulsar-nvme-bookie"], "the other set is untouched")
}

func TestDecommissionRefusesWhenUnsafe(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *fakeCluster
		d    Decommission
		want string
	}{
		{"under-replicated ledgers", &fakeCluster{replicas: map[string]int{"pulsar-bookie": 6}, readOnly: map[string]bool{}, underReplicated: []string{"4711", "4712"}},
			Decommission{StatefulSet: "pulsar-bookie", Namespace: "pulsar", To: 5, Ensemble: 3}, "not decommissioning: 2 under-replicated ledgers (first: 4711)"},
		{"fewer than the ensemble would stay", newFakeCluster(map[string]int{"pulsar-bookie": 3}),
			Decommission{StatefulSet: "pulsar-bookie", Namespace: "pulsar", To: 0, Ensemble: 3}, "only 2 writable bookies would stay"},
		{"the target above the set", newFakeCluster(map[string]int{"pulsar-bookie": 3}),
			Decommission{StatefulSet: "pulsar-bookie", Namespace: "pulsar", To: 4, Ensemble: 3}, "--to 4: want 0..3"},
		{"no such set", newFakeCluster(map[string]int{"pulsar-bookie": 3}),
			Decommission{StatefulSet: "pulsar-nvme-bookie", Namespace: "pulsar", To: 0, Ensemble: 3}, "statefulset pulsar-nvme-bookie not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.Run(context.Background(), tc.c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			for _, call := range tc.c.calls {
				assert.NotContains(t, call, "scale", "nothing stopped")
			}
		})
	}
}

// A failed decommissionbookie stops the run and names the command that
// finishes that bookie; the next run goes on from the StatefulSet's
// replicas.
func TestDecommissionStopsAndResumes(t *testing.T) {
	c := newFakeCluster(map[string]int{"pulsar-nvme-bookie": 5})
	c.failDecommission = true
	d := Decommission{StatefulSet: "pulsar-nvme-bookie", Namespace: "pulsar", To: 3, Ensemble: 3}
	err := d.Run(context.Background(), c)
	require.ErrorContains(t, err, "finish it with `bin/bookkeeper shell decommissionbookie -bookieid pulsar-nvme-bookie-4.pulsar-nvme-bookie.pulsar.svc.cluster.local:3181`")
	require.ErrorContains(t, err, "then run again to go on from pulsar-nvme-bookie-3")
	assert.Equal(t, 4, c.replicas["pulsar-nvme-bookie"], "stopped after the first bookie")
	c.failDecommission, c.calls = false, nil
	require.NoError(t, d.Run(context.Background(), c))
	assert.Equal(t, []string{"scale pulsar-nvme-bookie 3", "decommission pulsar-nvme-bookie-3.pulsar-nvme-bookie.pulsar.svc.cluster.local:3181"}, c.calls)
}
