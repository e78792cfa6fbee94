package tests

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/pulsar-fleet/pulsar-fleet/bootstrap/program"
	"github.com/pulsar-fleet/pulsar-fleet/components/observability"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/internal/tooling"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// The cross-region metrics hop with real Thanos at both ends (the Thanos
// tier). us-west-2's regional querier serves with the arguments and the
// certificate its stack declares; us-east-1's global querier dials it with
// the arguments and the certificate its own stack declares. The
// certificates are made as the tls provider makes them from the recorded
// inputs (the bootstrap's fleet CA, each region's key, request and
// signature), so a change to their names or uses reaches this test. Only
// the listen addresses and the certificates' directory are rewritten; the
// endpoint's name does not resolve here, so the client dials 127.0.0.1
// and is given the name gRPC would take from the endpoint
// (--grpc-client-server-name).
//
// The querier with the program's arguments lists the peer as a store.
// Real Thanos refuses the others: a client without a certificate, one
// whose certificate another CA signed, a plaintext client, and a client
// that expects another region's name (the server's certificate does not
// carry it).
func TestCrossRegionHopWithRealThanos(t *testing.T) {
	bin, byStack := thanosTier(t)
	boot, err := program.PreviewOffline(filepath.Join(root, "bootstrap", "Pulumi.admin.yaml"))
	require.NoError(t, err)
	caKey := one(t, boot.Recorder, "tls:index/privateKey:PrivateKey", "-fleet-ca")
	caCert := one(t, boot.Recorder, "tls:index/selfSignedCert:SelfSignedCert", "-fleet-ca")
	fleetCA, otherCA := selfSigned(t, caKey, caCert), selfSigned(t, caKey, caCert)

	dir := t.TempDir()
	server, client := byStack["us-west-2"], byStack["us-east-1"]
	serverDir := writeRegionCert(t, dir, "server", server, fleetCA, fleetCA)
	clientDir := writeRegionCert(t, dir, "client", client, fleetCA, fleetCA)
	strangerDir := writeRegionCert(t, dir, "stranger", client, otherCA, fleetCA)

	regional, mount := querierArgs(t, server, observability.RegionalQueryName)
	srv := startThanos(t, bin, rewriteArgs(regional, mount, serverDir))
	global, mount := querierArgs(t, client, observability.GlobalQueryName)
	peer := observability.EndpointName("us-west-2", server.Config.Routing.Domain)
	inCluster := strings.TrimSuffix(observability.GlobalEndpoints("us-west-2", server.Config.Routing.Domain, nil)[0], fmt.Sprintf(":%d", observability.GRPCPort))
	dial := func(certs string, serverName string, drop ...string) []string {
		args := withEndpoint(rewriteArgs(global, mount, certs), srv.grpc, drop...)
		if serverName != "" {
			args = append(args, "--grpc-client-server-name="+serverName)
		}
		return args
	}
	clients := map[string]struct {
		args []string
		// refusal is what the client reports; "" when it must connect.
		refusal string
	}{
		"the program's global querier":                                  {args: dial(clientDir, peer)},
		"a global querier, its region's querier by the in-cluster name": {args: dial(serverDir, inCluster)},
		"no client certificate":                                         {args: dial(clientDir, peer, "--grpc-client-tls-cert=", "--grpc-client-tls-key="), refusal: "certificate required"},
		"a certificate of another CA":                                   {args: dial(strangerDir, peer), refusal: "unknown certificate authority"},
		"plaintext":                                                     {args: dial(clientDir, "", "--grpc-client-tls-"), refusal: "error reading server preface"},
		"another region's name":                                         {args: dial(clientDir, observability.EndpointName("eu-west-1", server.Config.Routing.Domain)), refusal: "certificate is valid for"},
	}
	running := map[string]*thanosProcess{}
	for name, c := range clients {
		running[name] = startThanos(t, bin, c.args)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", srv.grpc)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		for name, c := range clients {
			p := running[name]
			stores, err := p.stores()
			if !assert.NoError(ct, err, name) {
				continue
			}
			if c.refusal == "" {
				assert.Equal(ct, []string{addr}, stores, "%s lists the peer's querier as a store", name)
				continue
			}
			assert.Empty(ct, stores, "%s is refused", name)
			assert.Contains(ct, p.failures(addr), c.refusal, "%s: why it is refused", name)
		}
	}, 90*time.Second, time.Second, "every client connected or refused as expected")
	for name := range clients {
		t.Logf("%s: %s", name, firstLine(running[name].failures(addr)))
	}
}

