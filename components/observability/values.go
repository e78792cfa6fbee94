package observability

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
)

// Values are the kube-prometheus-stack 88.5.3 values the program sets; JSON
// tags are the chart's keys (checked against its values.yaml in tests).
type Values struct {
	FullnameOverride string       `json:"fullnameOverride"`
	CRDs             Toggle       `json:"crds"`
	Prometheus       Prometheus   `json:"prometheus"`
	Alertmanager     Alertmanager `json:"alertmanager"`
	Grafana          Grafana      `json:"grafana"`
	Operator         Operator     `json:"prometheusOperator"`
	// EKS runs these control-plane components; there is nothing to scrape.
	KubeEtcd              Toggle `json:"kubeEtcd"`
	KubeControllerManager Toggle `json:"kubeControllerManager"`
	KubeScheduler         Toggle `json:"kubeScheduler"`
	// NodeExporter is the node-exporter subchart's namespace.
	NodeExporter NamespaceOverride `json:"prometheus-node-exporter"`
	// ExtraManifests are the region's Thanos objects (Thanos.Manifests).
	ExtraManifests []any `json:"extraManifests,omitempty"`
	// KubeStateMetrics is the kube-state-metrics subchart.
	KubeStateMetrics KubeStateMetrics `json:"kube-state-metrics"`
}

// KubeStateMetrics exports the node labels ZoneUnavailable joins on.
type KubeStateMetrics struct {
	MetricLabelsAllowlist []string `json:"metricLabelsAllowlist"`
}

// NamespaceOverride puts a subchart's objects in another namespace.
type NamespaceOverride struct {
	NamespaceOverride string `json:"namespaceOverride"`
}

// Operator is the Prometheus operator's Deployment and its admission
// webhook's.
type Operator struct {
	Scheduling
	AdmissionWebhooks AdmissionWebhooks `json:"admissionWebhooks"`
}

// AdmissionWebhooks serve the PrometheusRule (and Alertmanager config)
// admission webhooks from a Deployment of their own: the operator serves
// its metrics and pprof on the port it would serve them on, which the
// control plane's addresses (and so every pod's) would have to reach.
type AdmissionWebhooks struct {
	Deployment WebhookDeployment `json:"deployment"`
}

// WebhookDeployment is the webhook's Deployment: two replicas under a PDB.
type WebhookDeployment struct {
	Enabled             bool   `json:"enabled"`
	Replicas            int    `json:"replicas"`
	PodDisruptionBudget Toggle `json:"podDisruptionBudget"`
	Scheduling
}

// Toggle is k8s.Toggle (shared by the components).
type Toggle = k8s.Toggle

// Scheduling is k8s.Scheduling (shared by the components).
type Scheduling = k8s.Scheduling

// Toleration is k8s.Toleration (shared by the components).
type Toleration = k8s.Toleration

// Prometheus wraps the Prometheus spec, the sidecars' discovery Service
// and the service account (whose IRSA role the sidecars upload with).
type Prometheus struct {
	PrometheusSpec PrometheusSpec `json:"prometheusSpec"`
	ThanosService  Toggle         `json:"thanosService"`
	// ThanosServiceMonitor scrapes the sidecars' HTTP port (their shipper
	// metrics back the Thanos alerts).
	ThanosServiceMonitor Toggle         `json:"thanosServiceMonitor"`
	ServiceAccount       ServiceAccount `json:"serviceAccount"`
}

// ServiceAccount annotates a chart's service account.
type ServiceAccount struct {
	Annotations map[string]pulumi.StringInput `json:"annotations,omitempty"`
}

// ThanosSpec is the Prometheus resource's Thanos sidecar: it uploads blocks
// to the bucket its Secret names.
type ThanosSpec struct {
	ObjectStorageConfig ObjectStorageConfig `json:"objectStorageConfig"`
}

// ObjectStorageConfig points the sidecar at an existing Secret.
type ObjectStorageConfig struct {
	ExistingSecret SecretKey `json:"existingSecret"`
}

