// Package thanos pins the Thanos release the observability tier runs
// (`go build github.com/thanos-io/thanos/cmd/thanos` from this module, the
// version of components/observability.ThanosImage). The tests start the
// regional and global queriers with the program's own arguments and
// certificates made as the program declares them, and check the
// cross-region hop's mutual TLS with real Thanos on both ends; the product
// itself runs the image.
package thanos
