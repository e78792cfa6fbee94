package observability

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// The global query layer is Thanos (docs/operations.md, "The global
// metrics view"). Every region runs:
//   - its Prometheus pair with the Thanos sidecar, which serves recent data
//     and uploads every two-hour block to the region's metrics bucket;
//   - a store gateway over that bucket and a compactor (the bucket's one
//     writer besides the sidecars: compaction, downsampling, retention);
//   - a regional querier over the sidecars and the store gateway, the
//     region's one endpoint for other regions: gRPC with mutual TLS behind
//     an NLB restricted by source address.
//
// The regions with RoleProfile.GlobalView also run a global querier over
// every region's regional querier, which Grafana reads. Both queriers
// deduplicate the two Prometheus replicas by ReplicaLabel. A global-view
// region also keeps a mirror of the metrics bucket of each region that
// reads it in the stack graph (S3 replication into a bucket of its own),
// reads the buckets of the regions it reads, and serves each to its
// global querier through a store gateway of its own (HistoryStore), so a
// region's history stays in the view while it is down.

// Thanos facts. The image is the one kube-prometheus-stack 88.5.3 runs as
// the sidecar (prometheusOperator.thanosImage, checked against the chart's
// values in a test), so every Thanos component of a region is one release.
// Past v0.43 the querier's --grpc-client-tls-* flags are gone: the global
// querier's TLS moves to its endpoint configuration's
// default_client_config (EndpointConfig).
const (
	ThanosImage = "quay.io/thanos/thanos:v0.42.4"
	// ReplicaLabel is the external label the operator gives each Prometheus
	// replica; the queriers drop it to deduplicate.
	ReplicaLabel = "prometheus_replica"
	// GRPCPort and HTTPPort are Thanos' StoreAPI and HTTP ports.
	GRPCPort = 10901
	HTTPPort = 10902
	// EndpointPort is the regional querier's listener on its NLB.
	EndpointPort = 443
	// ThanosUID runs every Thanos container (nobody).
	ThanosUID = 65534
)

// Names of the Thanos objects, in the monitoring namespace.
const (
	StoreName         = "thanos-store"
	CompactName       = "thanos-compact"
	RegionalQueryName = "thanos-query-regional"
	GlobalQueryName   = "thanos-query-global"
	// EndpointService is the regional querier's NLB Service. It was
	// "thanos-endpoint", internet-facing; the internal one has a name of
	// its own, so that a running stack gets a new load balancer: the EKS
	// service controller never changes an existing NLB's scheme.
	EndpointService = "thanos-endpoint-internal"
	// ObjstoreSecret holds the bucket's Thanos configuration (ObjstoreKey);
	// it names the bucket only: credentials come from IRSA.
	ObjstoreSecret = "thanos-objstore"
	ObjstoreKey    = "objstore.yml"
	// GRPCTLSSecret holds the region's certificate for the cross-region
	// gRPC hop (tls.crt, tls.key) and the fleet CAs it trusts (ca.crt: the
	// bootstrap's bundle).
	GRPCTLSSecret = "thanos-grpc-tls"
	// PrometheusServiceAccount is the chart's Prometheus service account,
	// whose sidecar uploads blocks.
	PrometheusServiceAccount = Fullname + "-prometheus"
	// SidecarDiscovery is the chart's headless Service over the sidecars
	// (prometheus.thanosService).
	SidecarDiscovery = Fullname + "-thanos-discovery"
	tlsDir           = "/etc/thanos/tls"
	objstoreDir      = "/etc/thanos/objstore"
	dataDir          = "/var/thanos"
)

// MetricsRetention is how long the bucket keeps each resolution (the
// compactor's flags) and the lifecycle's backstop.
type MetricsRetention struct {
	RawDays, FiveMinuteDays, OneHourDays int
}

// DefaultMetricsRetention keeps raw samples a month, 5-minute downsamples a
// quarter and hourly ones a year.
var DefaultMetricsRetention = MetricsRetention{RawDays: 30, FiveMinuteDays: 90, OneHourDays: 365}

// BackstopDays expire anything the compactor left behind, a month after
// the longest retention.
func (r MetricsRetention) BackstopDays() int {
	return max(r.RawDays, r.FiveMinuteDays, r.OneHourDays) + 30
}

// EndpointName is a region's Thanos endpoint in the hosted zone.
func EndpointName(stack, domain string) string { return "thanos." + stack + "." + domain }