// thanosTier is the Thanos binary and the offline preview of the two
// stacks whose queriers the tier runs (skipped in -short).
func thanosTier(t *testing.T) (string, map[string]stacks.OfflineStack) {
	t.Helper()
	if testing.Short() {
		t.Skip("Thanos tier: not in -short")
	}
	bin, err := tooling.Thanos.Path(root)
	require.NoError(t, err, "build thanos from tools/thanos")
	res, err := stacks.PreviewOffline(stacks.OfflineOptions{Dir: root, Catalog: catalog(t), Stacks: []string{"us-east-1", "us-west-2"}})
	require.NoError(t, err)
	byStack := map[string]stacks.OfflineStack{}
	for _, st := range res.Stacks {
		byStack[st.Stack] = st
	}
	return bin, byStack
}

// The Thanos tier runs the release the program deploys: the tools module
// pins the image's version, and the binary reports it.
func TestThanosToolIsTheImage(t *testing.T) {
	_, tag, ok := strings.Cut(observability.ThanosImage, ":")
	require.True(t, ok, observability.ThanosImage)
	gomod, err := os.ReadFile(filepath.Join(root, "tools", tooling.Thanos.Module, "go.mod"))
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^(require )?\s*github.com/thanos-io/thanos `+regexp.QuoteMeta(tag)+`$`, string(gomod))
	assert.Contains(t, tooling.Thanos.LDFlags, "version.Version="+strings.TrimPrefix(tag, "v"))
	// The release's build tags (its .promu.yml): a build without them
	// serves no series.
	download := exec.Command("go", "mod", "download", "-json", "github.com/thanos-io/thanos@"+tag)
	download.Dir = filepath.Join(root, "tools", tooling.Thanos.Module)
	b, err := download.Output()
	require.NoError(t, err, "the Thanos module, from the module proxy")
	var mod struct{ Dir string }
	require.NoError(t, json.Unmarshal(b, &mod))
	promu, err := os.ReadFile(filepath.Join(mod.Dir, ".promu.yml"))
	require.NoError(t, err)
	var build struct {
		Build struct {
			Tags struct {
				All []string `yaml:"all"`
			} `yaml:"tags"`
		} `yaml:"build"`
	}
	require.NoError(t, yaml.Unmarshal(promu, &build))
	assert.Equal(t, strings.Join(build.Build.Tags.All, ","), tooling.ThanosTags)
}

// querierArgs are the command of a querier Deployment in a stack's
// monitoring release, and where its container mounts the gRPC certificate.
func querierArgs(t *testing.T, st stacks.OfflineStack, name string) ([]string, string) {
	t.Helper()
	for _, m := range monitoringRelease(t, st).Input("values.extraManifests").([]any) {
		o := recorder.Resource{Inputs: m.(map[string]any)}
		if o.Inputs["kind"] != "Deployment" || o.Input("metadata.name") != name {
			continue
		}
		secretVolume := ""
		for _, v := range o.Input("spec.template.spec.volumes").([]any) {
			v := recorder.Resource{Inputs: v.(map[string]any)}
			if v.Input("secret.secretName") == observability.GRPCTLSSecret {
				secretVolume = v.Inputs["name"].(string)
			}
		}
		c := o.Input("spec.template.spec.containers").([]any)[0].(map[string]any)
		var args []string
		for _, a := range c["command"].([]any) {
			args = append(args, a.(string))
		}
		for _, vm := range c["volumeMounts"].([]any) {
			if vm := vm.(map[string]any); vm["name"] == secretVolume {
				return args[1:], vm["mountPath"].(string) // args[0] is the binary
			}
		}
		t.Fatalf("%s: %s mounts no %s", st.Stack, name, observability.GRPCTLSSecret)
	}
	t.Fatalf("%s has no %s", st.Stack, name)
	return nil, ""
}

// rewriteArgs listens on free loopback ports and reads the certificates
// from dir instead of mount.
func rewriteArgs(args []string, mount, dir string) []string {
	var out []string
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "--http-address="), strings.HasPrefix(a, "--grpc-address="):
			a = a[:strings.Index(a, "=")+1] + "127.0.0.1:0"
		default:
			a = strings.ReplaceAll(a, mount+"/", dir+"/")
		}
		out = append(out, a)
	}
	return out
}

// withEndpoint replaces the querier's endpoints by one on the loopback
// port, and drops the arguments with the given prefixes.
func withEndpoint(args []string, port int, drop ...string) []string {
	out := []string{}
	drop = append(slices.Clone(drop), "--endpoint=")
next:
	for _, a := range args {
		for _, d := range drop {
			if strings.HasPrefix(a, d) {
				continue next
			}
		}
		out = append(out, a)
	}
	return append(out, fmt.Sprintf("--endpoint=127.0.0.1:%d", port))
}

type thanosProcess struct {
	http, grpc int
	mu         sync.Mutex
	log        bytes.Buffer
	// stop kills the process.
	stop func()
}

func (p *thanosProcess) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.Write(b)
}

// startThanos runs thanos with its addresses on free loopback ports and
// waits until it is ready.
func startThanos(t *testing.T, bin string, args []string) *thanosProcess {
	t.Helper()
	p := &thanosProcess{http: freePort(t), grpc: freePort(t)}
	for i, a := range args {
		switch {
		case a == "--http-address=127.0.0.1:0":
			args[i] = fmt.Sprintf("--http-address=127.0.0.1:%d", p.http)
		case a == "--grpc-address=127.0.0.1:0":
			args[i] = fmt.Sprintf("--grpc-address=127.0.0.1:%d", p.grpc)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = p, p
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("thanos %s:\n%s", strings.Join(args, " "), p.output())
		}
	})
	require.Eventually(t, func() bool {
		r, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/-/ready", p.http))
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == http.StatusOK
	}, 60*time.Second, 200*time.Millisecond, "thanos %v ready", args)
	return p
}

func (p *thanosProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// stores are the endpoints the querier's /api/v1/stores lists as
// connected.
func (p *thanosProcess) stores() ([]string, error) {
	r, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/v1/stores", p.http))
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	var body struct {
		Data map[string][]struct {
			Name      string  `json:"name"`
			LastError *string `json:"lastError"`
		} `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return nil, err
	}
	var out []string
	for _, ss := range body.Data {
		for _, s := range ss {
			if s.LastError == nil {
				out = append(out, s.Name)
			}
		}
	}
	return out, nil
}

