package pulsar

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/k8s"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// runProbe runs the probe's script under /bin/sh in a directory whose
// bin/pulsar-client is client, a stand-in script. The run must end with
// its processes: a consumer left running would hold the output open past
// WaitDelay, and the run would report exec.ErrWaitDelay.
func runProbe(t *testing.T, client string) (stdout, stderr string, err error) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bin", "pulsar-client"), []byte("#!/bin/sh\n"+client), 0o755))
	script := strings.Replace(ProbeScript("pulsar-us-east-1.streaming.example.com"), "sleep 5", "sleep 0", 1)
	require.NotContains(t, script, "sleep 5", "the probe waits for its consumer to subscribe")
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NAMESPACE=pulsar", "TOPIC="+ProbeTopic, "SUBSCRIPTION="+ProbeSubscription, "TMPDIR="+dir, "HOSTNAME=pulsar-probe-29000000-abcde")
	cmd.WaitDelay = 5 * time.Second
	var log strings.Builder
	cmd.Stderr = &log
	out, err := cmd.Output()
	return string(out), log.String(), err
}

// fakeClient stands in for bin/pulsar-client as the probe uses it: produce
// stamps the message with its publish time (ms) in $TMPDIR/topic; consume
// (-n 0) first prints a message an earlier run left, then, once produced,
// the run's message in the pulsar-client's format (line), then stays
// subscribed until stopped.
func fakeClient(line string) string {
	return `now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
case "$1" in
produce)
  shift; while [ "$1" != -m ]; do shift; done
  printf '%s\n%s\n' "$(now_ms)" "$2" > "$TMPDIR/topic.tmp"; mv "$TMPDIR/topic.tmp" "$TMPDIR/topic" ;;
consume)
  echo "INFO  ConsumerImpl - [pulsar-fleet-probe] Subscribed to topic"
  echo "----- got message -----"
  echo "key:[null], publishTime:[1000], eventTime:[0], content:probe pulsar-probe-28999999-zzzzz-1700000000"
  i=0; until [ -s "$TMPDIR/topic" ]; do i=$((i+1)); [ $i -lt 200 ] || exit 1; sleep 0.05; done
  { read -r published; read -r content; } < "$TMPDIR/topic"
  echo "----- got message -----"
  echo "` + line + `"
  exec sleep 30 ;;
esac
`
}

// The probe's last line on success is the result the metric filters read:
// JSON with the marker and the latency of this run's message, not of one
// an earlier run left (published long ago). A failed run prints no result.
func TestProbeScriptPrintsItsResult(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	latency := func(t *testing.T, out string) float64 {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var result map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &result), "the last line is JSON: %q", lines[len(lines)-1])
		assert.Equal(t, model.ProbeResultOK, result[model.ProbeResultField])
		latency, ok := result[model.ProbeLatencyField].(float64)
		require.True(t, ok, "latency is a number: %v", result)
		return latency
	}
	// Pulsar 4.0's order of the fields.
	out, log, err := runProbe(t, fakeClient(`publishTime:[$published], eventTime:[0], key:[null], properties:[], content:$content`))
	require.NoError(t, err, out)
	assert.Contains(t, log, "Subscribed to topic", "the client's log goes to the pod's log")
	assert.Contains(t, log, "content:probe pulsar-probe-28999999-zzzzz", "so does an earlier run's message")
	ms := latency(t, out)
	assert.GreaterOrEqual(t, ms, 0.0)
	assert.Less(t, ms, 10000.0, "the run's own message, from its publish time")

	t.Run("no publish time", func(t *testing.T) {
		out, _, err := runProbe(t, fakeClient(`key:[null], content:$content`))
		require.NoError(t, err, out)
		assert.Equal(t, -1.0, latency(t, out), "the run counts; its latency is not reported")
	})
	for name, client := range map[string]string{
		"produce fails":              `[ "$1" = produce ] && exit 1; exec sleep 30` + "\n",
		"consume fails":              `[ "$1" = consume ] && exit 1; exit 0` + "\n",
		"another message only":       `[ "$1" = consume ] && echo "key:[null], publishTime:[1000], eventTime:[0], content:probe other"; exit 0` + "\n",
		"consume fails with its log": `[ "$1" = consume ] && echo "ERROR ConsumerImpl - Authentication failed" && exit 1; exit 0` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			out, log, err := runProbe(t, client)
			require.Error(t, err, "the run fails")
			assert.NotErrorIs(t, err, exec.ErrWaitDelay, "the consumer is stopped")
			assert.NotContains(t, out, model.ProbeResultField, "no result line")
			if strings.Contains(client, "ERROR") {
				assert.Contains(t, log, "Authentication failed", "the consumer's log reaches the pod's log")
			}
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
