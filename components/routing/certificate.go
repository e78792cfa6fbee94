// Package routing puts a region behind the fleet's global name: an ACM
// certificate for the regional and global names (the proxy NLB terminates
// TLS with it), a Route53 health check on the proxies' health endpoint, a
// weighted record in the shared hosted zone (set identifier = region, so a
// region that fails its check drops out), a stable regional record, the
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

// RegionalName is a region's stable name: peers address it without reading
// its stack outputs (no cycle in the stack graph).
func RegionalName(region, domain string) string { return "pulsar-" + region + "." + domain }

// CertificateArgs configure the certificate.
type CertificateArgs struct {
	// Names are the certificate's names; the first is its domain name.
	Names []string
	// Shared are names whose validation record other stacks also write
	// (same name, same value): upserted, and retained on delete.
	Shared       []string
	HostedZoneID string
	Tags         map[string]string
}

// RegionCertificate covers a region's regional and global names.
func RegionCertificate(region, domain, zone string, tags map[string]string) CertificateArgs {
	return CertificateArgs{Names: []string{RegionalName(region, domain), GlobalName(domain)}, Shared: []string{GlobalName(domain)},
		HostedZoneID: zone, Tags: tags}
}

// Validate checks the arguments.
func (a CertificateArgs) Validate() error {
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

// Certificate is the validated ACM certificate.
type Certificate struct {
	pulumi.ResourceState
	ARN pulumi.StringOutput
}

// NewCertificate requests and DNS-validates the certificate. ACM's
// validation record for a name is the same in every region of an account,
// so a shared name's record (the global name) is upserted by every stack
// and retained when one is deleted (the others' renewals still need it).
func NewCertificate(ctx *pulumi.Context, name string, a CertificateArgs, opts ...pulumi.ResourceOption) (*Certificate, error) {
	if err := a.Validate(); err != nil {
		return nil, kit.Wrap("certificate", name, err)
	}
	c := &Certificate{}
	if err := ctx.RegisterComponentResource(CertificateType, name, c, opts...); err != nil {
		return nil, kit.Wrap("certificate", name, err)
	}
	parent := pulumi.Parent(c)
	certArgs := &acm.CertificateArgs{
		DomainName:       pulumi.String(a.Names[0]),
		ValidationMethod: pulumi.String("DNS"),
		KeyAlgorithm:     pulumi.String("EC_prime256v1"),
		Tags:             kit.Tags(a.Tags),
	}
	if len(a.Names) > 1 {
		certArgs.SubjectAlternativeNames = pulumi.ToStringArray(a.Names[1:])
	}
	cert, err := acm.NewCertificate(ctx, name, certArgs, parent)
	if err != nil {
		return nil, kit.Wrap("certificate", name, err)
	}
	var fqdns pulumi.StringArray
	for i, domain := range a.Names {
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
		if slices.Contains(a.Shared, domain) {
			recOpts = append(recOpts, pulumi.RetainOnDelete(true))
		}
		rec, err := route53.NewRecord(ctx, fmt.Sprintf("%s-validation-%d", name, i), &route53.RecordArgs{
			ZoneId:         pulumi.String(a.HostedZoneID),
			Name:           pick(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordName }),
			Type:           pick(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordType }),
			Records:        pulumi.StringArray{pick(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordValue })},
			Ttl:            pulumi.Int(300),
			AllowOverwrite: pulumi.Bool(true),
		}, recOpts...)
		if err != nil {
			return nil, kit.Wrap("certificate", name, err)
		}
		fqdns = append(fqdns, rec.Fqdn)
	}
	valid, err := acm.NewCertificateValidation(ctx, name, &acm.CertificateValidationArgs{
		CertificateArn: cert.Arn, ValidationRecordFqdns: fqdns,
	}, parent)
	if err != nil {
		return nil, kit.Wrap("certificate", name, err)
	}
	c.ARN = valid.CertificateArn
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"arn": c.ARN}); err != nil {
		return nil, kit.Wrap("certificate", name, err)
	}
	return c, nil
}
