// Package helm pins the helm CLI the render test tier builds (`go build
// helm.sh/helm/v3/cmd/helm` from this module). The tests render every Helm
// release the program declares with its real chart from the reference
// directory; the product itself never runs helm.
package helm
