package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/capacity"
	"github.com/pulsar-fleet/pulsar-fleet/components/certmanager"
	"github.com/pulsar-fleet/pulsar-fleet/components/observability"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/internal/render"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// renderedPod is a pod template the real chart (or the program, through
// it) renders: who it is and the ports it listens on.
type renderedPod struct {
	owner string
	pulsar.Endpoint
	ports       []int
	hostNetwork bool
}

// podsAndPolicies are the pod templates and NetworkPolicies of rendered
// objects.
func podsAndPolicies(t *testing.T, objs []manifests.Object) ([]renderedPod, []pulsar.NetworkPolicy) {
	return podsAndPoliciesIn(t, objs, pulsar.DefaultNamespace)
}

// podsAndPoliciesIn are the pod templates and NetworkPolicies of rendered
// objects, those without a namespace in defaultNS.
func podsAndPoliciesIn(t *testing.T, objs []manifests.Object, defaultNS string) ([]renderedPod, []pulsar.NetworkPolicy) {
	var pods []renderedPod
	var policies []pulsar.NetworkPolicy
	for _, o := range objs {
		if o.Kind() == "NetworkPolicy" {
			var p pulsar.NetworkPolicy
			b, err := json.Marshal(o.Object)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &p))
			if p.Metadata.Namespace == "" {
				p.Metadata.Namespace = defaultNS
			}
			policies = append(policies, p)
			continue
		}
		template, ok := podTemplate(o)
		if !ok {
			continue
		}
		var tpl struct {
			Metadata struct{ Labels map[string]string }
			Spec     struct {
				HostNetwork bool
				Containers  []struct{ Ports []struct{ ContainerPort int } }
			}
		}
		b, err := json.Marshal(template)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &tpl))
		ns := o.Namespace()
		if ns == "" {
			ns = defaultNS
		}
		p := renderedPod{owner: o.Kind() + " " + ns + "/" + o.Name(), Endpoint: pulsar.Endpoint{Namespace: ns, Labels: tpl.Metadata.Labels},
			hostNetwork: tpl.Spec.HostNetwork}
		for _, c := range tpl.Spec.Containers {
			for _, port := range c.Ports {
				p.ports = append(p.ports, port.ContainerPort)
			}
		}
		pods = append(pods, p)
	}
	return pods, policies
}

// podTemplate is a workload's pod template (Deployment, StatefulSet,
// DaemonSet, Job or CronJob); false for other kinds.
func podTemplate(o manifests.Object) (any, bool) {
	switch o.Kind() {
	case "StatefulSet", "Deployment", "DaemonSet", "Job":
		return path(o.Object, "spec", "template"), true
	case "CronJob":
		return path(o.Object, "spec", "jobTemplate", "spec", "template"), true
	}
	return nil, false
}

func path(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, _ := v.(map[string]any)
		v = mm[k]
	}
	return v
}