// failures are the querier's log lines about an endpoint it could not use.
func (p *thanosProcess) failures(addr string) string {
	var out []string
	for _, l := range strings.Split(p.output(), "\n") {
		if strings.Contains(l, "address="+addr) && strings.Contains(l, "level=warn") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// one is the only recorded resource of a type whose name ends with suffix.
func one(t *testing.T, rec *recorder.Recorder, typ, suffix string) recorder.Resource {
	t.Helper()
	var found []recorder.Resource
	for _, r := range rec.ByType(typ) {
		if strings.HasSuffix(r.Name, suffix) {
			found = append(found, r)
		}
	}
	require.Len(t, found, 1, "%s *%s", typ, suffix)
	return found[0]
}

// issued is a key and its certificate.
type issued struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
}

// writeRegionCert makes a stack's Thanos certificate, signed by ca, and
// writes it with its key and the trusted CA as the Secret's files.
func writeRegionCert(t *testing.T, dir, name string, st stacks.OfflineStack, ca, trusted issued) string {
	t.Helper()
	key := tlsPrivateKey(t, one(t, st.Recorder, "tls:index/privateKey:PrivateKey", "-thanos"))
	csr := one(t, st.Recorder, "tls:index/certRequest:CertRequest", "-thanos")
	signed := one(t, st.Recorder, "tls:index/locallySignedCert:LocallySignedCert", "-thanos")
	tmpl := certTemplate(t, csr.Inputs, signed.Inputs)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	d := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(d, 0o700))
	for file, b := range map[string][]byte{
		"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"tls.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		"ca.crt":  trusted.pem,
	} {
		require.NoError(t, os.WriteFile(filepath.Join(d, file), b, 0o600))
	}
	return d
}

