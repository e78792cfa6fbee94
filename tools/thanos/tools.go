//go:build tools

package thanos

import _ "github.com/thanos-io/thanos/cmd/thanos"
