package tests

// The rack sync runs as its CronJob declares it: the program's script,
// command and environment, with its service account's RBAC applied to a
// real kube-apiserver and a token the API server mints for that account,
// against a stand-in for the brokers' admin API. Zones as racks is what
// spreads a ledger's copies over zones; this is the job that makes them so.

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/apiserver"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

func TestRackSyncRegistersZones(t *testing.T) {
	s := startBareAPIServer(t)
	python := needPython(t)
	objs := rackSyncObjects(t, "us-east-1")
	c := rackSyncContainer(t, objs)
	require.Equal(t, "python3", c.Command[0], "the script runs in the image's Python")
	ns := c.Env["NAMESPACE"]

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	require.NoError(t, s.Apply(ctx, map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}, false))
	// No controller manager makes the namespace's default account here.
	require.NoError(t, s.Apply(ctx, map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"name": "default", "namespace": ns}}, false))
	for _, o := range objs {
		require.NoError(t, s.Apply(ctx, o, false))
	}
	bookie := func(i string) string {
		return "pulsar-bookie-" + i + ".pulsar-bookie." + ns + ".svc.cluster.local:3181"
	}
	apply := func(o map[string]any) { t.Helper(); require.NoError(t, s.Apply(ctx, o, false)) }
	apply(node("node-a", "us-east-1a"))
	apply(node("node-b", "us-east-1b"))
	apply(node("node-c", "")) // no zone label
	apply(bookiePod(ns, "pulsar-bookie-0", "node-a"))
	apply(bookiePod(ns, "pulsar-bookie-1", "node-b"))
	apply(bookiePod(ns, "pulsar-bookie-3", "node-c"))
	apply(bookiePod(ns, "pulsar-bookie-4", ""))          // pending
	apply(bookiePod(ns, "pulsar-bookie-5", "node-gone")) // its node deleted
	apply(bookiePod(ns, "pulsar-bookie-6", "node-a"))
	// The failing bookies come first: the others are synced after them.
	brokers := newBrokerAdmin(t, []string{bookie("3"), bookie("5"), bookie("6"), bookie("0"), bookie("1"), bookie("2"), bookie("4")},
		map[string]string{bookie("0"): "us-east-1c", bookie("1"): "us-east-1b"})
	brokers.failOnce[bookie("6")] = true

	saToken, err := s.ServiceAccountToken(ctx, ns, pulsar.RackSyncName)
	require.NoError(t, err)
	env := rackSyncEnv(t, c, s, saToken, brokers)
	run := func(override ...string) (string, string, error) {
		t.Helper()
		cmd := exec.CommandContext(ctx, python, c.Command[1:]...)
		cmd.Env = append(append([]string{}, env...), override...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	var exit *exec.ExitError

	// The brokers' admin API is trusted only with the region's CA, and
	// only under its own name: nothing is read or written otherwise.
	admin := envValue(env, "PULSAR_ADMIN_URL")
	// A bookie list it cannot read (another API's path) fails the run too.
	for name, c := range map[string]struct{ override, why string }{
		"another CA":   {"PULSAR_CA_FILE=" + s.CAFile(), "CERTIFICATE_VERIFY_FAILED"},
		"another name": {"PULSAR_ADMIN_URL=" + strings.Replace(admin, "127.0.0.1", "localhost", 1), "CERTIFICATE_VERIFY_FAILED"},
		"another path": {"PULSAR_ADMIN_URL=" + strings.Replace(admin, "/admin/v2", "/admin/v3", 1), "GET /bookies/all: HTTP 404"},
	} {
		_, stderr, err := run(c.override)
		require.True(t, errors.As(err, &exit), "%s: %v", name, err)
		assert.Contains(t, stderr, "rack sync: cannot list the bookies", name)
		assert.Contains(t, stderr, c.why, name)
		assert.NotContains(t, stderr, "Traceback", name)
		assert.Empty(t, brokers.takeUpdates(), name)
	}

	// Bookies that cannot be synced fail the run, after the others: the
	// stale rack is corrected, the current one left, the unscheduled
	// bookies skipped.
	stdout, stderr, err := run()
	require.True(t, errors.As(err, &exit), "bookies not synced fail the run: %v\n%s", err, stderr)
	assert.Contains(t, stderr, "bookie "+bookie("3")+": its node node-c has no "+model.LabelZone+" label")
	assert.Contains(t, stderr, "bookie "+bookie("5")+": GET /api/v1/nodes/node-gone: HTTP 404")
	assert.Contains(t, stderr, "bookie "+bookie("6")+": GET /bookies/racks-info/"+bookie("6")+": HTTP 500")
	assert.Contains(t, stderr, "rack sync: 3 bookie(s) not synced")
	assert.NotContains(t, stderr, "Traceback")
	assert.Contains(t, stdout, bookie("2")+": no pod pulsar-bookie-2 in "+ns+"; skipped")
	assert.Contains(t, stdout, bookie("4")+": pod pulsar-bookie-4 is not scheduled; skipped")
	assert.Equal(t, []rackUpdate{update(bookie("0"), "us-east-1a")}, brokers.takeUpdates())

	// Once the nodes are there with their zones, the next run registers
	// them, and a run after that changes nothing.
	apply(node("node-c", "us-east-1c"))
	apply(node("node-gone", "us-east-1b"))
	stdout, stderr, err = run()
	require.NoError(t, err, "%s\n%s", stdout, stderr)
	assert.Equal(t, []rackUpdate{update(bookie("3"), "us-east-1c"), update(bookie("5"), "us-east-1b"), update(bookie("6"), "us-east-1a")},
		brokers.takeUpdates())
	_, stderr, err = run()
	require.NoError(t, err, stderr)
	assert.Empty(t, brokers.takeUpdates(), "idempotent")

	// Least privilege: the job's account gets pods and nodes, nothing more.
	for path, want := range map[string]int{
		"/api/v1/namespaces/" + ns + "/pods/pulsar-bookie-0": http.StatusOK,
		"/api/v1/nodes/node-a":                               http.StatusOK,
		"/api/v1/nodes":                                      http.StatusForbidden,
		"/api/v1/namespaces/" + ns + "/pods":                 http.StatusForbidden,
		"/api/v1/namespaces/" + ns + "/secrets":              http.StatusForbidden,
		"/api/v1/namespaces/default/pods/pulsar-bookie-0":    http.StatusForbidden,
	} {
		code, err := s.StatusAs(ctx, saToken, path)
		require.NoError(t, err, path)
		assert.Equal(t, want, code, path)
	}
}

// update is the rack update the brokers expect for a bookie.
func update(bookie, zone string) rackUpdate {
	return rackUpdate{bookie, "default", zone, strings.TrimSuffix(bookie, ":3181")}
}

func envValue(env []string, name string) string {
	for _, e := range env {
		if k, v, _ := strings.Cut(e, "="); k == name {
			return v
		}
	}
	return ""
}

// needPython finds python3, or skips (fails under REQUIRE_APISERVER=1).
func needPython(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("REQUIRE_APISERVER") == "1" {
			t.Fatal("the rack sync runs in python3, which is not on PATH:", err)
		}
		t.Skip("python3 is not on PATH:", err)
	}
	return p
}