// selfSigned makes a self-signed certificate as the tls provider does.
func selfSigned(t *testing.T, keyRes, certRes recorder.Resource) issued {
	t.Helper()
	key := tlsPrivateKey(t, keyRes)
	tmpl := certTemplate(t, certRes.Inputs, certRes.Inputs)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return issued{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// tlsPrivateKey is a key of the tls provider's PrivateKey inputs.
func tlsPrivateKey(t *testing.T, r recorder.Resource) crypto.Signer {
	t.Helper()
	switch r.Inputs["algorithm"] {
	case "ECDSA":
		curves := map[any]elliptic.Curve{"P224": elliptic.P224(), "P256": elliptic.P256(), "P384": elliptic.P384(), "P521": elliptic.P521()}
		curve, ok := curves[r.Inputs["ecdsaCurve"]]
		require.True(t, ok, "%s: ecdsaCurve %v", r.Name, r.Inputs["ecdsaCurve"])
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		require.NoError(t, err)
		return k
	case "RSA":
		bits := 2048
		if b, ok := r.Inputs["rsaBits"].(float64); ok {
			bits = int(b)
		}
		k, err := rsa.GenerateKey(rand.Reader, bits)
		require.NoError(t, err)
		return k
	}
	t.Fatalf("%s: algorithm %v", r.Name, r.Inputs["algorithm"])
	return nil
}

// The tls provider's allowed_uses.
var (
	keyUsages = map[string]x509.KeyUsage{
		"digital_signature": x509.KeyUsageDigitalSignature, "content_commitment": x509.KeyUsageContentCommitment,
		"key_encipherment": x509.KeyUsageKeyEncipherment, "data_encipherment": x509.KeyUsageDataEncipherment,
		"key_agreement": x509.KeyUsageKeyAgreement, "cert_signing": x509.KeyUsageCertSign, "crl_signing": x509.KeyUsageCRLSign,
		"encipher_only": x509.KeyUsageEncipherOnly, "decipher_only": x509.KeyUsageDecipherOnly,
	}
	extKeyUsages = map[string]x509.ExtKeyUsage{
		"any_extended": x509.ExtKeyUsageAny, "server_auth": x509.ExtKeyUsageServerAuth, "client_auth": x509.ExtKeyUsageClientAuth,
		"code_signing": x509.ExtKeyUsageCodeSigning, "email_protection": x509.ExtKeyUsageEmailProtection,
		"timestamping": x509.ExtKeyUsageTimeStamping, "ocsp_signing": x509.ExtKeyUsageOCSPSigning,
	}
)

// certTemplate is the certificate the tls provider signs: the subject and
// DNS names of the request (or of a self-signed certificate's own
// inputs), the uses and validity of the signing resource.
func certTemplate(t *testing.T, request, signing map[string]any) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	require.NoError(t, err)
	hours, ok := signing["validityPeriodHours"].(float64)
	require.True(t, ok, "validityPeriodHours %v", signing["validityPeriodHours"])
	tmpl := &x509.Certificate{SerialNumber: serial, NotBefore: time.Now().Add(-time.Minute),
		NotAfter: time.Now().Add(time.Duration(hours) * time.Hour), BasicConstraintsValid: true}
	if subject, ok := request["subject"].(map[string]any); ok {
		tmpl.Subject = pkix.Name{CommonName: str(subject["commonName"])}
		if o := str(subject["organization"]); o != "" {
			tmpl.Subject.Organization = []string{o}
		}
	}
	if names, ok := request["dnsNames"].([]any); ok {
		for _, n := range names {
			tmpl.DNSNames = append(tmpl.DNSNames, n.(string))
		}
	}
	tmpl.IsCA, _ = signing["isCaCertificate"].(bool)
	uses, _ := signing["allowedUses"].([]any)
	for _, u := range uses {
		if k, ok := keyUsages[u.(string)]; ok {
			tmpl.KeyUsage |= k
		} else if e, ok := extKeyUsages[u.(string)]; ok {
			tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, e)
		} else {
			t.Fatalf("allowed use %q is not one the test knows", u)
		}
	}
	return tmpl
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// A fleet CA rotation with real Thanos at both ends of the hop. The
// bootstrap at stage trust holds the first CA, which signs, and the
// second (both recorded from the program); each region's Secret carries
// the bundle of both as ca.crt. While the regions move from one CA to
// the other (stage sign, one `up` at a time), a peer still on the first
// CA and one already on the second reach each other, in both directions.
// After the rotation (the second CA alone), a certificate of the first
// is refused; and a region that never took the bundle refuses a peer
// already on the second CA, which is why every region's `up` must follow
// the trust stage before the sign stage starts.
func TestFleetCARotationWithRealThanos(t *testing.T) {
	bin, byStack := thanosTier(t)
	stackFile, err := os.ReadFile(filepath.Join(root, "bootstrap", "Pulumi.admin.yaml"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "Pulumi.admin.yaml")
	require.NoError(t, os.WriteFile(path, append(stackFile, []byte("  pulsar-fleet-bootstrap:fleetCa:\n    generation: 2\n    stage: trust\n")...), 0o600))
	boot, err := program.PreviewOffline(path)
	require.NoError(t, err)
	ca := func(suffix string) issued {
		return selfSigned(t, one(t, boot.Recorder, "tls:index/privateKey:PrivateKey", suffix), one(t, boot.Recorder, "tls:index/selfSignedCert:SelfSignedCert", suffix))
	}
	first, second := ca("-fleet-ca"), ca("-fleet-ca-2")
	bundle := issued{pem: append(slices.Clone(first.pem), second.pem...)}

	dir := t.TempDir()
	server, client := byStack["us-west-2"], byStack["us-east-1"]
	regional, mount := querierArgs(t, server, observability.RegionalQueryName)
	global, gmount := querierArgs(t, client, observability.GlobalQueryName)
	peer := observability.EndpointName("us-west-2", server.Config.Routing.Domain)
	for _, tc := range []struct {
		name                   string
		serverCA, serverTrusts issued
		clientCA, clientTrusts issued
		refusal                string // "" connects
	}{
		{"mid-rotation: the peer still on the first CA, the querier on the second", first, bundle, second, bundle, ""},
		{"mid-rotation: the peer on the second CA, the querier still on the first", second, bundle, first, bundle, ""},
		{"after the rotation: both on the second CA", second, second, second, second, ""},
		{"after the rotation: a certificate of the first CA", second, second, first, second, "unknown certificate authority"},
		{"a region that never took the bundle, a peer on the second CA", first, first, second, bundle, "unknown certificate authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			serverDir := writeRegionCert(t, sub, "server", server, tc.serverCA, tc.serverTrusts)
			clientDir := writeRegionCert(t, sub, "client", client, tc.clientCA, tc.clientTrusts)
			srv := startThanos(t, bin, rewriteArgs(regional, mount, serverDir))
			q := startThanos(t, bin, append(withEndpoint(rewriteArgs(global, gmount, clientDir), srv.grpc), "--grpc-client-server-name="+peer))
			addr := fmt.Sprintf("127.0.0.1:%d", srv.grpc)
			require.EventuallyWithT(t, func(ct *assert.CollectT) {
				stores, err := q.stores()
				if !assert.NoError(ct, err) {
					return
				}
				if tc.refusal == "" {
					assert.Equal(ct, []string{addr}, stores, "the querier lists the peer as a store")
					return
				}
				assert.Empty(ct, stores, "refused")
				assert.Contains(ct, q.failures(addr)+srv.output(), tc.refusal, "why it is refused")
			}, 90*time.Second, time.Second)
		})
	}

	// Thanos reads its CA file at start only: a bundle written under a
	// running regional querier still refuses the peer on the second CA,
	// and the same files after a restart admit it. So the program rolls
	// the queriers when the trusted CAs change (their pod templates carry
	// the bundle's checksum, components/observability TestBucketEndpointAndDashboards).
	t.Run("a bundle written under a running querier", func(t *testing.T) {
		sub := filepath.Join(dir, "reload")
		serverDir := writeRegionCert(t, sub, "server", server, first, first)
		clientDir := writeRegionCert(t, sub, "client", client, second, bundle)
		srv := startThanos(t, bin, rewriteArgs(regional, mount, serverDir))
		require.NoError(t, os.WriteFile(filepath.Join(serverDir, "ca.crt"), bundle.pem, 0o600))
		q := startThanos(t, bin, append(withEndpoint(rewriteArgs(global, gmount, clientDir), srv.grpc), "--grpc-client-server-name="+peer))
		addr := fmt.Sprintf("127.0.0.1:%d", srv.grpc)
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			assert.Contains(ct, q.failures(addr)+srv.output(), "unknown certificate authority", "the running querier still trusts the first CA alone")
		}, 90*time.Second, time.Second)
		stores, err := q.stores()
		require.NoError(t, err)
		assert.Empty(t, stores)
		restarted := startThanos(t, bin, rewriteArgs(regional, mount, serverDir))
		q2 := startThanos(t, bin, append(withEndpoint(rewriteArgs(global, gmount, clientDir), restarted.grpc), "--grpc-client-server-name="+peer))
		raddr := fmt.Sprintf("127.0.0.1:%d", restarted.grpc)
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			stores, err := q2.stores()
			if assert.NoError(ct, err) {
				assert.Equal(ct, []string{raddr}, stores, "restarted, it reads the bundle")
			}
		}, 90*time.Second, time.Second)
	})
}

