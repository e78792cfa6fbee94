package pulsar

import (
	"fmt"
	"strconv"
	"strings"
)

// The region's in-cluster CA, as the main release's internal issuer names
// it (the chart's templates: `<fullname>-<internal_issuer.component>-ca-issuer`
// and `<release>-<tls.ca_suffix>`); the render tier checks both names
// against the rendered chart.
const (
	CAIssuer = Fullname + "-internal-cert-issuer-ca-issuer"
	CASecret = ReleaseName + "-ca-tls"
	// CAMountPath is where the program's jobs mount the CA certificate.
	CAMountPath = "/pulsar/certs/ca"
	// CAFile is the CA certificate the jobs trust.
	CAFile = CAMountPath + "/ca.crt"
)

// The region CA's lifetime. The chart's default is 90 days, and a renewed
// CA is a new key: until cert-manager re-issues every component's
// certificate (it does so only as each nears its own expiry), components
// trust the new CA while presenting certificates of the old one, and TLS
// between them fails. So the CA lasts ten years and renews one year before
// it expires; the components' certificates keep the chart's 90 days.
const (
	CADuration    = "87600h"
	CARenewBefore = "8760h"
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
