package stacks

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/components/cluster"
	"github.com/pulsar-fleet/pulsar-fleet/components/network"
	"github.com/pulsar-fleet/pulsar-fleet/components/observability"
	"github.com/pulsar-fleet/pulsar-fleet/components/routing"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
)

// SupportedKubernetesVersions are the EKS versions EKS still serves (the
// calendar in components/cluster), oldest first.
var SupportedKubernetesVersions = cluster.KubernetesVersionNames()

var (
	dnsName       = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	zoneID        = regexp.MustCompile(`^Z[A-Z0-9]{4,32}$`)
	nsSegment     = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	reservationID = regexp.MustCompile(`^cr-[0-9a-f]{8,17}$`)
)

// Validate checks one stack's values. Fleet-wide rules (weights, CIDR
// overlap, peers, cycles) are in ValidateFleet. All problems are reported,
// joined, each naming its key.
func (c StackConfig) Validate() error {
	var errs []error
	bad := func(key string, v any, allowed string) {
		errs = append(errs, &ConfigError{Stack: c.Stack, Key: key, Value: v, Allowed: allowed})
	}
	for _, check := range []func(badFunc){c.validatePlace, c.validatePeers, c.validateRouting, c.validateDurability,
		c.validateCluster, c.validateData, c.validateAlerts, c.validateLogs, c.validateAddedZones, c.validateTokens, c.validateZooKeeper} {
		check(bad)
	}
	return errors.Join(errs...)
}

// badFunc records one invalid value: its key, the value and what is allowed.
type badFunc func(key string, v any, allowed string)

// validatePlace checks the role, phase, workload, region, zones and VPC.
func (c StackConfig) validatePlace(bad badFunc) {
	if !c.Role.Valid() {
		bad(Key("role"), string(c.Role), "one of "+model.OneOf(model.RegionRoles))
	}
	if _, err := sizing.PhaseByName(c.Phase); err != nil {
		bad(Key("phase"), c.Phase, "one of "+sizing.PhaseNamesHelp)
	}
	if t := c.Transition; t != nil {
		if _, err := sizing.PhaseByName(t.From); err != nil || t.From == c.Phase {
			bad(Key("transition.from"), t.From, "the phase the region ran before moving to "+c.Phase+": one of "+sizing.PhaseNamesHelp+", not "+c.Phase+" itself")
		}
		if t.Step < 1 {
			bad(Key("transition.step"), t.Step, "a step of `pulsar-fleet transition --from "+t.From+" --to "+c.Phase+"`, from 1")
		}
	}
	c.BookieVolumes.validate(bad)
	_, calErr := c.Calibration.Apply(sizing.DefaultParams())
	_, wlErr := c.Workload.Apply(sizing.Phases()[0])
	for _, err := range []error{calErr, wlErr} {
		var ce *ConfigError
		if errors.As(err, &ce) {
			bad(ce.Key, ce.Value, ce.Allowed)
		}
	}
	facts, ferr := regions.Facts(c.Region)
	if ferr != nil {
		bad("aws:region", c.Region, "a supported region: "+strings.Join(regions.SupportedRegions(), ", "))
	}
	seen := map[string]bool{}
	for _, z := range c.Zones {
		if ferr == nil && !slices.Contains(facts.Zones, z) {
			bad(Key("zones"), z, zoneOf(c.Region, facts))
		}
		if seen[z] {
			bad(Key("zones"), z, "each zone once")
		}
		seen[z] = true
	}
	if len(c.Zones) < 3 {
		bad(Key("zones"), c.Zones, "at least 3 zones: write quorum 3 needs three racks to survive a zone loss")
	}
	if p, err := netip.ParsePrefix(c.VPCCIDR); err != nil || !p.Addr().Is4() {
		bad(Key("vpcCidr"), c.VPCCIDR, "an IPv4 CIDR such as 10.10.0.0/16")
	} else if p.Masked() != p {
		bad(Key("vpcCidr"), c.VPCCIDR, "a network address ("+p.Masked().String()+")")
	} else if p.Bits() < 16 || p.Bits() > 18 {
		bad(Key("vpcCidr"), c.VPCCIDR, "a prefix from /16 to /18: pods take VPC addresses (VPC CNI)")
	}
}