// The secondary's global view of the other regions' history, with real
// Thanos. The primary's regional querier and store gateway, and
// us-west-2's history stores (over the mirror of the primary's bucket and
// over the DR region's own bucket), run with the arguments their stacks
// declare, each over a bucket on disk in place of its S3 bucket: the
// primary's and its mirror hold the same block, the DR region's a block of
// its own. us-west-2's global querier, with its declared arguments,
// reaches the history stores in plaintext through its endpoint
// configuration while it dials the primary with TLS and its certificate.
//
// It returns the primary's series once, though two stores serve it, and
// the DR region's; it ignores a sidecar's block that reached the mirror
// less than the consistency delay after its upload; and with the
// primary's querier and store gone, it still returns the primary's
// series, from the mirror. Dialed as the flags dial every other endpoint,
// a history store is refused: the per-endpoint setting is what makes it
// readable.
func TestHistoryStoresWithRealThanos(t *testing.T) {
	bin, byStack := thanosTier(t)
	boot, err := program.PreviewOffline(filepath.Join(root, "bootstrap", "Pulumi.admin.yaml"))
	require.NoError(t, err)
	fleetCA := selfSigned(t, one(t, boot.Recorder, "tls:index/privateKey:PrivateKey", "-fleet-ca"),
		one(t, boot.Recorder, "tls:index/selfSignedCert:SelfSignedCert", "-fleet-ca"))
	dir := t.TempDir()
	primary, secondary := byStack["us-east-1"], byStack["us-west-2"]
	history := observabilityConfig(t, "us-west-2").History()
	require.Equal(t, []observability.HistoryStore{{Stack: "us-east-1", Region: "us-west-2", Mirror: true}, {Stack: "eu-west-1", Region: "eu-west-1"}}, history)
	at := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	old := at.Add(-time.Hour)

	// The primary: its store gateway over its bucket, its regional querier
	// over the store.
	primaryBucket := filepath.Join(dir, "us-east-1", "bucket")
	writeBlock(t, primaryBucket, "us-east-1", at, old)
	store := startThanos(t, bin, storeOnDisk(t, workloadArgs(t, primary, observability.StoreName), filepath.Join(dir, "us-east-1")))
	regional, mount := querierArgs(t, primary, observability.RegionalQueryName)
	srv := startThanos(t, bin, withEndpoint(rewriteArgs(regional, mount, writeRegionCert(t, dir, "server", primary, fleetCA, fleetCA)), store.grpc))
	peerAddr := fmt.Sprintf("127.0.0.1:%d", srv.grpc)

	global, mount := querierArgs(t, secondary, observability.GlobalQueryName)
	args := withEndpoint(rewriteArgs(global, mount, writeRegionCert(t, dir, "client", secondary, fleetCA, fleetCA)), srv.grpc)
	args = append(args, "--grpc-client-server-name="+observability.EndpointName("us-east-1", primary.Config.Routing.Domain))
	withFlags := withEndpoint(slices.DeleteFunc(slices.Clone(args), func(a string) bool { return strings.HasPrefix(a, "--endpoint.sd-config=") }), srv.grpc)
	want, stores := []string{peerAddr}, []*thanosProcess{}
	for _, h := range history {
		bucket := filepath.Join(dir, h.Name(), "bucket")
		if h.Mirror {
			require.NoError(t, os.CopyFS(bucket, os.DirFS(primaryBucket)), "the mirror: the primary's block, replicated")
			writeBlock(t, bucket, "fresh", at, time.Now()) // replicated, uploaded a minute ago
		} else {
			writeBlock(t, bucket, h.Stack, at, old)
		}
		hs := startThanos(t, bin, storeOnDisk(t, workloadArgs(t, secondary, h.Name()), filepath.Join(dir, h.Name())))
		stores = append(stores, hs)
		addr := fmt.Sprintf("127.0.0.1:%d", hs.grpc)
		configured := 0
		for i, a := range args {
			if strings.HasPrefix(a, "--endpoint.sd-config=") && strings.Contains(a, h.Endpoint()) {
				args[i] = strings.ReplaceAll(a, h.Endpoint(), addr)
				configured++
			}
		}
		require.Equal(t, 1, configured, "the global querier's endpoint configuration names %s", h.Name())
		want, withFlags = append(want, addr), append(withFlags, "--endpoint="+addr)
	}

	querier, flagsOnly := startThanos(t, bin, args), startThanos(t, bin, withFlags)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		stores, err := querier.stores()
		if assert.NoError(ct, err) {
			assert.ElementsMatch(ct, want, stores, "the peer over mutual TLS and the history stores in plaintext")
		}
		stores, err = flagsOnly.stores()
		if assert.NoError(ct, err) {
			assert.Equal(ct, []string{peerAddr}, stores, "the history stores dialed with the flags' TLS")
			for _, addr := range want[1:] {
				assert.NotEmpty(ct, flagsOnly.failures(addr), "why %s is refused", addr)
			}
		}
	}, 90*time.Second, time.Second, "the global querier reads the peer and the history stores")
	t.Logf("a history store dialed with TLS: %s", firstLine(flagsOnly.failures(want[1])))

	series := func(ct *assert.CollectT) map[string]int {
		got, err := querier.query(historyMetric, at)
		assert.NoError(ct, err)
		return got
	}
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.Equal(ct, map[string]int{"us-east-1": 1, "eu-west-1": 1}, series(ct),
			"the primary once (its querier and its mirror), the DR region, not the block too fresh for the mirror")
	}, 60*time.Second, time.Second)
	for _, hs := range stores {
		// ThanosHistoryStale's metrics, as this release exports them.
		metrics := hs.get(t, "/metrics")
		assert.Regexp(t, `(?m)^thanos_bucket_store_blocks_last_loaded_timestamp_seconds [1-9]`, metrics, "set once a block is loaded")
		assert.Regexp(t, `(?m)^process_start_time_seconds `, metrics, "the store's start")
	}
	srv.stop()
	store.stop()
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.Equal(ct, map[string]int{"us-east-1": 1, "eu-west-1": 1}, series(ct), "the primary down: its history from the mirror")
	}, 60*time.Second, time.Second)
}

