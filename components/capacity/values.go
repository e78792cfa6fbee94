package capacity

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Values are the Karpenter chart values the program sets; JSON tags are the
// chart's keys (checked against the chart's values.yaml in tests).
type Values struct {
	Replicas       int               `json:"replicas"`
	LogLevel       string            `json:"logLevel"`
	NodeSelector   map[string]string `json:"nodeSelector"`
	Tolerations    []Toleration      `json:"tolerations"`
	ServiceAccount ServiceAccount    `json:"serviceAccount"`
	Controller     Controller        `json:"controller"`
	Settings       Settings          `json:"settings"`
	// ServiceMonitor stays off here: the observability component scrapes
	// the controller once the Prometheus operator's CRDs exist.
	ServiceMonitor Toggle `json:"serviceMonitor"`
}

// ServiceAccount carries the IRSA annotation.
type ServiceAccount struct {
	Name        string                        `json:"name"`
	Annotations map[string]pulumi.StringInput `json:"annotations"`
}

// Controller sizes the controller container and sets its environment.
type Controller struct {
	Resources Resources    `json:"resources"`
	Env       []k8s.EnvVar `json:"env"`
}

// ControllerEnv names the region to the controller, which would otherwise
// read it from the instance metadata service, closed to its pods.
func ControllerEnv(region string) []k8s.EnvVar {
	return []k8s.EnvVar{{Name: "AWS_REGION", Value: region}}
}

// Resources is k8s.ResourceRequirements (shared by the components).
type Resources = k8s.ResourceRequirements

// Settings are Karpenter's global settings.
type Settings struct {
	ClusterName       string             `json:"clusterName"`
	InterruptionQueue pulumi.StringInput `json:"interruptionQueue"`
	// MinValuesPolicy Strict never launches a spot node with less
	// diversity than the pool's minValues asks for.
	MinValuesPolicy string       `json:"minValuesPolicy"`
	FeatureGates    FeatureGates `json:"featureGates"`
}

// FeatureGates are Karpenter feature gates.
type FeatureGates struct {
	// SpotToSpotConsolidation stays off: consolidating spot nodes into
	// other spot nodes churns brokers for little saving.
	SpotToSpotConsolidation bool `json:"spotToSpotConsolidation"`
	// ReservedCapacity lets the critical pool use capacity reservations.
	ReservedCapacity bool `json:"reservedCapacity"`
}

// Toggle is k8s.Toggle (shared by the components).
type Toggle = k8s.Toggle

// ChartValues computes the chart values: two replicas on the system node
// group, IRSA, the interruption queue.
func ChartValues(c Config, queueName, controllerRoleARN pulumi.StringInput) Values {
	tol := c.ControllerTolerations
	if len(tol) == 0 {
		tol = []Toleration{{Key: "CriticalAddonsOnly", Operator: "Exists", Effect: "NoSchedule"}}
	}
	ns := map[string]string{"kubernetes.io/os": "linux"}
	for k, v := range c.ControllerNodeSelector {
		ns[k] = v
	}
	return Values{
		Replicas: defaultReplicas, LogLevel: "info", NodeSelector: ns, Tolerations: tol,
		ServiceAccount: ServiceAccount{Name: ServiceAccountName, Annotations: map[string]pulumi.StringInput{model.AnnotationIRSARole: controllerRoleARN}},
		Controller: Controller{Resources: Resources{
			Requests: map[string]string{"cpu": "1", "memory": "1Gi"},
			Limits:   map[string]string{"cpu": "1", "memory": "1Gi"},
		}, Env: ControllerEnv(c.Region)},
		Settings: Settings{ClusterName: c.ClusterName, InterruptionQueue: queueName, MinValuesPolicy: "Strict",
			FeatureGates: FeatureGates{SpotToSpotConsolidation: false, ReservedCapacity: true}},
		ServiceMonitor: Toggle{Enabled: false},
	}
}
