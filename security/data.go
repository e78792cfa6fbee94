package security

import "strings"

// dataBearing reports the resources whose loss loses messages, metrics
// history, or makes them unreadable: the offload buckets (older ledgers
// live only there), the metrics buckets (the fleet's metrics past a week),
// every KMS key (theirs and the cluster's secrets key) and the EKS cluster.
func dataBearing(v *view) []string {
	var out []string
	for _, b := range v.buckets() {
		if !strings.HasSuffix(b.Name, "-logs") {
			out = append(out, b.URN) // every bucket but the access logs: offload, metrics, the metrics mirrors
		}
	}
	for _, typ := range append([]string{"aws:kms/key:Key"}, eksClusterTypes...) {
		for _, r := range v.byType[typ] {
			out = append(out, r.URN)
		}
	}
	return out
}

func dataProtected(v *view) []Finding {
	var out []Finding
	urns := map[string]bool{}
	for _, u := range dataBearing(v) {
		urns[u] = true
	}
	for _, r := range v.st.Resources {
		if !urns[r.URN] || r.Protect {
			continue
		}
		f := fail(res(r), "holds data or makes it readable but is not protected: a destroy or a replacement would delete it")
		if v.st.Config.AllowDataDeletion {
			f.Waived = "allowDataDeletion is set in the stack config (a region being torn down)"
		}
		out = append(out, f)
	}
	return out
}