// regionalInCluster is the regional querier's in-cluster address.
func regionalInCluster() string {
	return fmt.Sprintf("%s.%s.svc.cluster.local", RegionalQueryName, Namespace)
}

// CertificateNames are the DNS names a region's certificate carries: its
// endpoint for the other regions' global queriers and the in-cluster name
// for its own.
func CertificateNames(stack, domain string) []string {
	return []string{EndpointName(stack, domain), regionalInCluster()}
}

// ObjstoreConfig is Thanos' bucket configuration: S3 with the AWS SDK's
// credential chain (IRSA's web identity).
func ObjstoreConfig(bucket, region string) string {
	return fmt.Sprintf("type: S3\nconfig:\n  bucket: %q\n  endpoint: %q\n  region: %q\n  aws_sdk_auth: true\n",
		bucket, "s3."+region+".amazonaws.com", region)
}

// GlobalEndpoints are what a global querier in stack reads: its own
// region's regional querier in the cluster, every other region's endpoint
// through its NLB, in the order of others.
func GlobalEndpoints(stack, domain string, others []string) []string {
	out := []string{fmt.Sprintf("%s:%d", regionalInCluster(), GRPCPort)}
	for _, o := range others {
		if o != stack {
			out = append(out, fmt.Sprintf("%s:%d", EndpointName(o, domain), EndpointPort))
		}
	}
	return out
}

// HistoryStore is a global-view region's store gateway over another
// region's metrics, which keeps that region's history in the global view
// while the region is down: over its mirror in this region (Mirror), or
// over the region's own bucket, read across regions.
type HistoryStore struct {
	// Stack is the region whose metrics it serves; Region is the AWS
	// region of the bucket it reads.
	Stack, Region string
	Mirror        bool
}

// Name is the store gateway's StatefulSet, Service and service account.
func (h HistoryStore) Name() string { return StoreName + "-" + h.kind() + "-" + h.Stack }

func (h HistoryStore) kind() string {
	if h.Mirror {
		return "mirror"
	}
	return "peer"
}

// ObjstoreSecret holds its bucket's Thanos configuration (ObjstoreKey).
func (h HistoryStore) ObjstoreSecret() string { return ObjstoreSecret + "-" + h.kind() + "-" + h.Stack }

// Endpoint is the store gateway in the cluster, which the global querier
// reads in plaintext (it never leaves the namespace). It is the Service's
// static name: Thanos dials a dns+ or dnssrv+ address with the flags' TLS
// whatever its endpoint configuration says.
func (h HistoryStore) Endpoint() string {
	return fmt.Sprintf("%s.%s.svc.cluster.local:%d", h.Name(), Namespace, GRPCPort)
}

// Args are its store gateway's: over a mirror, a block is read once
// replication has had time to copy all of its objects.
func (h HistoryStore) Args() []string {
	if h.Mirror {
		return append(StoreArgs(), "--consistency-delay="+MirrorConsistencyDelay)
	}
	return StoreArgs()
}

// MaxHistoryStack is the longest stack name a history store can carry:
// its StatefulSet's name, with the controller's revision suffix, is a
// 63-character label.
var MaxHistoryStack = 52 - len(HistoryStore{Mirror: true}.Name())

// MaxHistoryNames is the longest the region's and a history store's stack
// names may be together: the store's role is named
// <region>-thanos-store-mirror-<stack> and Pulumi adds 8 characters, and
// IAM names a role in 64.
var MaxHistoryNames = 64 - 8 - len("-"+HistoryStore{Mirror: true}.Name())

// MirrorConsistencyDelay is how long after its upload a sidecar's block is
// read from a mirror: S3 replicates a block's objects one by one, in no
// set order, within 15 minutes with Replication Time Control. Thanos
// measures it from the upload to the mirrored region's bucket (meta.json's
// upload_time) and skips it for the compactor's blocks
// (pkg/block/fetcher.go, ConsistencyDelayMetaFilter; docs/operations.md,
// "History of a region that is down").
const MirrorConsistencyDelay = "30m"

// Thanos is one region's Thanos configuration.
type Thanos struct {
	// StorageClass of the store gateway's and compactor's volumes.
	StorageClass string
	// GlobalEndpoints are the global querier's endpoints; empty without
	// a global view.
	GlobalEndpoints []string
	// History are the global querier's history stores.
	History []HistoryStore
	// Retention of the bucket.
	Retention MetricsRetention
	// Placement of the pods (the critical pool).
	Scheduling Scheduling
}

