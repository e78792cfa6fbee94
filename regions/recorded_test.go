package regions_test

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pulsar-fleet/pulsar-fleet/components/observability"
	"github.com/pulsar-fleet/pulsar-fleet/components/pulsar"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/regions"
)

// recordedRun builds us-east-1 under mocks, with its last outputs and the
// resources the run leaves as they were (recorder.Unapplied), and returns
// the outputs the guards read, resolved, and the Helm releases' names.
func recordedRun(t *testing.T, recorded map[string]any, unapplied func(pulumi.MockResourceArgs) map[string]any) (map[string]any, []string) {
	t.Helper()
	s, cat := spec(t, "us-east-1")
	s.Recorded = recorded
	rec := recorder.New(s.Region)
	rec.StackOutputs["us-west-2"] = peerOutputs("us-west-2")
	rec.StackOutputs["eu-west-1"] = peerOutputs("eu-west-1")
	rec.Unapplied = unapplied
	got := map[string]any{}
	require.NoError(t, rec.Run("pulsar-fleet", "us-east-1", nil, nil, func(ctx *pulumi.Context) error {
		res, err := regions.Build(ctx, s, cat)
		if err != nil {
			return err
		}
		for _, k := range append(append([]string(nil), regions.PulsarOutputs...), model.OutputFleetCAApplied, regions.OutputKubernetesVersion) {
			o, ok := res.Outputs[k]
			if !ok {
				continue
			}
			v, err := internals.UnsafeAwaitOutput(ctx.Context(), pulumi.ToOutput(o))
			if err != nil {
				return err
			}
			got[k] = v.Value
		}
		return nil
	}))
	var releases []string
	for _, r := range rec.ByType("kubernetes:helm.sh/v3:Release") {
		name, _ := r.Inputs["name"].(string)
		releases = append(releases, name)
	}
	sort.Strings(releases)
	return got, releases
}

// A run that leaves a release out (`pulumi up --target`, which still
// updates the stack's outputs) reports what the stack last recorded for
// the outputs that release backs, so the transition guard is not told a
// step was applied that never was; a run that applies every release
// reports what it declares.
func TestOutputsReportOnlyWhatWasApplied(t *testing.T) {
	declared, releases := recordedRun(t, nil, nil)
	require.NotEmpty(t, declared[regions.OutputPhase])
	require.Contains(t, declared, model.OutputFleetCAApplied, "us-east-1 reports the fleet CA stage it applied")
	require.Contains(t, releases, pulsar.ReleaseName)
	require.Contains(t, releases, observability.ChartName)

	// Every recorded value differs from the declared one, so a key the
	// run reports from the wrong side shows.
	recorded := map[string]any{
		regions.OutputPhase:                 "10k",
		regions.OutputBookieSets:            "nvme",
		regions.OutputTransition:            map[string]any{"from": "1k", "step": float64(2)},
		regions.OutputBookieVolumes:         map[string]any{"ledgerGiB": float64(1)},
		regions.OutputSigningKey:            "chart",
		regions.OutputSigningKeyFingerprint: "sha256:" + strings.Repeat("1", 64),
		regions.OutputZooKeeperQuorumTLS:    "dial",
		regions.OutputLegacyBookieStorage:   "ebs",
		model.OutputFleetCAApplied:          map[string]any{"generation": float64(7), "stage": "trust"},
	}
	for k, v := range recorded {
		require.NotEqual(t, declared[k], v, "the recorded %s must differ from the declared one", k)
	}
	stale := map[string]any{"values": map[string]any{"recorded": "by an earlier run"}}
	for _, tc := range []struct {
		name      string
		unapplied []string
		pulsar    bool // the Pulsar outputs come from the record
		ca        bool // the fleet CA's stage comes from the record
	}{
		{"every release applied", nil, false, false},
		{"the Pulsar release left out", []string{pulsar.ReleaseName}, true, false},
		{"the monitoring release left out", []string{observability.ChartName}, false, true},
		{"both left out", []string{pulsar.ReleaseName, observability.ChartName}, true, true},
		{"the Pulsar release's creation skipped", []string{"created:" + pulsar.ReleaseName}, true, false},
		{"the Pulsar release's upgrade failed", []string{"failed:" + pulsar.ReleaseName}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			unapplied := func(args pulumi.MockResourceArgs) map[string]any {
				name := args.Inputs["name"]
				if args.TypeToken != "kubernetes:helm.sh/v3:Release" || !name.IsString() {
					return nil
				}
				if slices.Contains(tc.unapplied, name.StringValue()) {
					return stale
				}
				if slices.Contains(tc.unapplied, "created:"+name.StringValue()) {
					// A create the engine skips: the inputs, and no status.
					return map[string]any{"status": nil}
				}
				if slices.Contains(tc.unapplied, "failed:"+name.StringValue()) {
					// Recorded with the new values, and Helm's status.
					return map[string]any{"status": map[string]any{"status": "failed"}}
				}
				return nil
			}
			got, _ := recordedRun(t, recorded, unapplied)
			for _, k := range regions.PulsarOutputs {
				want, fromRecord := declared[k], recorded[k]
				if tc.pulsar {
					want = fromRecord
				}
				assert.Equal(t, want, got[k], "output %s", k)
			}
			{
				want := declared[model.OutputFleetCAApplied]
				if tc.ca {
					want = recorded[model.OutputFleetCAApplied]
				}
				assert.Equal(t, want, got[model.OutputFleetCAApplied])
			}
			assert.Equal(t, declared[regions.OutputKubernetesVersion], got[regions.OutputKubernetesVersion], "not backed by a release")
		})
	}
}
