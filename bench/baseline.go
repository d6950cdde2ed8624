package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Baseline mode compares two server binaries (or one binary under two
// sets of flags) on this machine, in one run. Its speed drifts by a factor
// of three within minutes when other people's work comes and goes, so the
// two sides take turns scenario by scenario: every scenario runs once per
// side per round, each time on freshly started servers, the side that
// goes first alternating from round to round (old, new; new, old; …).
// Each figure is the median over rounds, and the report gives the ratio
// new ÷ old of the medians.

// side is one binary of a comparison with its server flags.
type side struct {
	Label  string   `json:"label"`
	Binary string   `json:"binary"`
	Flags  []string `json:"flags,omitempty"`
}

// Comparison is a baseline run: what was compared and every figure.
type Comparison struct {
	// Sides are the old (baseline) and the new binary, in that order.
	Sides  [2]side `json:"sides"`
	Rounds int     `json:"rounds"`
	// Rows holds each scenario's figures in run order.
	Rows []CompareRow `json:"rows"`
	// Runs are the raw results, one per scenario, round and side.
	Runs []CompareRun `json:"runs"`
	// Load is the 1-minute load average read before each run.
	Load []float64 `json:"load"`
}

// CompareRun is one scenario run on one side.
type CompareRun struct {
	Scenario string  `json:"scenario"`
	Round    int     `json:"round"`
	Side     string  `json:"side"`
	Load1    float64 `json:"load1"`
	Result   *Result `json:"result,omitempty"`
	Error    string  `json:"error,omitempty"`
}

// CompareRow is one figure of one scenario on both sides.
type CompareRow struct {
	Scenario string `json:"scenario"`
	Figure   string `json:"figure"`
	// Better is "lower" or "higher".
	Better string `json:"better"`
	// Old and New hold the figure per round (NaN where a run failed).
	Old []float64 `json:"old"`
	New []float64 `json:"new"`
	// OldMedian and NewMedian are medians over the rounds that measured
	// the figure; Ratio is NewMedian / OldMedian (NaN when OldMedian is
	// not positive, as for a difference, or either side measured nothing).
	OldMedian float64 `json:"oldMedian"`
	NewMedian float64 `json:"newMedian"`
	Ratio     float64 `json:"ratio"`
	// LoadMin and LoadMax bound the 1-minute load average over this
	// scenario's runs.
	LoadMin float64 `json:"loadMin"`
	LoadMax float64 `json:"loadMax"`
}

// MarshalJSON writes NaN (not measured) as null.
func (r CompareRow) MarshalJSON() ([]byte, error) {
	type plain CompareRow
	nullNaN := func(v []float64) []*float64 {
		out := make([]*float64, len(v))
		for i := range v {
			if !math.IsNaN(v[i]) {
				out[i] = &v[i]
			}
		}
		return out
	}
	num := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		plain
		Old       []*float64 `json:"old"`
		New       []*float64 `json:"new"`
		OldMedian *float64   `json:"oldMedian"`
		NewMedian *float64   `json:"newMedian"`
		Ratio     *float64   `json:"ratio"`
	}{plain(r), nullNaN(r.Old), nullNaN(r.New), num(r.OldMedian), num(r.NewMedian), num(r.Ratio)})
}

// figure is one number taken from a Result.
type figure struct {
	name  string
	value float64
	// lower is true when a lower value is better.
	lower bool
}

