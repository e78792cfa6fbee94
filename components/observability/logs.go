package observability

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Every pod's logs go to CloudWatch Logs in the region: Fluent Bit (a
// DaemonSet on every node, whatever its taints) tails the container logs,
// adds the pod's metadata and writes to one log group per region, whose
// retention is stack config. It runs in kube-system beside the other node
// agents: it reads the node's /var/log.

// Fluent Bit facts. The image is upstream's release v4.2.8; the
// configuration keys below are that release's (in_tail, filter_kubernetes,
// out_cloudwatch_logs, and the service's Flush and Log_Level).
const (
	FluentBitImage = "cr.fluentbit.io/fluent/fluent-bit:4.2.8"
	FluentBitName  = "fluent-bit"
	// fluentBitConfigKey is the YAML configuration's file name.
	fluentBitConfigKey = "fluent-bit.yaml"
	fluentBitStateDir  = "/var/fluent-bit/state"
)

// LogRetentionDays are the retentions CloudWatch Logs accepts.
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// DefaultLogRetentionDays keeps a month of pod logs.
const DefaultLogRetentionDays = 30

// LogGroupName is the region's pod log group.
func LogGroupName(stack string) string { return "/pulsar-fleet/" + stack + "/pods" }

// FluentBitConfig is Fluent Bit's YAML configuration: tail every
// container's log (CRI format), add the pod's metadata, write to the
// region's log group with a stream per node and file.
func FluentBitConfig(stack, region string) string {
	return fmt.Sprintf(`service:
  flush: 5
  log_level: info
pipeline:
  inputs:
    - name: tail
      tag: kube.*
      path: /var/log/containers/*.log
      multiline.parser: cri
      db: %s/tail.db
      mem_buf_limit: 50MB
      skip_long_lines: on
      refresh_interval: 10
  filters:
    - name: kubernetes
      match: kube.*
      merge_log: on
      keep_log: off
      labels: off
      annotations: off
  outputs:
    - name: cloudwatch_logs
      match: kube.*
      region: %s
      log_group_name: %s
      log_stream_prefix: %s.
      auto_create_group: off
`, fluentBitStateDir, region, LogGroupName(stack), stack)
}

// LogShippingPolicy lets Fluent Bit write to the region's log group only
// (the group itself is the program's).
func LogShippingPolicy(groupARN pulumi.StringInput) kit.PolicyDocument {
	return kit.PolicyDocument{Statements: []kit.Statement{{Sid: "PodLogs",
		Actions:   []string{"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"},
		Resources: []pulumi.StringInput{groupARN, pulumi.Sprintf("%s:*", groupARN)}}}}
}

// LogManifests are Fluent Bit's objects, shipped in the monitoring
// release's extraManifests: its configuration, its read-only view of pods
// and namespaces (for their metadata), and the DaemonSet. Its service
// account carries the role ARN, an output, and is made apart.
func LogManifests(stack, region string) []any {
	ns := model.NamespaceNodeAgents
	labels := map[string]string{model.LabelAppName: FluentBitName, model.LabelPartOf: model.PartOf}
	meta := k8s.Meta{Name: FluentBitName, Namespace: ns, Labels: labels}
	cluster := k8s.Meta{Name: "pulsar-fleet-" + FluentBitName, Labels: labels}
	c := k8s.Container{Name: FluentBitName, Image: FluentBitImage,
		Command:   []string{"/fluent-bit/bin/fluent-bit", "-c", "/fluent-bit/etc/" + fluentBitConfigKey},
		Resources: k8s.ResourceRequirements{Requests: map[string]string{"cpu": "100m", "memory": "128Mi"}, Limits: map[string]string{"memory": "256Mi"}},
		// Root, to read the node's root-owned logs, with nothing else:
		// no capability, no escalation, a read-only root filesystem.
		SecurityContext: k8s.SecurityContext{RunAsUser: 0, ReadOnlyRootFilesystem: true,
			Capabilities: k8s.Capabilities{Drop: []string{"ALL"}}, SeccompProfile: k8s.SeccompProfile{Type: "RuntimeDefault"}},
		VolumeMounts: []k8s.VolumeMount{{Name: "varlog", MountPath: "/var/log", ReadOnly: true},
			{Name: "state", MountPath: fluentBitStateDir}, {Name: "config", MountPath: "/fluent-bit/etc", ReadOnly: true}}}
	pod := k8s.PodSpec{ServiceAccountName: FluentBitName, RestartPolicy: "Always",
		// Every node, whatever its pool's taints.
		Tolerations: []k8s.Toleration{{Operator: "Exists"}},
		Containers:  []k8s.Container{c},
		Volumes: []k8s.Volume{{Name: "varlog", HostPath: &k8s.HostPathVolume{Path: "/var/log"}},
			{Name: "state", HostPath: &k8s.HostPathVolume{Path: fluentBitStateDir, Type: "DirectoryOrCreate"}},
			{Name: "config", ConfigMap: &k8s.ConfigMapVolume{Name: FluentBitName}}}}
	return []any{
		k8s.ConfigMap{APIVersion: "v1", Kind: "ConfigMap", Metadata: meta, Data: map[string]string{fluentBitConfigKey: FluentBitConfig(stack, region)}},
		k8s.Role{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole", Metadata: cluster,
			Rules: []k8s.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces", "pods"}, Verbs: []string{"get", "list", "watch"}}}},
		k8s.RoleBinding{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Metadata: cluster,
			RoleRef:  k8s.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: cluster.Name},
			Subjects: []k8s.Subject{{Kind: "ServiceAccount", Name: FluentBitName, Namespace: ns}}},
		k8s.Workload{APIVersion: "apps/v1", Kind: "DaemonSet", Metadata: meta, Spec: k8s.WorkloadSpec{
			Selector: k8s.LabelSelector{MatchLabels: labels}, Template: k8s.PodTemplate{Metadata: k8s.Meta{Name: FluentBitName, Labels: labels}, Spec: pod}}},
		// It listens on nothing: no traffic reaches it. It sends DNS, and
		// TLS on 443 only: the API server (pod metadata) and CloudWatch
		// Logs and STS, with the region its configuration names and IRSA's
		// credentials, so never the instance metadata service.
		k8s.IngressPolicy(FluentBitName, ns, k8s.Pods(labels)),
		k8s.TLSEgress(FluentBitName+"-egress", ns, k8s.Pods(labels)),
	}
}

