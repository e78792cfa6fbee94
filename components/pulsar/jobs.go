package pulsar

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// RackSyncName names the rack registration CronJob and its RBAC.
const RackSyncName = "pulsar-bookie-rack-sync"

// GeoJobName names the metadata hook Job: it registers geo-replication
// and grants the probe its namespace.
const GeoJobName = "pulsar-geo-replication"

// ProbeName names the end-to-end probe CronJob; ProbeTopic is the topic
// it writes, in the namespace every cluster has (not geo-replicated, so
// each region proves itself).
const (
	ProbeName         = model.ProbeName
	ProbeNamespace    = "public/default"
	ProbeTopic        = "persistent://" + ProbeNamespace + "/pulsar-fleet-probe"
	ProbeSubscription = "pulsar-fleet-probe"
	// ProbeDeadlineSeconds bounds one run: a produce the bookies cannot
	// persist, or a consume that never receives, fails the run.
	ProbeDeadlineSeconds = 50
)

// ProbeScript produces one message and consumes it as a client would.
// The consumer subscribes first (a durable subscription from the earliest
// message), so the message is kept for it; the producer returns only once
// the broker has persisted the message on an ack quorum of bookies. A
// region whose brokers accept connections but cannot store messages fails
// here: the run prints no result and its deadline ends it. On success it
// prints the result line (model.ProbeResultLine), which becomes the
// CloudWatch metrics behind the region's Route53 health check.
//
// The message carries the run's own content, so a message an earlier run
// left on the subscription is consumed and skipped, not taken for this
// run's. Earlier runs do leave theirs: a run stops its consumer as soon as
// it has printed the message, often before the acknowledgment. The latency is the message's publish time (stamped by
// the producer's client when it sends, after its JVM has started) to the
// moment the consumer prints it, both on the pod's clock: publish,
// persist and dispatch, without the client's start. A consumer whose
// output names no publish time reports -1, which counts the run but no
// latency (model.ProbeLatencyPattern wants a latency of 0 or more).
//
// With host (the client listener's name, pulsar-<stack>.<domain>) the
// probe goes the clients' way: DNS, the NLB and its ACM certificate
// (verified against the JVM's public roots, the host name checked), its
// source ranges, then the proxies. Without one it goes to the proxies'
// in-cluster Service with the region's CA.
func ProbeScript(host string) string {
	conf := `PULSAR_HOST="pulsar-proxy.${NAMESPACE}.svc.cluster.local"
` + clientConf(proxyServiceHTTPS)
	if host != "" {
		conf = writeClientConf("", host, "")
	}
	return `set -eu
` + conf + `CLIENT="bin/pulsar-client"
` + nowMillis + probeReceive + `message="probe ${HOSTNAME:-probe}-$(date +%s)"
latency_file="${TMPDIR:-/tmp}/probe-latency"
consumed="${TMPDIR:-/tmp}/probe-consumed"
rm -f "$latency_file" "$consumed"
mkfifo "$consumed"
receive < "$consumed" &
receiver=$!
$CLIENT consume -s "$SUBSCRIPTION" -p Earliest -n 0 "$TOPIC" > "$consumed" &
consumer=$!
trap 'kill "$consumer" 2>/dev/null || true' EXIT
sleep 5
$CLIENT produce -m "$message" -n 1 "$TOPIC"
wait "$receiver" || true
[ -s "$latency_file" ]
echo "probe: produced and consumed on $TOPIC"
` + model.ProbeResultPrintf() + ` "$(cat "$latency_file")"
`
}

// nowMillis defines now_ms, the time in milliseconds, with date's %N where
// the image's date has it and whole seconds where it does not.
const nowMillis = `now_ms() {
  t="$(date +%s%N)"; t="${t%%[!0-9]*}"
  if [ "${#t}" -gt 13 ]; then echo $(( t / 1000000 )); else echo $(( t * 1000 )); fi
}
`