// validateAddedZones checks the zones added to the running region: zones
// of its AWS region, each with a secondary CIDR of its own (network).
func (c StackConfig) validateAddedZones(bad badFunc) {
	facts, err := regions.Facts(c.Region)
	for i, z := range c.AddedZones {
		if err == nil && !slices.Contains(facts.Zones, z.Zone) {
			bad(Key(fmt.Sprintf("addedZones[%d].zone", i)), z.Zone, zoneOf(c.Region, facts))
			return
		}
	}
	var ze *network.AddedZoneError
	if _, err := network.AddedBlocks(c.VPCCIDR, c.Zones, c.AddedZones); errors.As(err, &ze) {
		bad(Key(ze.Field), ze.Value, ze.Allowed)
	}
}

// zoneOf is what a zone key allows: a zone of the stack's AWS region.
func zoneOf(region string, facts regions.RegionFacts) string {
	return fmt.Sprintf("a zone of %s: %s", region, strings.Join(facts.Zones, ", "))
}

// AllZones are the region's zones, then the zones added to it.
func (c StackConfig) AllZones() []string {
	return model.AllZones(c.Zones, c.AddedZones)
}

// blocks are the stack's VPC CIDRs with their keys: vpcCidr, then each
// added zone's.
func (c StackConfig) blocks() (keys, cidrs []string) {
	keys, cidrs = []string{Key("vpcCidr")}, []string{c.VPCCIDR}
	for i, z := range c.AddedZones {
		keys, cidrs = append(keys, Key(fmt.Sprintf("addedZones[%d].cidr", i))), append(cidrs, z.CIDR)
	}
	return keys, cidrs
}

// validatePeers checks the peers and the lists that name stacks or namespaces.
func (c StackConfig) validatePeers(bad badFunc) {
	for _, p := range c.Peers {
		if p == c.Stack {
			bad(Key("peers"), p, "other stacks (a stack cannot read its own outputs)")
		}
	}
	for key, list := range map[string][]string{"peers": c.Peers, "geoReplication.replicateTo": c.GeoReplication.ReplicateTo,
		"tieredStorage.replicateTo": c.TieredStorage.ReplicateTo, "geoReplication.namespaces": c.GeoReplication.Namespaces} {
		if d := firstDuplicate(list); d != "" {
			bad(Key(key), d, "each entry once")
		}
	}
	for _, s := range []struct {
		key string
		v   *float64
	}{{"spot.broker", c.Spot.Broker}, {"spot.bookie", c.Spot.Bookie}} {
		if s.v != nil && !(*s.v >= 0 && *s.v < 1) {
			bad(Key(s.key), *s.v, "a fraction in [0, 1) (0.7 = 70% spot): every spot pool keeps an on-demand base")
		}
	}
}

// What routing.totalWeight and observability.logRetentionDays allow.
var (
	allowedTotalWeight  = "a positive declared sum of all stacks' weights"
	allowedLogRetention = fmt.Sprintf("a retention CloudWatch Logs accepts: one of %v (days)", observability.LogRetentionDays)
)

// validateRouting checks the global routing settings.
func (c StackConfig) validateRouting(bad badFunc) {
	r := c.Routing
	if r.Weight < 0 || r.Weight > 255 {
		bad(Key("routing.weight"), r.Weight, "a Route53 weight in 0..255")
	}
	if r.TotalWeight <= 0 {
		bad(Key("routing.totalWeight"), r.TotalWeight, allowedTotalWeight)
	}
	if r.HostedZoneID == "" {
		bad(Key("routing.hostedZoneId"), missing, "the ID of the shared Route53 hosted zone, e.g. Z0123456789ABCDEFGHIJ")
	} else if !zoneID.MatchString(r.HostedZoneID) {
		bad(Key("routing.hostedZoneId"), r.HostedZoneID, "a Route53 hosted zone ID (Z followed by letters and digits)")
	}
	if !dnsName.MatchString(r.Domain) {
		bad(Key("routing.domain"), r.Domain, "the hosted zone's domain name, e.g. pulsar.example.com")
	}
	if !r.ProxyScheme.Valid() {
		bad(Key("routing.proxyScheme"), string(r.ProxyScheme), model.OneOf(model.ProxySchemes))
	}
	for _, cidr := range r.ClientCIDRs {
		if p, err := netip.ParsePrefix(cidr); err != nil {
			bad(Key("routing.clientCidrs"), cidr, "CIDRs such as 203.0.113.0/24")
		} else if p.Masked() != p {
			bad(Key("routing.clientCidrs"), cidr, "a network address ("+p.Masked().String()+"): host bits would be ignored")
		} else if p.Bits() < minClientPrefix {
			bad(Key("routing.clientCidrs"), cidr, fmt.Sprintf("networks of /%d or narrower: use routing.allowPublicProxy: true to open the proxy to the internet", minClientPrefix))
		}
	}
	if len(r.ClientCIDRs) > 0 && r.ProxyScheme == model.SchemeInternal {
		bad(Key("routing.clientCidrs"), r.ClientCIDRs, "none with proxyScheme internal: source ranges apply to the internet-facing proxy only (restrict an internal one with security groups)")
	}
	proxyExposure(r, bad)
	if n := len(routing.RegionalName(c.Stack, r.Domain)); dnsName.MatchString(r.Domain) && n > maxCertificateName {
		bad(Key("routing.domain"), r.Domain, fmt.Sprintf("a domain at most %d characters long: the certificate's first name %s must fit ACM's %d",
			len(r.Domain)-(n-maxCertificateName), routing.RegionalName(c.Stack, r.Domain), maxCertificateName))
	}
}

