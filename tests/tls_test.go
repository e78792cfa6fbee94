package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/manifests"
	"github.com/pulsar-fleet/pulsar-fleet/internal/render"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
)

// TestRenderedPulsarIsTLSOnly reads the real chart's rendering of every
// stack at every phase: the proxies and brokers serve the binary protocol
// and the admin API over TLS only, the proxies reach the brokers over TLS,
// the brokers reach the bookies over TLS, ZooKeeper serves its TLS port
// only (its image's plaintext clientPort removed, and no container of the
// chart dialling it), every bookie set takes a certificate from the region's one CA, and
// that CA's Issuer and Secret are the names the program's jobs mount.
func TestRenderedPulsarIsTLSOnly(t *testing.T) {
	r := newRenderer(t)
	all := renderAll(t, r)
	for _, rs := range all {
		for _, p := range tlsProblems(rs.Design, pulsarObjects(rs)) {
			t.Errorf("%s/%s: %s", rs.Stack, rs.Phase, p)
		}
	}
	t.Run("a plaintext listener is caught", func(t *testing.T) {
		rs := withEBSBookies(t, all)
		for _, tc := range []struct {
			name, want string
			breakIt    func(objs []manifests.Object)
		}{
			{"broker binary port", "pulsar-broker brokerServicePort", func(objs []manifests.Object) {
				data(find(objs, "ConfigMap", "pulsar-broker"))["brokerServicePort"] = "6650"
			}},
			{"proxy to broker in plaintext", "pulsar-proxy brokerServiceURL", func(objs []manifests.Object) {
				data(find(objs, "ConfigMap", "pulsar-proxy"))["brokerServiceURL"] = "pulsar://pulsar-broker:6650"
			}},
			{"ZooKeeper client port", "pulsar-zookeeper secureClientPort", func(objs []manifests.Object) {
				delete(data(find(objs, "ConfigMap", "pulsar-zookeeper")), "secureClientPort")
			}},
			{"bookie without TLS", "pulsar-bookie PULSAR_PREFIX_tlsProviderFactoryClass", func(objs []manifests.Object) {
				delete(data(find(objs, "ConfigMap", "pulsar-bookie")), "PULSAR_PREFIX_tlsProviderFactoryClass")
			}},
			{"autorecovery to the bookies in plaintext", "pulsar-recovery PULSAR_PREFIX_tlsProviderFactoryClass", func(objs []manifests.Object) {
				delete(data(find(objs, "ConfigMap", "pulsar-recovery")), "PULSAR_PREFIX_tlsProviderFactoryClass")
			}},
			{"autorecovery not rolled on a settings change", "pulsar-recovery: no checksum/config annotation", func(objs []manifests.Object) {
				delete(field(find(objs, "StatefulSet", "pulsar-recovery"), "spec", "template", "metadata", "annotations"), "checksum/config")
			}},
			{"brokers not rolled on a settings change", "pulsar-broker: no checksum/config annotation", func(objs []manifests.Object) {
				delete(field(find(objs, "StatefulSet", "pulsar-broker"), "spec", "template", "metadata", "annotations"), "checksum/config")
			}},
			{"autorecovery trusting a file the pod lacks", "pulsar-recovery PULSAR_PREFIX_tlsTrustStore = /pulsar/certs/recovery/ca.crt: no such file", func(objs []manifests.Object) {
				data(find(objs, "ConfigMap", "pulsar-recovery"))["PULSAR_PREFIX_tlsTrustStore"] = "/pulsar/certs/recovery/ca.crt"
			}},
			{"ZooKeeper's plaintext client port left open", "ZooKeeper serves plaintext clients on 2181", func(objs []manifests.Object) {
				c := podSpec(find(objs, "StatefulSet", "pulsar-zookeeper"))["containers"].([]any)[0].(map[string]any)
				c["args"] = []any{strings.ReplaceAll(c["args"].([]any)[0].(string), pulsar.CloseClientPort, "")}
			}},
			{"ZooKeeper's client port put back from the environment", "pulsar-zookeeper PULSAR_PREFIX_clientPort = 2181", func(objs []manifests.Object) {
				data(find(objs, "ConfigMap", "pulsar-zookeeper"))["PULSAR_PREFIX_clientPort"] = "2181"
			}},
			{"ZooKeeper's quorum in plaintext", "does not run the quorum TLS command", func(objs []manifests.Object) {
				c := podSpec(find(objs, "StatefulSet", "pulsar-zookeeper"))["containers"].([]any)[0].(map[string]any)
				c["args"] = []any{strings.ReplaceAll(c["args"].([]any)[0].(string), "'sslQuorum=true'", "'sslQuorum=false'")}
			}},
			{"the quorum's copies on the node's disk", "not a directory in memory", func(objs []manifests.Object) {
				for _, v := range podSpec(find(objs, "StatefulSet", "pulsar-zookeeper"))["volumes"].([]any) {
					if vm := v.(map[string]any); vm["name"] == "quorum-tls" {
						vm["emptyDir"] = map[string]any{}
					}
				}
			}},
			{"the chart sets the CA's key policy", "the program's patch owns its rotationPolicy", func(objs []manifests.Object) {
				spec(find(objs, "Certificate", pulsar.CACertificate))["privateKey"] = map[string]any{"rotationPolicy": "Always"}
			}},
			{"another CA", "issued by", func(objs []manifests.Object) {
				field(find(objs, "Certificate", "pulsar-tls-bookie"), "spec", "issuerRef")["name"] = "someone-elses-issuer"
			}},
		} {
			objs := deepCopy(t, pulsarObjects(rs))
			tc.breakIt(objs)
			assert.Contains(t, strings.Join(tlsProblems(rs.Design, objs), "\n"), tc.want, tc.name)
		}
	})
	t.Run("the chart's own wait for ZooKeeper is caught", func(t *testing.T) {
		// The chart's default: the proxies' init container waits for
		// ZooKeeper by its Service name alone.
		rs := withEBSBookies(t, all)
		var rel render.Release
		for _, candidate := range rs.Releases {
			if candidate.Name == pulsar.ReleaseName {
				rel = candidate
			}
		}
		require.NotEmpty(t, rel.Name)
		b, err := json.Marshal(rel.Values)
		require.NoError(t, err)
		rel.Values = map[string]any{}
		require.NoError(t, json.Unmarshal(b, &rel.Values))
		rel.Values["proxy"].(map[string]any)["waitZookeeperTimeout"] = 600
		objs, _, err := r.Render(context.Background(), rel)
		require.NoError(t, err)
		assert.Contains(t, strings.Join(tlsProblems(rs.Design, objs), "\n"),
			"StatefulSet pulsar-proxy container wait-zookeeper-ready dials ZooKeeper at pulsar-zookeeper, not its TLS port")
	})
}