// probeReceive defines receive: it reads the consumer's output (through a
// FIFO, so the consumer can be stopped once it is done) until the line of
// this run's message, and writes the latency to $latency_file. The
// pulsar-client prints "publishTime:[<ms>], ... content:<message>" for
// each message it consumes. It returns at that line, or with nothing
// written when the consumer's output ends. Every other line (the client's
// log, which goes to stdout, other runs' messages) goes to stderr, so a
// failed run's log shows why. A latency below zero (whole-second clocks)
// is reported as -1, like a missing publish time.
//
// The match is on the message's start: the client prints nothing after
// the content unless asked for metadata, and the message (the pod's name
// and the time) is no other run's prefix.
const probeReceive = `receive() {
  while IFS= read -r line; do
    case "$line" in
    *"content:${message}"*)
      now="$(now_ms)"
      published="${line#*"publishTime:["}"; published="${published%%"]"*}"
      case "$published" in
      ''|*[!0-9]*) latency=-1 ;;
      *) latency=$(( now - published )); [ "$latency" -ge 0 ] || latency=-1 ;;
      esac
      echo "$latency" > "$latency_file"
      return 0 ;;
    *) printf '%s\n' "$line" >&2 ;;
    esac
  done
}
`

// rackSyncScript registers each bookie's availability zone as its rack
// (racksync.py says how). It runs in the Pulsar image with Python's
// standard library and reads the Kubernetes API over REST, so no kubectl
// image has to follow the cluster's version.
//
//go:embed racksync.py
var rackSyncScript string

// GeoScript registers the peer clusters and the replicated namespaces. It is
// idempotent (create or update) and needs no peer to be reachable: it only
// writes this region's metadata. Replication to a peer authenticates as
// this region's replicator role with the token in the GeoTokensSecret,
// mounted on the brokers.
func GeoScript(a Config) string {
	var b strings.Builder
	b.WriteString(`set -eu
PULSAR_HOST="pulsar-broker.${NAMESPACE}.svc.cluster.local"
` + clientConf(brokerServiceHTTPS) + `ADMIN="bin/pulsar-admin"
apply_cluster() {
  if $ADMIN clusters get "$1" >/dev/null 2>&1; then verb=update; else verb=create; fi
  $ADMIN clusters "$verb" "$1" --url "$2" --url-secure "$2" --broker-url-secure "$3" --tls-enable \
    --auth-plugin org.apache.pulsar.client.impl.auth.AuthenticationToken --auth-parameters "file:///pulsar/geo/$1"
}
`)
	all := []string{a.Cluster}
	var replicate []string
	for _, p := range sortedPeers(a.Peers) {
		fmt.Fprintf(&b, "apply_cluster %s %s %s\n", p.Cluster, p.WebURL, p.BrokerURL)
		all = append(all, p.Cluster)
		if p.ReplicateTo {
			replicate = append(replicate, p.Cluster)
		}
	}
	allowed := strings.Join(all, ",")
	roles := RolesOf(a)
	fmt.Fprintf(&b, `if $ADMIN tenants get %[1]s >/dev/null 2>&1; then
  $ADMIN tenants update %[1]s --allowed-clusters %[2]s --admin-roles %[3]s
else
  $ADMIN tenants create %[1]s --allowed-clusters %[2]s --admin-roles %[3]s
fi
`, a.Tenant, allowed, roles.Admin)
	clusters := strings.Join(append([]string{a.Cluster}, replicate...), ",")
	for _, ns := range a.Namespaces {
		full := a.Tenant + "/" + ns
		fmt.Fprintf(&b, `if $ADMIN namespaces get-clusters %[1]s >/dev/null 2>&1; then
  $ADMIN namespaces set-clusters %[1]s --clusters %[2]s
else
  $ADMIN namespaces create %[1]s --clusters %[2]s
fi
`, full, clusters)
		for _, p := range sortedPeers(a.Peers) {
			fmt.Fprintf(&b, "$ADMIN namespaces grant-permission %s --role %s --actions produce,consume\n", full, ReplicatorRole(p.Cluster))
		}
	}
	if roles.Probe != roles.Admin {
		fmt.Fprintf(&b, "$ADMIN namespaces grant-permission %s --role %s --actions produce,consume\n", ProbeNamespace, roles.Probe)
	}
	b.WriteString("echo geo-replication metadata applied\n")
	return b.String()
}