// RegionalQueryArgs are the regional querier's: the local sidecars and
// store gateway, deduplicated, served over gRPC with mutual TLS (a client
// without a certificate of the fleet CA is refused).
func RegionalQueryArgs() []string {
	return []string{"query",
		"--http-address=0.0.0.0:" + itoa(HTTPPort), "--grpc-address=0.0.0.0:" + itoa(GRPCPort),
		"--query.replica-label=" + ReplicaLabel, "--query.auto-downsampling",
		"--endpoint=dnssrv+_grpc._tcp." + SidecarDiscovery + "." + Namespace + ".svc.cluster.local",
		"--endpoint=dnssrv+_grpc._tcp." + StoreName + "." + Namespace + ".svc.cluster.local",
		"--grpc-server-tls-cert=" + tlsDir + "/tls.crt", "--grpc-server-tls-key=" + tlsDir + "/tls.key",
		"--grpc-server-tls-client-ca=" + tlsDir + "/ca.crt",
	}
}

// GlobalQueryArgs are the global querier's: every region's regional
// querier over TLS with the region's client certificate, and the store
// gateways of plaintext, in the cluster, deduplicated.
func GlobalQueryArgs(endpoints, plaintext []string) []string {
	args := []string{"query",
		"--http-address=0.0.0.0:" + itoa(HTTPPort), "--grpc-address=0.0.0.0:" + itoa(GRPCPort),
		"--query.replica-label=" + ReplicaLabel, "--query.auto-downsampling",
		"--grpc-client-tls-secure", "--grpc-client-tls-cert=" + tlsDir + "/tls.crt",
		"--grpc-client-tls-key=" + tlsDir + "/tls.key", "--grpc-client-tls-ca=" + tlsDir + "/ca.crt",
	}
	for _, e := range endpoints {
		args = append(args, "--endpoint="+e)
	}
	if len(plaintext) > 0 {
		args = append(args, "--endpoint.sd-config="+plaintextEndpoints(plaintext))
	}
	return args
}

// EndpointConfig is Thanos' endpoint configuration (--endpoint.sd-config,
// cmd/thanos/endpointset.go). JSON is YAML, which Thanos reads.
type EndpointConfig struct {
	Endpoints []EndpointSetting `json:"endpoints"`
}

// EndpointSetting is one endpoint and how the querier dials it.
type EndpointSetting struct {
	Address      string               `json:"address"`
	ClientConfig EndpointClientConfig `json:"client_config"`
}

// EndpointClientConfig overrides the --grpc-client-tls-* flags for one
// endpoint.
type EndpointClientConfig struct {
	TLSConfig EndpointTLS `json:"tls_config"`
}

// EndpointTLS turns TLS on or off for one endpoint.
type EndpointTLS struct {
	Enabled bool `json:"enabled"`
}

// plaintextEndpoints are endpoints in the cluster with TLS off: the flags
// dial every other endpoint with TLS and the region's certificate.
func plaintextEndpoints(addresses []string) string {
	var c EndpointConfig
	for _, a := range addresses {
		c.Endpoints = append(c.Endpoints, EndpointSetting{Address: a})
	}
	b, _ := json.Marshal(c) // plain strings and bools
	return string(b)
}

// StoreArgs are the store gateway's.
func StoreArgs() []string {
	return []string{"store", "--http-address=0.0.0.0:" + itoa(HTTPPort), "--grpc-address=0.0.0.0:" + itoa(GRPCPort),
		"--data-dir=" + dataDir, "--objstore.config-file=" + objstoreDir + "/" + ObjstoreKey}
}

// CompactArgs are the compactor's: it deduplicates the replicas' blocks
// (vertical compaction), downsamples and applies the retention.
func CompactArgs(r MetricsRetention) []string {
	return []string{"compact", "--wait", "--http-address=0.0.0.0:" + itoa(HTTPPort),
		"--data-dir=" + dataDir, "--objstore.config-file=" + objstoreDir + "/" + ObjstoreKey,
		// penalty: the replicas scrape at different instants, so their
		// samples are never identical (the default one-to-one would keep
		// both, interleaved, for good).
		"--deduplication.replica-label=" + ReplicaLabel, "--deduplication.func=penalty", "--compact.enable-vertical-compaction",
		fmt.Sprintf("--retention.resolution-raw=%dd", r.RawDays),
		fmt.Sprintf("--retention.resolution-5m=%dd", r.FiveMinuteDays),
		fmt.Sprintf("--retention.resolution-1h=%dd", r.OneHourDays),
	}
}

func itoa(n int) string { return fmt.Sprint(n) }

