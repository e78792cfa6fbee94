// Package k8s holds the few Kubernetes object types the program emits as
// plain manifests (inside Helm values), typed with the API's JSON names so
// a real API server can validate them (tests/apiserver).
package k8s

import (
	"encoding/json"
	"net/netip"
	"slices"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Meta is object metadata.
type Meta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ServiceAccount is a v1 ServiceAccount.
type ServiceAccount struct {
	APIVersion                   string `json:"apiVersion"`
	Kind                         string `json:"kind"`
	Metadata                     Meta   `json:"metadata"`
	AutomountServiceAccountToken *bool  `json:"automountServiceAccountToken,omitempty"`
}

// PolicyRule is an RBAC rule.
type PolicyRule struct {
	APIGroups []string `json:"apiGroups"`
	Resources []string `json:"resources"`
	Verbs     []string `json:"verbs"`
}

// Role is an rbac.authorization.k8s.io/v1 Role or ClusterRole.
type Role struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Metadata   Meta         `json:"metadata"`
	Rules      []PolicyRule `json:"rules"`
}

// RoleRef names the bound role.
type RoleRef struct {
	APIGroup string `json:"apiGroup"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
}

// Subject is a binding subject.
type Subject struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// RoleBinding is a RoleBinding or ClusterRoleBinding.
type RoleBinding struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Metadata   Meta      `json:"metadata"`
	RoleRef    RoleRef   `json:"roleRef"`
	Subjects   []Subject `json:"subjects"`
}

// EnvVar is a container environment variable.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// VolumeMount mounts a volume.
type VolumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
}

// SecurityContext is a restrictive container security context.
type SecurityContext struct {
	RunAsNonRoot             bool           `json:"runAsNonRoot"`
	RunAsUser                int64          `json:"runAsUser"`
	AllowPrivilegeEscalation bool           `json:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   bool           `json:"readOnlyRootFilesystem"`
	Capabilities             Capabilities   `json:"capabilities"`
	SeccompProfile           SeccompProfile `json:"seccompProfile"`
}

// Capabilities drops Linux capabilities.
type Capabilities struct {
	Drop []string `json:"drop"`
}

// SeccompProfile selects the runtime's default profile.
type SeccompProfile struct {
	Type string `json:"type"`
}

// Container is a pod container.
type Container struct {
	Name            string               `json:"name"`
	Image           string               `json:"image"`
	Command         []string             `json:"command"`
	Ports           []ContainerPort      `json:"ports,omitempty"`
	ReadinessProbe  *Probe               `json:"readinessProbe,omitempty"`
	Env             []EnvVar             `json:"env,omitempty"`
	VolumeMounts    []VolumeMount        `json:"volumeMounts,omitempty"`
	Resources       ResourceRequirements `json:"resources"`
	SecurityContext SecurityContext      `json:"securityContext"`
}

// ResourceRequirements are requests and limits.
type ResourceRequirements struct {
	Requests map[string]string `json:"requests"`
	Limits   map[string]string `json:"limits"`
}

// SecretVolume mounts a Secret.
type SecretVolume struct {
	SecretName string `json:"secretName"`
	Optional   bool   `json:"optional,omitempty"`
	// Items, when set, mount only those keys.
	Items []KeyToPath `json:"items,omitempty"`
}

// KeyToPath mounts one key of a Secret at a path in the volume.
type KeyToPath struct {
	Key  string `json:"key"`
	Path string `json:"path"`
}

// Volume is a pod volume (Secret, ConfigMap, emptyDir or host path).
type Volume struct {
	Name      string           `json:"name"`
	Secret    *SecretVolume    `json:"secret,omitempty"`
	ConfigMap *ConfigMapVolume `json:"configMap,omitempty"`
	EmptyDir  *struct{}        `json:"emptyDir,omitempty"`
	HostPath  *HostPathVolume  `json:"hostPath,omitempty"`
}

