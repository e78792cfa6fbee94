package pulsar

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// runProbe runs the probe's script under /bin/sh in a directory whose
// bin/pulsar-client is client, a stand-in script.
func runProbe(t *testing.T, client string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bin", "pulsar-client"), []byte("#!/bin/sh\n"+client), 0o755))
	script := strings.Replace(ProbeScript("pulsar-us-east-1.streaming.example.com"), "sleep 5", "sleep 0", 1)
	require.NotContains(t, script, "sleep 5", "the probe waits for its consumer to subscribe")
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NAMESPACE=pulsar", "TOPIC="+ProbeTopic, "SUBSCRIPTION="+ProbeSubscription, "TMPDIR="+dir)
	out, err := cmd.Output()
	return string(out), err
}

// The probe's last line on success is the result the metric filters read:
// JSON with the marker and a latency. A failed run prints no result.
func TestProbeScriptPrintsItsResult(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	out, err := runProbe(t, "exit 0\n")
	require.NoError(t, err, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var result map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &result), "the last line is JSON: %q", lines[len(lines)-1])
	assert.Equal(t, model.ProbeResultOK, result[model.ProbeResultField])
	latency, ok := result[model.ProbeLatencyField].(float64)
	require.True(t, ok, "latency is a number: %v", result)
	assert.GreaterOrEqual(t, latency, 0.0)

	for name, client := range map[string]string{
		"produce fails": `[ "$1" = produce ] && exit 1; exit 0` + "\n",
		"consume fails": `[ "$1" = consume ] && exit 1; exit 0` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			out, err := runProbe(t, client)
			assert.Error(t, err, "the run fails")
			assert.NotContains(t, out, model.ProbeResultField, "no result line")
		})
	}
}

func TestProbeResultLineMatchesFilters(t *testing.T) {
	line := model.ProbeResultLine(1234)
	var result map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &result))
	assert.Equal(t, model.ProbeResultOK, result[model.ProbeResultField])
	assert.EqualValues(t, 1234, result[model.ProbeLatencyField])
	for _, pattern := range []string{model.ProbeSuccessPattern("pulsar"), model.ProbeLatencyPattern("pulsar")} {
		assert.Contains(t, pattern, "$."+model.ProbeResultField+` = "`+model.ProbeResultOK+`"`)
		assert.Contains(t, pattern, `$.kubernetes.namespace_name = "pulsar" && $.kubernetes.container_name = "probe"`, "only the probe's lines count")
	}
	assert.Contains(t, model.ProbeLatencyPattern("pulsar"), "$."+model.ProbeLatencyField)
	c := probe("pulsar", "", k8sMeta(), nil, nil, nil, nil).Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	assert.Equal(t, model.ProbeContainer, c.Name, "the container the filters match")
	assert.Equal(t, "$."+model.ProbeLatencyField, model.ProbeLatencyValue())
}

func k8sMeta() k8s.Meta { return k8s.Meta{Name: ProbeName, Namespace: "pulsar"} }

// Through the client listener the probe goes as clients do: the listener's
// name on 6651, its public certificate checked against the JVM's roots
// with the host name; without a name, the proxies' Service with the CA.
func TestProbeGoesTheClientsWay(t *testing.T) {
	s := ProbeScript("pulsar-us-east-1.streaming.example.com")
	assert.Contains(t, s, "brokerServiceUrl=pulsar+ssl://pulsar-us-east-1.streaming.example.com:6651/")
	assert.Contains(t, s, "tlsEnableHostnameVerification=true")
	assert.Contains(t, s, "tlsAllowInsecureConnection=false")
	assert.NotContains(t, s, "tlsTrustCertsFilePath", "the ACM certificate chains to the public roots, not the region's CA")
	assert.NotContains(t, s, "svc.cluster.local")
	in := ProbeScript("")
	assert.Contains(t, in, `PULSAR_HOST="pulsar-proxy.${NAMESPACE}.svc.cluster.local"`)
	assert.Contains(t, in, "tlsTrustCertsFilePath="+CAFile)
}