// The NetworkPolicies, checked against the pods the real Pulsar chart
// renders with the program's values, in every stack at 100k and 1m (the
// main release's bookies, or the NVMe release's): each component is
// reachable on its real ports by exactly the pods that need it, and the
// metrics ports by Prometheus' namespace.
func TestNetworkPoliciesAgainstTheRenderedChart(t *testing.T) {
	r := newRenderer(t)
	prometheus := pulsar.Endpoint{Namespace: model.NamespaceMonitoring, Labels: map[string]string{"app.kubernetes.io/name": "prometheus"}}
	stranger := pulsar.Endpoint{Namespace: "default", Labels: map[string]string{"app": "pulsar", "component": "broker"}}
	for _, stack := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
		for _, phase := range []string{"100k", "1m"} {
			st := previewState(t, stack, phase, nil)
			var objs []manifests.Object
			for _, rel := range st.releases {
				o, _, err := r.Render(context.Background(), rel)
				require.NoError(t, err, rel.String())
				objs = append(objs, o...)
			}
			pods, policies := podsAndPolicies(t, objs)
			require.Len(t, policies, 7, "%s %s", stack, phase)
			by := func(component string) []renderedPod {
				var out []renderedPod
				for _, p := range pods {
					if p.Labels["component"] == component {
						out = append(out, p)
					}
				}
				require.NotEmpty(t, out, "%s %s renders %s pods", stack, phase, component)
				return out
			}
			label := fmt.Sprintf("%s %s", stack, phase)
			reach := func(srcs []renderedPod, dsts []renderedPod, port int, want bool) {
				for _, d := range dsts {
					assert.Contains(t, d.ports, port, "%s: %s listens on %d", label, d.owner, port)
					for _, s := range srcs {
						// A connection needs the source's egress and the
						// destination's ingress.
						got := pulsar.Sends(policies, s.Endpoint, d.Endpoint, "TCP", port) && pulsar.Admits(policies, s.Endpoint, d.Endpoint, port)
						assert.Equal(t, want, got, "%s: %s -> %s:%d", label, s.owner, d.owner, port)
					}
				}
			}
			outsider := func(e pulsar.Endpoint) []renderedPod {
				return []renderedPod{{owner: e.Namespace + " pod", Endpoint: e}}
			}
			var chart, ours []renderedPod
			for _, p := range pods {
				if p.Labels["app"] == pulsar.ChartName {
					chart = append(chart, p)
				}
				if p.Labels[model.LabelPartOf] == model.PartOf {
					ours = append(ours, p)
				}
			}
			require.NotEmpty(t, ours, "%s: the program's jobs", label)
			bookies, brokers, zk := by(pulsar.CompBookie), by(pulsar.CompBroker), by(pulsar.CompZooKeeper)
			reach(append(brokers, by(pulsar.CompAutorecovery)...), bookies, 3181, true)
			reach(append(by(pulsar.CompProxy), by(pulsar.CompToolset)...), bookies, 3181, false)
			// TLS everywhere: ZooKeeper on 2281, brokers and proxies on
			// 6651 and 8443; their 8080 is for Prometheus (and, on
			// brokers, the chart's own pods), never the program's jobs.
			reach(chart, zk, 2281, true)
			// The chart leaves clientPort in zookeeper.conf beside the
			// secure port: ZooKeeper still listens on 2181, and no pod may
			// reach it.
			reach(chart, zk, 2181, false)
			reach(outsider(stranger), zk, 2281, false)
			reach(ours, zk, 2281, false)
			reach(append(append(by(pulsar.CompProxy), ours...), by(pulsar.CompToolset)...), brokers, 8443, true)
			reach(by(pulsar.CompProxy), brokers, 6651, true)
			reach(by(pulsar.CompProxy), brokers, 8080, true)
			reach(ours, brokers, 8080, false)
			reach(outsider(stranger), brokers, 8443, false)
			reach(outsider(stranger), by(pulsar.CompProxy), 6651, true)
			reach(outsider(stranger), by(pulsar.CompProxy), 8443, true)
			reach(outsider(stranger), by(pulsar.CompProxy), 8080, false)
			reach(outsider(prometheus), by(pulsar.CompProxy), 8080, true)
			for _, p := range append(brokers, by(pulsar.CompProxy)...) {
				assert.NotContains(t, p.ports, 6650, "%s: %s declares the plaintext binary port", label, p.owner)
			}
			for _, c := range []string{pulsar.CompBookie, pulsar.CompZooKeeper, pulsar.CompAutorecovery} {
				reach(outsider(prometheus), by(c), 8000, true)
			}
			reach(outsider(prometheus), brokers, 8080, true)
			reach(outsider(prometheus), bookies, 3181, false)
			for _, p := range pods {
				if !slices.Contains([]string{pulsar.CompProxy}, p.Labels["component"]) {
					assert.False(t, pulsar.Admits(policies, stranger, p.Endpoint, 9999), "%s: %s is isolated", label, p.owner)
				}
				// Out of the namespace: TLS, and DNS to the cluster's
				// resolver, only; never the instance metadata service.
				s3, imds := pulsar.Endpoint{IP: "52.216.0.10"}, pulsar.Endpoint{IP: "169.254.169.254"}
				assert.True(t, pulsar.Sends(policies, p.Endpoint, s3, "TCP", 443), "%s: %s sends TLS on 443", label, p.owner)
				assert.True(t, pulsar.Sends(policies, p.Endpoint, coreDNS, "UDP", 53), "%s: %s resolves names", label, p.owner)
				assert.False(t, pulsar.Sends(policies, p.Endpoint, s3, "UDP", 53), "%s: %s sends to port 53 of any address", label, p.owner)
				assert.False(t, pulsar.Sends(policies, p.Endpoint, imds, "TCP", 80), "%s: %s reaches the instance metadata service", label, p.owner)
				assert.False(t, pulsar.Sends(policies, p.Endpoint, stranger, "TCP", 8080), "%s: %s sends plaintext out of the namespace", label, p.owner)
			}
		}
	}
}