// thanosPods select every Thanos pod the program runs (the PodMonitor).
func thanosPods() map[string]string {
	return map[string]string{model.LabelAppName: "thanos", model.LabelPartOf: model.PartOf}
}

// ThanosLabels label a Thanos component's pods.
func ThanosLabels(component string) map[string]string {
	l := thanosPods()
	l[model.LabelAppComponent] = component
	return l
}

// Manifests are the region's Thanos objects, shipped in the monitoring
// release's extraManifests: the store gateway, the compactor, the regional
// querier and, with a global view, the global querier and its history
// stores (the bucket users' service accounts carry role ARNs, outputs,
// and are made apart).
func (t Thanos) Manifests() []any {
	small := map[string]string{"cpu": "500m", "memory": "2Gi"}
	out := []any{
		serviceAccount(RegionalQueryName),
		t.workload(workloadSpec{Kind: "StatefulSet", Name: StoreName, Replicas: 2, Args: StoreArgs(), Objstore: ObjstoreSecret, Spread: true, Requests: small, Disk: StoreDisk}),
		headless(StoreName),
		t.workload(workloadSpec{Kind: "StatefulSet", Name: CompactName, Replicas: 1, Args: CompactArgs(t.Retention), Objstore: ObjstoreSecret,
			Requests: map[string]string{"cpu": "1", "memory": "4Gi"}, Disk: CompactDisk}),
		headless(CompactName),
		t.workload(workloadSpec{Kind: "Deployment", Name: RegionalQueryName, Replicas: 2, Args: RegionalQueryArgs(), Spread: true, Requests: small}),
		clusterService(RegionalQueryName),
		disruptionBudget(StoreName), disruptionBudget(RegionalQueryName),
		podMonitor(),
	}
	if len(t.GlobalEndpoints) == 0 {
		return out
	}
	var history []string
	for _, h := range t.History {
		history = append(history, h.Endpoint())
	}
	out = append(out, serviceAccount(GlobalQueryName),
		t.workload(workloadSpec{Kind: "Deployment", Name: GlobalQueryName, Replicas: 2, Args: GlobalQueryArgs(t.GlobalEndpoints, history), Spread: true, Requests: small}),
		clusterService(GlobalQueryName), disruptionBudget(GlobalQueryName))
	// A history store's Service is not headless: the querier dials its
	// static name (HistoryStore.Endpoint), and the StatefulSet needs no
	// per-pod names.
	for _, h := range t.History {
		out = append(out, t.workload(workloadSpec{Kind: "StatefulSet", Name: h.Name(), Replicas: 2, Args: h.Args(), Objstore: h.ObjstoreSecret(),
			Spread: true, Requests: small, Disk: StoreDisk}), clusterService(h.Name()), disruptionBudget(h.Name()))
	}
	return out
}

// GlobalQueryURL is where Grafana reads the global view.
func GlobalQueryURL() string {
	return fmt.Sprintf("http://%s.%s.svc.cluster.local:%d", GlobalQueryName, Namespace, HTTPPort)
}

func serviceAccount(name string) k8s.ServiceAccount {
	return k8s.ServiceAccount{APIVersion: "v1", Kind: "ServiceAccount", Metadata: k8s.Meta{Name: name, Namespace: Namespace}}
}

// Disks of the bucket readers: the store gateway's index headers and
// cache, the compactor's scratch space (it downloads the blocks it
// compacts, up to two weeks of a region's series).
const (
	StoreDisk   = "50Gi"
	CompactDisk = "250Gi"
)

// workloadSpec is one Thanos Deployment or StatefulSet.
type workloadSpec struct {
	Kind, Name string
	Replicas   int
	Args       []string
	// Objstore is the Secret with the bucket's configuration of a bucket
	// reader ("" for the queriers).
	Objstore string
	// Spread spreads the replicas across zones.
	Spread   bool
	Requests map[string]string
	// Disk is the data volume's size ("": none).
	Disk string
}