// historyMetric is the series the history test writes into blocks.
const historyMetric = "pulsar_fleet_history_test"

// writeBlock writes a TSDB block with one series of historyMetric around
// at into bucket, as a Thanos sidecar of cluster uploads it at uploaded
// (the external labels and the replica label in its meta.json), with the
// Prometheus TSDB of the Thanos release (tools/thanos/blockgen).
func writeBlock(t *testing.T, bucket, cluster string, at, uploaded time.Time) {
	t.Helper()
	bin, err := tooling.BlockGen.Path(root)
	require.NoError(t, err, "build blockgen from tools/thanos")
	out, err := exec.Command(bin, "-dir", bucket, "-metric", historyMetric, "-cluster", cluster, "-replica", observability.ReplicaLabel,
		"-at", fmt.Sprint(at.Unix()), "-uploaded", fmt.Sprint(uploaded.Unix())).CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// get is the body of a GET on the process' HTTP port.
func (p *thanosProcess) get(t *testing.T, path string) string {
	t.Helper()
	r, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", p.http, path))
	require.NoError(t, err)
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return string(b)
}

// query runs an instant query, deduplicated, with partial responses, and
// counts the series it returns by cluster.
func (p *thanosProcess) query(q string, at time.Time) (map[string]int, error) {
	u := fmt.Sprintf("http://127.0.0.1:%d/api/v1/query?query=%s&time=%d&dedup=true&partial_response=true", p.http, url.QueryEscape(q), at.Unix())
	r, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	var body struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", q, body.Status)
	}
	out := map[string]int{}
	for _, s := range body.Data.Result {
		out[s.Metric["cluster"]]++
	}
	return out, nil
}

