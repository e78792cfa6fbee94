package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every enumeration accepts exactly its listed values.
func TestEnumsAcceptOnlyTheirValues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		valid func(string) bool
		good  []string
	}{
		{"region role", func(s string) bool { return RegionRole(s).Valid() }, []string{"primary", "secondary", "dr"}},
		{"phase", func(s string) bool { return PhaseName(s).Valid() }, []string{"35k", "100k", "1m", "10m", "100m"}},
		{"nat", func(s string) bool { return NATMode(s).Valid() }, []string{"perZone", "single"}},
		{"scheme", func(s string) bool { return ProxyScheme(s).Valid() }, []string{"internet-facing", "internal"}},
		{"arch", func(s string) bool { return Arch(s).Valid() }, []string{"arm64", "amd64"}},
		{"capacity", func(s string) bool { return CapacityType(s).Valid() }, []string{"spot", "on-demand", "reserved"}},
		{"bookie storage", func(s string) bool { return BookieStorage(s).Valid() }, []string{"ebs", "nvme"}},
		{"signing key", func(s string) bool { return SigningKey(s).Valid() }, []string{"fleet", "chart"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, g := range tc.good {
				assert.True(t, tc.valid(g), g)
			}
			for _, bad := range []string{"", "Primary", "x86_64", "2m", "public", "none", "Spot"} {
				assert.False(t, tc.valid(bad), bad)
			}
		})
	}
}

func TestInvalidNamesFieldAndValues(t *testing.T) {
	assert.EqualError(t, Invalid("natGateways", NATMode("none"), NATModes), `natGateways "none": want perZone or single`)
	assert.EqualError(t, Invalid("role", RegionRole("x"), RegionRoles), `role "x": want primary, secondary or dr`)
}