// validateDurability checks the quorum against the design rule.
func (c StackConfig) validateDurability(bad badFunc) {
	d := c.Durability
	if !(d.Ensemble >= d.WriteQuorum && d.WriteQuorum >= d.AckQuorum && d.AckQuorum >= 1) {
		bad(Key("durability"), fmt.Sprintf("ensemble=%d writeQuorum=%d ackQuorum=%d", d.Ensemble, d.WriteQuorum, d.AckQuorum),
			"ensemble >= writeQuorum >= ackQuorum >= 1")
	} else if d.Ensemble > sizing.MaxEnsemble {
		bad(Key("durability.ensemble"), d.Ensemble, fmt.Sprintf("at most %d bookies per ledger: a wider ensemble gains no durability and plans bookies for nothing", sizing.MaxEnsemble))
	} else if d.AckQuorum < 2 {
		bad(Key("durability.ackQuorum"), d.AckQuorum, "at least 2: with 1, an acknowledged entry can live on a single bookie")
	} else if d.WriteQuorum < 3 && !d.AllowBelowDesign {
		bad(Key("durability.writeQuorum"), d.WriteQuorum, "at least 3 (the design rule: three copies in at least two zones), or set durability.allowBelowDesign: true to accept fewer")
	}
}

// validateCluster checks the EKS settings.
func (c StackConfig) validateCluster(bad badFunc) {
	for _, name := range slices.Sorted(maps.Keys(c.Cluster.AddonVersions)) {
		v := c.Cluster.AddonVersions[name]
		switch {
		case !slices.Contains(cluster.Addons, name):
			bad(Key("cluster.addonVersions."+name), v, "an add-on the cluster runs: one of "+strings.Join(cluster.Addons, ", "))
		case !addonVersion.MatchString(v):
			bad(Key("cluster.addonVersions."+name), v, "an EKS add-on version, v<major>.<minor>.<patch>-eksbuild.<n> (aws eks describe-addon-versions)")
		case name == cluster.AddonKubeProxy && !strings.HasPrefix(v, "v"+c.Cluster.KubernetesVersion+"."):
			bad(Key("cluster.addonVersions."+name), v, "kube-proxy of the cluster's version, v"+c.Cluster.KubernetesVersion+".<patch>-eksbuild.<n>: move the pin with cluster.kubernetesVersion")
		}
	}
	if !slices.Contains(SupportedKubernetesVersions, c.Cluster.KubernetesVersion) {
		bad(Key("cluster.kubernetesVersion"), c.Cluster.KubernetesVersion, "one of "+strings.Join(SupportedKubernetesVersions, ", "))
	}
	for _, cidr := range c.Cluster.PublicAccessCIDRs {
		if p, err := netip.ParsePrefix(cidr); err != nil || !p.Addr().Is4() {
			bad(Key("cluster.publicAccessCidrs"), cidr, "IPv4 CIDRs such as 203.0.113.0/24")
		} else if p.Masked() != p {
			bad(Key("cluster.publicAccessCidrs"), cidr, "a network address ("+p.Masked().String()+"): host bits would be ignored")
		} else if p.Bits() < minClientPrefix {
			bad(Key("cluster.publicAccessCidrs"), cidr, fmt.Sprintf("networks of /%d or narrower, the ones you deploy from: the Kubernetes API is never open to the internet", minClientPrefix))
		}
	}
	grants, keys := c.Cluster.Access.Grants(), c.Cluster.Access.grantKeys()
	for _, err := range model.ValidateGrants(grants) {
		bad(Key("cluster.access."+keys[err.Index]), grants[err.Index].PrincipalARN, err.Err.Error())
	}
	for _, id := range c.Cluster.CapacityReservationIDs {
		if !reservationID.MatchString(id) {
			bad(Key("cluster.capacityReservationIds"), id, "capacity reservation ids such as cr-0123456789abcdef0")
		}
	}
	if err := c.ChartSource.Validate(); err != nil {
		bad(Key("chartSource"), string(c.ChartSource), "an oci:// or https:// chart mirror, or a directory of unpacked charts")
	}
	if !c.Cluster.NATGateways.Valid() {
		bad(Key("cluster.natGateways"), string(c.Cluster.NATGateways), model.OneOf(model.NATModes))
	}
	for _, a := range c.Arches {
		if !a.Valid() {
			bad(Key("arches"), string(a), model.OneOf(model.Arches))
		}
	}
}