// observabilityConfig is a stack's monitoring configuration, as the
// program computes it.
func observabilityConfig(t *testing.T, stack string) observability.Config {
	t.Helper()
	fleet, _, err := stacks.LoadFleet(root)
	require.NoError(t, err)
	d, err := stacks.DesignFor(fleet, stack, "", catalog(t))
	require.NoError(t, err)
	return d.Components.Observability
}

// workloadArgs are the command of a Thanos workload in a stack's
// monitoring release, without the binary.
func workloadArgs(t *testing.T, st stacks.OfflineStack, name string) []string {
	t.Helper()
	for _, m := range monitoringRelease(t, st).Input("values.extraManifests").([]any) {
		o := recorder.Resource{Inputs: m.(map[string]any)}
		if o.Input("metadata.name") != name || (o.Inputs["kind"] != "StatefulSet" && o.Inputs["kind"] != "Deployment") {
			continue
		}
		var args []string
		for _, a := range o.Input("spec.template.spec.containers").([]any)[0].(map[string]any)["command"].([]any)[1:] {
			args = append(args, a.(string))
		}
		return args
	}
	t.Fatalf("%s has no Thanos workload %s", st.Stack, name)
	return nil
}

// storeOnDisk runs a store gateway's arguments on loopback ports over a
// bucket in a directory, its data in another.
func storeOnDisk(t *testing.T, args []string, dir string) []string {
	t.Helper()
	objstore := filepath.Join(dir, "objstore.yml")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bucket"), 0o700))
	require.NoError(t, os.WriteFile(objstore, []byte("type: FILESYSTEM\nconfig:\n  directory: "+filepath.Join(dir, "bucket")+"\n"), 0o600))
	out := rewriteArgs(args, "/nowhere", dir)
	found := 0
	for i, a := range out {
		switch {
		case strings.HasPrefix(a, "--objstore.config-file="):
			out[i], found = "--objstore.config-file="+objstore, found+1
		case strings.HasPrefix(a, "--data-dir="):
			out[i], found = "--data-dir="+filepath.Join(dir, "store-data"), found+1
		}
	}
	require.Equal(t, 2, found, "the store gateway's bucket and data directory")
	return out
}