// coreDNS is a pod of the cluster's resolver, as the EKS add-on labels it.
var coreDNS = pulsar.Endpoint{Namespace: model.NamespaceNodeAgents, Labels: map[string]string{model.LabelK8sApp: model.KubeDNSApp}, IP: "10.0.9.9"}

// sendsAsItNeeds checks what a pod of cert-manager or monitoring, or one
// of the program's in kube-system, sends: TLS on 443 anywhere (the API
// server, S3, STS, the alert webhook) and DNS to the cluster's resolver;
// in monitoring, any port to the VPC and to other namespaces' pods
// (scrapes of nodes and pods); nothing in plaintext outside the VPC, no
// port 53 of any address, nothing to the instance metadata service.
func sendsAsItNeeds(t *testing.T, label string, policies []pulsar.NetworkPolicy, p pulsar.Endpoint, inVPC string) {
	t.Helper()
	internet, imds, node := pulsar.Endpoint{IP: "198.51.100.7"}, pulsar.Endpoint{IP: "169.254.169.254"}, pulsar.Endpoint{IP: inVPC}
	broker := pulsar.Endpoint{Namespace: pulsar.DefaultNamespace, Labels: map[string]string{"component": pulsar.CompBroker}, IP: inVPC}
	assert.True(t, pulsar.Sends(policies, p, internet, "TCP", 443), "%s sends TLS on 443", label)
	assert.True(t, pulsar.Sends(policies, p, coreDNS, "UDP", 53), "%s resolves names", label)
	assert.True(t, pulsar.Sends(policies, p, pulsar.Endpoint{IP: "172.20.0.10"}, "TCP", 53), "%s resolves names through the kube-dns Service's address", label)
	assert.Equal(t, p.Namespace == model.NamespaceMonitoring, pulsar.Sends(policies, p, node, "UDP", 53), "%s sends to port 53 of a VPC address", label)
	assert.False(t, pulsar.Sends(policies, p, internet, "UDP", 53), "%s sends to port 53 of any address", label)
	assert.False(t, pulsar.Sends(policies, p, internet, "TCP", 80), "%s sends plaintext to the internet", label)
	assert.False(t, pulsar.Sends(policies, p, imds, "TCP", 80), "%s reaches the instance metadata service", label)
	scrapes := p.Namespace == model.NamespaceMonitoring
	assert.Equal(t, scrapes, pulsar.Sends(policies, p, node, "TCP", 10250), "%s reaches a node's kubelet", label)
	assert.Equal(t, scrapes, pulsar.Sends(policies, p, broker, "TCP", 8080), "%s reaches a broker's metrics", label)
}