// zooKeeperServers finds the ZooKeeper servers a command names: after
// zookeeper-shell's -server, or a Pulsar tool's --zookeeper,
// --configuration-store or metadata-store flag.
var zooKeeperServers = regexp.MustCompile(`(?:-server|--zookeeper|--configuration-store|--configuration-metadata-store|--metadata-store)[\s=]+["']?([^\s"';&|]+)`)

// zooKeeperAtPlaintext is a ZooKeeper address on the plaintext port
// anywhere in an object (a ConfigMap's URL, an argument).
var zooKeeperAtPlaintext = regexp.MustCompile(`[\w.-]*zookeeper[\w.-]*:2181\b`)

// commandBreak separates a script's commands.
var commandBreak = regexp.MustCompile(`;|&&|\|\||\||\n`)

// zooKeeperTLSPort is the chart's zookeeper.ports.clientTls.
const zooKeeperTLSPort = "2281"

// plaintextZooKeeperDials lists where the rendered objects would reach
// ZooKeeper other than on its TLS port: a container, init containers too,
// that runs ZooKeeper's shell without a server (it dials localhost:2181)
// or names a server without port 2281 (the shell's default port is 2181),
// and any ZooKeeper address on 2181 in any object.
func plaintextZooKeeperDials(objs []manifests.Object) []string {
	var out []string
	for _, o := range objs {
		for _, c := range podContainers(o) {
			for _, cmd := range commandBreak.Split(strings.ReplaceAll(containerScript(c), "\\\n", " "), -1) {
				out = append(out, zooKeeperDialProblems(o, c["name"], cmd)...)
			}
		}
		b, _ := json.Marshal(o.Object)
		for _, addr := range zooKeeperAtPlaintext.FindAllString(string(b), -1) {
			out = append(out, fmt.Sprintf("%s %s names ZooKeeper at %s, its plaintext port", o.Kind(), o.Name(), addr))
		}
	}
	return out
}

