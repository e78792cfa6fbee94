package pulsar

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
)

// Values are the Apache Pulsar chart 4.7.0 values the program sets. JSON
// tags are the chart's keys; a test checks every leaf path against the
// chart's values.yaml and the paths its templates read.
type Values struct {
	FullnameOverride string           `json:"fullnameOverride"`
	ClusterName      string           `json:"clusterName"`
	Components       Components       `json:"components"`
	Affinity         GlobalAffinity   `json:"affinity"`
	Volumes          GlobalVolumes    `json:"volumes"`
	Auth             Auth             `json:"auth"`
	TLS              TLS              `json:"tls"`
	Certs            Certs            `json:"certs"`
	PulsarMetadata   Scheduling       `json:"pulsar_metadata"`
	ZooKeeper        ZooKeeper        `json:"zookeeper"`
	BookKeeper       BookKeeper       `json:"bookkeeper"`
	Autorecovery     Autorecovery     `json:"autorecovery"`
	Broker           Broker           `json:"broker"`
	Proxy            Proxy            `json:"proxy"`
	Toolset          Scheduling       `json:"toolset"`
	VictoriaMetrics  Toggle           `json:"victoria-metrics-k8s-stack"`
	ExtraDeploy      []map[string]any `json:"extraDeploy,omitempty"`
}

// Components selects the chart's components.
type Components struct {
	ZooKeeper     bool `json:"zookeeper"`
	BookKeeper    bool `json:"bookkeeper"`
	Autorecovery  bool `json:"autorecovery"`
	Broker        bool `json:"broker"`
	Proxy         bool `json:"proxy"`
	Toolset       bool `json:"toolset"`
	Functions     bool `json:"functions"`
	PulsarManager bool `json:"pulsar_manager"`
}

// GlobalAffinity is the chart-wide anti-affinity switch. The chart reads
// only `anti_affinity` here; the type is per component (Affinity).
type GlobalAffinity struct {
	AntiAffinity bool `json:"anti_affinity"`
}

// Affinity is a component's pod anti-affinity: one pod per node, required
// (the chart's default for brokers and proxies is only preferred).
type Affinity struct {
	AntiAffinity bool   `json:"anti_affinity"`
	Type         string `json:"type"`
}

// RequiredAntiAffinity is the scheduling rule of every Pulsar component.
var RequiredAntiAffinity = Affinity{AntiAffinity: true, Type: "requiredDuringSchedulingIgnoredDuringExecution"}

// Upgrade is the chart's pre-upgrade hook that deletes StatefulSets made
// by charts older than 4.6.0; the program never deployed one.
type Upgrade struct {
	Enabled bool `json:"enabled"`
}

// GlobalVolumes toggles persistence chart-wide.
type GlobalVolumes struct {
	Persistence bool `json:"persistence"`
}

// TLS turns on TLS per component. The chart then serves the proxies'
// and brokers' binary and web ports over TLS only (no plaintext 6650 or
// admin port; the web port 8080 stays for Prometheus), has brokers speak
// TLS to bookies (autorecovery does through its configData:
// AutorecoveryTLS), and everything speak TLS to ZooKeeper (2281);
// certificates come from cert-manager (Certs).
// A release of bookies only sets the bookies' and ZooKeeper's (the chart
// reads no other there).
type TLS struct {
	Enabled   bool    `json:"enabled"`
	Proxy     *Toggle `json:"proxy,omitempty"`
	Broker    *Toggle `json:"broker,omitempty"`
	Bookie    *Toggle `json:"bookie,omitempty"`
	ZooKeeper *Toggle `json:"zookeeper,omitempty"`
}

// Certs is where the components' certificates come from: the chart's
// internal issuer, a self-signed CA per region (the main release's), or
// that CA's Issuer by name (a release of bookies only).
type Certs struct {
	InternalIssuer InternalIssuer `json:"internal_issuer"`
	Issuers        *Issuers       `json:"issuers,omitempty"`
}

// InternalIssuer makes the CA and its Issuer in the release, with the
// CA's lifetime.
type InternalIssuer struct {
	Enabled     bool   `json:"enabled"`
	Type        string `json:"type,omitempty"`
	Duration    string `json:"duration,omitempty"`
	RenewBefore string `json:"renewBefore,omitempty"`
}