// validateData checks bucket replication, retention and geo-replication.
func (c StackConfig) validateData(bad badFunc) {
	for _, t := range c.TieredStorage.ReplicateTo {
		if t == c.Stack {
			bad(Key("tieredStorage.replicateTo"), t, "peer stacks (not this stack)")
		} else if !slices.Contains(c.Peers, t) {
			bad(Key("tieredStorage.replicateTo"), t, fmt.Sprintf("a stack listed in peers %v: the destination bucket is read from its outputs", c.Peers))
		}
	}
	if d := c.TieredStorage.RetentionDays; d != 0 {
		if ph, err := sizing.PhaseByName(c.Phase); err == nil && (d < ph.MinBucketDays() || d > 3650) {
			bad(Key("tieredStorage.retentionDays"), fmt.Sprint(d), fmt.Sprintf("%d..3650 days: at phase %s, TTL %s + retention %s must stay in the bucket", ph.MinBucketDays(), ph.Name, ph.TTL, ph.Retention))
		}
	}
	for _, t := range c.GeoReplication.ReplicateTo {
		if t == c.Stack {
			bad(Key("geoReplication.replicateTo"), t, "other regions (not this one)")
		}
	}
	if !pulsarName(c.GeoReplication.Tenant) {
		bad(Key("geoReplication.tenant"), c.GeoReplication.Tenant, fmt.Sprintf("a Pulsar tenant name (letters, digits, _ . -; not . or ..; at most %d characters)", maxPulsarName))
	}
	for _, ns := range c.GeoReplication.Namespaces {
		if !pulsarName(ns) {
			bad(Key("geoReplication.namespaces"), ns, fmt.Sprintf("namespace names (letters, digits, _ . -; not . or ..; at most %d characters)", maxPulsarName))
		}
	}
}

// validateAlerts checks the alert webhook and the Thanos endpoint's sources.
func (c StackConfig) validateAlerts(bad badFunc) {
	if u := c.AlertWebhookURL.Reveal(); u != "" && u != SecretPlaceholder && !httpsURL(u) {
		bad(Key("alertWebhookUrl"), c.AlertWebhookURL, "an https:// URL")
	} else if u != "" && u != SecretPlaceholder && !onPort443(u) {
		bad(Key("alertWebhookUrl"), c.AlertWebhookURL, "an https:// URL on port 443 (the monitoring namespace sends TLS outside the VPCs on 443 only)")
	}
	if c.Observability.MetricsSourceCIDRs != nil {
		// Retired: the endpoint is internal now. Refused, even empty,
		// rather than ignored, so that nobody believes the list still
		// admits anyone.
		bad(Key("observability.metricsSourceCidrs"), *c.Observability.MetricsSourceCIDRs,
			"no value: the key is retired. The Thanos endpoint is an internal load balancer that admits the joined regions' VPCs, "+
				"which the global queriers reach through the transit gateways (docs/operations.md, \"Global view\"); remove it")
	}
}

