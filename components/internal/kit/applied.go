package kit

import (
	"reflect"

	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulsar-fleet/pulsar-fleet/internal/jsonform"
)

// ValuesApplied is true once Helm reports the release deployed with the
// values declared (deployed: with the release's wait, its workloads were
// ready). The engine gives a program the last applied state of a release
// it does not update in this run (one left out by `up --target`): its
// former values, or, for a release it skips creating, the declared inputs
// with no status. A release whose upgrade failed is recorded with the new
// values but another status. Each is false, so a stack's outputs can
// report only what was applied. It is never secret: it says whether, not
// what.
func ValuesApplied(release *helmv3.Release, declared pulumi.Map) pulumi.BoolOutput {
	applied := pulumi.All(release.Values, release.Status, declared).ApplyT(func(v []any) bool {
		status, _ := v[1].(helmv3.ReleaseStatus)
		return status.Status == ReleaseDeployed && SameValues(v[0], v[2])
	}).(pulumi.BoolOutput)
	return pulumi.Unsecret(applied).(pulumi.BoolOutput)
}

// ReleaseDeployed is Helm's status of a release installed or upgraded
// successfully.
const ReleaseDeployed = "deployed"

// SameValues compares two values trees as the Kubernetes provider records
// a release's values: as JSON, with what its cleanup drops left out on both
// sides (null leaves, nulls in lists, and empty lists, which it records as
// null), so an int and the float the engine records for it are the same.
// Trees that do not encode as JSON are never the same.
func SameValues(a, b any) bool {
	x, errA := jsonform.Value(a)
	y, errB := jsonform.Value(b)
	return errA == nil && errB == nil && reflect.DeepEqual(recordedForm(x), recordedForm(y))
}

// recordedForm drops null leaves, nulls in lists and empty lists.
func recordedForm(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			e = recordedForm(e)
			if l, ok := e.([]any); e == nil || (ok && len(l) == 0) {
				delete(x, k)
				continue
			}
			x[k] = e
		}
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if e != nil {
				out = append(out, recordedForm(e))
			}
		}
		return out
	}
	return v
}

// AllTrue is true when every output is.
func AllTrue(outs ...pulumi.BoolOutput) pulumi.BoolOutput {
	in := make([]any, len(outs))
	for i, o := range outs {
		in[i] = o
	}
	return pulumi.All(in...).ApplyT(func(v []any) bool {
		for _, b := range v {
			if ok, _ := b.(bool); !ok {
				return false
			}
		}
		return true
	}).(pulumi.BoolOutput)
}
