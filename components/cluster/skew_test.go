package cluster

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAllowKubelets(t *testing.T) {
	node := func(name, pool, v string) NodeVersion { return NodeVersion{Name: name, Pool: pool, Kubelet: v} }
	for _, c := range []struct {
		name     string
		declared string
		nodes    []NodeVersion
		want     []string // substrings of the error, in order; none: allowed
	}{
		{"no nodes", "1.35", nil, nil},
		{"same version", "1.35", []NodeVersion{node("a", "general", "v1.35.0-eks-1")}, nil},
		{"three behind", "1.35", []NodeVersion{node("b", "bookie-nvme", "v1.32.9-eks-113cf36")}, nil},
		{"four behind", "1.35", []NodeVersion{node("b", "bookie-nvme", "v1.31.4-eks-0f56d01"), node("a", "general", "v1.35.1")},
			[]string{"kubernetes version 1.35: 1 node(s) outside the kubelet skew policy", "Instance-storage bookies move by hand",
				"node b (bookie-nvme) runs kubelet v1.31.4-eks-0f56d01, 4 minor versions behind 1.35 (at most 3)"}},
		{"oldest first", "1.36", []NodeVersion{node("b2", "bookie-nvme", "v1.32.1"), node("b1", "bookie-nvme", "v1.31.0"), node("s", "", "v1.33.2")},
			[]string{"2 node(s)", "node b1 (bookie-nvme) runs kubelet v1.31.0, 5 minor", "node b2 (bookie-nvme) runs kubelet v1.32.1, 4 minor"}},
		{"ahead of the control plane", "1.34", []NodeVersion{node("n", "", "v1.35.0")},
			[]string{"node n (no pool label) runs kubelet v1.35.0, newer than the control plane's 1.34"}},
		{"unreadable kubelet", "1.35", []NodeVersion{node("x", "general", "1.35.0"), node("y", "general", "v2.0.0"), node("z", "general", "vx")},
			[]string{"3 node(s)", `node x: kubelet version "1.35.0": want v1.NN.P`, `node y: kubelet version "v2.0.0"`, `node z: kubelet version "vx"`}},
		{"bad declared version", "1.x", []NodeVersion{node("a", "general", "v1.35.0")}, []string{`kubernetes version "1.x": want 1.NN`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := AllowKubelets(c.declared, c.nodes)
			if c.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			msg, at := err.Error(), 0
			for _, w := range c.want {
				i := strings.Index(msg[at:], w)
				if assert.GreaterOrEqual(t, i, 0, "%q in order in:\n%s", w, msg) {
					at += i + len(w)
				}
			}
		})
	}
}

func TestOlderKubelet(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"v1.32.9-eks-1", "v1.33.0", true},
		{"v1.33.0", "v1.32.9", false},
		{"v1.33.2-eks-1", "v1.33.10-eks-2", true}, // by number, not text
		{"v1.33.10", "v1.33.2", false},
		{"v1.33.2", "v1.33.2", false},
		{"garbage", "v1.33.2", true},
		{"v1.33.2", "garbage", false},
	} {
		assert.Equal(t, c.want, OlderKubelet(c.a, c.b), "%s < %s", c.a, c.b)
	}
}
