package main

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/pulsar-fleet/pulsar-fleet/model"
	"github.com/pulsar-fleet/pulsar-fleet/sizing"
	"github.com/pulsar-fleet/pulsar-fleet/stacks"
)

// planReport is the JSON of the plan command.
type planReport struct {
	Catalog catalogInfo   `json:"catalog"`
	Phases  []phaseReport `json:"phases"`
}

// catalogInfo says which instance facts a plan used, and how old the
// prices are.
type catalogInfo struct {
	Source     string `json:"source"`
	PricesAsOf string `json:"pricesAsOf,omitempty"`
}

type phaseReport struct {
	Plan sizing.FleetPlan        `json:"plan"`
	Seed []sizing.SeedComparison `json:"seedComparison"`
	// Advice are the stacks' settings that cost more than the plan
	// recommends.
	Advice []sizing.Advice `json:"advice,omitempty"`
	// Applied are the role-profile defaults applied where a stack file sets
	// nothing.
	Applied []stacks.AppliedDefault `json:"applied,omitempty"`
	// Compare is the fleet under each alternative (plan --compare).
	Compare []sizing.Comparison `json:"compare,omitempty"`
	// Sensitivity is the fleet with each calibration point halved and
	// doubled (plan --sensitivity).
	Sensitivity []sizing.Sensitivity `json:"sensitivity,omitempty"`
}