// figures lists the numbers of r that a comparison reports.
func figures(r *Result) []figure {
	var out []figure
	add := func(name string, v float64, lower bool) { out = append(out, figure{name, v, lower}) }
	// perOp adds an operation's rate, its latency's p50 and p99, and the
	// server CPU one operation cost.
	perOp := func(rateName string, rate float64, op string, l *Latency) {
		add(rateName, rate, false)
		if l != nil && l.Count > 0 {
			add(op+" p50 ms", l.P50Ms, true)
			add(op+" p99 ms", l.P99Ms, true)
		}
		if rate > 0 && r.CPU.ServerCores > 0 {
			add("server CPU µs per "+op, r.CPU.ServerCores/rate*1e6, true)
		}
	}
	switch r.Kind {
	case "fanout", "crossnode":
		if l := r.Delivery; l != nil && l.Count > 0 {
			add("delivery p50 ms", l.P50Ms, true)
			add("delivery p99 ms", l.P99Ms, true)
			add("delivery p99.9 ms", l.P999Ms, true)
		}
		if lead, follow, ok := leaderFollowerP50(r); ok {
			add("leader's subscribers p50 ms", lead, true)
			add("followers' subscribers p50 ms", follow, true)
			add("followers − leader p50 ms", follow-lead, true)
		}
		add("deliveries/s", r.DeliveriesPerSec, false)
		if r.Received > 0 && r.CPU.ServerCores > 0 {
			secs, _ := r.Params["durationSec"].(float64)
			add("server CPU µs per delivery", r.CPU.ServerCores*secs/float64(r.Received)*1e6, true)
		}
		add("lost", float64(r.Lost), true)
	case "throughput":
		perOp("acked publishes/s", r.PublishesPerSec, "publish", r.PublishLatency)
	case "connections":
		if c := r.Connections; c != nil && c.Connected > 0 {
			add("RSS KB per connection", c.BytesPerConn/1000, true)
			add("Go heap KB per connection", c.HeapBytesPerConn/1000, true)
			add("Go stack KB per connection", c.StackBytesPerConn/1000, true)
			add("connected", float64(c.Connected), false)
		}
	case "reads":
		perOp("reads/s", r.ReadsPerSec, "read", r.ReadLatency)
		add("failed", float64(r.ReadsFailed), true)
	case "idle":
		add("server CPU, % of a core (all nodes)", r.CPU.ServerCores*100, true)
	case "stalled":
		if s := r.Stalled; s != nil && s.Connected > 0 {
			add("peak RSS MiB", float64(s.RSSPeakBytes)/(1<<20), true)
			add("RSS growth KB per subscriber", s.GrowthPerConnBytes/1000, true)
			add("bound MiB", float64(s.BoundBytes)/(1<<20), true)
			add("kernel TCP buffers MiB", float64(s.KernelTCPPeakBytes)/(1<<20), true)
			add("cut off as slow", s.SlowConsumers, true)
		}
	case "replay":
		if x := r.Replay; x != nil && x.PerSec > 0 {
			add("replayed messages/s", x.PerSec, false)
			add("first message ms", x.FirstMessageMs, true)
		}
	}
	return out
}

// leaderFollowerP50 returns the leader's subscribers' p50 and the slowest
// follower's, when r split its latency by node.
func leaderFollowerP50(r *Result) (leader, follower float64, ok bool) {
	var haveL, haveF bool
	for k, l := range r.DeliveryByNode {
		if l == nil || l.Count == 0 {
			continue
		}
		switch {
		case strings.HasSuffix(k, "(leader)"):
			leader, haveL = l.P50Ms, true
		case strings.HasSuffix(k, "(follower)"):
			follower, haveF = max(follower, l.P50Ms), true
		}
	}
	return leader, follower, haveL && haveF
}

// compareUnits groups the selected scenarios into what one run of one side
// covers: each scenario on its own, except that the SSE replay reuses the
// WebSocket replay's backlog and so runs right after it on the same node.
func (o *options) compareUnits() [][]string {
	single, cluster := o.localScenarios()
	all := append(append(single, "connections-ws-1node", "stalled-resume-1node"), cluster...)
	var units [][]string
	for _, name := range all {
		if !o.wants(name) {
			continue
		}
		if name == "replay-sse-1node" && len(units) > 0 && slices.Equal(units[len(units)-1], []string{"replay-ws-1node"}) {
			units[len(units)-1] = append(units[len(units)-1], name)
			continue
		}
		units = append(units, []string{name})
	}
	return units
}

