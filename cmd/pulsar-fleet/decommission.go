package main

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
	"github.com/pulsar-fleet/pulsar-fleet/transition"
)

// runDecommission takes one set's bookies out, one at a time, checking the
// cluster before each (transition.Decommission): the drain and
// decommission steps of `pulsar-fleet transition`.
func runDecommission(args []string, stdout io.Writer) error {
	fs := newFlags("decommission", stdout)
	one := oneStackFlags(fs)
	sts := fs.String("statefulset", "", "the bookie StatefulSet (required): "+pulsar.ReleaseName+"-bookie or "+pulsar.NVMeRelease+"-bookie")
	to := fs.Int("to", -1, "the bookies to keep (required): 0 drains the set")
	readOnly := fs.Bool("read-only-first", false, "make every leaving bookie read-only first (a drain: their copies go to the bookies that stay)")
	kubectl := fs.String("kubectl", "kubectl", "the kubectl to run")
	kubeContext := fs.String("context", "", "the kubeconfig context of the region's cluster (default: the current one)")
	toolset := fs.String("toolset", "pulsar-toolset-0", "the pod that runs bin/bookkeeper shell")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := requireFlags([2]string{"--stack", *one.stack}, [2]string{"--statefulset", *sts}, [2]string{"--to", toFlag(*to, -1)}); err != nil {
		return err
	}
	if *to < 0 {
		return usagef("--to %d: want the number of bookies to keep, 0 or more", *to)
	}
	if *sts != pulsar.ReleaseName+"-bookie" && *sts != pulsar.NVMeRelease+"-bookie" {
		return usagef("--statefulset %q: want %s-bookie or %s-bookie", *sts, pulsar.ReleaseName, pulsar.NVMeRelease)
	}
	fleet, cat, err := one.load()
	if err != nil {
		return err
	}
	d, err := stacks.DesignFor(fleet, *one.stack, "", cat)
	if err != nil {
		return usagef("--stack: %v", err)
	}
	ns := d.Components.Pulsar.WithDefaults().Namespace
	c := kubectlCluster{bin: *kubectl, context: *kubeContext, namespace: ns, toolset: *toolset}
	return transition.Decommission{StatefulSet: *sts, Namespace: ns, To: *to, Ensemble: d.Components.Pulsar.Quorum.Ensemble,
		ReadOnlyFirst: *readOnly, Log: stdout}.Run(context.Background(), c)
}

// kubectlCluster is transition.Cluster through kubectl.
type kubectlCluster struct {
	bin, context, namespace, toolset string
}

func (k kubectlCluster) run(ctx context.Context, args ...string) (string, error) {
	var full []string
	if k.namespace != "" {
		full = append(full, "-n", k.namespace)
	}
	if k.context != "" {
		full = append(full, "--context", k.context)
	}
	cmd := exec.CommandContext(ctx, k.bin, append(full, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func (k kubectlCluster) Replicas(ctx context.Context, sts string) (int, error) {
	out, err := k.run(ctx, "get", "statefulset", sts, "-o", "jsonpath={.spec.replicas}")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(out))
}

// Scale stops the pods above replicas and waits until they are gone. Helm
// and Pulumi set the same count when the next `up` declares it.
func (k kubectlCluster) Scale(ctx context.Context, sts string, replicas int) error {
	if _, err := k.run(ctx, "scale", "statefulset/"+sts, "--replicas="+strconv.Itoa(replicas)); err != nil {
		return err
	}
	_, err := k.run(ctx, "wait", "--for=delete", fmt.Sprintf("pod/%s-%d", sts, replicas), "--timeout="+podGoneTimeout.String())
	return err
}

// podGoneTimeout covers a bookie's termination grace period.
const podGoneTimeout = 30 * time.Minute

func (k kubectlCluster) Shell(ctx context.Context, args ...string) (string, error) {
	return k.run(ctx, append([]string{"exec", k.toolset, "--", "bin/bookkeeper", "shell"}, args...)...)
}

// SetReadOnly uses the bookie's admin API (BookKeeper 4.15+), on the
// chart's bookie HTTP port.
func (k kubectlCluster) SetReadOnly(ctx context.Context, pod string) error {
	_, err := k.run(ctx, "exec", pod, "--", "curl", "-fsS", "-X", "PUT", "-H", "Content-Type: application/json",
		"-d", `{"readOnly":true}`, fmt.Sprintf("http://localhost:%d/api/v1/bookie/state/readonly", bookieHTTPPort))
	return err
}

// bookieHTTPPort is the chart's bookkeeper.ports.http.
const bookieHTTPPort = 8000