// probe is the end-to-end probe: a CronJob every minute, its service
// account without a Kubernetes API token, whose last successful run kube-state-metrics
// exports (kube_cronjob_status_last_successful_time) for PulsarProbeFailing.
func probe(ns, host string, meta k8s.Meta, nodes map[string]string, tol []k8s.Toleration, volumes []k8s.Volume, mounts []k8s.VolumeMount) k8s.CronJob {
	return k8s.CronJob{APIVersion: "batch/v1", Kind: "CronJob", Metadata: meta, Spec: k8s.CronJobSpec{
		Schedule: "* * * * *", ConcurrencyPolicy: "Forbid", SuccessfulJobsHistoryLimit: 1, FailedJobsHistoryLimit: 3,
		JobTemplate: k8s.JobTemplate{Spec: k8s.JobSpec{BackoffLimit: 0, ActiveDeadlineSeconds: ProbeDeadlineSeconds, TTLSecondsAfterFinished: 600,
			Template: k8s.PodTemplate{Metadata: k8s.Meta{Name: ProbeName, Labels: jobPodLabels(ProbeName)},
				Spec: k8s.PodSpec{ServiceAccountName: ProbeName, RestartPolicy: "Never", NodeSelector: nodes, Tolerations: tol,
					Containers: []k8s.Container{{Name: model.ProbeContainer, Image: pulsarImage, Command: []string{"/bin/sh", "-c", ProbeScript(host)},
						Env: []k8s.EnvVar{{Name: "NAMESPACE", Value: ns}, {Name: "TOPIC", Value: ProbeTopic},
							{Name: "SUBSCRIPTION", Value: ProbeSubscription}, {Name: "PULSAR_LOG_DIR", Value: "/tmp"}},
						VolumeMounts: mounts, Resources: k8s.ResourceRequirements{Requests: map[string]string{"cpu": "250m", "memory": "768Mi"},
							Limits: map[string]string{"cpu": "1", "memory": "768Mi"}},
						SecurityContext: k8s.RestrictedContainer(10000)}},
					Volumes: volumes}}}}}}
}

// rackSyncEnv tells the rack sync where the brokers' admin API is, and
// the token and CA it reaches it with; Kubernetes' own address and the
// service account's token come from the pod.
func rackSyncEnv(ns string) []k8s.EnvVar {
	admin := "https://pulsar-broker." + ns + ".svc.cluster.local:" + strconv.Itoa(brokerServiceHTTPS) + "/admin/v2"
	return []k8s.EnvVar{{Name: "NAMESPACE", Value: ns}, {Name: "PULSAR_ADMIN_URL", Value: admin},
		{Name: "PULSAR_TOKEN_FILE", Value: "/tokens/TOKEN"}, {Name: "PULSAR_CA_FILE", Value: CAFile}}
}

// jobPodLabels are the labels of the program's job pods: their name, and
// the part-of label the brokers' NetworkPolicy admits.
func jobPodLabels(name string) map[string]string {
	return map[string]string{model.LabelAppName: name, model.LabelPartOf: model.PartOf}
}

