package model

import (
	"fmt"
	"net/netip"
)

// AddedZone is a zone added to a running region, with the VPC secondary
// CIDR its subnets come from. The region's first zones share the VPC CIDR
// in a layout fixed by their count, so a zone added later cannot take
// addresses from it without replacing every subnet; its own block leaves
// them as they are.
type AddedZone struct {
	Zone string `json:"zone"`
	CIDR string `json:"cidr"`
}

// AllZones are a region's zones, then the zones added to it.
func AllZones(zones []string, added []AddedZone) []string {
	out := append([]string(nil), zones...)
	for _, z := range added {
		out = append(out, z.Zone)
	}
	return out
}

// secondaryRanges are the ranges a VPC secondary CIDR may come from, by
// the primary CIDR's range (Amazon VPC User Guide, "IPv4 CIDR block
// association restrictions"): the primary's own RFC 1918 block, or the
// shared address space 100.64.0.0/10. Public ranges, which AWS also
// permits, are not used for a private cluster.
var secondaryRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// IPv4Network parses an IPv4 network address (no host bits set); ok is
// false for anything else.
func IPv4Network(cidr string) (p netip.Prefix, ok bool) {
	p, err := netip.ParsePrefix(cidr)
	return p, err == nil && p.Addr().Is4() && p.Masked() == p
}

// SecondaryCIDRAllowed says whether a secondary CIDR may join a VPC whose
// primary CIDR is primary, and if not, what is allowed.
func SecondaryCIDRAllowed(primary, secondary netip.Prefix) error {
	if sharedAddressSpace.Contains(secondary.Addr()) && sharedAddressSpace.Bits() <= secondary.Bits() {
		return nil
	}
	for _, r := range secondaryRanges {
		if r.Contains(primary.Addr()) {
			if r.Contains(secondary.Addr()) && r.Bits() <= secondary.Bits() {
				return nil
			}
			return fmt.Errorf("a block of %s (the VPC CIDR's range) or of %s", r, sharedAddressSpace)
		}
	}
	return fmt.Errorf("a block of %s", sharedAddressSpace)
}
