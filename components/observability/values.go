package observability

import "github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"

// Values are the kube-prometheus-stack 88.5.3 values the program sets; JSON
// tags are the chart's keys (checked against its values.yaml in tests).
type Values struct {
	FullnameOverride string       `json:"fullnameOverride"`
	CRDs             Toggle       `json:"crds"`
	Prometheus       Prometheus   `json:"prometheus"`
	Alertmanager     Alertmanager `json:"alertmanager"`
	Grafana          Grafana      `json:"grafana"`
	Operator         Scheduling   `json:"prometheusOperator"`
	// EKS runs these control-plane components; there is nothing to scrape.
	KubeEtcd              Toggle `json:"kubeEtcd"`
	KubeControllerManager Toggle `json:"kubeControllerManager"`
	KubeScheduler         Toggle `json:"kubeScheduler"`
	// NodeExporter is the node-exporter subchart's namespace.
	NodeExporter NamespaceOverride `json:"prometheus-node-exporter"`
}

// NamespaceOverride puts a subchart's objects in another namespace.
type NamespaceOverride struct {
	NamespaceOverride string `json:"namespaceOverride"`
}

// Toggle is k8s.Toggle (shared by the components).
type Toggle = k8s.Toggle

// Scheduling is k8s.Scheduling (shared by the components).
type Scheduling = k8s.Scheduling

// Toleration is k8s.Toleration (shared by the components).
type Toleration = k8s.Toleration

// Prometheus wraps the Prometheus spec.
type Prometheus struct {
	PrometheusSpec PrometheusSpec `json:"prometheusSpec"`
}

// PrometheusSpec is the Prometheus custom resource's spec.
type PrometheusSpec struct {
	Replicas       int               `json:"replicas"`
	Retention      string            `json:"retention"`
	RetentionSize  string            `json:"retentionSize"`
	ScrapeInterval string            `json:"scrapeInterval"`
	WALCompression bool              `json:"walCompression"`
	ExternalLabels map[string]string `json:"externalLabels"`
	// Select every PodMonitor, ServiceMonitor and PrometheusRule, not only
	// the chart's own (the Pulsar chart and this component add them).
	PodMonitorSelectorNilUsesHelmValues     bool `json:"podMonitorSelectorNilUsesHelmValues"`
	ServiceMonitorSelectorNilUsesHelmValues bool `json:"serviceMonitorSelectorNilUsesHelmValues"`
	RuleSelectorNilUsesHelmValues           bool `json:"ruleSelectorNilUsesHelmValues"`
	// EnableRemoteWriteReceiver makes the primary's Prometheus the global store.
	EnableRemoteWriteReceiver bool              `json:"enableRemoteWriteReceiver"`
	RemoteWrite               []RemoteWrite     `json:"remoteWrite,omitempty"`
	Resources                 Resources         `json:"resources"`
	StorageSpec               StorageSpec       `json:"storageSpec"`
	NodeSelector              map[string]string `json:"nodeSelector,omitempty"`
	Tolerations               []Toleration      `json:"tolerations,omitempty"`
}

// RemoteWrite sends series to the global store.
type RemoteWrite struct {
	URL                 string          `json:"url"`
	WriteRelabelConfigs []RelabelConfig `json:"writeRelabelConfigs"`
	QueueConfig         QueueConfig     `json:"queueConfig"`
}

// RelabelConfig keeps or drops series.
type RelabelConfig struct {
	SourceLabels []string `json:"sourceLabels"`
	Regex        string   `json:"regex"`
	Action       string   `json:"action"`
}

// QueueConfig tunes remote write.
type QueueConfig struct {
	Capacity          int `json:"capacity"`
	MaxShards         int `json:"maxShards"`
	MaxSamplesPerSend int `json:"maxSamplesPerSend"`
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

// Grafana runs in the primary only.
// Its settings are left out where Grafana is off: the subchart is not
// rendered, and nothing would read them.
type Grafana struct {
	Enabled                  bool          `json:"enabled"`
	DefaultDashboardsEnabled bool          `json:"defaultDashboardsEnabled,omitempty"`
	Admin                    *GrafanaAdmin `json:"admin,omitempty"`
	Sidecar                  *Sidecar      `json:"sidecar,omitempty"`
}

// GrafanaAdmin reads the admin credentials from an existing secret.
type GrafanaAdmin struct {
	ExistingSecret string `json:"existingSecret"`
	UserKey        string `json:"userKey"`
	PasswordKey    string `json:"passwordKey"`
}

// Sidecar loads dashboards from labelled ConfigMaps.
type Sidecar struct {
	Dashboards SidecarDashboards `json:"dashboards"`
}

// SidecarDashboards selects dashboard ConfigMaps.
type SidecarDashboards struct {
	Enabled    bool   `json:"enabled"`
	Label      string `json:"label"`
	LabelValue string `json:"labelValue"`
}
