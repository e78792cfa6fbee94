package cluster

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// KubeletSkew is how many minor versions a kubelet may run behind the
// control plane: Kubernetes' version skew policy since 1.28. A kubelet
// never runs ahead of it.
const KubeletSkew = 3

// NodeVersion is one node's kubelet as the API server reports it.
type NodeVersion struct {
	// Name is the node's name; Pool its Karpenter NodePool or EKS node
	// group ("" when it has neither label); Region its region label.
	Name, Pool, Region string
	// Kubelet is status.nodeInfo.kubeletVersion, e.g. "v1.33.5-eks-3025e55".
	Kubelet string
}

// PoolName is the node's pool, or says it has no pool label.
func (n NodeVersion) PoolName() string {
	if n.Pool == "" {
		return "no pool label"
	}
	return n.Pool
}

// kubeletVersion is NN and P of "v1.NN.P[-suffix]".
func kubeletVersion(v string) (minor, patch int, err error) {
	bad := fmt.Errorf("kubelet version %q: want v1.NN.P", v)
	rest, ok := strings.CutPrefix(v, "v1.")
	parts := strings.SplitN(rest, ".", 2)
	if !ok || len(parts) != 2 {
		return 0, 0, bad
	}
	p, _, _ := strings.Cut(parts[1], "-")
	minor, err1 := strconv.Atoi(parts[0])
	patch, err2 := strconv.Atoi(p)
	if err1 != nil || err2 != nil || minor < 0 || patch < 0 {
		return 0, 0, bad
	}
	return minor, patch, nil
}

// OlderKubelet says whether kubelet version a is older than b; an
// unreadable version counts as the oldest.
func OlderKubelet(a, b string) bool {
	am, ap, aerr := kubeletVersion(a)
	bm, bp, berr := kubeletVersion(b)
	switch {
	case aerr != nil || berr != nil:
		return aerr != nil && berr == nil
	case am != bm:
		return am < bm
	}
	return ap < bp
}

// AllowKubelets refuses a control-plane version that would leave a node
// outside the skew policy: a kubelet more than KubeletSkew minor versions
// behind it, or ahead of it. The error names every such node, oldest
// first, and what to do.
func AllowKubelets(declared string, nodes []NodeVersion) error {
	target, err := minorNumber(declared)
	if err != nil {
		return err
	}
	type out struct {
		NodeVersion
		minor int
	}
	var bad []out
	var problems []string
	for _, n := range nodes {
		m, _, err := kubeletVersion(n.Kubelet)
		if err != nil {
			problems = append(problems, fmt.Sprintf("node %s: %v", n.Name, err))
			continue
		}
		if m < target-KubeletSkew || m > target {
			bad = append(bad, out{n, m})
		}
	}
	sort.SliceStable(bad, func(i, j int) bool { return bad[i].minor < bad[j].minor })
	for _, b := range bad {
		pool := b.PoolName()
		if b.minor > target {
			problems = append(problems, fmt.Sprintf("node %s (%s) runs kubelet %s, newer than the control plane's %s: a control plane never goes below its nodes", b.Name, pool, b.Kubelet, declared))
			continue
		}
		problems = append(problems, fmt.Sprintf("node %s (%s) runs kubelet %s, %d minor versions behind %s (at most %d)",
			b.Name, pool, b.Kubelet, target-b.minor, declared, KubeletSkew))
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("kubernetes version %s: %d node(s) outside the kubelet skew policy; replace them first, bookie nodes one at a time (docs/operations.md, \"Instance-storage bookies move by hand\"):\n  %s",
		declared, len(problems), strings.Join(problems, "\n  "))
}