// validateZooKeeper checks the quorum's stage.
func (c StackConfig) validateZooKeeper(bad badFunc) {
	if q := c.ZooKeeper.QuorumTLS; !q.Valid() {
		bad(Key("zookeeper.quorumTls"), string(q), model.OneOf(model.QuorumTLSStages)+" (docs/operations.md, \"Moving ZooKeeper's quorum to TLS\")")
	}
}

// validateTokens checks the token signing settings.
func (c StackConfig) validateTokens(bad badFunc) {
	t := c.Tokens
	if !t.SigningKey.Valid() {
		bad(Key("tokens.signingKey"), string(t.SigningKey), model.OneOf(model.SigningKeys))
	}
	if t.ReplaceChartKey && t.SigningKey != model.SigningKeyFleet {
		bad(Key("tokens.replaceChartKey"), true, "set only with tokens.signingKey: fleet (it moves a stack from the chart's key to the fleet key)")
	}
	if fp := t.AcceptKeyFingerprint; fp != "" {
		if !keyFingerprint.MatchString(fp) {
			bad(Key("tokens.acceptKeyFingerprint"), fp, "sha256: and 64 lower-case hex digits (the bootstrap stack's output "+model.OutputFleetTokenKeyFingerprint+")")
		} else if t.SigningKey != model.SigningKeyFleet {
			bad(Key("tokens.acceptKeyFingerprint"), fp, "set only with tokens.signingKey: fleet (it accepts a new fleet key)")
		}
	}
}

