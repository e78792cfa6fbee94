package tests

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// The ZooKeeper tier runs real ZooKeeper servers with the program's
// ZooKeeper command, as the chart's container runs it: the quorum's TLS
// settings, the copies of the key and CA, and the plaintext client port
// closed at the last stage. The servers are Debian's zookeeper package
// (3.8), the nearest release to the image's 3.9 that can be had here; the
// settings the program writes (sslQuorum, portUnification, the PEM
// ssl.quorum.* keys, clientPort) are read the same way by both. The tier
// skips without the package, unless REQUIRE_ZOOKEEPER=1 (set by .ci/run,
// which installs it).

// zooKeeperJars are the jars the servers run: Debian's zookeeper.jar names
// its dependencies in its manifest, all but netty's codec, which the TLS
// client port needs.
func zooKeeperJars(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("ZooKeeper tier: not in -short")
	}
	dir := os.Getenv("PULSAR_FLEET_ZOOKEEPER_JARS")
	if dir == "" {
		dir = "/usr/share/java"
	}
	jars := []string{filepath.Join(dir, "zookeeper.jar"), filepath.Join(dir, "netty-codec.jar")}
	_, errJava := exec.LookPath("java")
	for _, j := range jars {
		if _, err := os.Stat(j); err != nil || errJava != nil {
			msg := fmt.Sprintf("ZooKeeper tier: needs java and %v (apt-get install zookeeper, or set PULSAR_FLEET_ZOOKEEPER_JARS)", jars)
			if os.Getenv("REQUIRE_ZOOKEEPER") == "1" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	return strings.Join(jars, string(os.PathListSeparator))
}

// zkServer is one server of the ensemble: its directory stands for the
// container's /pulsar, and its ports for the chart's.
type zkServer struct {
	id                              int
	dir                             string
	plain, secure, quorum, election int
	java, loop                      *exec.Cmd
}

// ensemble is a three-server ZooKeeper on loopback with the region's CA.
type ensemble struct {
	t        *testing.T
	jars     string
	servers  []*zkServer
	client   *tls.Config
	keyPEM   []byte
	chainPEM []byte
	caPEM    []byte
}

func newEnsemble(t *testing.T, jars string) *ensemble {
	ca, caKey := zkCert(t, "region-ca", nil, nil)
	server, serverKey := zkCert(t, "pulsar-zookeeper", ca, caKey)
	client, clientKey := zkCert(t, "pulsar-broker", ca, caKey)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	e := &ensemble{t: t, jars: jars,
		client: &tls.Config{RootCAs: pool, ServerName: "pulsar-zookeeper", MinVersion: tls.VersionTLS12,
			Certificates: []tls.Certificate{{Certificate: [][]byte{client.Raw}, PrivateKey: clientKey}}},
		keyPEM: pkcs8PEM(t, serverKey), chainPEM: certPEM(server), caPEM: certPEM(ca)}
	root := t.TempDir()
	for i := 1; i <= 3; i++ {
		s := &zkServer{id: i, dir: filepath.Join(root, fmt.Sprint("zk-", i)),
			plain: freePort(t), secure: freePort(t), quorum: freePort(t), election: freePort(t)}
		// The chart's mounts: ZooKeeper's Secret (the combined PEM, key
		// then chain, as cert-manager writes it) and the CA.
		for path, b := range map[string][]byte{
			"certs/zookeeper/tls-combined.pem": append(append([]byte{}, e.keyPEM...), e.chainPEM...),
			"certs/ca/ca.crt":                  e.caPEM,
		} {
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(s.dir, path)), 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(s.dir, path), b, 0o600))
		}
		for _, d := range []string{"conf", "data/zookeeper", strings.TrimPrefix(pulsar.QuorumCertDir, "/pulsar/")} {
			require.NoError(t, os.MkdirAll(filepath.Join(s.dir, d), 0o700))
		}
		require.NoError(t, os.WriteFile(filepath.Join(s.dir, "data/zookeeper/myid"), []byte(fmt.Sprint(i)), 0o600))
		e.servers = append(e.servers, s)
	}
	t.Cleanup(func() {
		for _, s := range e.servers {
			s.stop()
		}
	})
	return e
}