// zooKeeperDialProblems judges one command of a container's script.
func zooKeeperDialProblems(o manifests.Object, container any, cmd string) []string {
	var out []string
	matches := zooKeeperServers.FindAllStringSubmatch(cmd, -1)
	if strings.Contains(cmd, "zookeeper-shell") && !strings.Contains(cmd, "-server") {
		out = append(out, fmt.Sprintf("%s %s container %v runs zookeeper-shell with no server: it dials localhost:2181", o.Kind(), o.Name(), container))
	}
	for _, m := range matches {
		list := strings.TrimPrefix(strings.TrimPrefix(m[1], "metadata-store:"), "zk:")
		for _, server := range strings.Split(list, ",") {
			server, _, _ = strings.Cut(server, "/")
			if server != "" && !strings.HasSuffix(server, ":"+zooKeeperTLSPort) {
				out = append(out, fmt.Sprintf("%s %s container %v dials ZooKeeper at %s, not its TLS port", o.Kind(), o.Name(), container, server))
			}
		}
	}
	return out
}

// podContainers are a workload's containers, init containers first.
func podContainers(o manifests.Object) []map[string]any {
	pod := podSpec(o.Object)
	if o.Kind() == "CronJob" {
		pod = field(o.Object, "spec", "jobTemplate", "spec", "template", "spec")
	}
	var out []map[string]any
	for _, list := range []string{"initContainers", "containers"} {
		containers, _ := pod[list].([]any)
		for _, c := range containers {
			if cm, ok := c.(map[string]any); ok {
				out = append(out, cm)
			}
		}
	}
	return out
}

// containerScript is a container's command and arguments as one string.
func containerScript(c map[string]any) string {
	var words []string
	for _, k := range []string{"command", "args"} {
		list, _ := c[k].([]any)
		for _, w := range list {
			words = append(words, fmt.Sprint(w))
		}
	}
	return strings.Join(words, " ")
}

