package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
	"github.com/pulsar-fleet/pulsar-fleet/transition"
)

// runResize does a transition's resize step through kubectl
// (transition.ResizeRun): grow the claims, list the volume modifications,
// delete the StatefulSet with its bookies left running. Each run does what
// is left and stops at the first gate that is not open yet.
func runResize(args []string, stdout io.Writer) error {
	fs := newFlags("resize", stdout)
	one := oneStackFlags(fs)
	from := fs.String("from", "", "the deployed phase (required): "+sizing.PhaseNamesHelp)
	to := fs.String("to", "", "the phase to move to (required): "+sizing.PhaseNamesHelp)
	modified := fs.Bool("volumes-modified", false, "the printed `aws ec2 modify-volume` commands ran and every modification is optimizing or completed")
	kubectl := fs.String("kubectl", "kubectl", "the kubectl to run")
	kubeContext := fs.String("context", "", "the kubeconfig context of the region's cluster (default: the current one)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return usagef("--from and --to are required")
	}
	fleet, cat, err := one.load()
	if err != nil {
		return err
	}
	a, err := stacks.DesignFor(fleet, *one.stack, *from, cat)
	if err != nil {
		return usagef("--from: %v", err)
	}
	b, err := stacks.DesignFor(fleet, *one.stack, *to, cat)
	if err != nil {
		return usagef("--to: %v", err)
	}
	t, err := transition.Plan(a, b, cat)
	if err != nil {
		return err
	}
	var step *transition.Resize
	for _, s := range t.Steps {
		if s.Resize != nil {
			step = s.Resize
		}
	}
	if step == nil {
		return usagef("%s %s -> %s has no resize step: the bookies' volumes do not change (see `pulsar-fleet transition`)", *one.stack, *from, *to)
	}
	ns := b.Components.Pulsar.WithDefaults().Namespace
	c := kubectlVolumes{kubectlCluster{bin: *kubectl, context: *kubeContext, namespace: ns}}
	return transition.ResizeRun{Resize: *step, VolumesModified: *modified, Log: stdout}.Run(context.Background(), c)
}

// kubectlVolumes is transition.VolumeCluster through kubectl.
type kubectlVolumes struct{ kubectlCluster }

// Claim reads the claim and its PersistentVolume's EBS volume (the EBS CSI
// driver's volume handle).
func (k kubectlVolumes) Claim(ctx context.Context, name string) (transition.Claim, error) {
	out, err := k.run(ctx, "get", "pvc", name, "-o", "json")
	if err != nil {
		return transition.Claim{}, err
	}
	var pvc struct {
		Spec struct {
			VolumeName string `json:"volumeName"`
			Resources  struct {
				Requests map[string]string `json:"requests"`
			} `json:"resources"`
		} `json:"spec"`
		Status struct {
			Capacity map[string]string `json:"capacity"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &pvc); err != nil {
		return transition.Claim{}, fmt.Errorf("claim %s: %w", name, err)
	}
	var c transition.Claim
	if c.RequestBytes, err = manifests.BinaryQuantity(pvc.Spec.Resources.Requests["storage"]); err != nil {
		return c, fmt.Errorf("claim %s request: %w", name, err)
	}
	if c.CapacityBytes, err = manifests.BinaryQuantity(pvc.Status.Capacity["storage"]); err != nil {
		return c, fmt.Errorf("claim %s capacity: %w", name, err)
	}
	handle, err := k.run(ctx, "get", "pv", pvc.Spec.VolumeName, "-o", "jsonpath={.spec.csi.volumeHandle}")
	c.VolumeID = strings.TrimSpace(handle)
	return c, err
}

// Grow patches the claim's request (the gp3 classes allow expansion).
func (k kubectlVolumes) Grow(ctx context.Context, name string, bytes int64) error {
	patch := fmt.Sprintf(`{"spec":{"resources":{"requests":{"storage":"%dGi"}}}}`, bytes/sizing.GiB)
	_, err := k.run(ctx, "patch", "pvc", name, "--type=merge", "-p", patch)
	return err
}

// Orphan deletes the StatefulSet and leaves its pods and claims.
func (k kubectlVolumes) Orphan(ctx context.Context, sts string) error {
	_, err := k.run(ctx, "delete", "statefulset", sts, "--cascade=orphan")
	return err
}