// compare runs every selected scenario o.rounds times on each side,
// alternating, with fresh servers under work for every run.
func (r *runner) compare(ctx context.Context, newBin, work string) (*Comparison, error) {
	o := r.opts
	oldBin, err := filepath.Abs(o.baseline)
	if err != nil {
		return nil, err
	}
	labels := strings.Split(o.labels, ",")
	cmp := &Comparison{Rounds: o.rounds, Sides: [2]side{
		{Label: strings.TrimSpace(labels[0]), Binary: oldBin, Flags: strings.Fields(o.baselineFlags)},
		{Label: strings.TrimSpace(labels[1]), Binary: newBin, Flags: strings.Fields(o.binaryFlags)},
	}}
	units := o.compareUnits()
	if len(units) == 0 {
		return nil, &usageError{fmt.Sprintf("--scenarios %q selects no scenario", o.scenarios)}
	}
	// results[scenario][side][round]
	results := map[string]*[2][]*Result{}
	loads := map[string][]float64{}
	var order []string
	for ui, unit := range units {
		for _, name := range unit {
			order = append(order, name)
			results[name] = &[2][]*Result{make([]*Result, o.rounds), make([]*Result, o.rounds)}
		}
		for round := range o.rounds {
			sides := []int{0, 1}
			if round%2 == 1 {
				sides = []int{1, 0}
			}
			for _, si := range sides {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				sd := cmp.Sides[si]
				load := loadAverage()
				cmp.Load = append(cmp.Load, load)
				r.prog.logf("baseline: %s, round %d of %d, %s (load %.1f)", strings.Join(unit, " + "), round+1, o.rounds, sd.Label, load)
				opts := *o
				opts.only = map[string]bool{}
				for _, name := range unit {
					opts.only[name] = true
				}
				sub := &runner{opts: &opts, prog: r.prog, runID: r.runID}
				dir := filepath.Join(work, fmt.Sprintf("u%02d-r%d-%s", ui, round+1, sd.Label))
				got, err := sub.runLocal(ctx, serverSpec{Binary: sd.Binary, Dir: dir, Keys: o.keys, Extra: sd.Flags})
				if !o.keepData {
					_ = os.RemoveAll(dir)
				}
				byName := map[string]*Result{}
				for i := range got {
					byName[got[i].Name] = &got[i]
				}
				for _, name := range unit {
					run := CompareRun{Scenario: name, Round: round + 1, Side: sd.Label, Load1: load}
					loads[name] = append(loads[name], load)
					switch res := byName[name]; {
					case res != nil:
						slim := *res
						slim.Timeline = nil
						slimLatency(&slim)
						run.Result = &slim
						run.Error = res.Error
						results[name][si][round] = res
					case err != nil:
						run.Error = err.Error()
					default:
						run.Error = "no result"
					}
					cmp.Runs = append(cmp.Runs, run)
				}
			}
		}
	}
	for _, name := range order {
		cmp.Rows = append(cmp.Rows, compareRows(name, results[name], loads[name])...)
	}
	return cmp, nil
}

// slimLatency drops the percentile curves, which only plots need.
func slimLatency(r *Result) {
	strip := func(l *Latency) *Latency {
		if l == nil {
			return nil
		}
		c := *l
		c.Curve = nil
		return &c
	}
	r.Delivery = strip(r.Delivery)
	r.PublishLatency = strip(r.PublishLatency)
	r.ReadLatency = strip(r.ReadLatency)
	if r.DeliveryByNode != nil {
		m := map[string]*Latency{}
		for k, l := range r.DeliveryByNode {
			m[k] = strip(l)
		}
		r.DeliveryByNode = m
	}
}