// SecretKey is a key of a Secret.
type SecretKey struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// PrometheusSpec is the Prometheus custom resource's spec.
type PrometheusSpec struct {
	Replicas       int               `json:"replicas"`
	Retention      string            `json:"retention"`
	RetentionSize  string            `json:"retentionSize"`
	ScrapeInterval string            `json:"scrapeInterval"`
	WALCompression bool              `json:"walCompression"`
	ExternalLabels map[string]string `json:"externalLabels"`
	// ReplicaExternalLabelName names each replica (the operator's default,
	// set so the queriers and the chart name the same label).
	ReplicaExternalLabelName string `json:"replicaExternalLabelName"`
	// Thanos runs the sidecar.
	Thanos *ThanosSpec `json:"thanos,omitempty"`
	// Select every PodMonitor, ServiceMonitor and PrometheusRule, not only
	// the chart's own (the Pulsar chart and this component add them).
	PodMonitorSelectorNilUsesHelmValues     bool              `json:"podMonitorSelectorNilUsesHelmValues"`
	ServiceMonitorSelectorNilUsesHelmValues bool              `json:"serviceMonitorSelectorNilUsesHelmValues"`
	RuleSelectorNilUsesHelmValues           bool              `json:"ruleSelectorNilUsesHelmValues"`
	Resources                               Resources         `json:"resources"`
	StorageSpec                             StorageSpec       `json:"storageSpec"`
	NodeSelector                            map[string]string `json:"nodeSelector,omitempty"`
	Tolerations                             []Toleration      `json:"tolerations,omitempty"`
}

// Resources is k8s.ResourceRequirements (shared by the components).
type Resources = k8s.ResourceRequirements

// StorageSpec is Prometheus' persistent volume.
type StorageSpec struct {
	VolumeClaimTemplate VolumeClaimTemplate `json:"volumeClaimTemplate"`
}

// VolumeClaimTemplate is a PVC template.
type VolumeClaimTemplate struct {
	Spec PVCSpec `json:"spec"`
}

// PVCSpec is a PersistentVolumeClaim spec.
type PVCSpec struct {
	StorageClassName string    `json:"storageClassName"`
	AccessModes      []string  `json:"accessModes"`
	Resources        Resources `json:"resources"`
}

// Alertmanager routes alerts to the webhook.
type Alertmanager struct {
	Enabled          bool                 `json:"enabled"`
	Config           AlertmanagerSettings `json:"config"`
	AlertmanagerSpec AlertmanagerSpec     `json:"alertmanagerSpec"`
}

// AlertmanagerSpec is the Alertmanager custom resource's spec.
type AlertmanagerSpec struct {
	Replicas     int               `json:"replicas"`
	Secrets      []string          `json:"secrets,omitempty"`
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	Tolerations  []Toleration      `json:"tolerations,omitempty"`
}

// Grafana runs in the regions with a global view.
// Its settings are left out where Grafana is off: the subchart is not
// rendered, and nothing would read them.
type Grafana struct {
	Enabled                  bool          `json:"enabled"`
	DefaultDashboardsEnabled bool          `json:"defaultDashboardsEnabled,omitempty"`
	Admin                    *GrafanaAdmin `json:"admin,omitempty"`
	Sidecar                  *Sidecar      `json:"sidecar,omitempty"`
	AdditionalDataSources    []DataSource  `json:"additionalDataSources,omitempty"`
}

// GrafanaAdmin reads the admin credentials from an existing secret.
type GrafanaAdmin struct {
	ExistingSecret string `json:"existingSecret"`
	UserKey        string `json:"userKey"`
	PasswordKey    string `json:"passwordKey"`
}

// Sidecar loads dashboards from labelled ConfigMaps and points the
// default datasource at the global querier.
type Sidecar struct {
	Dashboards  SidecarDashboards  `json:"dashboards"`
	Datasources SidecarDatasources `json:"datasources"`
}

// SidecarDatasources turns the chart's own datasource (the local
// Prometheus) off: Grafana reads the global querier only.
type SidecarDatasources struct {
	DefaultDatasourceEnabled bool `json:"defaultDatasourceEnabled"`
}

// DataSource is a Grafana datasource provisioned by the chart.
type DataSource struct {
	Name      string `json:"name"`
	UID       string `json:"uid"`
	Type      string `json:"type"`
	Access    string `json:"access"`
	URL       string `json:"url"`
	IsDefault bool   `json:"isDefault"`
}

// SidecarDashboards selects dashboard ConfigMaps.
type SidecarDashboards struct {
	Enabled    bool   `json:"enabled"`
	Label      string `json:"label"`
	LabelValue string `json:"labelValue"`
}