// Issuers names an existing CA Issuer and its Secret.
type Issuers struct {
	CA IssuerRef `json:"ca"`
}

// IssuerRef is a CA Issuer and the Secret holding its certificate.
type IssuerRef struct {
	Name       string `json:"name"`
	SecretName string `json:"secretName"`
}

// Auth turns on JWT authentication and authorization.
type Auth struct {
	Authentication Authentication `json:"authentication"`
	Authorization  Toggle         `json:"authorization"`
	SuperUsers     SuperUsers     `json:"superUsers"`
}

// Authentication turns on JWT authentication. Chart 4.1.0 dropped the
// `provider` selector: `jwt.enabled` alone picks the JWT provider.
type Authentication struct {
	Enabled bool `json:"enabled"`
	JWT     JWT  `json:"jwt"`
}

// JWT configures token authentication; the chart's hook generates the
// signing key and the super users' tokens as Kubernetes secrets.
type JWT struct {
	Enabled         bool            `json:"enabled"`
	UsingSecretKey  bool            `json:"usingSecretKey"`
	GenerateSecrets GenerateSecrets `json:"generateSecrets"`
}

// GenerateSecrets runs the JWT init hook.
type GenerateSecrets struct {
	Enabled      bool              `json:"enabled"`
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	Tolerations  []Toleration      `json:"tolerations,omitempty"`
}

// SuperUsers are the roles with full access.
type SuperUsers struct {
	Broker string `json:"broker"`
	Proxy  string `json:"proxy"`
	Client string `json:"client"`
}

// Toggle is k8s.Toggle (shared by the components).
type Toggle = k8s.Toggle

// Scheduling is k8s.Scheduling (shared by the components).
type Scheduling = k8s.Scheduling

// Toleration is k8s.Toleration (shared by the components).
type Toleration = k8s.Toleration

// Workload is what every Pulsar component shares.
type Workload struct {
	// ReplicaCount is left out where an HPA owns the replica count (the
	// chart ignores it then).
	ReplicaCount              int                `json:"replicaCount,omitempty"`
	Resources                 Resources          `json:"resources,omitzero"`
	ConfigData                map[string]string  `json:"configData,omitempty"`
	NodeSelector              map[string]string  `json:"nodeSelector,omitempty"`
	Tolerations               []Toleration       `json:"tolerations,omitempty"`
	TopologySpreadConstraints []SpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	// Annotations are pod annotations.
	Annotations map[string]string `json:"annotations,omitempty"`
	// PodMonitor is always set: the chart renders a component's monitor
	// unless it is off, whether the component runs or not.
	PodMonitor Toggle   `json:"podMonitor"`
	Affinity   Affinity `json:"affinity,omitzero"`
}

// Resources is k8s.ResourceRequirements (shared by the components).
type Resources = k8s.ResourceRequirements

// SpreadConstraint is a pod topology spread constraint.
type SpreadConstraint struct {
	MaxSkew           int           `json:"maxSkew"`
	TopologyKey       string        `json:"topologyKey"`
	WhenUnsatisfiable string        `json:"whenUnsatisfiable"`
	LabelSelector     LabelSelector `json:"labelSelector"`
}

// LabelSelector matches pods by labels.
type LabelSelector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

// PDB is a component's PodDisruptionBudget.
type PDB struct {
	UsePolicy      bool `json:"usePolicy"`
	MaxUnavailable int  `json:"maxUnavailable"`
}

// ZooKeeper values.
type ZooKeeper struct {
	Workload           `json:",inline"`
	PDB                PDB            `json:"pdb"`
	Volumes            ZooKeeperDisks `json:"volumes"`
	StatefulsetUpgrade Upgrade        `json:"statefulsetUpgrade"`
	// AdditionalCommand runs in the server's container before its
	// configuration is written (ZooKeeperCommand); the chart
	// indents its first line only, so it is one line.
	AdditionalCommand string        `json:"additionalCommand,omitempty"`
	ExtraVolumes      []PodVolume   `json:"extraVolumes,omitempty"`
	ExtraMounts       []VolumeMount `json:"extraVolumeMounts,omitempty"`
}

