// Package tests holds cross-package tests: the offline preview of every
// stack at every phase, golden summaries, and the engine and API-server tiers.
package tests

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/internal/golden"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

const root = ".."

func catalog(t testing.TB) *sizing.Catalog {
	t.Helper()
	c, err := sizing.LoadCatalog(sizing.CatalogPath("", root))
	require.NoError(t, err)
	return c
}

// summary renders a stack's resource tree (type and name, indented by
// depth) and counts by type: the golden file a reviewer reads.
func summary(st stacks.OfflineStack) string {
	var b strings.Builder
	fmt.Fprintf(&b, "stack %s (%s, %s, phase %s)\n", st.Stack, st.Role, st.Region, st.Phase)
	children := map[string][]int{}
	for i, r := range st.Resources[1:] {
		children[r.Parent] = append(children[r.Parent], i+1)
	}
	var walk func(urn string, depth int)
	walk = func(urn string, depth int) {
		idx := children[urn]
		sort.SliceStable(idx, func(a, c int) bool {
			ra, rc := st.Resources[idx[a]], st.Resources[idx[c]]
			if ra.Type != rc.Type {
				return ra.Type < rc.Type
			}
			return ra.Name < rc.Name
		})
		for _, i := range idx {
			r := st.Resources[i]
			fmt.Fprintf(&b, "%s%s %s\n", strings.Repeat("  ", depth), r.Type, r.Name)
			walk(r.URN, depth+1)
		}
	}
	walk(st.StackURN, 1)
	counts := st.CountByType()
	b.WriteString("counts:\n")
	for _, t := range stacks.SortedTypes(counts) {
		fmt.Fprintf(&b, "  %4d %s\n", counts[t], t)
	}
	return b.String()
}

func TestOfflinePreviewGoldenSummaries(t *testing.T) {
	res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: catalog(t)})
	require.NoError(t, err)
	require.Len(t, res.Stacks, 3)
	for _, st := range res.Stacks {
		golden.Assert(t, "offline-"+st.Stack+".txt", []byte(summary(st)))
	}
}

// Every stack at every phase previews offline.
func TestOfflinePreviewEveryPhase(t *testing.T) {
	cat := catalog(t)
	for _, ph := range sizing.PhaseNames {
		t.Run(ph, func(t *testing.T) {
			res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: cat, Phase: ph})
			require.NoError(t, err)
			require.Len(t, res.Stacks, 3)
			for _, st := range res.Stacks {
				require.Equal(t, ph, st.Phase)
			}
		})
	}
}