// workload is a Deployment or StatefulSet of one Thanos container: a
// bucket reader keeps dataDir on a volume of its own (disk) and mounts the
// objstore Secret, and the queriers mount the gRPC certificate. Every
// container is ready when Thanos says so.
func (t Thanos) workload(w workloadSpec) k8s.Workload {
	labels := ThanosLabels(w.Name)
	c := k8s.Container{Name: "thanos", Image: ThanosImage, Command: append([]string{"/bin/thanos"}, w.Args...),
		Ports:           []k8s.ContainerPort{{Name: "grpc", ContainerPort: GRPCPort}, {Name: "http", ContainerPort: HTTPPort}},
		ReadinessProbe:  &k8s.Probe{HTTPGet: k8s.HTTPGetAction{Path: "/-/ready", Port: "http"}, PeriodSeconds: 10},
		Resources:       k8s.ResourceRequirements{Requests: w.Requests, Limits: map[string]string{"memory": w.Requests["memory"]}},
		SecurityContext: k8s.RestrictedContainer(ThanosUID)}
	var vols []k8s.Volume
	mount := func(v k8s.Volume, path string) {
		vols = append(vols, v)
		c.VolumeMounts = append(c.VolumeMounts, k8s.VolumeMount{Name: v.Name, MountPath: path, ReadOnly: v.Secret != nil})
	}
	var podSecurity *k8s.PodSecurityContext
	if w.Objstore != "" {
		// The volume is root's until the kubelet gives it the pod's group.
		podSecurity = &k8s.PodSecurityContext{FSGroup: ThanosUID}
		c.VolumeMounts = append(c.VolumeMounts, k8s.VolumeMount{Name: "data", MountPath: dataDir})
		mount(k8s.Volume{Name: "objstore", Secret: &k8s.SecretVolume{SecretName: w.Objstore}}, objstoreDir)
	}
	if slices.Contains([]string{RegionalQueryName, GlobalQueryName}, w.Name) {
		mount(k8s.Volume{Name: "tls", Secret: &k8s.SecretVolume{SecretName: GRPCTLSSecret}}, tlsDir)
	}
	pod := k8s.PodSpec{ServiceAccountName: w.Name, RestartPolicy: "Always", NodeSelector: t.Scheduling.NodeSelector,
		Tolerations: t.Scheduling.Tolerations, Containers: []k8s.Container{c}, Volumes: vols, SecurityContext: podSecurity}
	if w.Spread {
		pod.TopologySpreadConstraints = []k8s.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: model.LabelZone,
			WhenUnsatisfiable: "ScheduleAnyway", LabelSelector: k8s.LabelSelector{MatchLabels: labels}}}
	}
	out := k8s.Workload{APIVersion: "apps/v1", Kind: w.Kind, Metadata: k8s.Meta{Name: w.Name, Namespace: Namespace, Labels: labels},
		Spec: k8s.WorkloadSpec{Replicas: w.Replicas, Selector: k8s.LabelSelector{MatchLabels: labels},
			Template: k8s.PodTemplate{Metadata: k8s.Meta{Name: w.Name, Labels: labels}, Spec: pod}}}
	if w.Kind == "StatefulSet" {
		out.Spec.ServiceName = w.Name
	}
	if w.Disk != "" {
		out.Spec.VolumeClaimTemplates = []k8s.ClaimTemplate{{Metadata: k8s.Meta{Name: "data"}, Spec: k8s.ClaimSpec{
			AccessModes: []string{"ReadWriteOnce"}, StorageClassName: t.StorageClass,
			Resources: k8s.ResourceRequirements{Requests: map[string]string{"storage": w.Disk}}}}}
	}
	return out
}

// headless is a StatefulSet's governing Service, whose SRV records the
// regional querier resolves.
func headless(name string) k8s.Service {
	s := clusterService(name)
	s.Spec.ClusterIP = "None"
	return s
}

func clusterService(name string) k8s.Service {
	return k8s.Service{APIVersion: "v1", Kind: "Service", Metadata: k8s.Meta{Name: name, Namespace: Namespace, Labels: ThanosLabels(name)},
		Spec: k8s.ServiceSpec{Selector: ThanosLabels(name), Ports: []k8s.ServicePort{
			{Name: "grpc", Port: GRPCPort, TargetPort: "grpc"}, {Name: "http", Port: HTTPPort, TargetPort: "http"}}}}
}

// OperatorWebhookPort is where the operator's admission webhook
// Deployment serves (the chart's
// prometheusOperator.admissionWebhooks.deployment.tls.internalPort).
const OperatorWebhookPort = 10250

// Blocks are the address blocks the monitoring namespace's
// NetworkPolicies name.
type Blocks struct {
	// VPC are the VPC's blocks: where the EKS control plane calls the
	// operator's admission webhook from, and where the namespace's pods
	// send on any port (the nodes they scrape).
	VPC []string
	// Endpoint are what the regional querier's gRPC port admits: this
	// VPC's and the joined regions' blocks where the cross-region
	// endpoint is exposed, none where it is not.
	Endpoint []string
}

