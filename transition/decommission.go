package transition

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Cluster is what decommissioning reads and changes in a region's cluster:
// a bookie StatefulSet's replicas, and BookKeeper's shell in the toolset
// pod. KubectlCluster is the real one.
type Cluster interface {
	// Replicas is the StatefulSet's replica count.
	Replicas(ctx context.Context, statefulSet string) (int, error)
	// Scale sets it and returns once the pods above it are gone.
	Scale(ctx context.Context, statefulSet string, replicas int) error
	// Shell runs `bin/bookkeeper shell <args>` in the toolset pod.
	Shell(ctx context.Context, args ...string) (string, error)
	// SetReadOnly makes one bookie read-only (its HTTP admin API).
	SetReadOnly(ctx context.Context, pod string) error
}

// Decommission is how one set's bookies leave, one at a time, from the
// highest ordinal down to To. For each: under-replication must be zero
// and enough writable bookies must stay for an ensemble, or it refuses;
// the bookie is stopped (its StatefulSet scaled down by one), then
// `decommissionbookie` re-replicates its ledgers and waits for that, then
// under-replication must be zero again before the next. With ReadOnlyFirst
// every bookie of the set leaving is made read-only before the first one
// goes, so its copies land on the bookies that stay.
type Decommission struct {
	StatefulSet string
	// Namespace is the release's; the set's headless Service is named
	// like its StatefulSet (the chart's naming).
	Namespace string
	To        int
	// Ensemble is the smallest number of writable bookies that must stay.
	Ensemble      int
	ReadOnlyFirst bool
	Log           io.Writer
}

// BookiePort is the bookies' port in their id (the chart's default).
const BookiePort = 3181

// BookieID is a bookie's id: the chart sets useHostNameAsBookieID, so it is
// the pod's DNS name under the set's headless Service.
func (d Decommission) BookieID(ordinal int) string {
	return fmt.Sprintf("%s-%d.%s.%s.svc.cluster.local:%d", d.StatefulSet, ordinal, d.StatefulSet, d.Namespace, BookiePort)
}

// UnsafeError is a refusal to go on: the cluster is not in a state where
// one more bookie may leave.
type UnsafeError struct{ Reason string }

func (e *UnsafeError) Error() string { return "not decommissioning: " + e.Reason }

// Run decommissions the bookies above To, starting from the StatefulSet's
// current replica count, so a second run goes on where the first stopped
// (a bookie stopped but not decommissioned is named in the first run's
// error, with the command that finishes it).
func (d Decommission) Run(ctx context.Context, c Cluster) error {
	n, err := c.Replicas(ctx, d.StatefulSet)
	if err != nil {
		return err
	}
	if d.To < 0 || d.To > n {
		return fmt.Errorf("--to %d: want 0..%d (%s runs %d bookies)", d.To, n, d.StatefulSet, n)
	}
	if d.ReadOnlyFirst {
		for i := d.To; i < n; i++ {
			pod := fmt.Sprintf("%s-%d", d.StatefulSet, i)
			if err := c.SetReadOnly(ctx, pod); err != nil {
				return fmt.Errorf("set %s read-only: %w", pod, err)
			}
			d.logf("%s: read-only\n", pod)
		}
	}
	for ; n > d.To; n-- {
		if err := d.one(ctx, c, n-1); err != nil {
			return err
		}
	}
	d.logf("%s: %d bookies, done\n", d.StatefulSet, d.To)
	return nil
}

// one decommissions the bookie with the given ordinal, the highest.
func (d Decommission) one(ctx context.Context, c Cluster, ordinal int) error {
	if err := d.noUnderReplication(ctx, c); err != nil {
		return err
	}
	writable, err := c.Shell(ctx, "listbookies", "-rw")
	if err != nil {
		return fmt.Errorf("listbookies: %w", err)
	}
	id := d.BookieID(ordinal)
	stay := 0
	for _, b := range bookieIDs(writable) {
		if b != id {
			stay++
		}
	}
	if stay < d.Ensemble {
		return &UnsafeError{Reason: fmt.Sprintf("only %d writable bookies would stay besides %s, fewer than the ensemble %d", stay, id, d.Ensemble)}
	}
	pod := fmt.Sprintf("%s-%d", d.StatefulSet, ordinal)
	if err := c.Scale(ctx, d.StatefulSet, ordinal); err != nil {
		return fmt.Errorf("stop %s: %w", pod, err)
	}
	d.logf("%s: stopped; decommissioning %s (re-replicating its ledgers)\n", pod, id)
	if _, err := c.Shell(ctx, "decommissionbookie", "-bookieid", id); err != nil {
		return fmt.Errorf("decommissionbookie %s: %w; the bookie is stopped and autorecovery keeps re-replicating its ledgers: finish it with `bin/bookkeeper shell decommissionbookie -bookieid %s` in the toolset pod, then run again to go on from %s-%d", id, err, id, d.StatefulSet, ordinal-1)
	}
	if err := d.noUnderReplication(ctx, c); err != nil {
		return err
	}
	d.logf("%s: decommissioned\n", pod)
	return nil
}

func (d Decommission) noUnderReplication(ctx context.Context, c Cluster) error {
	out, err := c.Shell(ctx, "listunderreplicated")
	if err != nil {
		return fmt.Errorf("listunderreplicated: %w", err)
	}
	if ls := ledgerIDs(out); len(ls) > 0 {
		return &UnsafeError{Reason: fmt.Sprintf("%d under-replicated ledgers (first: %s); wait for autorecovery, then run again", len(ls), ls[0])}
	}
	return nil
}

func (d Decommission) logf(format string, args ...any) {
	if d.Log != nil {
		fmt.Fprintf(d.Log, format, args...)
	}
}

// ledgerIDs are the ledger ids `listunderreplicated` prints, one per
// line; the shell's log lines are not ids.
func ledgerIDs(out string) []string {
	var ids []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" && strings.Trim(l, "0123456789") == "" {
			ids = append(ids, l)
		}
	}
	return ids
}

// bookieIDs are the bookie ids `listbookies` prints (host:port).
func bookieIDs(out string) []string {
	var ids []string
	port := fmt.Sprintf(":%d", BookiePort)
	for _, f := range strings.FieldsFunc(out, func(r rune) bool { return r == ' ' || r == '\n' || r == ',' || r == '\t' }) {
		f = strings.TrimPrefix(f, "BookieID:")
		if strings.HasSuffix(f, port) && strings.Contains(f, ".") {
			ids = append(ids, f)
		}
	}
	return ids
}
