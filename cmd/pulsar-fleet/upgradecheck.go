package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// runUpgradeCheck reads the cluster's nodes through kubectl and refuses a
// Kubernetes version one of their kubelets could not follow
// (cluster.AllowKubelets): the gate before an upgrade's `up`, which the
// offline guard cannot be, since it never sees the nodes.
func runUpgradeCheck(args []string, stdout io.Writer) error {
	fs := newFlags("upgrade-check", stdout)
	one := oneStackFlags(fs)
	to := fs.String("to", "", "the Kubernetes version to check for (default: the stack file's cluster.kubernetesVersion)")
	kubectl := fs.String("kubectl", "kubectl", "the kubectl to run")
	kubeContext := fs.String("context", "", "the kubeconfig context of the region's cluster (default: the current one)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fleet, _, err := one.load()
	if err != nil {
		return err
	}
	stack, _ := fleet.Get(*one.stack)
	declared := *to
	if declared == "" {
		declared = stack.Cluster.KubernetesVersion
	}
	if _, ok := cluster.LookupKubernetesVersion(declared); !ok {
		return usagef("--to %q: want one of %v", declared, cluster.KubernetesVersionNames())
	}
	k := kubectlCluster{bin: *kubectl, context: *kubeContext}
	nodes, err := k.Nodes(context.Background())
	if err != nil {
		return err
	}
	if err := sameCluster(stack.Stack, stack.Region, nodes); err != nil {
		return err
	}
	if err := cluster.AllowKubelets(declared, nodes); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stack %s: every kubelet of its %d nodes can follow Kubernetes %s (at most %d minor versions behind)\n",
		*one.stack, len(nodes), declared, cluster.KubeletSkew)
	for _, n := range oldestPerPool(nodes) {
		fmt.Fprintf(stdout, "  %-24s oldest kubelet %s (%s)\n", n.PoolName(), n.Kubelet, n.Name)
	}
	return nil
}

// sameCluster refuses nodes that cannot be the stack's cluster: none at
// all (every cluster has its system nodes), nodes of another region, or
// none in the stack's region (EKS' cloud provider labels every node with
// its region once it has initialised it; a cluster without the label is
// not EKS). A check that passed on the wrong kubeconfig context would say
// nothing.
func sameCluster(stack, region string, nodes []cluster.NodeVersion) error {
	if len(nodes) == 0 {
		return fmt.Errorf("stack %s: the cluster has no nodes; is --context the stack's cluster?", stack)
	}
	inRegion := false
	for _, n := range nodes {
		if n.Region != "" && n.Region != region {
			return fmt.Errorf("stack %s runs in %s, but node %s is in %s: --context names another cluster", stack, region, n.Name, n.Region)
		}
		inRegion = inRegion || n.Region == region
	}
	if !inRegion {
		return fmt.Errorf("stack %s runs in %s, but no node carries the label %s: --context does not name an EKS cluster of that region", stack, region, model.LabelRegion)
	}
	return nil
}

// Nodes reads every node's kubelet version and pool.
func (k kubectlCluster) Nodes(ctx context.Context) ([]cluster.NodeVersion, error) {
	out, err := k.run(ctx, "get", "nodes", "-o", "json")
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Status struct {
				NodeInfo struct {
					KubeletVersion string `json:"kubeletVersion"`
				} `json:"nodeInfo"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return nil, fmt.Errorf("kubectl get nodes: %w", err)
	}
	nodes := make([]cluster.NodeVersion, 0, len(list.Items))
	for _, it := range list.Items {
		l := it.Metadata.Labels
		pool := l[model.LabelNodePool]
		if pool == "" {
			pool = l[model.LabelNodeGroup]
		}
		nodes = append(nodes, cluster.NodeVersion{Name: it.Metadata.Name, Pool: pool, Region: l[model.LabelRegion],
			Kubelet: it.Status.NodeInfo.KubeletVersion})
	}
	return nodes, nil
}

// oldestPerPool is each pool's node with the oldest kubelet, by pool.
func oldestPerPool(nodes []cluster.NodeVersion) []cluster.NodeVersion {
	oldest := map[string]cluster.NodeVersion{}
	for _, n := range nodes {
		if o, ok := oldest[n.Pool]; !ok || cluster.OlderKubelet(n.Kubelet, o.Kubelet) {
			oldest[n.Pool] = n
		}
	}
	out := make([]cluster.NodeVersion, 0, len(oldest))
	for _, n := range oldest {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pool < out[j].Pool })
	return out
}