// ZooKeeperDisks is the data volume.
type ZooKeeperDisks struct {
	Data Volume `json:"data"`
}

// Volume is one persistent volume.
type Volume struct {
	Size             string `json:"size"`
	StorageClassName string `json:"storageClassName"`
}

// BookKeeper values. Where a release runs no bookies of its own, only
// Component and the PodMonitor (off) are set: Component names the set the
// chart's other components read (the brokers wait for its Service; the
// init jobs read its ConfigMap).
type BookKeeper struct {
	Component      string `json:"component,omitempty"`
	*Workload      `json:",inline"`
	PDB            *PDB            `json:"pdb,omitempty"`
	Volumes        *BookieDisks    `json:"volumes,omitempty"`
	UpdateStrategy *UpdateStrategy `json:"updateStrategy,omitempty"`
}

// BookieReleaseValues are the values of a bookie set with a release of its
// own (NVMeRelease): the chart with only its bookkeeper component, the
// main release's ZooKeeper named in the bookies' metadataServiceUri, and
// the chart's monitors of the components it does not run turned off.
type BookieReleaseValues struct {
	FullnameOverride string         `json:"fullnameOverride"`
	ClusterName      string         `json:"clusterName"`
	Components       Components     `json:"components"`
	Affinity         GlobalAffinity `json:"affinity"`
	TLS              TLS            `json:"tls"`
	Certs            Certs          `json:"certs"`
	PulsarMetadata   Scheduling     `json:"pulsar_metadata"`
	BookKeeper       BookKeeper     `json:"bookkeeper"`
	Autorecovery     MonitorSwitch  `json:"autorecovery"`
	Broker           MonitorSwitch  `json:"broker"`
	Proxy            MonitorSwitch  `json:"proxy"`
	VictoriaMetrics  Toggle         `json:"victoria-metrics-k8s-stack"`
}

// MonitorSwitch turns a component's PodMonitor on or off.
type MonitorSwitch struct {
	PodMonitor Toggle `json:"podMonitor"`
}

// BookieDisks are the journal and ledger volumes.
type BookieDisks struct {
	Persistence bool    `json:"persistence"`
	Journal     *Volume `json:"journal,omitempty"`
	Ledgers     *Volume `json:"ledgers,omitempty"`
}

// UpdateStrategy is the StatefulSet update strategy.
type UpdateStrategy struct {
	Type string `json:"type"`
}

// Autorecovery values. RestartPodsOnConfigMapChange rolls the pods when
// their configData changes (the chart's checksum annotation; off by
// default), or a settings change, a phase's tuning or autorecovery's TLS to
// the bookies, would take effect only when something else restarts them.
// It is on for the components that hold no data (autorecovery, brokers,
// proxies); bookies and ZooKeeper roll by hand (docs/operations.md).
type Autorecovery struct {
	Workload                     `json:",inline"`
	RestartPodsOnConfigMapChange bool `json:"restartPodsOnConfigMapChange"`
}

// Broker values.
type Broker struct {
	Workload       `json:",inline"`
	PDB            PDB            `json:"pdb"`
	Autoscaling    Autoscaling    `json:"autoscaling"`
	ServiceAccount ServiceAccount `json:"service_account"`
	StorageOffload StorageOffload `json:"storageOffload"`
	ExtraVolumes   []PodVolume    `json:"extraVolumes,omitempty"`
	ExtraMounts    []VolumeMount  `json:"extraVolumeMounts,omitempty"`
	// StatefulsetUpgrade is off: see Upgrade.
	StatefulsetUpgrade Upgrade `json:"statefulsetUpgrade"`
	// RestartPodsOnConfigMapChange: see Autorecovery (brokers roll one at
	// a time under their PDB, their topics moving to the others).
	RestartPodsOnConfigMapChange bool `json:"restartPodsOnConfigMapChange"`
}

