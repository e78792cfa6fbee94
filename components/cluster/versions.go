package cluster

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// KubernetesVersion is one Kubernetes minor version on EKS with its support
// window. A minor version is in standard support for 14 months after its
// EKS release, then in extended support for 12 more, billed at the
// extended price; after that EKS upgrades the cluster itself.
type KubernetesVersion struct {
	// Minor is the version as EKS takes it, e.g. "1.35".
	Minor string
	// EndOfStandard is the first day EKS bills extended support;
	// EndOfExtended the day EKS starts upgrading clusters itself.
	EndOfStandard, EndOfExtended time.Time
}

// KubernetesVersions is the EKS release calendar for the versions EKS
// still serves, oldest first: AWS's "Understand the Kubernetes version
// lifecycle on EKS" and its release calendar, as endoflife.date/amazon-eks
// tracks them. 1.31 is gone: its extended support ended on 2026-11-26.
// Add a version here (and to the API-server tier's coverage) when EKS
// releases it; drop one when its extended support ends.
var KubernetesVersions = []KubernetesVersion{
	{"1.32", day(2026, 3, 23), day(2027, 3, 23)},
	{"1.33", day(2026, 7, 29), day(2027, 7, 29)},
	{"1.34", day(2026, 12, 2), day(2027, 12, 2)},
	{"1.35", day(2027, 3, 27), day(2028, 3, 27)},
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// KubernetesVersionNames lists the calendar's versions, oldest first.
func KubernetesVersionNames() []string {
	out := make([]string, len(KubernetesVersions))
	for i, v := range KubernetesVersions {
		out[i] = v.Minor
	}
	return out
}

// LookupKubernetesVersion finds a version in the calendar.
func LookupKubernetesVersion(minor string) (KubernetesVersion, bool) {
	for _, v := range KubernetesVersions {
		if v.Minor == minor {
			return v, true
		}
	}
	return KubernetesVersion{}, false
}

// InStandardSupport says whether the version is in standard support on
// that day.
func (v KubernetesVersion) InStandardSupport(on time.Time) bool { return on.Before(v.EndOfStandard) }

// minorNumber is NN of "1.NN".
func minorNumber(v string) (int, error) {
	rest, ok := strings.CutPrefix(v, "1.")
	n, err := strconv.Atoi(rest)
	if !ok || err != nil || n < 0 {
		return 0, fmt.Errorf("kubernetes version %q: want 1.NN", v)
	}
	return n, nil
}

// AllowUpgrade refuses a change of a running cluster's version that EKS
// cannot make in place: a downgrade, or a step of more than one minor
// version (EKS upgrades one at a time). The error names the next version
// to set.
func AllowUpgrade(deployed, declared string) error {
	was, err := minorNumber(deployed)
	if err != nil {
		return err
	}
	now, err := minorNumber(declared)
	if err != nil {
		return err
	}
	switch {
	case now < was:
		return fmt.Errorf("the cluster runs Kubernetes %s and cannot go back to %s: EKS does not downgrade a control plane", deployed, declared)
	case now > was+1:
		return fmt.Errorf("the cluster runs Kubernetes %s and EKS upgrades one minor version at a time: set 1.%d, `pulumi up`, then %s (docs/operations.md, \"Upgrading Kubernetes\")", deployed, was+1, declared)
	}
	return nil
}