// ConfigMapVolume mounts a ConfigMap.
type ConfigMapVolume struct {
	Name string `json:"name"`
}

// HostPathVolume mounts a directory of the node.
type HostPathVolume struct {
	Path string `json:"path"`
	Type string `json:"type,omitempty"`
}

// ConfigMap is a v1 ConfigMap.
type ConfigMap struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   Meta              `json:"metadata"`
	Data       map[string]string `json:"data"`
}

// Toleration tolerates a taint.
type Toleration struct {
	Key      string `json:"key"`
	Operator string `json:"operator"`
	Value    string `json:"value,omitempty"`
	Effect   string `json:"effect"`
}

// PodSpec is the subset of a pod spec the program sets.
type PodSpec struct {
	ServiceAccountName string            `json:"serviceAccountName"`
	RestartPolicy      string            `json:"restartPolicy"`
	NodeSelector       map[string]string `json:"nodeSelector,omitempty"`
	Tolerations        []Toleration      `json:"tolerations,omitempty"`
	Containers         []Container       `json:"containers"`
	Volumes            []Volume          `json:"volumes,omitempty"`
	// TopologySpreadConstraints spread the pods (zones).
	TopologySpreadConstraints []TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	// SecurityContext is the pod's (the group its volumes are owned by).
	SecurityContext *PodSecurityContext `json:"securityContext,omitempty"`
}

// PodSecurityContext gives the pod's volumes a group it can write with.
type PodSecurityContext struct {
	FSGroup int64 `json:"fsGroup"`
}

// Probe is an HTTP GET probe on a named port.
type Probe struct {
	HTTPGet       HTTPGetAction `json:"httpGet"`
	PeriodSeconds int           `json:"periodSeconds,omitempty"`
}

// HTTPGetAction is a probe's request.
type HTTPGetAction struct {
	Path string `json:"path"`
	Port string `json:"port"`
}

// ContainerPort is a named container port.
type ContainerPort struct {
	Name          string `json:"name"`
	ContainerPort int    `json:"containerPort"`
}

// TopologySpreadConstraint spreads pods over a topology key.
type TopologySpreadConstraint struct {
	MaxSkew           int           `json:"maxSkew"`
	TopologyKey       string        `json:"topologyKey"`
	WhenUnsatisfiable string        `json:"whenUnsatisfiable"`
	LabelSelector     LabelSelector `json:"labelSelector"`
}

// Workload is an apps/v1 Deployment, StatefulSet or DaemonSet (which has
// no replicas).
type Workload struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Metadata   Meta         `json:"metadata"`
	Spec       WorkloadSpec `json:"spec"`
}

// WorkloadSpec is the subset of a Deployment's or StatefulSet's spec the
// program sets (ServiceName for a StatefulSet only).
type WorkloadSpec struct {
	Replicas    int           `json:"replicas,omitempty"`
	ServiceName string        `json:"serviceName,omitempty"`
	Selector    LabelSelector `json:"selector"`
	Template    PodTemplate   `json:"template"`
	// VolumeClaimTemplates are a StatefulSet's per-pod volumes.
	VolumeClaimTemplates []ClaimTemplate `json:"volumeClaimTemplates,omitempty"`
}

// ClaimTemplate is a StatefulSet's PersistentVolumeClaim template.
type ClaimTemplate struct {
	Metadata Meta      `json:"metadata"`
	Spec     ClaimSpec `json:"spec"`
}

// ClaimSpec asks for a volume of a class.
type ClaimSpec struct {
	AccessModes      []string             `json:"accessModes"`
	StorageClassName string               `json:"storageClassName"`
	Resources        ResourceRequirements `json:"resources"`
}

// Service is a v1 Service inside the cluster.
type Service struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Metadata   Meta        `json:"metadata"`
	Spec       ServiceSpec `json:"spec"`
}