// rackSyncObjects are a stack's rack sync objects, as its Pulsar release
// deploys them (the release's extraDeploy).
func rackSyncObjects(t *testing.T, stack string) []map[string]any {
	t.Helper()
	res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: catalog(t), Stacks: []string{stack}})
	require.NoError(t, err)
	var out []map[string]any
	for _, r := range res.Stacks[0].Recorder.ByType("kubernetes:helm.sh/v3:Release") {
		if r.Inputs["chart"] != pulsar.ChartName {
			continue
		}
		for _, o := range r.Input("values.extraDeploy").([]any) {
			o := o.(map[string]any)
			name, _ := (recorder.Resource{Inputs: o}).Input("metadata.name").(string)
			if strings.HasPrefix(name, pulsar.RackSyncName) {
				out = append(out, o)
			}
		}
	}
	require.Len(t, out, 6, "service account, role and binding, cluster role and binding, CronJob")
	return out
}

// container is what a test needs of the rack sync's container.
type container struct {
	Command []string
	Env     map[string]string
}

func rackSyncContainer(t *testing.T, objs []map[string]any) container {
	t.Helper()
	for _, o := range objs {
		if o["kind"] != "CronJob" {
			continue
		}
		var cj struct {
			Spec struct {
				JobTemplate struct {
					Spec struct {
						Template struct {
							Spec struct {
								Containers []struct {
									Command []string
									Env     []struct{ Name, Value string }
								}
							}
						}
					}
				}
			}
		}
		b, err := json.Marshal(o)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &cj))
		cs := cj.Spec.JobTemplate.Spec.Template.Spec.Containers
		require.Len(t, cs, 1)
		c := container{Command: cs[0].Command, Env: map[string]string{}}
		for _, e := range cs[0].Env {
			c.Env[e.Name] = e.Value
		}
		return c
	}
	t.Fatal("no rack sync CronJob")
	return container{}
}