// Proxy values (RestartPodsOnConfigMapChange: see Autorecovery).
type Proxy struct {
	Workload                     `json:",inline"`
	PDB                          PDB         `json:"pdb"`
	Autoscaling                  Autoscaling `json:"autoscaling"`
	RestartPodsOnConfigMapChange bool        `json:"restartPodsOnConfigMapChange"`
	// WaitZookeeperTimeout is 0: the chart's wait-zookeeper-ready init
	// container dials ZooKeeper by its Service name alone, which means
	// port 2181, in plaintext, whatever tls.zookeeper says. The
	// NetworkPolicies admit 2281 only (and ZooKeeper serves 2281 only at
	// the last quorum stage), so the container would wait out its timeout
	// and the proxy never start. A proxy does not use ZooKeeper: it finds
	// the brokers through their Service, and answers clients once one
	// serves.
	WaitZookeeperTimeout int `json:"waitZookeeperTimeout"`
}

// ServiceAccount carries the IRSA annotation.
type ServiceAccount struct {
	Annotations map[string]pulumi.StringInput `json:"annotations"`
}

// Autoscaling is a component's HorizontalPodAutoscaler.
type Autoscaling struct {
	Enabled     bool        `json:"enabled"`
	MinReplicas int         `json:"minReplicas"`
	MaxReplicas int         `json:"maxReplicas"`
	Metrics     []HPAMetric `json:"metrics"`
	Behavior    HPABehavior `json:"behavior"`
}

// HPAMetric is an autoscaling/v2 resource metric.
type HPAMetric struct {
	Type     string         `json:"type"`
	Resource ResourceMetric `json:"resource"`
}

// ResourceMetric is a container resource and its target.
type ResourceMetric struct {
	Name   string       `json:"name"`
	Target MetricTarget `json:"target"`
}

// MetricTarget is a utilization target.
type MetricTarget struct {
	Type               string `json:"type"`
	AverageUtilization int    `json:"averageUtilization"`
}

// HPABehavior is how fast the autoscaler scales each way.
type HPABehavior struct {
	ScaleUp   ScalingRules `json:"scaleUp"`
	ScaleDown ScalingRules `json:"scaleDown"`
}

// ScalingRules are one direction's window and policies.
type ScalingRules struct {
	StabilizationWindowSeconds int             `json:"stabilizationWindowSeconds"`
	SelectPolicy               string          `json:"selectPolicy,omitempty"`
	Policies                   []ScalingPolicy `json:"policies"`
}

// ScalingPolicy bounds one step: Pods or Percent per period.
type ScalingPolicy struct {
	Type          string `json:"type"`
	Value         int    `json:"value"`
	PeriodSeconds int    `json:"periodSeconds"`
}

// PodVolume is a pod volume from a Secret.
type PodVolume struct {
	Name     string          `json:"name"`
	Secret   *SecretVolume   `json:"secret,omitempty"`
	EmptyDir *EmptyDirVolume `json:"emptyDir,omitempty"`
}

// EmptyDirVolume is a pod's scratch directory; medium Memory keeps it in
// RAM (tmpfs), never on the node's disk.
type EmptyDirVolume struct {
	Medium string `json:"medium,omitempty"`
}

// SecretVolume mounts a Secret; an optional one may not exist yet.
type SecretVolume struct {
	SecretName string `json:"secretName"`
	Optional   bool   `json:"optional"`
}

// VolumeMount mounts a pod volume in the container.
type VolumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly"`
}

// StorageOffload configures tiered storage; the chart maps these keys to
// the offloader's broker.conf settings.
type StorageOffload struct {
	Driver                                            string             `json:"driver"`
	Bucket                                            pulumi.StringInput `json:"bucket"`
	Region                                            string             `json:"region"`
	MaxBlockSizeInBytes                               string             `json:"maxBlockSizeInBytes"`
	ReadBufferSizeInBytes                             string             `json:"readBufferSizeInBytes"`
	ManagedLedgerOffloadDeletionLagMs                 string             `json:"managedLedgerOffloadDeletionLagMs"`
	ManagedLedgerOffloadAutoTriggerSizeThresholdBytes string             `json:"managedLedgerOffloadAutoTriggerSizeThresholdBytes"`
}
