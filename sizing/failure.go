package sizing

import (
	"fmt"
	"math"
)

// Failure scenarios the planner checks for every region and phase.
const (
	ScenarioZoneLoss     = "lose one zone"
	ScenarioZoneSpotLoss = "lose all spot capacity in one zone"
	// ScenarioRegionSpotLoss is every spot node of the region reclaimed at
	// once. Karpenter brings capacity back on demand; until it does, the
	// on-demand base must keep every write quorum and every zone.
	ScenarioRegionSpotLoss = "lose all spot capacity in the region"
)

// FailureCheck is the outcome of one failure scenario.
type FailureCheck struct {
	Scenario    string `json:"scenario"`
	LostBookies int    `json:"lostBookies"`
	LostBrokers int    `json:"lostBrokers"`
	LostProxies int    `json:"lostProxies"`
	LostZK      int    `json:"lostZooKeeper"`
	// ZonesPerLedger is how many zones each ledger's write-quorum copies
	// span under rack-aware placement with zones as racks.
	ZonesPerLedger int `json:"zonesPerLedger"`
	// SurvivingAckedCopies is the worst-case number of acknowledged copies
	// of an entry that survive.
	SurvivingAckedCopies int `json:"survivingAckedCopies"`
	// DataLoss is true when an acknowledged entry can lose every copy.
	DataLoss bool `json:"dataLoss"`
	// WritesContinue is true when enough bookies remain, in enough zones,
	// to form new ensembles under the enforced rack rule.
	WritesContinue bool `json:"writesContinue"`
	// ZooKeeperQuorum is true when a majority of ZooKeeper servers remain.
	ZooKeeperQuorum bool `json:"zookeeperQuorum"`
	// CarriesLoad is true when every remaining role stays below 100% of
	// every limit (storage: within the usable fraction).
	CarriesLoad bool `json:"carriesLoad"`
	// Utilization after the failure, per role.limit.
	Utilization map[string]float64 `json:"utilization"`
	Pass        bool               `json:"pass"`
	Notes       []string           `json:"notes,omitempty"`
}

// FailureChecks runs both scenarios against a region plan.
func FailureChecks(rp RegionPlan, w Workload) []FailureCheck {
	z := w.Zones
	perZone := func(n int) int { return int(math.Ceil(float64(n) / float64(z))) }
	zone := FailureCheck{Scenario: ScenarioZoneLoss,
		LostBookies: perZone(rp.Bookies.Count), LostBrokers: perZone(rp.Brokers.Count),
		LostProxies: perZone(rp.Proxies.Count), LostZK: perZone(rp.ZooKeeper.Count)}
	spot := FailureCheck{Scenario: ScenarioZoneSpotLoss,
		LostBookies: perZone(rp.Bookies.Spot), LostBrokers: perZone(rp.Brokers.Spot)}
	return []FailureCheck{
		evaluate(zone, rp, w, true, 1),
		evaluate(spot, rp, w, rp.Bookies.LocalNVMe, 0),
		regionSpotLoss(rp, w),
	}
}

// regionSpotLoss loses every spot broker and bookie. It passes when no
// acknowledged entry is lost and writes continue on the on-demand base in
// enough zones; the load is carried again once Karpenter has replaced the
// nodes on demand, so utilization is reported, not required.
func regionSpotLoss(rp RegionPlan, w Workload) FailureCheck {
	fc := evaluate(FailureCheck{Scenario: ScenarioRegionSpotLoss, LostBookies: rp.Bookies.Spot, LostBrokers: rp.Brokers.Spot},
		rp, w, rp.Bookies.LocalNVMe, 0)
	zones := min(w.Zones, rp.Bookies.OnDemand) // the on-demand base is spread over the zones
	fc.WritesContinue = rp.Bookies.OnDemand >= w.Ensemble && zones >= rp.Quorum.MinRacksPerWriteQuorum
	if !fc.WritesContinue {
		fc.Notes = append(fc.Notes, fmt.Sprintf("%d on-demand bookies in %d zones: ensemble %d across %d zones cannot form", rp.Bookies.OnDemand, zones, w.Ensemble, rp.Quorum.MinRacksPerWriteQuorum))
	}
	if rp.Brokers.OnDemand < w.Zones {
		fc.WritesContinue = false
		fc.Notes = append(fc.Notes, fmt.Sprintf("%d on-demand brokers: fewer than one per zone", rp.Brokers.OnDemand))
	}
	fc.Pass = !fc.DataLoss && fc.WritesContinue && fc.ZooKeeperQuorum
	return fc
}