// rackSyncEnv is the container's environment, with the addresses and
// files a pod would have pointed at the test's servers: Kubernetes' (which
// the kubelet sets) and the brokers' (only its host changes).
func rackSyncEnv(t *testing.T, c container, s *apiserver.Server, saToken string, brokers *brokerAdmin) []string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	ca, err := os.ReadFile(s.CAFile())
	require.NoError(t, err)
	sa := filepath.Join(dir, "serviceaccount")
	require.NoError(t, os.Mkdir(sa, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(sa, "token"), []byte(saToken), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(sa, "ca.crt"), ca, 0o600))
	kube, err := url.Parse(s.URL)
	require.NoError(t, err)
	admin, err := url.Parse(c.Env["PULSAR_ADMIN_URL"])
	require.NoError(t, err)
	assert.Equal(t, "pulsar-broker."+c.Env["NAMESPACE"]+".svc.cluster.local:8443", admin.Host, "the brokers' TLS web port")
	admin.Host = strings.TrimPrefix(brokers.URL, "https://")

	env := []string{"PATH=" + os.Getenv("PATH"), "KUBERNETES_SERVICE_HOST=" + kube.Hostname(), "KUBERNETES_SERVICE_PORT=" + kube.Port(),
		"SERVICE_ACCOUNT_DIR=" + sa}
	for k, v := range c.Env {
		switch k {
		case "PULSAR_ADMIN_URL":
			v = admin.String()
		case "PULSAR_TOKEN_FILE":
			v = write("pulsar-token", brokers.token+"\n")
		case "PULSAR_CA_FILE":
			v = write("pulsar-ca.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: brokers.Certificate().Raw})))
		}
		env = append(env, k+"="+v)
	}
	return env
}

func node(name, zone string) map[string]any {
	labels := map[string]any{"kubernetes.io/hostname": name}
	if zone != "" {
		labels[model.LabelZone] = zone
	}
	return map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": name, "labels": labels}}
}

func bookiePod(ns, name, nodeName string) map[string]any {
	spec := map[string]any{"containers": []any{map[string]any{"name": "bookie", "image": "apachepulsar/pulsar-all:" + pulsar.AppVersion}}}
	if nodeName != "" {
		spec["nodeName"] = nodeName
	}
	return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec}
}

// rackUpdate is one POST to racks-info.
type rackUpdate struct{ Bookie, Group, Rack, Hostname string }

// brokerAdmin stands in for the brokers' admin API: the bookies, their
// racks, and the updates it received. It answers only the admin token.
type brokerAdmin struct {
	*httptest.Server
	token   string
	mu      sync.Mutex
	bookies []string
	racks   map[string]string
	updates []rackUpdate
	// failOnce answers a bookie's first racks-info read with a 500.
	failOnce map[string]bool
}

func newBrokerAdmin(t *testing.T, bookies []string, racks map[string]string) *brokerAdmin {
	b := &brokerAdmin{token: "admin-token-for-the-test", bookies: bookies, racks: racks, failOnce: map[string]bool{}}
	b.Server = httptest.NewTLSServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.Close)
	return b
}

func (b *brokerAdmin) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+b.token {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	const racksInfo = "/admin/v2/bookies/racks-info/"
	switch id := strings.TrimPrefix(r.URL.Path, racksInfo); {
	case r.Method == http.MethodGet && r.URL.Path == "/admin/v2/bookies/all":
		var list []map[string]string
		for _, id := range b.bookies {
			list = append(list, map[string]string{"bookieId": id})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"bookies": list})
	case r.Method == http.MethodGet && id != r.URL.Path && b.failOnce[id]:
		delete(b.failOnce, id)
		http.Error(w, "metadata store unavailable", http.StatusInternalServerError)
	case r.Method == http.MethodGet && id != r.URL.Path:
		rack, ok := b.racks[id]
		if !ok {
			http.Error(w, `{"reason":"Bookie address not found"}`, http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"rack": rack, "hostname": strings.Split(id, ":")[0]})
	case r.Method == http.MethodPost && id != r.URL.Path:
		var info struct{ Rack, Hostname string }
		if err := json.NewDecoder(r.Body).Decode(&info); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		b.racks[id] = info.Rack
		b.updates = append(b.updates, rackUpdate{id, r.URL.Query().Get("group"), info.Rack, info.Hostname})
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

func (b *brokerAdmin) takeUpdates() []rackUpdate {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.updates
	b.updates = nil
	return u
}
