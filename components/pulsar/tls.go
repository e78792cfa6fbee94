package pulsar

import (
	"fmt"
	"strconv"
	"strings"
)

// The region's in-cluster CA, as the main release's internal issuer names
// it (the chart's templates: `<fullname>-ca` for its Certificate,
// `<fullname>-<internal_issuer.component>-ca-issuer` and
// `<release>-<tls.ca_suffix>`); the render tier checks the names against
// the rendered chart.
const (
	CACertificate = Fullname + "-ca"
	CAIssuer      = Fullname + "-internal-cert-issuer-ca-issuer"
	CASecret      = ReleaseName + "-ca-tls"
	// CAMountPath is where the program's jobs mount the CA certificate.
	CAMountPath = "/pulsar/certs/ca"
	// CAFile is the CA certificate the jobs trust.
	CAFile = CAMountPath + "/ca.crt"
)

// The region CA's lifetime: ten years, renewed one year before it
// expires; the components' certificates keep the chart's 90 days.
//
// The CA must keep its key when it is renewed or re-issued. Every
// component trusts the CA Secret's ca.crt, which changes the moment
// cert-manager writes it, while each component's certificate is re-issued
// only near its own expiry: with a new key, every TLS connection in the
// region would fail for weeks. cert-manager >= 1.18 makes a new key on
// every issuance unless the Certificate says otherwise
// (spec.privateKey.rotationPolicy, default Always), and it re-issues when
// the spec changes (a duration, a usage: what a chart upgrade may bring),
// not only on renewal. The chart sets no policy, so the program patches its
// CA Certificate to Never (CAKeyPolicy): a renewed CA has the same key and
// subject, and the certificates it signed before still verify
// (docs/operations.md, "TLS inside the cluster", lists what still makes a
// new key). A new key takes a planned rotation (docs/security.md).
const (
	CADuration    = "87600h"
	CARenewBefore = "8760h"
	// CAKeyPolicy is the CA Certificate's spec.privateKey.rotationPolicy.
	CAKeyPolicy = "Never"
)

// The TLS web ports of the chart's Services: the brokers' (broker.ports)
// and the proxies' (proxy.ports, 443 in front of the container's 8443).
const (
	brokerServiceHTTPS = 8443
	proxyServiceHTTPS  = 443
)

// clientConf writes the Pulsar client configuration of the program's jobs
// (bin/pulsar-admin and bin/pulsar-client read PULSAR_CLIENT_CONF): TLS
// to $PULSAR_HOST (its web API on webPort) with the region's CA, the host
// name checked against its certificate, and the mounted token.
func clientConf(webPort int) string {
	return writeClientConf("https://${PULSAR_HOST}:"+strconv.Itoa(webPort)+"/", "${PULSAR_HOST}", CAFile)
}

// writeClientConf is the shell that writes a client configuration: the
// web URL ("" for none), the broker service on host's TLS port, the
// mounted token, TLS with the host name checked, and the trust file (""
// for the JVM's public roots).
func writeClientConf(webURL, host, trustFile string) string {
	var b strings.Builder
	b.WriteString("cat > /tmp/client.conf <<CONF\n")
	if webURL != "" {
		b.WriteString("webServiceUrl=" + webURL + "\n")
	}
	fmt.Fprintf(&b, "brokerServiceUrl=pulsar+ssl://%s:%d/\n", host, PortPulsarTLS)
	b.WriteString(`authPlugin=org.apache.pulsar.client.impl.auth.AuthenticationToken
authParams=file:///tokens/TOKEN
useTls=true
tlsAllowInsecureConnection=false
tlsEnableHostnameVerification=true
`)
	if trustFile != "" {
		b.WriteString("tlsTrustCertsFilePath=" + trustFile + "\n")
	}
	b.WriteString("CONF\nexport PULSAR_CLIENT_CONF=/tmp/client.conf\n")
	return b.String()
}
