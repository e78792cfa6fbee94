package model

// Outputs of the account bootstrap stack (bootstrap/) that the region
// stacks read: the fleet CA that signs every region's certificate for the
// cross-region metrics hop (the key is a Pulumi secret).
const (
	OutputFleetCACert = "fleetCaCertPem"
	OutputFleetCAKey  = "fleetCaKeyPem"
)

// BootstrapProject and BootstrapStack name the account bootstrap, whose
// outputs every region stack reads.
const (
	BootstrapProject = "pulsar-fleet-bootstrap"
	BootstrapStack   = "admin"
)

// BootstrapRef is the bootstrap stack's fully qualified name in org.
func BootstrapRef(org string) string { return org + "/" + BootstrapProject + "/" + BootstrapStack }
