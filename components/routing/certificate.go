// Package routing puts a region behind the fleet's global name: an ACM
// certificate for the regional and global names (the proxy NLB terminates
// TLS with it), a Route53 health check on the end-to-end probe's alarm, a
// weighted record in the shared hosted zone (set identifier = the stack, so
// a region that fails its check drops out), a stable regional record, the
// client configuration applications use, and optionally an AWS Global
// Accelerator in front of every region's NLB.
package routing

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/components/internal/kit"
)

// CertificateType is the certificate component's type.
var CertificateType = kit.Type("routing", "Certificate")

// GlobalName and RegionalName are the fleet's DNS names.
func GlobalName(domain string) string { return "pulsar." + domain }

// RegionalName is a stack's stable name: peers address it without reading
// its stack outputs (no cycle in the stack graph).
func RegionalName(stack, domain string) string { return "pulsar-" + stack + "." + domain }

// PrivateName is a stack's private listener's name: the proxies' internal
// NLB, which the joined regions' brokers (replication and their admin
// calls) and operators in the VPC use. It resolves, publicly, to private
// addresses only.
func PrivateName(stack, domain string) string { return "pulsar-private-" + stack + "." + domain }

// PrivateCertificate covers a stack's private name. It is a certificate of
// its own, so adding it replaced no certificate a listener used.
func PrivateCertificate(stack, domain, zone string, tags map[string]string) CertificateConfig {
	return CertificateConfig{Names: []string{PrivateName(stack, domain)}, HostedZoneID: zone, Tags: tags}
}

// CertificateConfig configures the certificate.
type CertificateConfig struct {
	// Names are the certificate's names; the first is its domain name.
	Names []string
	// Shared are names whose validation record other stacks also write
	// (same name, same value): upserted, and retained on delete.
	Shared       []string
	HostedZoneID string
	Tags         map[string]string
}

// RegionCertificate covers a stack's regional and global names.
func RegionCertificate(stack, domain, zone string, tags map[string]string) CertificateConfig {
	return CertificateConfig{Names: []string{RegionalName(stack, domain), GlobalName(domain)}, Shared: []string{GlobalName(domain)},
		HostedZoneID: zone, Tags: tags}
}

// WithDefaults returns the configuration: the certificate has no defaults.
func (a CertificateConfig) WithDefaults() CertificateConfig { return a }

// Validate checks the configuration.
func (a CertificateConfig) Validate() error {
	a = a.WithDefaults()
	var errs []error
	if len(a.Names) == 0 {
		errs = append(errs, errors.New("names: at least one"))
	}
	for _, n := range a.Names {
		if n == "" || strings.Contains(n, " ") || !strings.Contains(n, ".") {
			errs = append(errs, fmt.Errorf("name %q: want a DNS name in the hosted zone", n))
		}
	}
	if a.HostedZoneID == "" {
		errs = append(errs, errors.New("hostedZoneId: the shared hosted zone is required"))
	}
	return errors.Join(errs...)
}

// CertificateDeps: the certificate needs no other component.
type CertificateDeps = kit.NoDeps

// Certificate is the validated ACM certificate.
type Certificate struct {
	pulumi.ResourceState
	// ARN is the certificate's ARN, known once it is validated.
	ARN pulumi.StringOutput
}

// NewCertificate requests and DNS-validates the certificate. ACM's
// validation record for a name is the same in every region of an account,
// so a shared name's record (the global name) is upserted by every stack
// and retained when one is deleted (the others' renewals still need it).
func NewCertificate(ctx *pulumi.Context, name string, cfg CertificateConfig, deps CertificateDeps, opts ...pulumi.ResourceOption) (*Certificate, error) {
	c := &Certificate{}
	return kit.Construct(ctx, CertificateType, name, cfg, deps, c, func(cfg CertificateConfig, parent pulumi.ResourceOption) (pulumi.Map, error) {
		certArgs := &acm.CertificateArgs{
			DomainName:       pulumi.String(cfg.Names[0]),
			ValidationMethod: pulumi.String("DNS"),
			KeyAlgorithm:     pulumi.String("EC_prime256v1"),
			Tags:             kit.Tags(cfg.Tags),
		}
		if len(cfg.Names) > 1 {
			certArgs.SubjectAlternativeNames = pulumi.ToStringArray(cfg.Names[1:])
		}
		cert, err := acm.NewCertificate(ctx, name, certArgs, parent)
		if err != nil {
			return nil, err
		}
		var fqdns pulumi.StringArray
		for i, domain := range cfg.Names {
			fqdn, err := validationRecord(ctx, fmt.Sprintf("%s-validation-%d", name, i), cfg, cert, domain, parent)
			if err != nil {
				return nil, err
			}
			fqdns = append(fqdns, fqdn)
		}
		valid, err := acm.NewCertificateValidation(ctx, name, &acm.CertificateValidationArgs{
			CertificateArn: cert.Arn, ValidationRecordFqdns: fqdns,
		}, parent)
		if err != nil {
			return nil, err
		}
		c.ARN = valid.CertificateArn
		return pulumi.Map{"arn": c.ARN}, nil
	}, opts...)
}

// validationRecord writes the DNS validation record ACM asks for one of the
// certificate's names and returns its FQDN. A shared name's record is
// retained on delete.
func validationRecord(ctx *pulumi.Context, name string, cfg CertificateConfig, cert *acm.Certificate, domain string,
	parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	pick := func(f func(acm.CertificateDomainValidationOption) *string) pulumi.StringOutput {
		return cert.DomainValidationOptions.ApplyT(func(opts []acm.CertificateDomainValidationOption) (string, error) {
			for _, o := range opts {
				if o.DomainName != nil && *o.DomainName == domain && f(o) != nil {
					return *f(o), nil
				}
			}
			return "", fmt.Errorf("ACM returned no DNS validation option for %s", domain)
		}).(pulumi.StringOutput)
	}
	recOpts := []pulumi.ResourceOption{parent}
	if slices.Contains(cfg.Shared, domain) {
		recOpts = append(recOpts, pulumi.RetainOnDelete(true))
	}
	rec, err := route53.NewRecord(ctx, name, &route53.RecordArgs{
		ZoneId:         pulumi.String(cfg.HostedZoneID),
		Name:           pick(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordName }),
		Type:           pick(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordType }),
		Records:        pulumi.StringArray{pick(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordValue })},
		Ttl:            pulumi.Int(300),
		AllowOverwrite: pulumi.Bool(true),
	}, recOpts...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return rec.Fqdn, nil
}