// evaluate fills in a scenario. copiesLost says whether the lost bookies'
// data is gone (a whole zone, or instance-store NVMe) rather than waiting on
// EBS volumes that reattach; zonesLost is how many zones disappear entirely.
func evaluate(fc FailureCheck, rp RegionPlan, w Workload, copiesLost bool, zonesLost int) FailureCheck {
	z := w.Zones
	fc.ZonesPerLedger = min(w.WriteQuorum, z)
	// With rack-aware placement each zone holds at most ceil(W / zones
	// spanned) copies of a ledger; of the acknowledged copies at most that
	// many (and at most A) can sit in the failed zone.
	perZone := int(math.Ceil(float64(w.WriteQuorum) / float64(fc.ZonesPerLedger)))
	ackedInZone := min(w.AckQuorum, perZone)
	fc.SurvivingAckedCopies = w.AckQuorum
	if copiesLost && fc.LostBookies > 0 {
		fc.SurvivingAckedCopies = w.AckQuorum - ackedInZone
	}
	fc.DataLoss = fc.SurvivingAckedCopies < 1
	if fc.DataLoss {
		fc.Notes = append(fc.Notes, fmt.Sprintf("ack quorum %d with %d copies per zone: an acknowledged entry can have every acknowledged copy in the lost zone", w.AckQuorum, perZone))
	}
	if fc.ZonesPerLedger < 2 {
		fc.Notes = append(fc.Notes, fmt.Sprintf("write quorum %d spans %d zone(s): one zone holds every copy", w.WriteQuorum, fc.ZonesPerLedger))
		fc.DataLoss = fc.DataLoss || copiesLost
	}
	remainingBookies := rp.Bookies.Count - fc.LostBookies
	remainingZones := z - zonesLost
	fc.WritesContinue = remainingBookies >= w.Ensemble && remainingZones >= rp.Quorum.MinRacksPerWriteQuorum
	if !fc.WritesContinue {
		fc.Notes = append(fc.Notes, fmt.Sprintf("%d bookies in %d zones remain: ensemble %d across %d zones cannot form", remainingBookies, remainingZones, w.Ensemble, rp.Quorum.MinRacksPerWriteQuorum))
	}
	zk := rp.ZooKeeper.Count
	fc.ZooKeeperQuorum = zk-fc.LostZK > zk/2

	fc.Utilization = map[string]float64{}
	fc.CarriesLoad = true
	check := func(r RoleSize, lost int) {
		left := r.Count - lost
		for _, d := range r.Demands {
			u := 1e9 // no node left: reported as a huge utilization
			if left > 0 {
				u = d.Load / (float64(left) * d.PerNode)
			}
			fc.Utilization[string(r.Role)+"."+d.Name] = round3(u)
			over := u >= 1
			if d.Name == LimitStorage {
				over = u > 1
			}
			if over {
				fc.CarriesLoad = false
				fc.Notes = append(fc.Notes, fmt.Sprintf("%s %s at %.0f%% with %d of %d nodes", r.Role, d.Name, u*100, left, r.Count))
			}
		}
	}
	check(rp.Bookies, fc.LostBookies)
	check(rp.Brokers, fc.LostBrokers)
	check(rp.Proxies, fc.LostProxies)
	fc.Pass = !fc.DataLoss && fc.WritesContinue && fc.ZooKeeperQuorum && fc.CarriesLoad
	return fc
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
