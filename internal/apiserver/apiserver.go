// Package apiserver runs a real Kubernetes API server for tests: Debian's
// etcd and a kube-apiserver built from the Go module proxy
// (tools/kubeapiserver), both on loopback with their data in a temporary
// directory, and a small client that applies objects with server-side
// apply, strict field validation and, for the objects under test,
// dryRun=All: exactly what `kubectl apply --server-side --dry-run=server
// --validate=strict` sends.
package apiserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// Options locate the binaries and the working directory.
type Options struct {
	// Etcd and KubeAPIServer are the executables.
	Etcd, KubeAPIServer string
	// Dir holds etcd's data, certificates and logs.
	Dir string
	// Ready bounds how long to wait for /readyz.
	Ready time.Duration
}

// Server is a running etcd + kube-apiserver pair.
type Server struct {
	// URL is the API server's https address.
	URL    string
	token  string
	caFile string
	client *http.Client
	procs  []proc

	mu        sync.Mutex
	resources map[string]resourceInfo // "group/version/Kind"
}

// proc is a started process; done closes when it exits.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

type resourceInfo struct {
	plural     string
	namespaced bool
}

// FindEtcd returns the etcd executable ($PULSAR_FLEET_ETCD, PATH, or
// Debian's /usr/bin/etcd), or an error saying how to install it.
func FindEtcd() (string, error) {
	if p := os.Getenv("PULSAR_FLEET_ETCD"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("etcd"); err == nil {
		return p, nil
	}
	return "", errors.New("etcd not found: install Debian's etcd-server (apt-get install etcd-server) or set PULSAR_FLEET_ETCD")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts etcd and the API server and waits until it is ready. Stop
// must be called even when Start fails part-way (it stops what started).
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Ready == 0 {
		o.Ready = 2 * time.Minute
	}
	s := &Server{resources: map[string]resourceInfo{}}
	ports := make([]int, 3)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return s, err
		}
		ports[i] = p
	}
	client, peer, secure := ports[0], ports[1], ports[2]
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", client)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peer)
	if err := s.spawn(o.Dir, "etcd", o.Etcd,
		"--name", "test", "--data-dir", filepath.Join(o.Dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "test="+peerURL, "--initial-cluster-state", "new"); err != nil {
		return s, err
	}

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return s, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return s, err
	}
	files := map[string][]byte{
		"sa.key": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return s, err
	}
	s.token = hex.EncodeToString(tok)
	files["tokens.csv"] = []byte(s.token + `,admin,admin,"system:masters"` + "\n")
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(o.Dir, name), b, 0o600); err != nil {
			return s, err
		}
	}
	certs := filepath.Join(o.Dir, "certs")
	if err := s.spawn(o.Dir, "kube-apiserver", o.KubeAPIServer,
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", fmt.Sprintf("--secure-port=%d", secure),
		"--cert-dir", certs,
		"--token-auth-file", filepath.Join(o.Dir, "tokens.csv"),
		"--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", filepath.Join(o.Dir, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(o.Dir, "sa.key"),
		"--service-cluster-ip-range", "10.96.0.0/16",
		"--endpoint-reconciler-type", "none",
		"--enable-priority-and-fairness=false",
	); err != nil {
		return s, err
	}
	s.URL = fmt.Sprintf("https://127.0.0.1:%d", secure)
	s.caFile = filepath.Join(certs, "apiserver.crt")

	deadline := time.Now().Add(o.Ready)
	for {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		if s.client == nil {
			// The API server writes its self-signed serving certificate
			// and CA on start; trust exactly that.
			if pemBytes, err := os.ReadFile(filepath.Join(certs, "apiserver.crt")); err == nil {
				pool := x509.NewCertPool()
				if pool.AppendCertsFromPEM(pemBytes) {
					s.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
				}
			}
		}
		if s.client != nil {
			if code, _, err := s.do(ctx, http.MethodGet, "/readyz", "", nil); err == nil && code == http.StatusOK {
				return s, nil
			}
		}
		for i, p := range s.procs {
			select {
			case <-p.done:
				return s, fmt.Errorf("%s exited: %s", p.name, s.tail(i))
			default:
			}
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("kube-apiserver not ready after %s: %s", o.Ready, s.tail(1))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Kubeconfig is a kubeconfig for the server: its address, the serving
// certificate it wrote on start as the only trusted CA, and the admin
// token (system:masters).
func (s *Server) Kubeconfig() (string, error) {
	ca, err := os.ReadFile(s.caFile)
	if err != nil {
		return "", err
	}
	cfg := map[string]any{
		"apiVersion": "v1", "kind": "Config", "current-context": "local",
		"clusters": []any{map[string]any{"name": "local", "cluster": map[string]any{
			"server": s.URL, "certificate-authority-data": base64.StdEncoding.EncodeToString(ca)}}},
		"users":    []any{map[string]any{"name": "admin", "user": map[string]any{"token": s.token}}},
		"contexts": []any{map[string]any{"name": "local", "context": map[string]any{"cluster": "local", "user": "admin"}}},
	}
	b, err := json.Marshal(cfg)
	return string(b), err
}

func (s *Server) spawn(dir, name, bin string, args ...string) error {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	p := proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	s.procs = append(s.procs, p)
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	return nil
}

// tail returns the end of a process's log.
func (s *Server) tail(i int) string {
	if i >= len(s.procs) {
		return ""
	}
	b, _ := os.ReadFile(s.procs[i].log)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// Stop stops the API server, then etcd.
func (s *Server) Stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

func (s *Server) do(ctx context.Context, method, path, contentType string, body []byte) (int, []byte, error) {
	return s.doAs(ctx, s.token, method, path, contentType, body)
}

// doAs sends a request with the given bearer token.
func (s *Server) doAs(ctx context.Context, token, method, path, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// Error is the API server's refusal of an object.
type Error struct {
	// Object identifies what was applied.
	Object string
	// Code, Reason and Message are the API server's Status.
	Code    int
	Reason  string
	Message string
	// Fields are the causes' field paths.
	Fields []string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: rejected by the API server (%d %s): %s", e.Object, e.Code, e.Reason, e.Message)
}

func split(apiVersion string) (group, version string) {
	if g, v, ok := strings.Cut(apiVersion, "/"); ok {
		return g, v
	}
	return "", apiVersion
}

func basePath(group, version string) string {
	if group == "" {
		return "/api/" + version
	}
	return "/apis/" + group + "/" + version
}

// resource resolves a kind through discovery (refreshed on a miss, so a
// CRD applied a moment ago is found).
func (s *Server) resource(ctx context.Context, apiVersion, kind string) (resourceInfo, error) {
	key := apiVersion + "/" + kind
	s.mu.Lock()
	info, ok := s.resources[key]
	s.mu.Unlock()
	if ok {
		return info, nil
	}
	group, version := split(apiVersion)
	code, body, err := s.do(ctx, http.MethodGet, basePath(group, version), "", nil)
	if err != nil {
		return info, err
	}
	if code != http.StatusOK {
		return info, fmt.Errorf("%s is not served by the API server (is its CRD installed?)", apiVersion)
	}
	var list struct {
		Resources []struct {
			Name       string `json:"name"`
			Kind       string `json:"kind"`
			Namespaced bool   `json:"namespaced"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return info, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range list.Resources {
		if strings.Contains(r.Name, "/") {
			continue
		}
		s.resources[apiVersion+"/"+r.Kind] = resourceInfo{plural: r.Name, namespaced: r.Namespaced}
	}
	info, ok = s.resources[key]
	if !ok {
		return info, fmt.Errorf("kind %s is not served in %s", kind, apiVersion)
	}
	return info, nil
}

// Namespaced reports whether a kind is namespaced (through discovery).
func (s *Server) Namespaced(ctx context.Context, apiVersion, kind string) (bool, error) {
	info, err := s.resource(ctx, apiVersion, kind)
	return info.namespaced, err
}

// Apply server-side-applies one object with strict field validation; with
// dryRun the API server validates, defaults and admits it without storing
// it.
func (s *Server) Apply(ctx context.Context, obj map[string]any, dryRun bool) error {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	id := fmt.Sprintf("%s %s %s", apiVersion, kind, name)
	if ns != "" {
		id = fmt.Sprintf("%s %s %s/%s", apiVersion, kind, ns, name)
	}
	if apiVersion == "" || kind == "" || name == "" {
		return &Error{Object: id, Reason: "Incomplete", Message: "apiVersion, kind and metadata.name are required"}
	}
	path, err := s.objectPath(ctx, apiVersion, kind, ns, name)
	if err != nil {
		return &Error{Object: id, Reason: "NotServed", Message: err.Error()}
	}
	q := url.Values{"fieldManager": {"pulsar-fleet"}, "fieldValidation": {"Strict"}, "force": {"true"}}
	if dryRun {
		q.Set("dryRun", "All")
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	code, resp, err := s.do(ctx, http.MethodPatch, path+"?"+q.Encode(), "application/apply-patch+yaml", body)
	if err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	if code == http.StatusOK || code == http.StatusCreated {
		return nil
	}
	var status struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
		Details struct {
			Causes []struct {
				Field string `json:"field"`
			} `json:"causes"`
		} `json:"details"`
	}
	_ = json.Unmarshal(resp, &status)
	e := &Error{Object: id, Code: code, Reason: status.Reason, Message: status.Message}
	if e.Message == "" {
		e.Message = string(resp)
	}
	for _, c := range status.Details.Causes {
		if c.Field != "" {
			e.Fields = append(e.Fields, c.Field)
		}
	}
	return e
}

// objectPath is the REST path of one object.
func (s *Server) objectPath(ctx context.Context, apiVersion, kind, ns, name string) (string, error) {
	info, err := s.resource(ctx, apiVersion, kind)
	if err != nil {
		return "", err
	}
	group, version := split(apiVersion)
	path := basePath(group, version)
	if info.namespaced {
		if ns == "" {
			ns = "default"
		}
		path += "/namespaces/" + url.PathEscape(ns)
	}
	return path + "/" + info.plural + "/" + url.PathEscape(name), nil
}

// Delete deletes one object for real, as Helm or Pulumi deletes what a
// new revision no longer has (background propagation); an object already
// gone is not an error.
func (s *Server) Delete(ctx context.Context, apiVersion, kind, ns, name string) error {
	path, err := s.objectPath(ctx, apiVersion, kind, ns, name)
	if err != nil {
		return err
	}
	code, resp, err := s.do(ctx, http.MethodDelete, path+"?propagationPolicy=Background", "", nil)
	if err != nil {
		return err
	}
	if code == http.StatusOK || code == http.StatusAccepted || code == http.StatusNotFound {
		return nil
	}
	return &Error{Object: kind + " " + ns + "/" + name, Code: code, Message: string(resp)}
}

// Scale sets a workload's replicas through its scale subresource, as
// `kubectl scale` does (a field manager of its own).
func (s *Server) Scale(ctx context.Context, apiVersion, kind, ns, name string, replicas int) error {
	path, err := s.objectPath(ctx, apiVersion, kind, ns, name)
	if err != nil {
		return err
	}
	body := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas))
	code, resp, err := s.do(ctx, http.MethodPatch, path+"/scale?fieldManager=kubectl-scale", "application/merge-patch+json", body)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return &Error{Object: kind + " " + ns + "/" + name, Code: code, Message: string(resp)}
	}
	return nil
}

// ApplyFile applies every document of a YAML file for real (CRDs) and, for
// CustomResourceDefinitions, waits until they are established.
func (s *Server) ApplyFile(ctx context.Context, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if doc == nil {
			continue
		}
		if err := s.Install(ctx, doc); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}

// Install applies one object for real and, for a
// CustomResourceDefinition, waits until it is established.
func (s *Server) Install(ctx context.Context, obj map[string]any) error {
	if err := s.Apply(ctx, obj, false); err != nil {
		return err
	}
	if obj["kind"] == "CustomResourceDefinition" {
		return s.waitEstablished(ctx, obj)
	}
	return nil
}

func (s *Server) waitEstablished(ctx context.Context, crd map[string]any) error {
	md, _ := crd["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		code, body, err := s.do(ctx, http.MethodGet, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+name, "", nil)
		if err != nil {
			return err
		}
		if code == http.StatusOK {
			var c struct {
				Status struct {
					Conditions []struct{ Type, Status string } `json:"conditions"`
				} `json:"status"`
			}
			if err := json.Unmarshal(body, &c); err != nil {
				return err
			}
			for _, cond := range c.Status.Conditions {
				if cond.Type == "Established" && cond.Status == "True" {
					return nil
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("CRD %s not established after a minute", name)
}
