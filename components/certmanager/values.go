package certmanager

import "github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"

// Values are the cert-manager chart v1.19.1 values the program sets. JSON
// tags are the chart's keys; a test checks every leaf path against the
// chart's values.yaml.
type Values struct {
	Global Global `json:"global"`
	CRDs   CRDs   `json:"crds"`
	Deployment
	Webhook    Deployment `json:"webhook"`
	CAInjector Deployment `json:"cainjector"`
	// StartupAPICheck is the post-install Job that waits for the webhook.
	StartupAPICheck k8s.Scheduling `json:"startupapicheck"`
}

// Global holds the chart-wide settings.
type Global struct {
	// LeaderElection keeps the leases in cert-manager's own namespace
	// (the chart's default is kube-system).
	LeaderElection LeaderElection `json:"leaderElection"`
}

// LeaderElection is where the controllers' leases live.
type LeaderElection struct {
	Namespace string `json:"namespace"`
}

// CRDs installs the CRDs with the chart and keeps them when the release
// is uninstalled.
type CRDs struct {
	Enabled bool `json:"enabled"`
	Keep    bool `json:"keep"`
}

// Deployment is one of the chart's Deployments: the controller (at the
// top level), the webhook and the CA injector.
type Deployment struct {
	ReplicaCount        int                      `json:"replicaCount"`
	PodDisruptionBudget PDB                      `json:"podDisruptionBudget"`
	NodeSelector        map[string]string        `json:"nodeSelector,omitempty"`
	Tolerations         []k8s.Toleration         `json:"tolerations,omitempty"`
	Resources           k8s.ResourceRequirements `json:"resources"`
}

// PDB is a Deployment's PodDisruptionBudget. Enabled alone gives
// minAvailable 1 (the chart's template; minAvailable is not in its
// values.yaml).
type PDB struct {
	Enabled bool `json:"enabled"`
}

// ChartValues are the release's values: two replicas of the controller,
// the webhook and the CA injector under PDBs, all on the critical pool.
func ChartValues(cfg Config) Values {
	p := cfg.Placement
	deployment := func(cpu, memory string) Deployment {
		return Deployment{ReplicaCount: Replicas, PodDisruptionBudget: PDB{Enabled: true},
			NodeSelector: p.NodeSelector, Tolerations: p.Tolerations,
			Resources: k8s.ResourceRequirements{Requests: map[string]string{"cpu": cpu, "memory": memory}, Limits: map[string]string{"memory": memory}}}
	}
	return Values{
		Global:          Global{LeaderElection: LeaderElection{Namespace: Namespace}},
		CRDs:            CRDs{Enabled: true, Keep: true},
		Deployment:      deployment("50m", "256Mi"),
		Webhook:         deployment("25m", "128Mi"),
		CAInjector:      deployment("25m", "256Mi"),
		StartupAPICheck: k8s.Scheduling{NodeSelector: p.NodeSelector, Tolerations: p.Tolerations},
	}
}