// ServiceSpec is a ClusterIP (or headless) Service's spec.
type ServiceSpec struct {
	ClusterIP string            `json:"clusterIP,omitempty"`
	Selector  map[string]string `json:"selector"`
	Ports     []ServicePort     `json:"ports"`
}

// ServicePort forwards a port to a named container port.
type ServicePort struct {
	Name       string `json:"name"`
	Port       int    `json:"port"`
	TargetPort string `json:"targetPort"`
}

// PodDisruptionBudget is a policy/v1 PodDisruptionBudget.
type PodDisruptionBudget struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Metadata   Meta    `json:"metadata"`
	Spec       PDBSpec `json:"spec"`
}

// PDBSpec bounds voluntary disruptions.
type PDBSpec struct {
	MaxUnavailable int           `json:"maxUnavailable"`
	Selector       LabelSelector `json:"selector"`
}

// PodTemplate is a pod template.
type PodTemplate struct {
	Metadata Meta    `json:"metadata"`
	Spec     PodSpec `json:"spec"`
}

// JobSpec is a batch/v1 Job spec.
type JobSpec struct {
	BackoffLimit            int         `json:"backoffLimit"`
	ActiveDeadlineSeconds   int         `json:"activeDeadlineSeconds"`
	TTLSecondsAfterFinished int         `json:"ttlSecondsAfterFinished"`
	Template                PodTemplate `json:"template"`
}

// Job is a batch/v1 Job.
type Job struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Metadata   Meta    `json:"metadata"`
	Spec       JobSpec `json:"spec"`
}

// JobTemplate wraps a JobSpec in a CronJob.
type JobTemplate struct {
	Spec JobSpec `json:"spec"`
}

// CronJobSpec is a batch/v1 CronJob spec.
type CronJobSpec struct {
	Schedule                   string      `json:"schedule"`
	ConcurrencyPolicy          string      `json:"concurrencyPolicy"`
	SuccessfulJobsHistoryLimit int         `json:"successfulJobsHistoryLimit"`
	FailedJobsHistoryLimit     int         `json:"failedJobsHistoryLimit"`
	JobTemplate                JobTemplate `json:"jobTemplate"`
}

// CronJob is a batch/v1 CronJob.
type CronJob struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Metadata   Meta        `json:"metadata"`
	Spec       CronJobSpec `json:"spec"`
}

// ToMap turns a typed object into a plain map (for Helm values).
func ToMap(obj any) (map[string]any, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = json.Unmarshal(b, &m)
	return m, err
}

// RestrictedContainer is the security context every program-made
// container runs with (restricted Pod Security Standard).
func RestrictedContainer(uid int64) SecurityContext {
	return SecurityContext{RunAsNonRoot: true, RunAsUser: uid, AllowPrivilegeEscalation: false, ReadOnlyRootFilesystem: true,
		Capabilities: Capabilities{Drop: []string{"ALL"}}, SeccompProfile: SeccompProfile{Type: "RuntimeDefault"}}
}

// Toggle is a chart's enabled flag.
type Toggle struct {
	Enabled bool `json:"enabled"`
}

// Scheduling places a chart's pods.
type Scheduling struct {
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	Tolerations  []Toleration      `json:"tolerations,omitempty"`
}

// Placement is how a workload lands on a node pool. The capacity component
// computes it per pool; regions hands it to the charts that schedule there
// (nodeSelector, tolerations, topology spread).
type Placement struct {
	NodeSelector map[string]string
	Tolerations  []Toleration
	// SpreadKeys are topology keys pods spread across: zone (strict) and,
	// for split pools, the capacity-spread label (best effort, so a spot
	// shortage falls back to on-demand).
	SpreadKeys []SpreadKey
	// DoNotDisrupt asks Karpenter never to disrupt the pods' nodes
	// voluntarily (bookies hold ledgers).
	DoNotDisrupt bool
}

// SpreadKey is one topology spread constraint.
type SpreadKey struct {
	Key               string
	WhenUnsatisfiable string
}

