package model

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSecondaryCIDRAllowed(t *testing.T) {
	for _, tc := range []struct {
		primary, secondary string
		ok                 bool
	}{
		{"10.10.0.0/16", "10.11.0.0/16", true},
		{"10.10.0.0/16", "100.64.0.0/16", true},
		{"10.10.0.0/16", "172.16.0.0/16", false},
		{"10.10.0.0/16", "192.168.0.0/16", false},
		{"172.16.0.0/16", "172.17.0.0/16", true},
		{"172.16.0.0/16", "10.0.0.0/16", false},
		{"192.168.0.0/18", "192.168.64.0/18", true},
		{"192.168.0.0/18", "100.127.0.0/16", true},
		{"10.10.0.0/16", "100.128.0.0/16", false},
		{"10.10.0.0/16", "8.8.0.0/16", false},
	} {
		err := SecondaryCIDRAllowed(netip.MustParsePrefix(tc.primary), netip.MustParsePrefix(tc.secondary))
		assert.Equal(t, tc.ok, err == nil, "%s + %s: %v", tc.primary, tc.secondary, err)
	}
}

func TestIPv4Network(t *testing.T) {
	for cidr, want := range map[string]bool{
		"10.20.0.0/16": true, "0.0.0.0/0": true, "10.20.0.1/16": false, "fd00::/48": false, "10.20.0.0": false, "": false,
	} {
		_, ok := IPv4Network(cidr)
		if ok != want {
			t.Errorf("IPv4Network(%q) = %v, want %v", cidr, ok, want)
		}
	}
}