func runPlan(args []string, stdout io.Writer) error {
	fs := newFlags("plan", stdout)
	phase := fs.String("phase", "", "one phase ("+sizing.PhaseNamesHelp+"); default all")
	asJSON := fs.Bool("json", false, "print JSON")
	sensitivity := fs.Bool("sensitivity", false, "print how the fleet and its cost move when each planning assumption without a benchmark behind it is halved or doubled")
	compare := fs.Bool("compare", false, "print the fleet's cost under alternatives side by side (bucket replication, RTC, spot shares, compression)")
	chart := fs.String("chart", "", "write a chart of nodes and monthly cost against throughput (.svg or .png)")
	dir := fs.String("dir", ".", "project directory with Pulumi.<stack>.yaml files")
	catalog := catalogFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	phases := sizing.Phases()
	if *phase != "" {
		ph, err := sizing.PhaseByName(*phase)
		if err != nil {
			return usagef("--phase: %v", err)
		}
		phases = []sizing.Phase{ph}
	}
	if *chart != "" {
		if ext := strings.ToLower(filepath.Ext(*chart)); ext != ".svg" && ext != ".png" {
			return usagef("--chart %q: want a file ending in .svg or .png", *chart)
		}
	}
	fleet, _, err := stacks.LoadFleet(*dir)
	if err != nil {
		return usagef("%v", err)
	}
	cat, err := openCatalog(*catalog)
	if err != nil {
		return err
	}
	params, err := fleet.Params()
	if err != nil {
		return usagef("%v", err)
	}
	planner, err := sizing.NewPlanner(cat, params)
	if err != nil {
		return err
	}
	rep := planReport{Catalog: catalogInfo{Source: cat.Source, PricesAsOf: cat.PricesAsOf}}
	for _, preset := range phases {
		pr, err := planPhase(fleet, planner, preset.Name, *compare, *sensitivity)
		if err != nil {
			return err
		}
		rep.Phases = append(rep.Phases, pr)
	}
	if *chart != "" {
		if err := writeChart(*chart, rep); err != nil {
			return fmt.Errorf("chart: %w", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	if *compare || *sensitivity {
		printComparisons(stdout, rep)
		printSensitivities(stdout, rep)
		return nil
	}
	printPlan(stdout, rep)
	if *chart != "" {
		fmt.Fprintf(stdout, "\nchart written to %s\n", *chart)
	}
	return nil
}

// planPhase plans the fleet at one phase, with the seed comparison and the
// advice, and the alternatives and sensitivities when asked.
func planPhase(fleet stacks.Fleet, planner *sizing.Planner, name string, compare, sensitivity bool) (phaseReport, error) {
	ph, err := fleet.PhaseFor(name)
	if err != nil {
		return phaseReport{}, usagef("%v", err)
	}
	regs, err := fleet.PlannerRegions(ph.Name)
	if err != nil {
		return phaseReport{}, err
	}
	fp, err := planner.PlanFleet(ph, regs)
	if err != nil {
		return phaseReport{}, err
	}
	pr := phaseReport{Plan: fp}
	if pr.Seed, err = planner.CompareSeed(fp); err != nil {
		return pr, err
	}
	if pr.Advice, err = planner.Advise(ph, regs, fp); err != nil {
		return pr, err
	}
	if pr.Applied, err = fleet.AppliedDefaults(model.PhaseName(ph.Name)); err != nil {
		return pr, err
	}
	if compare {
		if pr.Compare, err = planner.Compare(ph, regs, sizing.Alternatives()); err != nil {
			return pr, err
		}
	}
	if sensitivity {
		pr.Sensitivity, err = planner.Sensitivities(ph, regs)
	}
	return pr, err
}

func printPlan(w io.Writer, rep planReport) {
	asOf := rep.Catalog.PricesAsOf
	if asOf == "" {
		asOf = "an unstated date"
	}
	fmt.Fprintf(w, "\ninstance catalog: %s, on-demand prices of %s\n", rep.Catalog.Source, asOf)
	for _, pr := range rep.Phases {
		ph := pr.Plan.Phase
		fmt.Fprintf(w, "\n== phase %s: %s msg/s across the fleet, %s messages, fan-out %.0f, TTL %s, retention %s, bookie hold %s\n",
			ph.Name, humanRate(ph.Rate), sizing.FormatSI(float64(ph.MessageBytes)), ph.ConsumerFanout, ph.TTL, ph.Retention,
			ph.Offload.LedgerRollover+ph.Offload.After+ph.Offload.DeletionLag)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REGION\tROLE\tSTORED msg/s\tBROKERS spot/od (type, limit)\tBOOKIES spot/od (type, limit)\tPROXIES\tZK\tMONTHLY $\t$/M MSGS\tALL-OD $\tSAVING\tCOMPUTE SAVING\tTRANSFER $\tFAILURE CHECK")
		for _, r := range pr.Plan.Regions {
			check := "pass"
			for _, fc := range r.Failures {
				if !fc.Pass {
					check = "FAIL: " + fc.Scenario
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d = %d/%d (%s, %s)\t%d = %d/%d (%s%s, %s)\t%d %s\t%d\t%s\t%s\t%s\t%.1f%%\t%.1f%%\t%s\t%s\n",
				r.Region, r.Role, humanRate(r.Workload.StoredRate),
				r.Brokers.Count, r.Brokers.Spot, r.Brokers.OnDemand, r.Brokers.InstanceType, r.Brokers.LimitingFactor,
				r.Bookies.Count, r.Bookies.Spot, r.Bookies.OnDemand, r.Bookies.InstanceType, nvme(r.Bookies), r.Bookies.LimitingFactor,
				r.Proxies.Count, r.Proxies.InstanceType, r.ZooKeeper.Count,
				money(r.Cost.TotalUSD), perMillion(r.Cost.PerMillionMessagesUSD), money(r.Cost.AllOnDemandUSD), r.Cost.SavingsPct, r.Cost.ComputeSavingsPct, money(r.Cost.TransferUSD), check)
		}
		t := pr.Plan.Total
		fmt.Fprintf(tw, "fleet\t\t\t\t\t\t\t%s\t%s\t%s\t%.1f%%\t%.1f%%\t%s\t\n", money(t.TotalUSD), perMillion(t.PerMillionMessagesUSD), money(t.AllOnDemandUSD), t.SavingsPct, t.ComputeSavingsPct, money(t.TransferUSD))
		tw.Flush()
		for _, r := range pr.Plan.Regions {
			for _, rs := range []sizing.RoleSize{r.Brokers, r.Bookies} {
				if rs.SpotCapped {
					fmt.Fprintf(w, "  warning: %s %ss: the spot share (stack config or role profile) is cut to %d spot of %d, to keep the on-demand base of %d (one per zone; bookies at least the ensemble)\n",
						r.Region, rs.Role, rs.Spot, rs.Count, rs.OnDemand)
				}
			}
		}
		printApplied(w, pr.Applied)
		for _, a := range pr.Advice {
			fmt.Fprintf(w, "  advice: %s sets %s, which costs %s a month; the plan recommends %s\n", a.Region, a.Setting, money(a.ExtraUSD), a.Recommended)
		}
		fmt.Fprintln(w, "  monthly cost breakdown ($; every line is in MONTHLY $):")
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  REGION\tCOMPUTE\tEBS\tS3 STORED TB\tS3 STORAGE\tS3 REQUESTS\tCRR TB/month\tCRR\tRTC\tREPLICAS TB (days)\tREPLICA STORAGE\tPLATFORM\tTRANSFER\tTOTAL")
		for _, r := range append(pr.Plan.Regions, sizing.RegionPlan{Region: "fleet", Cost: t}) {
			c := r.Cost
			days := "-"
			if r.BucketExpireDays > 0 {
				days = fmt.Sprint(r.BucketExpireDays)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s (%s)\t%s\t%s\t%s\t%s\n", r.Region, money(c.ComputeUSD), money(c.EBSUSD),
				money(c.S3.StoredGB/1000), money(c.S3.StorageUSD), money(c.S3.RequestsUSD+c.S3.MonitoringUSD),
				money(c.S3.ReplicationGB/1000), money(c.S3.ReplicationUSD), money(c.S3.RTCUSD), money(c.S3.ReplicaStoredGB/1000), days, money(c.S3.ReplicaStorageUSD),
				money(c.PlatformUSD), money(c.TransferUSD), money(c.TotalUSD))
		}
		tw.Flush()
		if len(pr.Seed) > 0 {
			fmt.Fprintln(w, "  seed milestone table vs this plan (brokers + bookies, same prices):")
			tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "  ROLE\tSEED brokers/bookies (spot)\tSEED $\tSEED $/M MSGS\tLIMITS NEED on seed types\tPLAN brokers/bookies (spot)\tPLAN $\tPLAN $/M MSGS")
			for _, c := range pr.Seed {
				fmt.Fprintf(tw, "  %s\t%d (%d) / %d (%d) %s\t%s\t%s\t%d / %d (%s)\t%d (%d) / %d (%d) %s\t%s\t%s\n", c.Role,
					c.SeedBrokers, c.SeedBrokersSpot, c.SeedBookies, c.SeedBookiesSpot, c.SeedTypes, money(c.SeedMonthlyUSD), perMillion(c.SeedPerMillionUSD),
					c.SeedBrokersNeeded, c.SeedBookiesNeeded, c.SeedBookieLimit,
					c.PlanBrokers, c.PlanBrokersSpot, c.PlanBookies, c.PlanBookiesSpot, c.PlanTypes, money(c.PlanMonthlyUSD), perMillion(c.PlanPerMillionUSD))
			}
			tw.Flush()
		}
	}
}

// printComparisons prints each phase's alternatives side by side.
func printComparisons(w io.Writer, rep planReport) {
	for _, pr := range rep.Phases {
		if len(pr.Compare) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n== phase %s: the fleet's monthly cost ($, every line included) with one lever moved\n", pr.Plan.Phase.Name)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprint(tw, "ALTERNATIVE\tMONTHLY $\t$/M MSGS\tVS CONFIGURED")
		for _, r := range pr.Plan.Regions {
			fmt.Fprintf(tw, "\t%s", r.Region)
		}
		fmt.Fprintln(tw)
		for _, c := range pr.Compare {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s", c.Name, money(c.Total.TotalUSD), perMillion(c.Total.PerMillionMessagesUSD), delta(c))
			for _, r := range pr.Plan.Regions {
				fmt.Fprintf(tw, "\t%s", money(c.ByRegion[r.Region]))
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
}

// printSensitivities prints each phase's fleet under scaled assumptions.
func printSensitivities(w io.Writer, rep planReport) {
	for _, pr := range rep.Phases {
		if len(pr.Sensitivity) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n== phase %s: the fleet with each calibration point halved and doubled\n", pr.Plan.Phase.Name)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ASSUMPTION\tx\tVALUE\tBROKERS (vCPUs)\tBOOKIES\tMONTHLY $\tVS PLANNED")
		for _, s := range pr.Sensitivity {
			fmt.Fprintf(tw, "%s\t%g\t%s\t%d (%d)\t%d\t%s\t%+.1f%%\n", s.Param, s.Factor, s.Display, s.Brokers, s.BrokerVCPUs, s.Bookies, money(s.TotalUSD), s.DeltaPct)
		}
		tw.Flush()
	}
}

// delta is an alternative's change against the fleet as configured.
func delta(c sizing.Comparison) string {
	if c.DeltaUSD == 0 {
		return "-"
	}
	sign := "+"
	if c.DeltaUSD < 0 {
		sign = "-"
	}
	return fmt.Sprintf("%s%s (%+.1f%%)", sign, money(math.Abs(c.DeltaUSD)), c.DeltaPct)
}

// perMillion prints dollars per million messages ("-" for a region that
// takes no traffic of its own).
func perMillion(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.4f", v)
}

func nvme(r sizing.RoleSize) string {
	if r.LocalNVMe {
		return " NVMe"
	}
	return ""
}

func money(v float64) string {
	s := fmt.Sprintf("%.0f", math.Round(v))
	n := len(s)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (n-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func humanRate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%gM", math.Round(r/1e4)/100)
	case r >= 1e3:
		return fmt.Sprintf("%gK", math.Round(r/10)/100)
	}
	return fmt.Sprintf("%.0f", r)
}

// writeChart plots fleet nodes and monthly cost against the phase
// throughput (log axes), one panel each, per region and for the fleet.
func writeChart(path string, rep planReport) error {
	nodes := plot.New()
	nodes.Title.Text = "Nodes per region (brokers + bookies + proxies + ZooKeeper)"
	nodes.X.Label.Text = "fleet throughput (msg/s)"
	nodes.Y.Label.Text = "nodes"
	nodes.X.Scale, nodes.Y.Scale = plot.LogScale{}, plot.LogScale{}
	nodes.X.Tick.Marker, nodes.Y.Tick.Marker = plot.LogTicks{}, plot.LogTicks{}
	cost := plot.New()
	cost.Title.Text = "Monthly cost (USD): fleet total, and node cost planned vs all on-demand"
	cost.X.Label.Text = "fleet throughput (msg/s)"
	cost.Y.Label.Text = "USD per month"
	cost.X.Scale, cost.Y.Scale = plot.LogScale{}, plot.LogScale{}
	cost.X.Tick.Marker, cost.Y.Tick.Marker = plot.LogTicks{}, plot.LogTicks{}

	series := map[string]plotter.XYs{}
	var regions []string
	fleetCost, computePlan, computeOD := plotter.XYs{}, plotter.XYs{}, plotter.XYs{}
	for _, pr := range rep.Phases {
		x := pr.Plan.Phase.Rate
		for _, r := range pr.Plan.Regions {
			if _, ok := series[r.Region]; !ok {
				regions = append(regions, r.Region)
			}
			n := r.Brokers.Count + r.Bookies.Count + r.Proxies.Count + r.ZooKeeper.Count
			series[r.Region] = append(series[r.Region], plotter.XY{X: x, Y: float64(n)})
		}
		t := pr.Plan.Total
		fleetCost = append(fleetCost, plotter.XY{X: x, Y: t.TotalUSD})
		computePlan = append(computePlan, plotter.XY{X: x, Y: t.ComputeUSD})
		computeOD = append(computeOD, plotter.XY{X: x, Y: t.ComputeUSD + t.SavingsUSD})
	}
	for i, r := range regions {
		l, p, err := plotter.NewLinePoints(series[r])
		if err != nil {
			return err
		}
		l.Color, p.Color = plotColor(i), plotColor(i)
		nodes.Add(l, p)
		nodes.Legend.Add(r, l, p)
	}
	for i, s := range []struct {
		name string
		xy   plotter.XYs
	}{{"fleet total (compute, EBS, S3 + replication, platform)", fleetCost},
		{"nodes, planned spot/on-demand mix", computePlan}, {"nodes, all on-demand", computeOD}} {
		l, p, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return err
		}
		l.Color, p.Color = plotColor(i+3), plotColor(i+3)
		cost.Add(l, p)
		cost.Legend.Add(s.name, l, p)
	}
	nodes.Legend.Top, cost.Legend.Top = true, true
	nodes.Legend.Left, cost.Legend.Left = true, true

	w, h := 8*vg.Inch, 9*vg.Inch
	var canvas vg.CanvasWriterTo
	if strings.EqualFold(filepath.Ext(path), ".svg") {
		canvas = vgsvg.New(w, h)
	} else {
		canvas = vgimg.PngCanvas{Canvas: vgimg.New(w, h)}
	}
	dc := draw.New(canvas)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(8), PadBottom: vg.Points(8), PadLeft: vg.Points(8), PadRight: vg.Points(8), PadY: vg.Points(16)}
	canvases := plot.Align([][]*plot.Plot{{nodes}, {cost}}, tiles, dc)
	nodes.Draw(canvases[0][0])
	cost.Draw(canvases[1][0])
	return writeCanvas(path, canvas)
}

func plotColor(i int) color.Color {
	palette := []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255}, {140, 86, 75, 255}}
	return palette[i%len(palette)]
}

func writeCanvas(path string, c vg.CanvasWriterTo) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// printApplied prints one line per stack: the role-profile defaults the
// plan applied where its stack file sets nothing.
func printApplied(w io.Writer, applied []stacks.AppliedDefault) {
	var order []string
	byStack := map[string][]string{}
	for _, a := range applied {
		if _, ok := byStack[a.Stack]; !ok {
			order = append(order, a.Stack)
		}
		byStack[a.Stack] = append(byStack[a.Stack], fmt.Sprintf("%s %s (%s)", a.Key, a.Value, a.Source))
	}
	for _, s := range order {
		fmt.Fprintf(w, "  defaults: %s: %s\n", s, strings.Join(byStack[s], "; "))
	}
}
