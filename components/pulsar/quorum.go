package pulsar

import (
	"strconv"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// ZooKeeper's quorum over TLS. The chart turns TLS on for ZooKeeper's
// clients only; the program adds the quorum (ZooKeeper 3.9's sslQuorum)
// with the certificate the chart already issues to ZooKeeper, in the PEM
// form ZooKeeper reads (its Secret's tls-combined.pem, key and chain), and
// the region's CA.
//
// The quorum keeps one SSL context for the server's life and reloads it
// only when a file watcher sees an event naming its key or trust file
// (sslQuorumReloadCertFiles). A Secret volume changes by swapping its
// ..data link, which names neither, so the quorum would keep a 90-day
// certificate past its expiry. So the server reads copies instead, in a
// directory of its own in memory, which a loop started before ZooKeeper
// refreshes every minute with a rename when the Secret's files change: the
// rename is the event the watcher waits for.
const (
	// QuorumCertDir holds the copies (an emptyDir in memory).
	QuorumCertDir    = "/pulsar/quorum-tls"
	quorumCertVolume = "quorum-tls"
	// zookeeperKeyFile is where the chart mounts ZooKeeper's combined PEM
	// (pulsar.zookeeper.certs.volumeMounts), beside the region's CA
	// (CAFile).
	zookeeperKeyFile = "/pulsar/certs/zookeeper/tls-combined.pem"
	// QuorumRefreshSeconds is how often the loop compares the copies.
	QuorumRefreshSeconds = 60
)

// QuorumTLSConfig is the zoo.cfg of a quorum stage: which way the servers
// dial and accept (model.QuorumTLS), and the key and trust files. ZooKeeper
// makes each ssl.quorum.* line the system property its QuorumX509Util
// reads (zookeeper.ssl.quorum.*). Host names are not checked, which is
// what ZooKeeper 3.9 does anyway: in its default FIPS mode it uses the
// JDK's trust manager, which checks none on the quorum's sockets. Its own
// trust manager (FIPS mode off) would check a dialing peer by its address,
// which no certificate names. The servers dial each other under the
// headless Service, which the chart's certificate does name. A peer is
// authenticated by the region's CA, which signs the chart's components
// only, and only ZooKeeper's pods reach these ports (NetworkPolicies).
// The keys are checked against ZooKeeper's own list
// (internal/upstream/zookeeper-keys.txt).
func QuorumTLSConfig(q model.QuorumTLS) [][2]string {
	return [][2]string{
		{"sslQuorum", strconv.FormatBool(q.DialsTLS())},
		{"portUnification", strconv.FormatBool(q.AcceptsPlaintext())},
		{"sslQuorumReloadCertFiles", "true"},
		{"ssl.quorum.keyStore.location", QuorumCertDir + "/tls-combined.pem"},
		{"ssl.quorum.keyStore.type", "PEM"},
		{"ssl.quorum.trustStore.location", QuorumCertDir + "/ca.crt"},
		{"ssl.quorum.trustStore.type", "PEM"},
		{"ssl.quorum.hostnameVerification", "false"},
	}
}

// QuorumTLSCommand is the one line the ZooKeeper container runs before
// the chart's start-up: it copies the key and CA into QuorumCertDir (a
// copy, then a rename), starts the loop that keeps the copies current,
// and appends the stage's settings to conf/zookeeper.conf, which the
// chart's scripts then complete (apply-config-from-env.py keeps lines it
// does not set).
func QuorumTLSCommand(q model.QuorumTLS) string {
	var conf []string
	for _, kv := range QuorumTLSConfig(q) {
		conf = append(conf, "'"+kv[0]+"="+kv[1]+"'")
	}
	sync := "quorum_certs() { for f in " + strings.Join(QuorumSourceFiles(), " ") + "; do c=" + QuorumCertDir + "/$(basename $f); " +
		"diff -q $f $c >/dev/null 2>&1 || { (umask 077 && cp $f $c.tmp) && mv -f $c.tmp $c; }; done; }"
	return sync + "; quorum_certs; (while sleep " + itoa(QuorumRefreshSeconds) + "; do quorum_certs; done) >/dev/null 2>&1 & " +
		"printf '%s\\n' " + strings.Join(conf, " ") + " >> conf/zookeeper.conf;"
}

// CloseClientPort deletes the clientPort line that the image's
// zookeeper.conf carries, so that ZooKeeper opens its TLS client port
// (secureClientPort) only. It runs before the chart's
// apply-config-from-env.py, which adds a key only from a PULSAR_PREFIX_
// variable (the chart sets none for clientPort) and turns a commented key
// back on, hence a deleted line rather than a comment. With no clientPort,
// ZooKeeper 3.9 starts no plaintext listener (QuorumPeerMain creates the
// plaintext factory only for a client address). The file is rewritten in
// place, as the chart's scripts write it, with no temporary file beside
// it; if that fails, ZooKeeper still starts, with 2181 open as before
// (which the NetworkPolicies refuse), and the container's log says so.
const CloseClientPort = "zkconf=$(grep -v '^clientPort=' conf/zookeeper.conf) && printf '%s\\n' \"$zkconf\" > conf/zookeeper.conf || " +
	"echo 'pulsar-fleet: clientPort is still in conf/zookeeper.conf: ZooKeeper serves plaintext clients on 2181' >&2;"

// ZooKeeperCommand is the ZooKeeper container's additional command at a
// quorum stage: the quorum command, and at the last stage CloseClientPort
// (model.QuorumTLS.ServesPlaintextClients).
func ZooKeeperCommand(q model.QuorumTLS) string {
	if q.ServesPlaintextClients() {
		return QuorumTLSCommand(q)
	}
	return QuorumTLSCommand(q) + " " + CloseClientPort
}

// ZooKeeperModeCommand, run in a ZooKeeper pod, prints that server's
// mode (leader, follower): ZooKeeper's srvr command over its TLS client
// port with the server's own certificate, as the chart's probe sends
// ruok. Pulsar's launcher allows every four-letter command.
const ZooKeeperModeCommand = "{ echo srvr; sleep 1; } | openssl s_client -quiet -crlf -connect 127.0.0.1:2281 " +
	"-cert /pulsar/certs/zookeeper/tls.crt -key /pulsar/certs/zookeeper/tls.key | grep Mode"

// QuorumSourceFiles are the files the quorum command copies: ZooKeeper's
// key and chain, and the region's CA, where the chart mounts them.
func QuorumSourceFiles() []string { return []string{zookeeperKeyFile, CAFile} }

// quorumTLS are the ZooKeeper values of a stage: its command, and the
// in-memory directory of the copies.
func quorumTLS(q model.QuorumTLS) (string, []PodVolume, []VolumeMount) {
	return ZooKeeperCommand(q),
		[]PodVolume{{Name: quorumCertVolume, EmptyDir: &EmptyDirVolume{Medium: "Memory"}}},
		[]VolumeMount{{Name: quorumCertVolume, MountPath: QuorumCertDir}}
}
