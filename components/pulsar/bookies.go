package pulsar

import (
	"fmt"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/model"
)

// Where each bookie set lives. A set's storage is its identity, and fixes
// its StatefulSet for good: EBS bookies are the chart's own bookies in the
// main release ("pulsar-bookie"); instance-storage bookies are a release of
// their own, NVMeRelease ("pulsar-nvme-bookie"). A change of storage is
// then never an update of one StatefulSet (which Kubernetes refuses, and
// which would restart every bookie empty): a transition installs the other
// set beside the first, drains the first one bookie at a time, then
// removes it.
const (
	// NVMeRelease is the release, and the chart fullname, of the
	// instance-storage bookies. Its own fullname keeps its objects apart
	// from the main release's (the chart renders some, such as the certs
	// scripts ConfigMap, whatever the components).
	NVMeRelease = "pulsar-nvme"
	// nvmeBookieRef is the main release's bookkeeper.component when it has
	// no bookies of its own: with fullname "pulsar" it names NVMeRelease's
	// Service and ConfigMap ("pulsar-nvme-bookie"), which the brokers and
	// the init jobs read.
	nvmeBookieRef = "nvme-bookie"
	// zooKeeperClientPort is the chart's ZooKeeper TLS client port, the
	// only one ZooKeeper serves (CloseClientPort).
	zooKeeperClientPort = 2281
)

// BookieSet is one StatefulSet of bookies.
type BookieSet struct {
	Storage model.BookieStorage
	Pod     Pod
	// LocalDiskGiB is what an instance-storage bookie fills at most (the
	// plan's usable share of the instance store): its ephemeral-storage.
	LocalDiskGiB int
	// The EBS volumes of an EBS set.
	JournalGiB, LedgersGiB     int
	JournalClass, LedgersClass string
}

// Release is the Helm release the set's StatefulSet belongs to; it is also
// the chart fullname there.
func (s BookieSet) Release() string {
	if s.Storage == model.StorageNVMe {
		return NVMeRelease
	}
	return ReleaseName
}

// StatefulSet is the set's StatefulSet name.
func (s BookieSet) StatefulSet() string { return s.Release() + "-" + CompBookie }

// labels are the set's pod labels.
func (s BookieSet) labels() map[string]string {
	return map[string]string{LabelApp: ChartName, LabelRelease: s.Release(), LabelComponent: CompBookie}
}

// Set is the region's set on the given storage.
func (a Config) Set(storage model.BookieStorage) (BookieSet, bool) {
	for _, s := range a.BookieSets {
		if s.Storage == storage {
			return s, true
		}
	}
	return BookieSet{}, false
}

// HasSet reports a set on the given storage.
func (a Config) HasSet(storage model.BookieStorage) bool {
	_, ok := a.Set(storage)
	return ok
}

// validateSets checks the bookie sets: one (two only between phases), of
// different storage, each able to hold an ensemble, with its disks sized.
func validateSets(sets []BookieSet, interim bool, ensemble int) []error {
	var errs []error
	bad := func(f string, v ...any) { errs = append(errs, fmt.Errorf(f, v...)) }
	var kinds []string
	for _, s := range sets {
		kinds = append(kinds, string(s.Storage))
	}
	switch {
	case len(sets) == 0:
		bad("bookie sets: none; a region needs one")
	case len(sets) > 2 || (len(sets) == 2 && !interim):
		bad("bookie sets: %d (%s); two coexist only between two phases, while a transition moves the data", len(sets), strings.Join(kinds, ", "))
	case len(sets) == 2 && sets[0].Storage == sets[1].Storage:
		bad("bookie sets: two on %s storage; a set's storage is its identity", sets[0].Storage)
	}
	for _, s := range sets {
		if !s.Storage.Valid() {
			errs = append(errs, model.Invalid("bookie set storage", s.Storage, model.BookieStorages))
			continue
		}
		if s.Pod.Replicas < ensemble {
			bad("%s bookies %d: fewer than the ensemble %d; no ledger could be written", s.Storage, s.Pod.Replicas, ensemble)
		}
		if s.Storage == model.StorageEBS && (s.JournalGiB <= 0 || s.LedgersGiB <= 0 || s.JournalClass == "" || s.LedgersClass == "") {
			bad("ebs bookie volumes: journal %dGi (%q), ledgers %dGi (%q) need sizes and storage classes", s.JournalGiB, s.JournalClass, s.LedgersGiB, s.LedgersClass)
		}
		if s.Storage == model.StorageNVMe && s.LocalDiskGiB <= 0 {
			bad("nvme bookies need LocalDiskGiB (the instance store they fill), got %d", s.LocalDiskGiB)
		}
	}
	return errs
}

// mainBookies are the main release's bookkeeper values: the EBS set's, or,
// without one, the name of the instance-storage set and no PodMonitor
// (the chart renders it whether bookies run or not, and it would select
// nothing).
func mainBookies(a Config) BookKeeper {
	if set, ok := a.Set(model.StorageEBS); ok {
		return bookKeeperValues(set)
	}
	return BookKeeper{Component: nvmeBookieRef, Workload: &Workload{PodMonitor: Toggle{Enabled: false}}}
}

// MetadataServiceURI is where bookies find their metadata: the main
// release's ZooKeeper, as the chart writes it for its own bookies.
func MetadataServiceURI() string {
	return fmt.Sprintf("zk+hierarchical://%s-%s:%d/ledgers", Fullname, CompZooKeeper, zooKeeperClientPort)
}

// ComputeNVMe is the instance-storage set's release values; nil when the
// region has no such set. Without ZooKeeper in the release the chart leaves
// metadataServiceUri out, so the values carry it.
func ComputeNVMe(a Config) (*BookieReleaseValues, error) {
	a = a.WithDefaults()
	if err := a.Validate(); err != nil {
		return nil, err
	}
	set, ok := a.Set(model.StorageNVMe)
	if !ok {
		return nil, nil
	}
	bk := bookKeeperValues(set)
	bk.ConfigData["metadataServiceUri"] = MetadataServiceURI()
	crit := a.CriticalPlacement
	return &BookieReleaseValues{
		FullnameOverride: NVMeRelease, ClusterName: a.Cluster,
		Components: Components{BookKeeper: true},
		// TLS to the other releases' brokers and ZooKeeper, with a
		// certificate from the main release's CA.
		TLS:            TLS{Enabled: true, Bookie: &Toggle{Enabled: true}, ZooKeeper: &Toggle{Enabled: true}},
		Certs:          Certs{Issuers: &Issuers{CA: IssuerRef{Name: CAIssuer, SecretName: CASecret}}},
		Affinity:       GlobalAffinity{AntiAffinity: true},
		PulsarMetadata: Scheduling{NodeSelector: crit.NodeSelector, Tolerations: crit.Tolerations},
		BookKeeper:     bk,
	}, nil
}