// addonVersion is an EKS add-on version's form.
var addonVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+$`)

// CheckKeyFingerprint refuses what is not a fingerprint in
// model.KeyFingerprint's form.
func CheckKeyFingerprint(fp string) error {
	if !keyFingerprint.MatchString(fp) {
		return fmt.Errorf("%q is not allowed: want sha256:<64 lowercase hex digits> (model.KeyFingerprint's form)", fp)
	}
	return nil
}

// keyFingerprint is model.KeyFingerprint's form.
var keyFingerprint = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// validateLogs checks the pod log retention.
func (c StackConfig) validateLogs(bad badFunc) {
	if u := c.Observability.RunbookBaseURL; u != "" && !httpsURL(u) {
		bad(Key("observability.runbookBaseUrl"), u, "an https:// URL where the repository's files are browsed, e.g. https://github.com/acme/pulsar-fleet/blob/main")
	}
	if d := c.Observability.LogRetentionDays; d != 0 && !slices.Contains(observability.LogRetentionDays, d) {
		bad(Key("observability.logRetentionDays"), d, allowedLogRetention)
	}
}

// Fleet is every stack of the project, validated together.
type Fleet struct {
	Stacks []StackConfig
}

// Get returns a stack by name.
func (f Fleet) Get(name string) (StackConfig, bool) {
	for _, s := range f.Stacks {
		if s.Stack == name {
			return s, true
		}
	}
	return StackConfig{}, false
}

// Names lists the stacks, sorted.
func (f Fleet) Names() []string {
	out := make([]string, len(f.Stacks))
	for i, s := range f.Stacks {
		out[i] = s.Stack
	}
	sort.Strings(out)
	return out
}

// Replace returns the fleet with one stack's config replaced (the engine's
// view of the current stack wins over its file).
func (f Fleet) Replace(c StackConfig) Fleet {
	out := Fleet{}
	found := false
	for _, s := range f.Stacks {
		if s.Stack == c.Stack {
			s, found = c, true
		}
		out.Stacks = append(out.Stacks, s)
	}
	if !found {
		out.Stacks = append(out.Stacks, c)
	}
	sort.Slice(out.Stacks, func(i, j int) bool { return out.Stacks[i].Stack < out.Stacks[j].Stack })
	return out.withRoleDefaults()
}

// ValidateFleet validates every stack and the rules that span stacks:
// weights sum to the declared total, CIDRs do not overlap, regions are
// distinct, one primary, one shared hosted zone, peers exist and are in
// other regions, and the stack graph has no cycle.
func ValidateFleet(f Fleet) error {
	var errs []error
	for _, s := range f.Stacks {
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(f.Stacks) == 0 {
		return errors.New("no stacks: add Pulumi.<stack>.yaml files")
	}
	bad := func(stack, key string, v any, allowed string) {
		errs = append(errs, &ConfigError{Stack: stack, Key: key, Value: v, Allowed: allowed})
	}
	for _, check := range []func(Fleet, fleetBadFunc){fleetWeightsAndRoles, fleetNetworks, fleetReferences, sameWorkload, sameCalibration, sameTenant} {
		check(f, bad)
	}
	if _, err := NewGraph(f); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// fleetBadFunc records one invalid value of one stack.
type fleetBadFunc func(stack, key string, v any, allowed string)

// fleetWeightsAndRoles checks the routing weights' sum, one region per
// stack and exactly one primary.
func fleetWeightsAndRoles(f Fleet, bad fleetBadFunc) {
	sum, parts := 0, []string{}
	primaries := []string{}
	regionOf := map[string]string{}
	for _, s := range f.Stacks {
		sum += s.Routing.Weight
		parts = append(parts, fmt.Sprintf("%s=%d", s.Stack, s.Routing.Weight))
		if s.Role == RolePrimary {
			primaries = append(primaries, s.Stack)
		}
		if other, dup := regionOf[s.Region]; dup {
			bad(s.Stack, "aws:region", s.Region, "a region no other stack uses ("+other+" already does)")
		}
		regionOf[s.Region] = s.Stack
	}
	for _, s := range f.Stacks {
		if s.Routing.TotalWeight != sum {
			bad(s.Stack, Key("routing.weight"), strings.Join(parts, " + ")+fmt.Sprintf(" = %d", sum),
				fmt.Sprintf("weights that sum to the declared routing.totalWeight %d", s.Routing.TotalWeight))
			break
		}
	}
	if sum == 0 {
		bad(f.Stacks[0].Stack, Key("routing.weight"), strings.Join(parts, " + "), "at least one stack with a positive weight")
	}
	if len(primaries) != 1 {
		bad(f.Stacks[0].Stack, Key("role"), fmt.Sprintf("%d primaries %v", len(primaries), primaries), "exactly one primary stack")
	}
}

// fleetNetworks checks that no two stacks' VPC blocks (vpcCidr and the
// added zones' CIDRs) overlap, and that every stack shares the hosted zone.
func fleetNetworks(f Fleet, bad fleetBadFunc) {
	for i, a := range f.Stacks {
		_, as := a.blocks()
		for _, b := range f.Stacks[i+1:] {
			keys, bs := b.blocks()
			for k, cb := range bs {
				if other := overlapping(cb, as); other != "" {
					bad(b.Stack, keys[k], cb, fmt.Sprintf("a CIDR that does not overlap stack %s's %s", a.Stack, other))
				}
			}
		}
		if a.Routing.HostedZoneID != f.Stacks[0].Routing.HostedZoneID || a.Routing.Domain != f.Stacks[0].Routing.Domain {
			bad(a.Stack, Key("routing.hostedZoneId"), a.Routing.HostedZoneID+" "+a.Routing.Domain,
				fmt.Sprintf("the hosted zone every stack shares (%s %s in %s)", f.Stacks[0].Routing.HostedZoneID, f.Stacks[0].Routing.Domain, f.Stacks[0].Stack))
		}
	}
}

// overlapping is the first of cidrs that overlaps c ("" if none, or if c
// does not parse: the stack's own check names that).
func overlapping(c string, cidrs []string) string {
	pc, err := netip.ParsePrefix(c)
	if err != nil {
		return ""
	}
	for _, o := range cidrs {
		if po, err := netip.ParsePrefix(o); err == nil && pc.Overlaps(po) {
			return o
		}
	}
	return ""
}

// JoinedTo says whether this stack's VPC is joined to o's through the
// transit gateways: one of the two reads the other, and the reader makes
// the join.
func (c StackConfig) JoinedTo(o StackConfig) bool {
	return slices.Contains(c.Peers, o.Stack) || slices.Contains(o.Peers, c.Stack)
}

// fleetReferences checks that peers and replication targets are stacks of
// the fleet, and that the primary reads every other stack.
func fleetReferences(f Fleet, bad fleetBadFunc) {
	names := f.Names()
	for _, s := range f.Stacks {
		for _, p := range s.Peers {
			peer, ok := f.Get(p)
			if !ok {
				bad(s.Stack, Key("peers"), p, "a stack of the fleet: "+strings.Join(names, ", "))
				continue
			}
			if slices.Contains(s.TieredStorage.ReplicateTo, p) && peer.Region == s.Region {
				bad(s.Stack, Key("tieredStorage.replicateTo"), p, "a peer in another region (cross-region replication)")
			}
		}
		for _, p := range s.GeoReplication.ReplicateTo {
			peer, ok := f.Get(p)
			switch {
			case !ok:
				bad(s.Stack, Key("geoReplication.replicateTo"), p, "a stack of the fleet: "+strings.Join(names, ", "))
			case !s.JoinedTo(peer):
				// Replication goes through the transit gateways, which the
				// stack that reads the other joins.
				bad(s.Stack, Key("geoReplication.replicateTo"), p, fmt.Sprintf("a stack joined to this one: add %s to this stack's %s, or %s to %s's "+
					"(the reading stack joins the two regions' transit gateways, the private path replication takes)", p, Key("peers"), s.Stack, p))
			}
		}
	}
	// A global view's querier reads every region's Thanos endpoint, an
	// internal load balancer, through the transit gateways: it must be
	// joined to every other stack.
	for _, s := range f.Stacks {
		if !globalView(s.Role) {
			continue
		}
		for _, o := range f.Stacks {
			if o.Stack != s.Stack && !s.JoinedTo(o) {
				bad(s.Stack, Key("peers"), s.Peers, fmt.Sprintf("peers that join this stack to %[1]s: its global querier reads %[1]s's Thanos endpoint through the transit gateways; "+
					"add %[1]s to this stack's %[2]s, or %[3]s to %[1]s's", o.Stack, Key("peers"), s.Stack))
			}
		}
	}
}

// sameTenant checks that geo-replication joins one tenant across regions.
func sameTenant(f Fleet, bad fleetBadFunc) {
	for _, s := range f.Stacks[1:] {
		if first := f.Stacks[0]; s.GeoReplication.Tenant != first.GeoReplication.Tenant {
			bad(s.Stack, Key("geoReplication.tenant"), s.GeoReplication.Tenant,
				fmt.Sprintf("the tenant every stack uses (%q in %s): geo-replicated namespaces live in one tenant across regions", first.GeoReplication.Tenant, first.Stack))
		}
	}
}

// Length bounds: ACM's limit on a certificate's first name, and a bound on
// Pulsar names, which are part of every topic name and metadata path.
const (
	maxCertificateName = 64
	maxPulsarName      = 64
)

// pulsarName reports whether s can be a Pulsar tenant or namespace.
func pulsarName(s string) bool {
	return nsSegment.MatchString(s) && s != "." && s != ".." && len(s) <= maxPulsarName
}

// firstDuplicate returns the first entry listed twice, or "".
func firstDuplicate(xs []string) string {
	seen := map[string]bool{}
	for _, x := range xs {
		if seen[x] {
			return x
		}
		seen[x] = true
	}
	return ""
}

// minClientPrefix is the widest client network a proxy admits, and the
// widest network the EKS API endpoint admits: anything wider is most of
// the internet (for the proxy, allowPublicProxy says so openly).
const minClientPrefix = 8

// proxyExposure: an internet-facing proxy is open to its clients'
// networks, or, with allowPublicProxy, knowingly to the whole internet.
func proxyExposure(r Routing, bad badFunc) {
	public := r.ProxyScheme == model.SchemeInternetFacing
	switch {
	case public && !r.AllowPublicProxy && len(r.ClientCIDRs) == 0:
		bad(Key("routing.clientCidrs"), missing, "the client networks an internet-facing proxy admits, e.g. [203.0.113.0/24] (or routing.allowPublicProxy: true to open it to the whole internet, which check reports as a waiver)")
	case r.AllowPublicProxy && !public:
		bad(Key("routing.allowPublicProxy"), true, "unset with proxyScheme internal: only an internet-facing proxy can be public")
	case r.AllowPublicProxy && len(r.ClientCIDRs) > 0:
		bad(Key("routing.allowPublicProxy"), true, "unset when routing.clientCidrs restricts the proxy (choose one)")
	}
}

// httpsURL reports whether s is an absolute https URL with a host.
func httpsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

// onPort443 says whether an https URL is served on 443 (no port, or
// :443).
func onPort443(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Port() == "" || u.Port() == "443")
}

// globalView says whether a role runs the global query layer; an unknown
// role has none (it is refused elsewhere).
func globalView(role Role) bool {
	g, err := regions.GlobalView(role)
	return err == nil && g
}