// tlsProblems lists where the rendered Pulsar releases listen or connect
// in plaintext, or take certificates from another CA.
func tlsProblems(d regions.RegionDesign, objs []manifests.Object) []string {
	var out []string
	bad := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
	conf := func(name string) map[string]any { return data(find(objs, "ConfigMap", name)) }
	expect := func(cm, key, want string) {
		if got, ok := conf(cm)[key]; !ok || fmt.Sprint(got) != want {
			bad("%s %s = %v, want %q", cm, key, got, want)
		}
	}
	absent := func(cm, key string) {
		if v, ok := conf(cm)[key]; ok {
			bad("%s %s = %v: a plaintext listener or connection", cm, key, v)
		}
	}
	expect("pulsar-broker", "brokerServicePortTls", "6651")
	expect("pulsar-broker", "webServicePortTls", "8443")
	absent("pulsar-broker", "brokerServicePort")
	expect("pulsar-broker", "bookkeeperTLSClientAuthentication", "true")
	expect("pulsar-proxy", "tlsEnabledInProxy", "true")
	expect("pulsar-proxy", "servicePortTls", "6651")
	expect("pulsar-proxy", "tlsEnabledWithBroker", "true")
	absent("pulsar-proxy", "servicePort")
	absent("pulsar-proxy", "brokerServiceURL")
	absent("pulsar-proxy", "brokerWebServiceURL")
	expect("pulsar-zookeeper", "secureClientPort", zooKeeperTLSPort)
	// apply-config-from-env.py runs after the command that deletes the
	// image's clientPort, and would add it back from the environment.
	absent("pulsar-zookeeper", "PULSAR_PREFIX_clientPort")
	absent("pulsar-zookeeper", "clientPort")
	absent("pulsar-broker", "PULSAR_PREFIX_brokerServicePort")
	absent("pulsar-proxy", "PULSAR_PREFIX_servicePort")
	out = append(out, plaintextZooKeeperDials(objs)...)
	out = append(out, quorumTLSProblems(d, find(objs, "StatefulSet", pulsar.Fullname+"-"+pulsar.CompZooKeeper))...)
	autorecovery := pulsar.Fullname + "-" + pulsar.CompAutorecovery
	expect(autorecovery, "PULSAR_PREFIX_tlsProviderFactoryClass", "org.apache.bookkeeper.tls.TLSContextFactory")
	for _, c := range []string{pulsar.CompAutorecovery, pulsar.CompBroker, pulsar.CompProxy} {
		name := pulsar.Fullname + "-" + c
		if _, ok := field(find(objs, "StatefulSet", name), "spec", "template", "metadata", "annotations")["checksum/config"]; !ok {
			bad("%s: no checksum/config annotation: running pods would keep their old settings (autorecovery's plaintext to the bookies, a phase's tuning) until something else restarts them", name)
		}
	}
	files := mountedFiles(find(objs, "StatefulSet", autorecovery))
	for _, k := range []string{"PULSAR_PREFIX_tlsCertificatePath", "PULSAR_PREFIX_tlsKeyStore", "PULSAR_PREFIX_tlsTrustStore"} {
		if path := fmt.Sprint(conf(autorecovery)[k]); !files[path] {
			bad("%s %s = %s: no such file in the pod (the chart mounts %v)", autorecovery, k, path, slices.Sorted(maps.Keys(files)))
		}
	}
	for _, set := range d.Components.Pulsar.BookieSets {
		expect(set.StatefulSet(), "PULSAR_PREFIX_tlsProviderFactoryClass", "org.apache.bookkeeper.tls.TLSContextFactory")
		cert := find(objs, "Certificate", set.Release()+"-tls-bookie")
		if cert == nil {
			bad("no Certificate %s-tls-bookie", set.Release())
			continue
		}
		if name := field(cert, "spec", "issuerRef")["name"]; name != pulsar.CAIssuer {
			bad("Certificate %s-tls-bookie issued by %v, want the region's CA %s", set.Release(), name, pulsar.CAIssuer)
		}
	}
	ca := find(objs, "Certificate", pulsar.CACertificate)
	if ca == nil || spec(ca)["duration"] != pulsar.CADuration || spec(ca)["isCA"] != true || spec(ca)["secretName"] != pulsar.CASecret {
		bad("the region's CA certificate %s: want isCA, duration %s, secret %s", pulsar.CACertificate, pulsar.CADuration, pulsar.CASecret)
	} else if pk, ok := spec(ca)["privateKey"]; ok {
		bad("the region's CA certificate %s sets privateKey %v: the program's patch owns its rotationPolicy (%s), and the release would contest it",
			pulsar.CACertificate, pk, pulsar.CAKeyPolicy)
	}
	issuer := find(objs, "Issuer", pulsar.CAIssuer)
	if issuer == nil || field(issuer, "spec", "ca")["secretName"] != pulsar.CASecret {
		bad("no Issuer %s signing with %s: the jobs mount that Secret's ca.crt", pulsar.CAIssuer, pulsar.CASecret)
	}
	return out
}

// mountedFiles are the files a workload's first container sees from its
// Secret and ConfigMap volumes that list their items (path under the
// mount).
func mountedFiles(workload map[string]any) map[string]bool {
	pod := podSpec(workload)
	items := map[string][]string{}
	vols, _ := pod["volumes"].([]any)
	for _, v := range vols {
		vm, _ := v.(map[string]any)
		src := field(vm, "secret")
		if len(src) == 0 {
			src = field(vm, "configMap")
		}
		list, _ := src["items"].([]any)
		for _, it := range list {
			if im, ok := it.(map[string]any); ok {
				items[fmt.Sprint(vm["name"])] = append(items[fmt.Sprint(vm["name"])], fmt.Sprint(im["path"]))
			}
		}
	}
	out := map[string]bool{}
	containers, _ := pod["containers"].([]any)
	if len(containers) == 0 {
		return out
	}
	mounts, _ := containers[0].(map[string]any)["volumeMounts"].([]any)
	for _, m := range mounts {
		mm, _ := m.(map[string]any)
		if sub, _ := mm["subPath"].(string); sub != "" {
			out[fmt.Sprint(mm["mountPath"])] = true
			continue
		}
		for _, f := range items[fmt.Sprint(mm["name"])] {
			out[strings.TrimSuffix(fmt.Sprint(mm["mountPath"]), "/")+"/"+f] = true
		}
	}
	return out
}