// The namespaces beside Pulsar's, checked against the pods the real
// cert-manager, Karpenter and kube-prometheus-stack charts render with the
// program's values, in every stack: every pod of cert-manager or
// monitoring, and every one of the program's in kube-system, sends only
// what it needs (sendsAsItNeeds), and none takes traffic from outside
// the VPC on any port it declares, nor from the VPC (the control plane, or
// a pod of another namespace: pods' addresses are the VPC's) but on the
// doors the policies open: the webhooks (cert-manager's, the Prometheus
// operator's admission Deployment, never the operator itself) and, where
// another region reads this one, the regional querier's gRPC port; the
// metrics ports admit Prometheus. Host-network pods (node-exporter) are out
// of any policy's reach.
func TestEveryNamespaceIsolatedAgainstTheRenderedCharts(t *testing.T) {
	r := newRenderer(t)
	res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: catalog(t), Phase: "35k"})
	require.NoError(t, err)
	fleet, _, err := stacks.LoadFleet(root)
	require.NoError(t, err)
	for _, st := range res.Stacks {
		d, err := stacks.DesignFor(fleet, st.Stack, "35k", catalog(t))
		require.NoError(t, err)
		// The program's own objects (the releases' pass-through objects
		// come with their rendered output).
		var objs []manifests.Object
		for _, o := range manifests.From(st.Resources) {
			if !strings.Contains(o.Source, "kubernetes:helm.sh/") {
				objs = append(objs, o)
			}
		}
		for _, rel := range render.Releases(st.Resources) {
			if rel.Chart == pulsar.ChartName {
				continue
			}
			o, _, err := r.Render(context.Background(), rel)
			require.NoError(t, err, rel.String())
			objs = append(objs, o...)
		}
		pods, policies := podsAndPoliciesIn(t, objs, "")
		vpc, err := netip.ParsePrefix(d.Components.Network.CIDR)
		require.NoError(t, err)
		inVPC := vpc.Addr().Next().Next().String()
		controlPlane := pulsar.Endpoint{IP: inVPC}
		vpcPod := pulsar.Endpoint{Namespace: "default", Labels: map[string]string{"app": "stranger"}, IP: inVPC}
		outsideVPC := pulsar.Endpoint{Namespace: "default", Labels: map[string]string{"app": "stranger"}, IP: "192.0.2.10"}
		prometheus := pulsar.Endpoint{Namespace: model.NamespaceMonitoring, Labels: map[string]string{model.LabelAppName: "prometheus"}, IP: inVPC}
		exposed := d.Components.Observability.Exposed()
		// doors are the (pod, port) pairs a source from elsewhere may reach.
		type door struct{ who, port string }
		opened := map[door]bool{}
		checked := map[string]int{}
		for _, p := range pods {
			ours := p.Labels[model.LabelPartOf] == model.PartOf || p.Labels[model.LabelAppName] == "karpenter"
			if p.hostNetwork || p.Namespace == pulsar.DefaultNamespace || p.Namespace == "kube-system" && !ours {
				continue
			}
			checked[p.Namespace]++
			label := fmt.Sprintf("%s: %s", st.Stack, p.owner)
			sendsAsItNeeds(t, label, policies, p.Endpoint, inVPC)
			webhook := p.Labels[model.LabelAppComponent] == "webhook" || p.Labels[model.LabelAppComponent] == observability.OperatorWebhookComponent
			for _, port := range p.ports {
				endpoint := exposed && p.Labels[model.LabelAppName] == "thanos" && p.Labels[model.LabelAppComponent] == observability.RegionalQueryName && port == observability.GRPCPort
				hook := webhook && (port == certmanager.WebhookPort || port == observability.OperatorWebhookPort)
				metrics := p.Namespace == certmanager.Namespace && port == certmanager.MetricsPort || p.Labels[model.LabelAppName] == "karpenter" && port == capacity.MetricsPort
				assert.False(t, pulsar.Admits(policies, outsideVPC, p.Endpoint, port), "%s:%d from outside the VPC", label, port)
				assert.Equal(t, endpoint || hook, pulsar.Admits(policies, controlPlane, p.Endpoint, port), "%s:%d from the control plane", label, port)
				assert.Equal(t, endpoint || hook, pulsar.Admits(policies, vpcPod, p.Endpoint, port), "%s:%d from a pod of another namespace", label, port)
				if p.Namespace != model.NamespaceMonitoring {
					assert.Equal(t, metrics || hook, pulsar.Admits(policies, prometheus, p.Endpoint, port), "%s:%d from Prometheus", label, port)
				} else {
					assert.True(t, pulsar.Admits(policies, prometheus, p.Endpoint, port), "%s:%d from Prometheus, its namespace", label, port)
				}
				if endpoint || hook || metrics {
					opened[door{p.Labels[model.LabelAppName] + "/" + p.Labels[model.LabelAppComponent], fmt.Sprint(port)}] = true
				}
			}
		}
		assert.Positive(t, checked[certmanager.Namespace], st.Stack)
		assert.Positive(t, checked[model.NamespaceMonitoring], st.Stack)
		assert.Positive(t, checked["kube-system"], st.Stack)
		// Every door the policies open is a port a rendered pod declares.
		doors := []door{{"webhook/webhook", "10250"}, {"kube-prometheus-stack-prometheus-operator/" + observability.OperatorWebhookComponent, "10250"},
			{"cainjector/cainjector", "9402"}, {"cert-manager/controller", "9402"}, {"karpenter/", "8080"}}
		if exposed {
			doors = append(doors, door{"thanos/" + observability.RegionalQueryName, "10901"})
		}
		for _, want := range doors {
			assert.True(t, opened[want], "%s: %v is declared by a rendered pod and opened", st.Stack, want)
		}
		assert.False(t, opened[door{"kube-prometheus-stack-prometheus-operator/prometheus-operator", "10250"}], "%s: the operator (pprof on its TLS port) is no door", st.Stack)
		t.Logf("%s: pods checked per namespace: %v; doors: %v", st.Stack, checked, opened)
	}
}