// start runs a server as the chart's container does, from a fresh
// zookeeper.conf (a restarted container starts from the image's files):
// the program's command for the stage (none for a region deployed before
// quorum TLS), then what the chart's scripts write (the TLS client port
// from its ConfigMap, the server lines), then ZooKeeper with the TLS
// client settings the chart passes as system properties.
func (e *ensemble) start(s *zkServer, stage model.QuorumTLS) {
	t := e.t
	conf := filepath.Join(s.dir, "conf/zookeeper.conf")
	base := fmt.Sprintf("tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=%s/data/zookeeper\nclientPort=%d\nadmin.enableServer=false\n"+
		"sslQuorum=false\nportUnification=false\n", s.dir, s.plain)
	require.NoError(t, os.WriteFile(conf, []byte(base), 0o600))
	if stage != model.QuorumPlaintext {
		script := strings.ReplaceAll(pulsar.ZooKeeperCommand(stage), "/pulsar/", s.dir+"/")
		s.loop = exec.Command("/bin/sh", "-c", script)
		s.loop.Dir = s.dir
		s.loop.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		out, err := s.loop.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Empty(t, string(out), "the command succeeds quietly")
	}
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	fmt.Fprintf(f, "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\nsecureClientPort=%d\n", s.secure)
	for _, o := range e.servers {
		fmt.Fprintf(f, "server.%d=127.0.0.1:%d:%d\n", o.id, o.quorum, o.election)
	}
	require.NoError(t, f.Close())
	s.java = exec.Command("java", "-Xmx128m", "-cp", e.jars,
		"-Dzookeeper.4lw.commands.whitelist=*",
		"-Dzookeeper.ssl.keyStore.location="+filepath.Join(s.dir, "certs/zookeeper/tls-combined.pem"), "-Dzookeeper.ssl.keyStore.type=PEM",
		"-Dzookeeper.ssl.trustStore.location="+filepath.Join(s.dir, "certs/ca/ca.crt"), "-Dzookeeper.ssl.trustStore.type=PEM",
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", conf)
	s.java.Dir = s.dir
	// Killed with the test, even one cut short by -timeout.
	s.java.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	log, err := os.Create(filepath.Join(s.dir, "zookeeper.log"))
	require.NoError(t, err)
	s.java.Stdout, s.java.Stderr = log, log
	require.NoError(t, s.java.Start())
}

// stop ends the server and the command's copy loop.
func (s *zkServer) stop() {
	for _, c := range []*exec.Cmd{s.java, s.loop} {
		if c != nil && c.Process != nil {
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		}
	}
	if s.java != nil && s.java.Process != nil {
		_ = s.java.Wait()
	}
	s.java, s.loop = nil, nil
}

// mode asks a server its mode over its TLS client port with a client
// certificate of the region's CA ("" if it does not answer).
func (e *ensemble) mode(s *zkServer) string {
	answer, err := fourLetter(s.secure, e.client, "srvr")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(answer, "\n") {
		if m, ok := strings.CutPrefix(line, "Mode: "); ok {
			return m
		}
	}
	return ""
}

// modes are every server's mode, in order.
func (e *ensemble) modes() []string {
	var out []string
	for _, s := range e.servers {
		out = append(out, e.mode(s))
	}
	return out
}

// formed reports one leader and every other server following.
func formed(modes []string) bool {
	leaders, followers := 0, 0
	for _, m := range modes {
		switch m {
		case "leader":
			leaders++
		case "follower":
			followers++
		}
	}
	return leaders == 1 && leaders+followers == len(modes)
}

// waitFormed waits for the quorum, or fails the test with the modes and
// the servers' logs' last lines.
func (e *ensemble) waitFormed(what string) {
	t := e.t
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !formed(e.modes()) {
		if time.Now().After(deadline) {
			for _, s := range e.servers {
				b, _ := os.ReadFile(filepath.Join(s.dir, "zookeeper.log"))
				t.Logf("zk-%d log tail:\n%s", s.id, tail(string(b), 2000))
			}
			t.Fatalf("%s: the quorum did not form: modes %v", what, e.modes())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// answersPlaintext reports whether ZooKeeper answers ruok in plaintext on
// a port (another program that took the port after freePort would not).
func answersPlaintext(port int) bool {
	answer, err := fourLetter(port, nil, "ruok")
	return err == nil && answer == "imok"
}

// fourLetter is a server's answer to a four-letter command, over TLS with
// cfg (plaintext without one); an error if the connection, the handshake
// or the answer fails.
func fourLetter(port int, cfg *tls.Config, cmd string) (string, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	dialer := &net.Dialer{Timeout: 3 * time.Second}
	var conn net.Conn
	var err error
	if cfg == nil {
		conn, err = dialer.Dial("tcp", addr)
	} else {
		conn, err = tls.DialWithDialer(dialer, "tcp", addr, cfg)
	}
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write([]byte(cmd)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(conn)
	if len(b) == 0 {
		return "", fmt.Errorf("no answer: %v", err)
	}
	return string(b), nil
}

// A running region moves its quorum to TLS in the three stages the guard
// allows, one server restarted at a time, and the quorum holds after
// every restart; at the last stage no server listens on the plaintext
// client port. A server two stages away from the others cannot join
// them, which is why the guard refuses two stages in one `up`.
func TestZooKeeperQuorumTLSWithRealServers(t *testing.T) {
	e := newEnsemble(t, zooKeeperJars(t))
	for _, s := range e.servers {
		e.start(s, model.QuorumPlaintext)
	}
	e.waitFormed("a quorum deployed before quorum TLS")
	for _, stage := range model.QuorumTLSStages {
		// In the StatefulSet's order: the highest ordinal first.
		for _, s := range slices.Backward(e.servers) {
			s.stop()
			e.start(s, stage)
			e.waitFormed(fmt.Sprintf("zk-%d restarted at %s", s.id, stage))
		}
		for _, s := range e.servers {
			assert.Equal(t, stage.ServesPlaintextClients(), answersPlaintext(s.plain), "zk-%d at %s: ZooKeeper on the plaintext client port", s.id, stage)
			assert.NotEmpty(t, e.mode(s), "zk-%d at %s: the TLS client port", s.id, stage)
		}
	}

	// TLS only: a client without a certificate, or with one of another
	// CA, is refused on the client port; the region's client is answered.
	otherCA, otherKey := zkCert(t, "another-ca", nil, nil)
	stranger, strangerKey := zkCert(t, "pulsar-broker", otherCA, otherKey)
	strangerCert := &tls.Certificate{Certificate: [][]byte{stranger.Raw}, PrivateKey: strangerKey}
	for name, cfg := range map[string]*tls.Config{
		"no certificate": {RootCAs: e.client.RootCAs, ServerName: e.client.ServerName},
		"a certificate of another CA": {RootCAs: e.client.RootCAs, ServerName: e.client.ServerName,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return strangerCert, nil }},
	} {
		_, err := fourLetter(e.servers[0].secure, cfg, "srvr")
		assert.ErrorContains(t, err, "remote error: tls:", "a client with %s", name)
	}
	_, err := fourLetter(e.servers[0].secure, e.client, "srvr")
	assert.NoError(t, err, "the region's client")

	// A server put back to plaintext cannot reach the others (they accept
	// TLS only), so it never joins; it runs, and says it serves nothing.
	odd := e.servers[2]
	odd.stop()
	e.start(odd, model.QuorumPlaintext)
	time.Sleep(15 * time.Second)
	assert.Equal(t, "", e.mode(odd), "a plaintext server joined a TLS-only quorum")
	assert.True(t, formed(e.modes()[:2]), "the two TLS servers keep their quorum: %v", e.modes())
	stat, err := fourLetter(odd.secure, e.client, "stat")
	require.NoError(t, err, "the plaintext server runs")
	assert.Contains(t, stat, "not currently serving requests")
	odd.stop()
	e.start(odd, model.QuorumTLSOnly)
	e.waitFormed("zk-3 back at tls")
}

// zkCert makes an RSA certificate for name signed by parent (self-signed
// without one), for servers and clients both, naming DNS names only, as
// the chart's Certificates do: the servers dial each other at addresses no
// certificate names, which the quorum's settings allow.
func zkCert(t *testing.T, name string, parent *x509.Certificate, parentKey *rsa.PrivateKey) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames:    []string{name, name + ".pulsar.svc.cluster.local"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		tmpl.DNSNames, tmpl.ExtKeyUsage = nil, nil
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert, key
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func pkcs8PEM(t *testing.T, k *rsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