// quorumTLSProblems checks the rendered ZooKeeper StatefulSet runs the
// design's quorum command before the chart writes zookeeper.conf, that the
// files it copies are mounted from the chart's Secrets, and that the
// copies' directory is in memory.
func quorumTLSProblems(d regions.RegionDesign, zk map[string]any) []string {
	var out []string
	q := d.Components.Pulsar.WithDefaults().QuorumTLS
	containers, _ := podSpec(zk)["containers"].([]any)
	if len(containers) == 0 {
		return []string{"no ZooKeeper StatefulSet"}
	}
	args, _ := containers[0].(map[string]any)["args"].([]any)
	script := ""
	if len(args) > 0 {
		script, _ = args[0].(string)
	}
	apply := strings.Index(script, "bin/apply-config-from-env.py conf/zookeeper.conf")
	before := func(cmd string) bool { i := strings.Index(script, cmd); return i >= 0 && apply >= 0 && i < apply }
	if !before(pulsar.QuorumTLSCommand(q)) {
		out = append(out, fmt.Sprintf("pulsar-zookeeper does not run the quorum TLS command of stage %s before the chart writes zookeeper.conf", q))
	}
	if !q.ServesPlaintextClients() && !before(pulsar.CloseClientPort) {
		out = append(out, "pulsar-zookeeper keeps the image's clientPort: ZooKeeper serves plaintext clients on 2181")
	}
	files := mountedFiles(zk)
	for _, f := range pulsar.QuorumSourceFiles() {
		if !files[f] {
			out = append(out, fmt.Sprintf("pulsar-zookeeper: the quorum command copies %s, which the pod does not mount (it mounts %v)", f, slices.Sorted(maps.Keys(files))))
		}
	}
	inMemory := false
	for _, v := range podSpec(zk)["volumes"].([]any) {
		vm, _ := v.(map[string]any)
		if field(vm, "emptyDir")["medium"] == "Memory" && mountedAt(containers[0], fmt.Sprint(vm["name"])) == pulsar.QuorumCertDir {
			inMemory = true
		}
	}
	if !inMemory {
		out = append(out, fmt.Sprintf("pulsar-zookeeper: %s, which holds the copy of ZooKeeper's key, is not a directory in memory", pulsar.QuorumCertDir))
	}
	return out
}

// mountedAt is where a container mounts a volume ("" if it does not).
func mountedAt(container any, volume string) string {
	mounts, _ := container.(map[string]any)["volumeMounts"].([]any)
	for _, m := range mounts {
		if mm, _ := m.(map[string]any); mm["name"] == volume {
			return fmt.Sprint(mm["mountPath"])
		}
	}
	return ""
}

// The dial check reads the forms a chart's scripts take.
func TestZooKeeperDialsAreRead(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   []string
	}{
		{`bin/pulsar zookeeper-shell -r -server pulsar-zookeeper:2281 get /admin/clusters/x`, nil},
		{`bin/pulsar zookeeper-shell -server "pulsar-zookeeper:2281" ls /`, nil},
		{`bin/pulsar zookeeper-shell -server 'pulsar-zookeeper:2281/chroot' ls /`, nil},
		{`bin/pulsar zookeeper-shell -server a:2281,b:2281 ls /`, nil},
		{`bin/pulsar initialize-cluster-metadata --zookeeper pulsar-zookeeper:2281 --configuration-store pulsar-zookeeper:2281`, nil},
		{`bin/pulsar zookeeper-shell -r -server pulsar-zookeeper get /x`, []string{"dials ZooKeeper at pulsar-zookeeper, not its TLS port"}},
		{`bin/pulsar zookeeper-shell -server a:2281,b:2181 ls /`, []string{"at b:2181"}},
		{`bin/pulsar zookeeper-shell ls / && x -server a:2281`, []string{"zookeeper-shell with no server"}},
		{"bin/pulsar zookeeper-shell \\\n  -server pulsar-zookeeper ls /", []string{"at pulsar-zookeeper, not"}},
		{`bin/pulsar initialize-cluster-metadata --metadata-store zk:pulsar-zookeeper:2181/chroot`, []string{"at pulsar-zookeeper:2181, not", "names ZooKeeper at pulsar-zookeeper:2181, its plaintext port"}},
	} {
		o := manifests.Object{Object: map[string]any{"kind": "Job", "metadata": map[string]any{"name": "j"},
			"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"initContainers": []any{
				map[string]any{"name": "wait", "command": []any{"sh", "-c"}, "args": []any{tc.script}}}}}}}}
		got := strings.Join(plaintextZooKeeperDials([]manifests.Object{o}), "\n")
		if len(tc.want) == 0 {
			assert.Empty(t, got, tc.script)
		}
		for _, w := range tc.want {
			assert.Contains(t, got, w, tc.script)
		}
	}
}