// compareRows turns one scenario's results per side and round into one
// row per figure, in the order figures lists them.
func compareRows(name string, res *[2][]*Result, loads []float64) []CompareRow {
	var names []string
	lower := map[string]bool{}
	vals := map[string]*[2][]float64{}
	for si := range 2 {
		for round, r := range res[si] {
			if r == nil || r.Error != "" {
				continue
			}
			for _, f := range figures(r) {
				v, ok := vals[f.name]
				if !ok {
					rounds := len(res[0])
					v = &[2][]float64{nanSlice(rounds), nanSlice(rounds)}
					vals[f.name] = v
					names = append(names, f.name)
					lower[f.name] = f.lower
				}
				v[si][round] = f.value
			}
		}
	}
	// Keep figures in the order a result lists them, whichever side
	// produced them first.
	rank := map[string]int{}
	for si := range 2 {
		for _, r := range res[si] {
			if r == nil {
				continue
			}
			for i, f := range figures(r) {
				if _, ok := rank[f.name]; !ok {
					rank[f.name] = i
				}
			}
		}
	}
	sort.SliceStable(names, func(i, j int) bool { return rank[names[i]] < rank[names[j]] })
	lo, hi := math.NaN(), math.NaN()
	for _, l := range loads {
		if math.IsNaN(lo) || l < lo {
			lo = l
		}
		if math.IsNaN(hi) || l > hi {
			hi = l
		}
	}
	var rows []CompareRow
	if len(names) == 0 {
		return []CompareRow{{Scenario: name, Figure: "(no figures: every run failed)", Old: nanSlice(len(res[0])), New: nanSlice(len(res[0])),
			OldMedian: math.NaN(), NewMedian: math.NaN(), Ratio: math.NaN(), LoadMin: lo, LoadMax: hi}}
	}
	for _, n := range names {
		v := vals[n]
		row := CompareRow{Scenario: name, Figure: n, Better: "higher", Old: v[0], New: v[1], LoadMin: lo, LoadMax: hi}
		if lower[n] {
			row.Better = "lower"
		}
		row.OldMedian, row.NewMedian = median(v[0]), median(v[1])
		row.Ratio = math.NaN()
		if row.OldMedian > 0 && row.NewMedian >= 0 {
			row.Ratio = row.NewMedian / row.OldMedian
		}
		rows = append(rows, row)
	}
	return rows
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

// median returns the median of the values that are not NaN, NaN if none.
func median(v []float64) float64 {
	var s []float64
	for _, x := range v {
		if !math.IsNaN(x) {
			s = append(s, x)
		}
	}
	if len(s) == 0 {
		return math.NaN()
	}
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// loadAverage returns the machine's 1-minute load average (NaN if
// unreadable).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return math.NaN()
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// writeComparison writes results.json and report.md for a baseline run
// and prints the table.
func writeComparison(dir string, rep *Report, cmp *Comparison, stdout io.Writer) error {
	out := struct {
		*Report
		Comparison *Comparison `json:"comparison"`
	}{rep, cmp}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	md := comparisonMarkdown(rep, cmp)
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(md), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintf(stdout, "\n%s\nreport: %s\n", comparisonTable(cmp), filepath.Join(dir, "report.md"))
	return nil
}

// comparisonMarkdown renders a baseline run.
func comparisonMarkdown(rep *Report, cmp *Comparison) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	writeHeader(p, rep, "pushflo baseline comparison")
	for i, s := range cmp.Sides {
		role := "old (baseline)"
		if i == 1 {
			role = "new"
		}
		flags := "default flags"
		if len(s.Flags) > 0 {
			flags = "flags `" + strings.Join(s.Flags, " ") + "`"
		}
		p("- **%s** = %s: `%s`, %s.", s.Label, role, s.Binary, flags)
	}
	p("")
	p("Each scenario ran %d round(s) per side on freshly started servers, the sides taking turns (the side going first alternates by round). A figure is the median over rounds; the ratio is %s ÷ %s of the medians. 1-minute load average before the runs: %s.",
		cmp.Rounds, cmp.Sides[1].Label, cmp.Sides[0].Label, loadSummary(cmp.Load))
	for _, f := range rep.Fsync {
		p("Disk fdatasync of 4 KiB at the %s: p50 %s ms, p99 %s ms.", f.When, ms(f.P50Ms), ms(f.P99Ms))
	}
	p("")
	p("%s", comparisonTable(cmp))
	var errs []string
	for _, run := range cmp.Runs {
		if run.Error != "" {
			errs = append(errs, fmt.Sprintf("- %s, round %d, %s: %s", run.Scenario, run.Round, run.Side, run.Error))
		}
	}
	if len(errs) > 0 {
		p("## Failed runs")
		p("")
		p("%s", strings.Join(errs, "\n"))
		p("")
	}
	return b.String()
}

// comparisonTable is the Markdown table of a comparison.
func comparisonTable(cmp *Comparison) string {
	var b strings.Builder
	o, n := cmp.Sides[0].Label, cmp.Sides[1].Label
	fmt.Fprintf(&b, "| scenario | figure | better | %s | %s | %s ÷ %s | %s per round | %s per round | load |\n", o, n, n, o, o, n)
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range cmp.Rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Scenario, r.Figure, r.Better,
			figNum(r.OldMedian), figNum(r.NewMedian), ratioCell(r), rounds(r.Old), rounds(r.New), loadRange(r.LoadMin, r.LoadMax))
	}
	return b.String()
}

func ratioCell(r CompareRow) string {
	if math.IsNaN(r.Ratio) {
		return "—"
	}
	s := fmt.Sprintf("%.2f", r.Ratio)
	switch {
	case math.Abs(r.Ratio-1) < 0.02:
		return s
	case (r.Better == "lower") == (r.Ratio < 1):
		return s + " (better)"
	}
	return s + " (worse)"
}

func figNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case math.Abs(v) >= 100:
		return fmtNum(v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func rounds(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = figNum(x)
	}
	return strings.Join(parts, ", ")
}

func loadRange(lo, hi float64) string {
	if math.IsNaN(lo) {
		return "—"
	}
	if lo == hi {
		return fmt.Sprintf("%.1f", lo)
	}
	return fmt.Sprintf("%.1f–%.1f", lo, hi)
}

func loadSummary(v []float64) string {
	if len(v) == 0 {
		return "not read"
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	return fmt.Sprintf("min %.1f, median %.1f, max %.1f", s[0], median(s), s[len(s)-1])
}