// NetworkPolicies isolate the monitoring namespace. Its pods take traffic
// from each other only (Prometheus scrapes, Grafana and the queriers
// query, Prometheus alerts Alertmanager), but for two doors:
//   - the admission webhook's Deployment, which the EKS control plane
//     calls from the VPC's blocks (VPC; pods' addresses are in
//     them too, so any pod reaches that TLS port, which serves admission
//     reviews only: the operator itself, which serves pprof beside them,
//     is not the webhook);
//   - the regional querier's gRPC port, from the blocks the cross-region
//     endpoint's NLB admits (Endpoint), which refuses a client without a
//     certificate of the fleet CA.
//
// A door with no blocks is not opened (k8s.IngressFromBlocks).
//
// And the pods send (egress): to any pod and to the VPC's blocks on any
// port (Prometheus scrapes every namespace's pods, the nodes' kubelets and
// node exporters), DNS, and TLS on 443 to any address (S3 and STS for
// Thanos, the API server, the alert webhook, the joined regions' Thanos
// endpoints). Nothing else leaves the VPC: no plaintext port but DNS, and
// not the instance metadata service.
func NetworkPolicies(b Blocks) []k8s.NetworkPolicy {
	out := []k8s.NetworkPolicy{
		k8s.DefaultDeny("monitoring-default-deny", Namespace),
		k8s.IngressPolicy("monitoring-internal", Namespace, k8s.LabelSelector{}, k8s.FromNamespace(Namespace)),
		egressPolicy(b.VPC),
	}
	webhook := k8s.Pods(map[string]string{model.LabelAppInstance: ChartName, model.LabelAppComponent: OperatorWebhookComponent})
	out = append(out, k8s.IngressFromBlocks("monitoring-operator-webhook", Namespace, webhook, b.VPC, OperatorWebhookPort)...)
	return append(out, k8s.IngressFromBlocks("thanos-endpoint", Namespace, k8s.Pods(ThanosLabels(RegionalQueryName)), b.Endpoint, GRPCPort)...)
}

// egressPolicy is what the namespace's pods send (NetworkPolicies).
func egressPolicy(vpc []string) k8s.NetworkPolicy {
	rules := []k8s.NetworkPolicyEgressRule{k8s.SendTo([]k8s.NetworkPolicyPeer{k8s.AnyNamespace()}, "")}
	if len(vpc) > 0 {
		rules = append(rules, k8s.SendTo(k8s.CIDRPeers(vpc), ""))
	}
	rules = append(rules, k8s.DNS()...)
	return k8s.EgressPolicy("monitoring-egress", Namespace, k8s.LabelSelector{}, append(rules, k8s.SendTo(nil, "TCP", model.PortHTTPS))...)
}

// OperatorWebhookComponent labels the admission webhook Deployment's pods
// (the chart's).
const OperatorWebhookComponent = "prometheus-operator-webhook"

// PodMonitor is a prometheus-operator PodMonitor.
type PodMonitor struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   k8s.Meta       `json:"metadata"`
	Spec       PodMonitorSpec `json:"spec"`
}

// ThanosMonitorName is the PodMonitor of the store gateway, the compactor
// and the queriers; their series carry job="monitoring/thanos" and the pod.
const ThanosMonitorName = "thanos"

// podMonitor scrapes every Thanos pod the program runs (the sidecars are
// the chart's thanosServiceMonitor's).
func podMonitor() PodMonitor {
	return PodMonitor{APIVersion: "monitoring.coreos.com/v1", Kind: "PodMonitor", Metadata: k8s.Meta{Name: ThanosMonitorName, Namespace: Namespace},
		Spec: PodMonitorSpec{NamespaceSelector: NamespaceSelector{MatchNames: []string{Namespace}},
			Selector:            LabelSelector{MatchLabels: thanosPods()},
			PodMetricsEndpoints: []PodMetricsEndpoint{{Port: "http", Path: "/metrics", Interval: "30s"}}}}
}

// disruptionBudget keeps one of two replicas through voluntary evictions.
func disruptionBudget(name string) k8s.PodDisruptionBudget {
	return k8s.PodDisruptionBudget{APIVersion: "policy/v1", Kind: "PodDisruptionBudget", Metadata: k8s.Meta{Name: name, Namespace: Namespace},
		Spec: k8s.PDBSpec{MaxUnavailable: 1, Selector: k8s.LabelSelector{MatchLabels: ThanosLabels(name)}}}
}
