package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
	"github.com/pulsar-fleet/pulsar-fleet/transition"
)

// runResize does a transition's resize step through kubectl
// (transition.ResizeRun): each claim's new size and attributes class in
// one patch, then the StatefulSet deleted with its bookies left running.
// Each run does what is left and stops at the first gate that is not open
// yet.
func runResize(args []string, stdout io.Writer) error {
	fs := newFlags("resize", stdout)
	one := oneStackFlags(fs)
	from := fs.String("from", "", "the deployed phase (required): "+sizing.PhaseNamesHelp)
	to := fs.String("to", "", "the phase to move to (required): "+sizing.PhaseNamesHelp)
	kubectl := fs.String("kubectl", "kubectl", "the kubectl to run")
	kubeContext := fs.String("context", "", "the kubeconfig context of the region's cluster (default: the current one)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := requireFlags([2]string{"--stack", *one.stack}, [2]string{"--from", *from}, [2]string{"--to", *to}); err != nil {
		return err
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
	if v := b.Components.Cluster.KubernetesVersion; !cluster.ServesVolumeAttributes(v) {
		return usagef("%s runs Kubernetes %s: the resize moves volumes by VolumeAttributesClass, which needs %s or later (docs/operations.md, \"Upgrading Kubernetes\")",
			*one.stack, v, cluster.VolumeAttributesSince)
	}
	ns := b.Components.Pulsar.WithDefaults().Namespace
	c := kubectlVolumes{kubectlCluster{bin: *kubectl, context: *kubeContext, namespace: ns}}
	return transition.ResizeRun{Resize: *step, Namespace: ns, Log: stdout}.Run(context.Background(), c)
}

// kubectlVolumes is transition.VolumeCluster through kubectl.
type kubectlVolumes struct{ kubectlCluster }

// Claim reads the claim: its sizes, its VolumeAttributesClass asked for
// and current, and the state of a modification under way.
func (k kubectlVolumes) Claim(ctx context.Context, name string) (transition.Claim, error) {
	out, err := k.run(ctx, "get", "pvc", name, "-o", "json")
	if err != nil {
		return transition.Claim{}, err
	}
	var pvc struct {
		Spec struct {
			VolumeAttributesClassName string `json:"volumeAttributesClassName"`
			Resources                 struct {
				Requests map[string]string `json:"requests"`
			} `json:"resources"`
		} `json:"spec"`
		Status struct {
			Capacity                         map[string]string `json:"capacity"`
			CurrentVolumeAttributesClassName string            `json:"currentVolumeAttributesClassName"`
			ModifyVolumeStatus               *struct {
				Status                          transition.ModifyStatus `json:"status"`
				TargetVolumeAttributesClassName string                  `json:"targetVolumeAttributesClassName"`
			} `json:"modifyVolumeStatus"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &pvc); err != nil {
		return transition.Claim{}, fmt.Errorf("claim %s: %w", name, err)
	}
	c := transition.Claim{Class: pvc.Spec.VolumeAttributesClassName, CurrentClass: pvc.Status.CurrentVolumeAttributesClassName}
	if m := pvc.Status.ModifyVolumeStatus; m != nil {
		if !m.Status.Valid() {
			return c, fmt.Errorf("claim %s: modifyVolumeStatus %q is not a state this program knows", name, m.Status)
		}
		c.Modify, c.ModifyTarget = m.Status, m.TargetVolumeAttributesClassName
	}
	if c.RequestBytes, err = manifests.BinaryQuantity(pvc.Spec.Resources.Requests["storage"]); err != nil {
		return c, fmt.Errorf("claim %s request: %w", name, err)
	}
	if c.CapacityBytes, err = manifests.BinaryQuantity(pvc.Status.Capacity["storage"]); err != nil {
		return c, fmt.Errorf("claim %s capacity: %w", name, err)
	}
	return c, nil
}

// Modify patches the claim's request and class at once (the gp3 classes
// allow expansion; the EBS CSI driver merges both into one modification).
func (k kubectlVolumes) Modify(ctx context.Context, name string, bytes int64, class string) error {
	type requests struct {
		Requests map[string]string `json:"requests"`
	}
	var patch struct {
		Spec struct {
			Resources *requests `json:"resources,omitempty"`
			Class     string    `json:"volumeAttributesClassName,omitempty"`
		} `json:"spec"`
	}
	if bytes > 0 {
		patch.Spec.Resources = &requests{map[string]string{"storage": fmt.Sprintf("%dGi", bytes/sizing.GiB)}}
	}
	patch.Spec.Class = class
	b, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	_, err = k.run(ctx, "patch", "pvc", name, "--type=merge", "-p", string(b))
	return err
}

// AttributesClassExists looks the class up (an error where the cluster
// serves no VolumeAttributesClass).
func (k kubectlVolumes) AttributesClassExists(ctx context.Context, name string) (bool, error) {
	out, err := k.run(ctx, "get", "volumeattributesclass", name, "--ignore-not-found", "-o", "name")
	return strings.TrimSpace(out) != "", err
}

// Orphan deletes the StatefulSet and leaves its pods and claims.
func (k kubectlVolumes) Orphan(ctx context.Context, sts string) error {
	_, err := k.run(ctx, "delete", "statefulset", sts, "--cascade=orphan")
	return err
}