// ExtraObjects are the manifests added to the release through extraDeploy:
// the rack sync CronJob with least-privilege RBAC, the geo-replication
// hook Job, and the namespace's NetworkPolicies.
func ExtraObjects(a Config) ([]map[string]any, error) {
	a = a.WithDefaults()
	ns := a.Namespace
	crit := a.CriticalPlacement
	tol := make([]k8s.Toleration, len(crit.Tolerations))
	for i, t := range crit.Tolerations {
		tol[i] = k8s.Toleration(t)
	}
	meta := func(name string) k8s.Meta {
		return k8s.Meta{Name: name, Namespace: ns, Labels: map[string]string{model.LabelPartOf: model.PartOf}}
	}
	roles := RolesOf(a)
	token := k8s.Volume{Name: "admin-token", Secret: &k8s.SecretVolume{SecretName: TokenSecret(roles.Admin)}}
	tmp := k8s.Volume{Name: "tmp", EmptyDir: &struct{}{}}
	// The CA's certificate only: its Secret holds the CA's key too.
	ca := k8s.Volume{Name: "ca", Secret: &k8s.SecretVolume{SecretName: CASecret, Items: []k8s.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}}
	mounts := []k8s.VolumeMount{{Name: "admin-token", MountPath: "/tokens", ReadOnly: true}, {Name: "tmp", MountPath: "/tmp"},
		{Name: "ca", MountPath: CAMountPath, ReadOnly: true}}
	small := k8s.ResourceRequirements{Requests: map[string]string{"cpu": "100m", "memory": "256Mi"}, Limits: map[string]string{"cpu": "500m", "memory": "512Mi"}}
	objs := []any{
		k8s.ServiceAccount{APIVersion: "v1", Kind: "ServiceAccount", Metadata: meta(RackSyncName), AutomountServiceAccountToken: nil},
		k8s.Role{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role", Metadata: meta(RackSyncName),
			Rules: []k8s.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}}}},
		k8s.RoleBinding{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding", Metadata: meta(RackSyncName),
			RoleRef:  k8s.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: RackSyncName},
			Subjects: []k8s.Subject{{Kind: "ServiceAccount", Name: RackSyncName, Namespace: ns}}},
		k8s.Role{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole", Metadata: k8s.Meta{Name: RackSyncName + "-" + ns},
			Rules: []k8s.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get"}}}},
		k8s.RoleBinding{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Metadata: k8s.Meta{Name: RackSyncName + "-" + ns},
			RoleRef:  k8s.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: RackSyncName + "-" + ns},
			Subjects: []k8s.Subject{{Kind: "ServiceAccount", Name: RackSyncName, Namespace: ns}}},
		k8s.CronJob{APIVersion: "batch/v1", Kind: "CronJob", Metadata: meta(RackSyncName), Spec: k8s.CronJobSpec{
			Schedule: "*/5 * * * *", ConcurrencyPolicy: "Forbid", SuccessfulJobsHistoryLimit: 1, FailedJobsHistoryLimit: 3,
			JobTemplate: k8s.JobTemplate{Spec: k8s.JobSpec{BackoffLimit: 2, ActiveDeadlineSeconds: 240, TTLSecondsAfterFinished: 3600,
				Template: k8s.PodTemplate{Metadata: k8s.Meta{Name: RackSyncName, Labels: jobPodLabels(RackSyncName)},
					Spec: k8s.PodSpec{ServiceAccountName: RackSyncName, RestartPolicy: "Never", NodeSelector: crit.NodeSelector, Tolerations: tol,
						Containers: []k8s.Container{{Name: "rack-sync", Image: pulsarImage, Command: []string{"python3", "-u", "-c", rackSyncScript},
							Env:          rackSyncEnv(ns),
							VolumeMounts: mounts, Resources: small, SecurityContext: k8s.RestrictedContainer(10000)}},
						Volumes: []k8s.Volume{token, tmp, ca}}}}}}},
	}
	// The probe's own token: produce and consume on its namespace only.
	probeToken := k8s.Volume{Name: "admin-token", Secret: &k8s.SecretVolume{SecretName: TokenSecret(roles.Probe)}}
	noProbeToken := false
	objs = append(objs, k8s.ServiceAccount{APIVersion: "v1", Kind: "ServiceAccount", Metadata: meta(ProbeName), AutomountServiceAccountToken: &noProbeToken},
		probe(ns, a.ProbeHost, meta(ProbeName), crit.NodeSelector, tol, []k8s.Volume{probeToken, tmp, ca}, mounts))
	// The metadata Job runs with peers (geo-replication) and wherever the
	// probe has a role of its own to grant.
	if len(a.Peers) > 0 || roles.Probe != roles.Admin {
		noToken := false
		objs = append(objs, k8s.ServiceAccount{APIVersion: "v1", Kind: "ServiceAccount", Metadata: meta(GeoJobName), AutomountServiceAccountToken: &noToken})
		objs = append(objs, k8s.Job{APIVersion: "batch/v1", Kind: "Job", Metadata: k8s.Meta{Name: GeoJobName, Namespace: ns,
			Annotations: map[string]string{"helm.sh/hook": "post-install,post-upgrade", "helm.sh/hook-weight": "10",
				"helm.sh/hook-delete-policy": "before-hook-creation"}},
			Spec: k8s.JobSpec{BackoffLimit: 6, ActiveDeadlineSeconds: 900, TTLSecondsAfterFinished: 86400,
				Template: k8s.PodTemplate{Metadata: k8s.Meta{Name: GeoJobName, Labels: jobPodLabels(GeoJobName)},
					Spec: k8s.PodSpec{ServiceAccountName: GeoJobName, RestartPolicy: "Never", NodeSelector: crit.NodeSelector, Tolerations: tol,
						Containers: []k8s.Container{{Name: "geo-replication", Image: pulsarImage, Command: []string{"/bin/sh", "-c", GeoScript(a)},
							Env:          []k8s.EnvVar{{Name: "NAMESPACE", Value: ns}, {Name: "PULSAR_LOG_DIR", Value: "/tmp"}},
							VolumeMounts: mounts, Resources: k8s.ResourceRequirements{Requests: map[string]string{"cpu": "250m", "memory": "768Mi"},
								Limits: map[string]string{"cpu": "1", "memory": "768Mi"}},
							SecurityContext: k8s.RestrictedContainer(10000)}},
						Volumes: []k8s.Volume{token, tmp, ca}}}}})
	}
	for _, p := range NetworkPolicies(a) {
		objs = append(objs, p)
	}
	out := make([]map[string]any, 0, len(objs))
	for _, o := range objs {
		m, err := k8s.ToMap(o)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