// LabelSelector selects objects by labels.
type LabelSelector struct {
	MatchLabels      map[string]string          `json:"matchLabels,omitempty"`
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is one `In` (or other operator) expression.
type LabelSelectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// Matches says whether labels satisfy the selector (In, NotIn, Exists and
// DoesNotExist; an empty selector matches everything).
func (s LabelSelector) Matches(labels map[string]string) bool {
	for k, v := range s.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	for _, e := range s.MatchExpressions {
		v, ok := labels[e.Key]
		in := ok && slices.Contains(e.Values, v)
		switch e.Operator {
		case "In":
			if !in {
				return false
			}
		case "NotIn":
			if in {
				return false
			}
		case "Exists":
			if !ok {
				return false
			}
		case "DoesNotExist":
			if ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// NetworkPolicy is a networking.k8s.io/v1 NetworkPolicy.
type NetworkPolicy struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   Meta              `json:"metadata"`
	Spec       NetworkPolicySpec `json:"spec"`
}

// NetworkPolicySpec selects the pods the policy isolates and what may
// reach them.
type NetworkPolicySpec struct {
	PodSelector LabelSelector             `json:"podSelector"`
	PolicyTypes []string                  `json:"policyTypes"`
	Ingress     []NetworkPolicyRule       `json:"ingress,omitempty"`
	Egress      []NetworkPolicyEgressRule `json:"egress,omitempty"`
}

// NetworkPolicyEgressRule admits traffic to its peers (any destination
// when empty) on its ports (every port and protocol when empty).
type NetworkPolicyEgressRule struct {
	To    []NetworkPolicyPeer `json:"to,omitempty"`
	Ports []NetworkPolicyPort `json:"ports,omitempty"`
}

// NetworkPolicyRule admits traffic from its peers (any source when empty)
// to its ports (every port when empty).
type NetworkPolicyRule struct {
	From  []NetworkPolicyPeer `json:"from,omitempty"`
	Ports []NetworkPolicyPort `json:"ports,omitempty"`
}

// NetworkPolicyPeer is pods (in the policy's namespace, or in the
// namespaces NamespaceSelector selects), or an address block.
type NetworkPolicyPeer struct {
	PodSelector       *LabelSelector `json:"podSelector,omitempty"`
	NamespaceSelector *LabelSelector `json:"namespaceSelector,omitempty"`
	IPBlock           *IPBlock       `json:"ipBlock,omitempty"`
}

// IPBlock is a peer by address: a CIDR block, but for the blocks in
// Except.
type IPBlock struct {
	CIDR   string   `json:"cidr"`
	Except []string `json:"except,omitempty"`
}

// NetworkPolicyPort is a port of a protocol (TCP or UDP), or the range
// Port..EndPort; no port is every port of the protocol.
type NetworkPolicyPort struct {
	Protocol string `json:"protocol,omitempty"`
	Port     int    `json:"port,omitempty"`
	EndPort  int    `json:"endPort,omitempty"`
}

// Endpoint is a source or destination for Admits: a pod (its namespace
// and labels), and its address where an ipBlock peer could match it. The
// EKS control plane is an Endpoint with an address only.
type Endpoint struct {
	Namespace string
	Labels    map[string]string
	IP        string
}

// Admits says whether policies let src reach dst on a TCP port, as the
// API defines it: a pod no ingress policy of its namespace selects takes any
// traffic; a selected pod takes what one of its policies' rules admits.
// Namespaces are matched by their kubernetes.io/metadata.name label.
func Admits(policies []NetworkPolicy, src, dst Endpoint, port int) bool {
	selected := false
	for _, p := range policies {
		if p.Metadata.Namespace != dst.Namespace || !p.Spec.PodSelector.Matches(dst.Labels) || !p.Spec.isolatesIngress() {
			continue
		}
		selected = true
		for _, r := range p.Spec.Ingress {
			if r.admitsPort(port) && r.admitsPeer(p.Metadata.Namespace, src) {
				return true
			}
		}
	}
	return !selected
}

// isolatesEgress says whether the policy governs egress: its policyTypes
// list Egress, or are empty and it has egress rules (the API then sets
// Egress beside Ingress).
func (s NetworkPolicySpec) isolatesEgress() bool {
	return slices.Contains(s.PolicyTypes, "Egress") || (len(s.PolicyTypes) == 0 && len(s.Egress) > 0)
}

// isolatesIngress says whether the policy governs ingress: its
// policyTypes list Ingress, or are empty (the API then sets Ingress).
func (s NetworkPolicySpec) isolatesIngress() bool {
	return len(s.PolicyTypes) == 0 || slices.Contains(s.PolicyTypes, "Ingress")
}

func (r NetworkPolicyRule) admitsPort(port int) bool { return portsAdmit(r.Ports, "TCP", port) }

func (r NetworkPolicyRule) admitsPeer(ns string, src Endpoint) bool {
	return peersAdmit(r.From, ns, src)
}

// portsAdmit says whether a rule's ports admit a port of a protocol
// (every port when none is listed; a listed port without a protocol is
// TCP, as the API defaults it).
func portsAdmit(ports []NetworkPolicyPort, protocol string, port int) bool {
	if len(ports) == 0 {
		return true
	}
	return slices.ContainsFunc(ports, func(p NetworkPolicyPort) bool {
		proto := p.Protocol
		if proto == "" {
			proto = "TCP"
		}
		inRange := p.Port == 0 || p.Port == port || (p.EndPort > 0 && p.Port <= port && port <= p.EndPort)
		return proto == protocol && inRange
	})
}

// Sends says whether policies let src send to dst on a port of a protocol
// (TCP or UDP), as the API defines egress: a pod no egress policy of its
// namespace selects sends anywhere; a selected pod sends what one of its
// policies' rules admits. dst is a pod (its namespace and labels) or an
// address (IP only).
func Sends(policies []NetworkPolicy, src, dst Endpoint, protocol string, port int) bool {
	selected := false
	for _, p := range policies {
		if p.Metadata.Namespace != src.Namespace || !p.Spec.PodSelector.Matches(src.Labels) || !p.Spec.isolatesEgress() {
			continue
		}
		selected = true
		for _, r := range p.Spec.Egress {
			if portsAdmit(r.Ports, protocol, port) && peersAdmit(r.To, p.Metadata.Namespace, dst) {
				return true
			}
		}
	}
	return !selected
}

// peersAdmit says whether a rule's peers (any when none) match e: an
// address in an ipBlock, or a pod of a selected namespace (the policy's,
// ns, without a namespaceSelector) with matching labels.
func peersAdmit(peers []NetworkPolicyPeer, ns string, e Endpoint) bool {
	if len(peers) == 0 {
		return true
	}
	for _, f := range peers {
		if f.IPBlock != nil {
			if inBlock(f.IPBlock.CIDR, e.IP) && !slices.ContainsFunc(f.IPBlock.Except, func(x string) bool { return inBlock(x, e.IP) }) {
				return true
			}
			continue
		}
		if e.Namespace == "" {
			continue
		}
		nsOK := e.Namespace == ns
		if f.NamespaceSelector != nil {
			nsOK = f.NamespaceSelector.Matches(map[string]string{model.LabelNamespaceName: e.Namespace})
		}
		if nsOK && (f.PodSelector == nil || f.PodSelector.Matches(e.Labels)) {
			return true
		}
	}
	return false
}

// inBlock reports whether ip is an address inside cidr.
func inBlock(cidr, ip string) bool {
	block, err := netip.ParsePrefix(cidr)
	addr, aerr := netip.ParseAddr(ip)
	return err == nil && aerr == nil && block.Contains(addr)
}
