package transition

import (
	"context"
	"fmt"
	"io"

	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// VolumeCluster is what a resize step reads and changes in a region's
// cluster: the bookies' claims and the StatefulSet that owns them.
type VolumeCluster interface {
	// Replicas is the StatefulSet's replica count.
	Replicas(ctx context.Context, statefulSet string) (int, error)
	// Claim reads one PersistentVolumeClaim.
	Claim(ctx context.Context, name string) (Claim, error)
	// Grow raises a claim's requested size.
	Grow(ctx context.Context, name string, bytes int64) error
	// Orphan deletes the StatefulSet and leaves its pods and claims.
	Orphan(ctx context.Context, statefulSet string) error
}

// Claim is a bookie volume's claim: the size it requests, the size its
// volume has, and the EBS volume behind it.
type Claim struct {
	RequestBytes, CapacityBytes int64
	VolumeID                    string
}

// Volume names of the chart's bookie claim templates
// (bookkeeper.volumes.journal.name and ledgers.name).
const (
	VolumeJournal = "journal"
	VolumeLedgers = "ledgers"
)

// ClaimTemplate is the chart's claim template of a bookie volume:
// <fullname>-<component>-<volume name>, the StatefulSet's name and the
// volume's.
func ClaimTemplate(statefulSet, volume string) string { return statefulSet + "-" + volume }

// ClaimName is the claim of one bookie's volume: its claim template and
// the pod's name.
func ClaimName(statefulSet, volume string, ordinal int) string {
	return fmt.Sprintf("%s-%s-%d", ClaimTemplate(statefulSet, volume), statefulSet, ordinal)
}

// ResizeRun is a resize step as `pulsar-fleet resize` does it, one gate at
// a time, and again from the top on every run (it only does what is left):
// every claim grows to the new size (EBS does not shrink, so a smaller one
// keeps its size); once every volume reports it, the volumes whose
// throughput or IOPS change are listed with their `aws ec2 modify-volume`
// commands, which the operator runs and confirms (VolumesModified); then
// the StatefulSet is deleted with its bookies left running, for the next
// `up` to re-create it with the new claim templates.
type ResizeRun struct {
	Resize
	// VolumesModified confirms the modify-volume commands ran and every
	// modification is optimizing or completed.
	VolumesModified bool
	Log             io.Writer
}

// NotYetError is a gate that is not open yet: run again once it is.
type NotYetError struct{ Reason string }

func (e *NotYetError) Error() string { return "resize not finished: " + e.Reason }

// Run performs what is left of the step.
func (r ResizeRun) Run(ctx context.Context, c VolumeCluster) error {
	n, err := c.Replicas(ctx, r.StatefulSet)
	if err != nil {
		return err
	}
	var pending []string
	var volumes []modification
	for i := 0; i < n; i++ {
		for _, v := range []struct {
			name string
			want int64
			iops int
		}{{VolumeLedgers, r.To.LedgerBytes, r.To.LedgerIOPS}, {VolumeJournal, r.To.JournalBytes, r.To.JournalIOPS}} {
			name := ClaimName(r.StatefulSet, v.name, i)
			cl, err := c.Claim(ctx, name)
			if err != nil {
				return err
			}
			if cl.RequestBytes < v.want {
				if err := c.Grow(ctx, name, v.want); err != nil {
					return err
				}
				fmt.Fprintf(r.Log, "%s: %s -> %s\n", name, gib(cl.RequestBytes), gib(v.want))
				if cl, err = c.Claim(ctx, name); err != nil {
					return err
				}
			}
			if cl.CapacityBytes < v.want {
				pending = append(pending, name)
			}
			volumes = append(volumes, modification{cl.VolumeID, v.iops})
		}
	}
	if len(pending) > 0 {
		return &NotYetError{fmt.Sprintf("%d claims still growing (first: %s); run again once each reports its new capacity", len(pending), pending[0])}
	}
	if r.performanceChanges() {
		for _, m := range volumes {
			fmt.Fprintf(r.Log, "aws ec2 modify-volume --volume-id %s --throughput %.0f --iops %d\n", m.volumeID, r.To.ThroughputBytes/float64(sizing.MiB), m.iops)
		}
		if !r.VolumesModified {
			return &NotYetError{"run the modify-volume commands above, wait until `aws ec2 describe-volumes-modifications` shows each optimizing or completed, then run again with --volumes-modified"}
		}
	}
	if err := c.Orphan(ctx, r.StatefulSet); err != nil {
		return err
	}
	fmt.Fprintf(r.Log, "%s deleted, its bookies left running: the next `up` re-creates it with the new claim templates\n", r.StatefulSet)
	return nil
}

// performanceChanges says whether throughput or IOPS change.
func (r ResizeRun) performanceChanges() bool {
	return r.From.ThroughputBytes != r.To.ThroughputBytes || r.From.LedgerIOPS != r.To.LedgerIOPS || r.From.JournalIOPS != r.To.JournalIOPS
}

// modification is one volume's new IOPS (throughput is the same for all).
type modification struct {
	volumeID string
	iops     int
}