// validRetention reports a retention CloudWatch Logs refuses.
func validRetention(days int) error {
	if slices.Contains(LogRetentionDays, days) {
		return nil
	}
	return fmt.Errorf("logRetentionDays: %d is not a retention CloudWatch Logs accepts: want one of %v", days, LogRetentionDays)
}

// logShipping is the region's log group and Fluent Bit's role on it.
type logShipping struct {
	role *iam.Role
	// probeAlarm is the probe alarm's name.
	probeAlarm pulumi.StringOutput
}

func newLogShipping(ctx *pulumi.Context, name string, cfg Config, deps Deps, parent pulumi.ResourceOption) (*logShipping, error) {
	tags := kit.Tags(cfg.Tags)
	group, err := cloudwatch.NewLogGroup(ctx, name+"-pods", &cloudwatch.LogGroupArgs{
		Name: pulumi.String(LogGroupName(cfg.Cluster)), RetentionInDays: pulumi.Int(cfg.LogRetentionDays), Tags: tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name+"-"+FluentBitName, &iam.RoleArgs{
		AssumeRolePolicy: kit.IRSATrust(deps.OIDCProviderARN, deps.OIDCIssuer, model.NamespaceNodeAgents, FluentBitName).JSON(),
		Description:      pulumi.String("Fluent Bit: the region's pod log group"), Tags: tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-"+FluentBitName, &iam.RolePolicyArgs{
		Role: role.Name, Policy: LogShippingPolicy(group.Arn).JSON(),
	}, parent); err != nil {
		return nil, err
	}
	alarm, err := newProbeSignal(ctx, name, cfg, group, parent)
	if err != nil {
		return nil, err
	}
	return &logShipping{role: role, probeAlarm: alarm}, nil
}

// Probe signal: the probe's result lines (model.ProbeResultLine) become
// CloudWatch metrics through two metric filters on the pod log group, and
// an alarm fires when successes stop. Missing data is breaching: a probe
// that cannot run, or whose logs stop arriving, counts as failing. The
// region's Route53 health check watches the alarm.
const (
	probeAlarmPeriodSeconds = 60
	// Three failed minutes out of five: one late CronJob run or a slow
	// log delivery does not fail the region.
	probeAlarmEvaluationPeriods = 5
	probeAlarmDatapoints        = 3
)

// newProbeSignal registers the probe's metric filters and alarm, and
// returns the alarm's name.
func newProbeSignal(ctx *pulumi.Context, name string, cfg Config, group *cloudwatch.LogGroup, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	filters := []struct {
		suffix, metric, pattern, value string
	}{
		{"probe-success", model.ProbeMetricSuccess, model.ProbeSuccessPattern(cfg.PulsarNamespace), "1"},
		{"probe-latency", model.ProbeMetricLatency, model.ProbeLatencyPattern(cfg.PulsarNamespace), model.ProbeLatencyValue()},
	}
	var success *cloudwatch.LogMetricFilter
	for _, f := range filters {
		mf, err := cloudwatch.NewLogMetricFilter(ctx, name+"-"+f.suffix, &cloudwatch.LogMetricFilterArgs{
			LogGroupName: group.Name, Pattern: pulumi.String(f.pattern),
			MetricTransformation: &cloudwatch.LogMetricFilterMetricTransformationArgs{
				Namespace: pulumi.String(model.ProbeMetricNamespace), Name: pulumi.String(f.metric), Value: pulumi.String(f.value),
			},
		}, parent)
		if err != nil {
			return pulumi.StringOutput{}, err
		}
		if success == nil {
			success = mf
		}
	}
	alarm, err := cloudwatch.NewMetricAlarm(ctx, name+"-probe", &cloudwatch.MetricAlarmArgs{
		Name:             pulumi.String(model.ProbeAlarmName(cfg.Cluster)),
		AlarmDescription: pulumi.String("The end-to-end probe stopped producing and consuming through the proxies; the region's Route53 health check fails with it (docs/operations.md, \"PulsarProbeFailing\")."),
		Namespace:        pulumi.String(model.ProbeMetricNamespace), MetricName: pulumi.String(model.ProbeMetricSuccess),
		Statistic: pulumi.String("Sum"), Period: pulumi.Int(probeAlarmPeriodSeconds),
		EvaluationPeriods: pulumi.Int(probeAlarmEvaluationPeriods), DatapointsToAlarm: pulumi.Int(probeAlarmDatapoints),
		ComparisonOperator: pulumi.String("LessThanThreshold"), Threshold: pulumi.Float64(1),
		TreatMissingData: pulumi.String("breaching"), Tags: kit.Tags(cfg.Tags),
	}, parent, pulumi.DependsOn([]pulumi.Resource{success}))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return alarm.Name, nil
}
