//go:build linux

package pulsar

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// TestQuorumCommandRenewsTheCopies runs the quorum command under /bin/sh
// over a Secret volume laid out as the kubelet lays it out (files behind
// ..data) and renews the Secret as the kubelet does (a new ..data). A
// watcher on the Secret's directory, as ZooKeeper's would be there, sees
// no event naming the key file; on the copies' directory it sees the
// copy renamed into place, the event sslQuorumReloadCertFiles reloads on.
func TestQuorumCommandRenewsTheCopies(t *testing.T) {
	root := t.TempDir()
	pulsarDir := filepath.Join(root, "pulsar")
	secret := func(dir, name, gen, content string) {
		ts := filepath.Join(dir, "..gen"+gen)
		require.NoError(t, os.MkdirAll(ts, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(ts, name), []byte(content), 0o644))
		tmp := filepath.Join(dir, "..data_tmp")
		require.NoError(t, os.Symlink("..gen"+gen, tmp))
		require.NoError(t, os.Rename(tmp, filepath.Join(dir, "..data")))
		if _, err := os.Lstat(filepath.Join(dir, name)); os.IsNotExist(err) {
			require.NoError(t, os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)))
		}
	}
	keyDir, caDir := filepath.Join(pulsarDir, "certs", "zookeeper"), filepath.Join(pulsarDir, "certs", "ca")
	copies := filepath.Join(pulsarDir, "quorum-tls")
	for _, d := range []string{keyDir, caDir, copies, filepath.Join(pulsarDir, "conf")} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	secret(keyDir, "tls-combined.pem", "1", "KEY AND CHAIN 1\n")
	secret(caDir, "ca.crt", "1", "CA 1\n")
	conf := filepath.Join(pulsarDir, "conf", "zookeeper.conf")
	require.NoError(t, os.WriteFile(conf, []byte("tickTime=2000\nclientPort=2181\ndataDir=data/zookeeper\n"), 0o644))

	script := strings.ReplaceAll(ZooKeeperCommand(model.QuorumTLSOnly), "/pulsar/", pulsarDir+"/")
	script = strings.Replace(script, "sleep 60", "sleep 1", 1)
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Dir = pulsarDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Run(), "the command returns, leaving its loop behind")
	loop := cmd.Process.Pid
	t.Cleanup(func() { _ = syscall.Kill(-loop, syscall.SIGKILL) })

	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	assert.Equal(t, "KEY AND CHAIN 1\n", read(filepath.Join(copies, "tls-combined.pem")))
	assert.Equal(t, "CA 1\n", read(filepath.Join(copies, "ca.crt")))
	info, err := os.Stat(filepath.Join(copies, "tls-combined.pem"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the key's copy is the owner's only")
	var want []string
	for _, kv := range QuorumTLSConfig(model.QuorumTLSOnly) {
		want = append(want, strings.ReplaceAll(kv[0]+"="+kv[1], "/pulsar/", pulsarDir+"/"))
	}
	assert.Equal(t, "tickTime=2000\ndataDir=data/zookeeper\n"+strings.Join(want, "\n")+"\n", read(conf),
		"the stage's settings appended, the plaintext client port's line gone")

	inSecret, inCopies := watch(t, keyDir), watch(t, copies)
	secret(keyDir, "tls-combined.pem", "2", "KEY AND CHAIN 2\n")
	deadline := time.Now().Add(10 * time.Second)
	for read(filepath.Join(copies, "tls-combined.pem")) != "KEY AND CHAIN 2\n" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, "KEY AND CHAIN 2\n", read(filepath.Join(copies, "tls-combined.pem")), "the loop copies the renewed key")
	assert.NotContains(t, inSecret(), "tls-combined.pem", "the kubelet's renewal names no file a watcher there waits for")
	assert.Contains(t, inCopies(), "tls-combined.pem", "the copy is renamed into place: the event ZooKeeper reloads on")
}

// watch reports the names of the entries created in or moved into dir
// (inotify, as Java's WatchService on Linux) until it is called.
func watch(t *testing.T, dir string) func() []string {
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	_, err = syscall.InotifyAddWatch(fd, dir, syscall.IN_CREATE|syscall.IN_MOVED_TO|syscall.IN_MODIFY)
	require.NoError(t, err)
	return func() []string {
		var names []string
		buf := make([]byte, 64*1024)
		n, _ := syscall.Read(fd, buf)
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+syscall.SizeofInotifyEvent : off+syscall.SizeofInotifyEvent+int(ev.Len)]
			names = append(names, string(bytes.TrimRight(name, "\x00")))
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
		return names
	}
}
