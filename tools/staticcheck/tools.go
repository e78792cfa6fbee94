//go:build tools

// Package staticcheck pins the staticcheck version .ci/run builds.
package staticcheck

import _ "honnef.co/go/tools/cmd/staticcheck"
