package model

// Outputs of the account bootstrap stack (bootstrap/) that the region
// stacks read: the fleet CA that signs every region's certificate for the
// cross-region metrics hop, and the fleet's token signing key, from which
// each region mints its Pulsar tokens (both keys are Pulumi secrets).
const (
	OutputFleetCACert   = "fleetCaCertPem"
	OutputFleetCAKey    = "fleetCaKeyPem"
	OutputFleetTokenKey = "fleetTokenKeyPem"
	// OutputFleetCA is the bootstrap's fleet CA setting ({generation,
	// stage}, FleetCA), which its next `up` reads back (CAMove).
	OutputFleetCA = "fleetCa"
	// OutputFleetCAApplied is a region stack's output: the bootstrap's
	// fleet CA setting its last `up` applied (CAReport), which the
	// bootstrap reads before it moves a rotation on (CARegionsReady).
	OutputFleetCAApplied = "fleetCaApplied"
)

// BootstrapProject and BootstrapStack name the account bootstrap, whose
// outputs every region stack reads.
const (
	BootstrapProject = "pulsar-fleet-bootstrap"
	BootstrapStack   = "admin"
)

// BootstrapRef is the bootstrap stack's fully qualified name in org.
func BootstrapRef(org string) string { return org + "/" + BootstrapProject + "/" + BootstrapStack }
