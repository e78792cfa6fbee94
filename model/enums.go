package model

import (
	"fmt"
	"slices"
	"strings"
)

// The closed sets of the program: each is a type with its values listed
// once and one Valid. Config, the planner and the components all use these
// types, so a value is checked once, at the edge, and carried typed after.

// RegionRole is a region's part in the fleet.
type RegionRole string

// The region roles.
const (
	RolePrimary   RegionRole = "primary"
	RoleSecondary RegionRole = "secondary"
	RoleDR        RegionRole = "dr"
)

// RegionRoles lists the region roles.
var RegionRoles = []RegionRole{RolePrimary, RoleSecondary, RoleDR}

// Valid reports whether r is a region role.
func (r RegionRole) Valid() bool { return slices.Contains(RegionRoles, r) }

// PhaseName names a scaling phase.
type PhaseName string

// The phases, smallest first.
const (
	Phase35K  PhaseName = "35k"
	Phase100K PhaseName = "100k"
	Phase1M   PhaseName = "1m"
	Phase10M  PhaseName = "10m"
	Phase100M PhaseName = "100m"
)

// PhaseNames lists the phases, smallest first.
var PhaseNames = []PhaseName{Phase35K, Phase100K, Phase1M, Phase10M, Phase100M}

// Valid reports whether p is a phase.
func (p PhaseName) Valid() bool { return slices.Contains(PhaseNames, p) }

// NATMode is how a VPC's private subnets reach the internet.
type NATMode string

// The NAT modes: a gateway per zone (a zone's loss leaves the others
// their egress), or one for the region (cheaper; its zone's loss cuts every
// zone's egress).
const (
	NATPerZone NATMode = "perZone"
	NATSingle  NATMode = "single"
)

// NATModes lists the NAT modes.
var NATModes = []NATMode{NATPerZone, NATSingle}

// Valid reports whether m is a NAT mode.
func (m NATMode) Valid() bool { return slices.Contains(NATModes, m) }

// ProxyScheme is the scheme of the proxies' load balancer.
type ProxyScheme string

// The proxy schemes.
const (
	SchemeInternetFacing ProxyScheme = "internet-facing"
	SchemeInternal       ProxyScheme = "internal"
)

// ProxySchemes lists the proxy schemes.
var ProxySchemes = []ProxyScheme{SchemeInternetFacing, SchemeInternal}

// Valid reports whether s is a proxy scheme.
func (s ProxyScheme) Valid() bool { return slices.Contains(ProxySchemes, s) }

// SigningKey is the key that signs a region's Pulsar tokens (JWTs).
type SigningKey string

// The signing keys.
const (
	// SigningKeyFleet is the bootstrap stack's fleet key: the program
	// mints every token, the replicators' included, so geo-replication
	// needs no token exchange.
	SigningKeyFleet SigningKey = "fleet"
	// SigningKeyChart is a key per region made by the Pulsar chart's hook
	// (stacks deployed before the fleet key): tokens for peers are minted
	// by hand.
	SigningKeyChart SigningKey = "chart"
)

// SigningKeys lists the signing keys.
var SigningKeys = []SigningKey{SigningKeyFleet, SigningKeyChart}

// Valid reports whether k is a signing key.
func (k SigningKey) Valid() bool { return slices.Contains(SigningKeys, k) }

// Arch is a CPU architecture as Kubernetes labels it.
type Arch string

// The architectures.
const (
	ARM64 Arch = "arm64"
	AMD64 Arch = "amd64"
)

// Arches lists the architectures, Graviton first.
var Arches = []Arch{ARM64, AMD64}

// Valid reports whether a is an architecture.
func (a Arch) Valid() bool { return slices.Contains(Arches, a) }

// CapacityType is how a node is bought, as Karpenter labels it.
type CapacityType string

// The capacity types.
// Reserved is an On-Demand Capacity Reservation's.
const (
	CapacitySpot     CapacityType = "spot"
	CapacityOnDemand CapacityType = "on-demand"
	CapacityReserved CapacityType = "reserved"
)

// CapacityTypes lists the capacity types.
var CapacityTypes = []CapacityType{CapacitySpot, CapacityOnDemand, CapacityReserved}

// Valid reports whether c is a capacity type.
func (c CapacityType) Valid() bool { return slices.Contains(CapacityTypes, c) }

// BookieStorage is where a set of bookies keeps its data. It is a set's
// identity: a set never moves to the other storage (the StatefulSet would
// lose its volumes); a transition builds a set of the other kind beside it.
type BookieStorage string

// The bookie storages: EBS volumes, or the instance store (NVMe).
const (
	StorageEBS  BookieStorage = "ebs"
	StorageNVMe BookieStorage = "nvme"
)

// BookieStorages lists the bookie storages.
var BookieStorages = []BookieStorage{StorageEBS, StorageNVMe}

// Valid reports whether s is a bookie storage.
func (s BookieStorage) Valid() bool { return slices.Contains(BookieStorages, s) }

// StorageOf is the storage of a plan's bookies.
func StorageOf(localNVMe bool) BookieStorage {
	if localNVMe {
		return StorageNVMe
	}
	return StorageEBS
}

// Strings turns typed values into plain strings (Kubernetes label values).
func Strings[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// OneOf is the "want a, b or c" of an error message.
func OneOf[T ~string](values []T) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = string(v)
	}
	if len(quoted) < 2 {
		return strings.Join(quoted, "")
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}

// Invalid is the error for a value outside its set, naming the field and
// the allowed values.
func Invalid[T ~string](field string, got T, values []T) error {
	return fmt.Errorf("%s %q: want %s", field, string(got), OneOf(values))
}
