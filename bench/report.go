package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Report is everything one run wrote: the JSON file's content.
type Report struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Command  string    `json:"command"`
	Machine  Machine   `json:"machine"`
	Smoke    bool      `json:"smoke"`
	// Fsync is the disk's sync latency at the start and end of the run.
	Fsync   []FsyncProbe `json:"fsync"`
	Results []Result     `json:"results"`
	Targets []TargetRow  `json:"targets"`
	// Hosted compares each fan-out with the hosted service's advertised
	// publish-to-receipt latency.
	Hosted []TargetRow `json:"hosted"`
}

// Machine describes where the run happened.
type Machine struct {
	Cores     int    `json:"cores"`
	CPU       string `json:"cpu"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"goVersion"`
	Binary    string `json:"binary,omitempty"`
	Target    string `json:"target,omitempty"`
	FileLimit uint64 `json:"fileLimit"`
	MemTotal  string `json:"memTotal"`
}

// TargetRow is one goal checked against a measurement.
type TargetRow struct {
	Scenario string  `json:"scenario"`
	Goal     string  `json:"goal"`
	Metric   string  `json:"metric"`
	Want     float64 `json:"want"`
	// AtMost is true for "≤ Want", false for "≥ Want".
	AtMost bool    `json:"atMost"`
	Got    float64 `json:"got"`
	Met    bool    `json:"met"`
	// Measured is false when the scenario did not run or failed.
	Measured bool   `json:"measured"`
	Note     string `json:"note,omitempty"`
}

// goal is a target to check: a scenario's metric against a bound.
type goal struct {
	scenario, text, metric string
	want                   float64
	atMost                 bool
	get                    func(*Result) (float64, bool)
}

func deliveryP(f func(*Latency) float64) func(*Result) (float64, bool) {
	return func(r *Result) (float64, bool) {
		if r.Delivery == nil || r.Delivery.Count == 0 {
			return 0, false
		}
		return f(r.Delivery), true
	}
}

func pubRate(r *Result) (float64, bool) { return r.PublishesPerSec, r.Publish != nil }

// goals are issue 7's targets.
var goals = []goal{
	{"fanout-ws-3node", "3 nodes, 100 ch × 1,000 WS subs, 1,000 pub/s: p99 ≤ 7 ms", "p99 ms", 7, true, deliveryP(func(l *Latency) float64 { return l.P99Ms })},
	{"fanout-ws-3node", "3 nodes, same: p50 ≤ 1 ms", "p50 ms", 1, true, deliveryP(func(l *Latency) float64 { return l.P50Ms })},
	{"fanout-ws-1node", "1 node, same: p99 ≤ 3 ms", "p99 ms", 3, true, deliveryP(func(l *Latency) float64 { return l.P99Ms })},
	{"fanout-heavy-ws-1node", "1 node, 10 ch × 1,000 subs (≈100k deliveries/s): nothing lost", "lost", 0, true, func(r *Result) (float64, bool) { return float64(r.Lost), r.Delivery != nil }},
	{"fanout-heavy-ws-1node", "1 node, same: p99 ≤ 6 ms", "p99 ms", 6, true, deliveryP(func(l *Latency) float64 { return l.P99Ms })},
	{"throughput-3node-leader-16", "3 nodes, 16 publishers: ≥ 13,000 acked publishes/s", "publishes/s", 13000, false, pubRate},
	{"throughput-3node-leader-64", "3 nodes, 64 publishers: ≥ 35,000 acked publishes/s", "publishes/s", 35000, false, pubRate},
	{"connections-ws-1node", "10,000 idle WS connections: ≤ 10 KB server RSS each", "bytes/conn", 10000, true, func(r *Result) (float64, bool) {
		if r.Connections == nil || r.Connections.Connected == 0 {
			return 0, false
		}
		return r.Connections.BytesPerConn, true
	}},
	{"stalled-resume-1node", "1,000 stalled resumers of 2,000 × 30 KB: peak RSS within the stated bound", "MiB over the bound", 0, true, func(r *Result) (float64, bool) {
		if r.Stalled == nil || r.Stalled.Connected == 0 {
			return 0, false
		}
		return max(0, float64(r.Stalled.RSSPeakBytes-r.Stalled.BoundBytes)/(1<<20)), true
	}},
	{"replay-ws-1node", "replay from 100,000 back: ≥ 200,000 messages/s", "messages/s", 200000, false, func(r *Result) (float64, bool) {
		if r.Replay == nil || r.Replay.PerSec == 0 {
			return 0, false
		}
		return r.Replay.PerSec, true
	}},
}

// checkGoals evaluates goals against results (a smoke run's smaller
// parameters make them indicative only).
func checkGoals(results []Result) []TargetRow {
	var rows []TargetRow
	for _, g := range goals {
		row := TargetRow{Scenario: g.scenario, Goal: g.text, Metric: g.metric, Want: g.want, AtMost: g.atMost}
		for i := range results {
			r := &results[i]
			if r.Name != g.scenario {
				continue
			}
			if v, ok := g.get(r); ok && r.Error == "" {
				row.Got, row.Measured = v, true
				if g.atMost {
					row.Met = v <= g.want
				} else {
					row.Met = v >= g.want
				}
				if !row.Met {
					row.Note = missNote(g, v, r)
				}
			} else if r.Error != "" {
				row.Note = "scenario failed: " + r.Error
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func missNote(g goal, v float64, r *Result) string {
	var by string
	if g.want == 0 {
		by = fmt.Sprintf("missed by %s", fmtNum(v))
	} else if g.atMost {
		by = fmt.Sprintf("missed by %s (%.1f× the target)", fmtNum(v-g.want), v/g.want)
	} else {
		by = fmt.Sprintf("missed by %s (%.0f%% of the target)", fmtNum(g.want-v), 100*v/g.want)
	}
	return by + "; " + r.CPU.Limit
}

// hostedRows compares every fan-out's delivery latency with the hosted
// service's advertised p50 < 50 ms, p95 < 150 ms, p99 < 300 ms.
func hostedRows(results []Result) []TargetRow {
	var rows []TargetRow
	for i := range results {
		r := &results[i]
		if r.Delivery == nil || r.Delivery.Count == 0 {
			continue
		}
		for _, h := range []struct {
			name string
			want float64
			got  float64
		}{{"p50 ms", 50, r.Delivery.P50Ms}, {"p95 ms", 150, r.Delivery.P95Ms}, {"p99 ms", 300, r.Delivery.P99Ms}} {
			rows = append(rows, TargetRow{Scenario: r.Name, Goal: "hosted service advertises " + h.name + " < " + fmtNum(h.want), Metric: h.name,
				Want: h.want, AtMost: true, Got: h.got, Met: h.got < h.want, Measured: true})
		}
	}
	return rows
}

// writeReport writes results.json and report.md into dir.
func writeReport(dir string, rep *Report, plots []string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	md := markdown(rep, plots)
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(md), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// writeHeader writes a report's title line and the machine it ran on.
func writeHeader(p func(format string, args ...any), rep *Report, title string) {
	if rep.Smoke {
		title += " (smoke run: small counts, figures are not meaningful)"
	}
	p("# %s — %s", title, rep.Started.UTC().Format("2006-01-02 15:04 UTC"))
	p("")
	m := rep.Machine
	p("`%s` on %d cores (%s), %s RAM, Linux %s, %s; run took %s. The load generator and every server share these cores.",
		rep.Command, m.Cores, m.CPU, m.MemTotal, m.Kernel, m.GoVersion, rep.Finished.Sub(rep.Started).Round(time.Second))
	p("")
}

// markdown renders the report's tables.
func markdown(rep *Report, plots []string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	writeHeader(p, rep, "pushflo benchmark")
	for _, f := range rep.Fsync {
		p("Disk fdatasync of 4 KiB at the %s: p50 %s ms, p99 %s ms, max %s ms (%d syncs).", f.When, ms(f.P50Ms), ms(f.P99Ms), ms(f.MaxMs), f.Count)
	}
	p("")
	tableHead(p, "Targets", "scenario | goal | measured | met")
	for _, t := range rep.Targets {
		got, met := "not run", "—"
		if t.Measured {
			got = fmtNum(t.Got) + " " + t.Metric
			met = yes(t.Met)
		}
		if t.Note != "" {
			met += " — " + t.Note
		}
		p("| %s | %s | %s | %s |", t.Scenario, t.Goal, got, met)
	}
	p("")

	var fan, thr, conns, rep2, stall, reads []Result
	for _, r := range rep.Results {
		switch r.Kind {
		case "fanout", "crossnode":
			fan = append(fan, r)
		case "throughput":
			thr = append(thr, r)
		case "connections":
			conns = append(conns, r)
		case "replay":
			rep2 = append(rep2, r)
		case "stalled":
			stall = append(stall, r)
		case "reads", "idle":
			reads = append(reads, r)
		}
	}
	table(p, "Fan-out latency (publish sent → message received)", "scenario | nodes | via | subs × ch | pub/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | deliveries/s | lost | publish→201 p50 / p99 ms | server's own publish p50 / p99 ms | CPU gen / server / irq / other | limit", fan, func(r *Result) {
		if r.Delivery == nil {
			p("| %s | %d | | | | | | | | | | | | failed: %s |", r.Name, r.Nodes, r.Error)
			return
		}
		l := r.Delivery
		p("| %s | %d | %s %s → %s | %v × %v | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", r.Name, r.Nodes, r.Transport,
			r.Params["publishVia"], r.Params["subscribersOn"], r.Params["subscribers"], r.Params["channels"], fmtNum(r.PublishesPerSec),
			ms(l.P50Ms), ms(l.P90Ms), ms(l.P99Ms), ms(l.P999Ms), ms(l.MaxMs), fmtNum(r.DeliveriesPerSec), lostCell(r),
			pubCell(r.PublishLatency), serverCell(r.ServerPublish), cpuCell(r.CPU), limitCell(r))
	})
	if len(fan) > 0 {
		for _, r := range fan {
			if len(r.DeliveryByNode) == 0 {
				continue
			}
			var parts []string
			for _, k := range sortedKeys(r.DeliveryByNode) {
				l := r.DeliveryByNode[k]
				parts = append(parts, fmt.Sprintf("%s p50 %s / p99 %s ms", k, ms(l.P50Ms), ms(l.P99Ms)))
			}
			p("- %s, by the subscribers' node: %s.", r.Name, strings.Join(parts, "; "))
		}
		p("")
	}
	table(p, "Publish throughput (closed loop, keep-alive, acknowledged = committed by a majority)", "scenario | nodes | via | publishers | acked/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | failed | server's own p50 / p99 ms | CPU gen / server / irq / other | limit", thr, func(r *Result) {
		l := r.PublishLatency
		if l == nil {
			l = &Latency{}
		}
		failed := int64(0)
		if r.Publish != nil {
			failed = r.Publish.Failed
		}
		p("| %s | %d | %v | %v | %s | %s | %s | %s | %s | %s | %d | %s | %s | %s |", r.Name, r.Nodes, r.Params["publishVia"], r.Params["publishers"],
			fmtNum(r.PublishesPerSec), ms(l.P50Ms), ms(l.P90Ms), ms(l.P99Ms), ms(l.P999Ms), ms(l.MaxMs), failed, serverCell(r.ServerPublish), cpuCell(r.CPU), limitCell(r))
	})
	table(p, "Idle connections", "scenario | connected / asked | time to connect | connects/s | server RSS before → after | RSS per connection | of which Go stack / heap | goroutines per connection | alive after | CPU gen / server / irq / other", conns, func(r *Result) {
		c := r.Connections
		p("| %s | %d / %d | %.2f s | %s | %s → %s | %s | %s / %s | %.2f | %d | %s |", r.Name, c.Connected, c.Requested, c.ConnectSeconds, fmtNum(c.ConnectsPerSec),
			mib(c.RSSBeforeBytes), mib(c.RSSAfterBytes), kb(c.BytesPerConn), kb(c.StackBytesPerConn), kb(c.HeapBytesPerConn), c.GoroutinesPerConn, c.Verified, cpuCell(r.CPU))
	})
	table(p, "History reads and idle cost", "scenario | via | stale | reads/s | p50 ms | p99 ms | failed | CPU gen / server / irq / other", reads, func(r *Result) {
		l := r.ReadLatency
		if l == nil {
			l = &Latency{}
		}
		p("| %s | %v | %v | %s | %s | %s | %d | %s |", r.Name, r.Params["readVia"], r.Params["stale"], fmtNum(r.ReadsPerSec), ms(l.P50Ms), ms(l.P99Ms), r.ReadsFailed, cpuCell(r.CPU))
	})
	table(p, "Stalled resumers (resume from the start of a large channel, never read)", "scenario | subscribers (WS + SSE) connected | channel | queue budget | server RSS before → peak (at) → end | growth per subscriber | bound | within | kernel TCP buffers, peak | cut off as slow | publish after / fresh subscriber got it", stall, func(r *Result) {
		s := r.Stalled
		p("| %s | %d + %d: %d | %d × %d B | %s | %s → %s (%.1f s) → %s | %s | %s | %s | %s | %s | %.1f ms / %s |", r.Name, s.WS, s.SSE, s.Connected, s.Messages, s.MessageBytes,
			kib(s.QueueBytes), mib(s.RSSBeforeBytes), mib(s.RSSPeakBytes), s.PeakAfterSeconds, mib(s.RSSEndBytes), kb(s.GrowthPerConnBytes), mib(s.BoundBytes), yes(s.Within), mib(s.KernelTCPPeakBytes),
			fmtNum(s.SlowConsumers), s.PublishAfterMs, yes(s.LiveAfter))
	})
	if len(stall) > 0 {
		p("Bound = RSS before + 2 × subscribers × (queue budget + one %d KiB write batch + 2 × the largest message, %d KiB); the factor 2 is Go's collector, which lets the heap reach twice the live data.", writeBatchBytes>>10, maxMessageBytes>>10)
		p("")
	}
	table(p, "Replay (resume from an ID far back, until live)", "scenario | backlog | seeded at | replayed | replay time | messages/s | first message | reached live | live msgs during replay | lost | disordered | CPU gen / server / irq / other", rep2, func(r *Result) {
		x := r.Replay
		p("| %s | %d | %s/s | %d | %.3f s | %s | %.1f ms | %.3f s | %d / %d | %d | %d | %s |", r.Name, x.Backlog, fmtNum(x.SeedPerSec), x.Replayed, x.Seconds,
			fmtNum(x.PerSec), x.FirstMessageMs, x.ReachedLiveSeconds, x.LiveReceived, x.LiveAcked, r.Lost, x.Disordered, cpuCell(r.CPU))
	})
	if len(rep.Hosted) > 0 {
		tableHead(p, "Against the hosted service's advertised latency (p50 < 50 ms, p95 < 150 ms, p99 < 300 ms)", "scenario | p50 ms | p95 ms | p99 ms | within")
		for i := 0; i+2 < len(rep.Hosted); i += 3 {
			h := rep.Hosted[i : i+3]
			p("| %s | %s | %s | %s | %s |", h[0].Scenario, ms(h[0].Got), ms(h[1].Got), ms(h[2].Got), yes(h[0].Met && h[1].Met && h[2].Met))
		}
		p("")
	}
	p("## Notes")
	p("")
	for _, r := range rep.Results {
		p("- **%s** (%s): %s.", r.Name, r.Title, r.CPU.Limit)
		for _, n := range r.Notes {
			p("  %s.", strings.TrimSuffix(n, "."))
		}
		if r.Cut > 0 {
			p("  %d subscribers were cut off during the run; first: %s.", r.Cut, r.FirstCut)
		}
		if r.Error != "" {
			p("  **Error:** %s", r.Error)
		}
	}
	p("")
	if len(plots) > 0 {
		p("## Plots")
		p("")
		for _, f := range plots {
			p("![%s](%s)", strings.TrimSuffix(f, ".png"), f)
		}
	}
	return b.String()
}

// tableHead writes a "## title" section's heading and the head of its
// Markdown table; cols are the column names separated by " | ".
func tableHead(p func(format string, args ...any), title, cols string) {
	p("## %s", title)
	p("")
	p("| %s |", cols)
	p("|%s", strings.Repeat("---|", strings.Count(cols, " | ")+1))
}

// table writes a "## title" section holding a Markdown table with a row
// per result (written by row) and a blank line after it; nothing when
// there are no results.
func table(p func(format string, args ...any), title, cols string, results []Result, row func(r *Result)) {
	if len(results) == 0 {
		return
	}
	tableHead(p, title, cols)
	for i := range results {
		row(&results[i])
	}
	p("")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func lostCell(r *Result) string {
	s := fmt.Sprintf("%d / %s", r.Lost, fmtNum(float64(r.Expected)))
	if r.Extra > 0 {
		s += fmt.Sprintf(" (+%d extra)", r.Extra)
	}
	if r.Disordered > 0 {
		s += fmt.Sprintf(" (%d disordered)", r.Disordered)
	}
	return s
}

func pubCell(l *Latency) string {
	if l == nil || l.Count == 0 {
		return "—"
	}
	return ms(l.P50Ms) + " / " + ms(l.P99Ms)
}

func serverCell(s *ServerLatency) string {
	if s == nil {
		return "—"
	}
	return "≤ " + ms(s.P50LeMs) + " / ≤ " + ms(s.P99LeMs)
}

func cpuCell(c CPUUse) string {
	return fmt.Sprintf("%.2f / %.2f / %.2f / %.2f", c.GeneratorCores, c.ServerCores, c.IRQCores, c.OtherCores)
}

func limitCell(r *Result) string {
	switch {
	case r.Error != "":
		return "error"
	case r.CPU.GeneratorBound:
		return "generator"
	case strings.HasPrefix(r.CPU.Limit, "CPU-bound"):
		return "CPU (server)"
	case strings.HasPrefix(r.CPU.Limit, "not CPU-bound"):
		return "not CPU"
	case strings.HasPrefix(r.CPU.Limit, "CPU-contended"):
		return "other processes"
	}
	return "?"
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "**no**"
}

func ms(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.3f", v)
	case v < 100:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func kib(b int) string { return fmt.Sprintf("%d KiB", b>>10) }

func kb(b float64) string { return fmt.Sprintf("%.2f KB", b/1000) }

// fmtNum prints a number with thousands separators, no decimals above 100.
func fmtNum(v float64) string {
	if v != v {
		return "NaN"
	}
	neg := v < 0
	if neg {
		v = -v
	}
	var s string
	if v < 100 && v != float64(int64(v)) {
		s = fmt.Sprintf("%.2f", v)
	} else {
		n := int64(v + 0.5)
		digits := fmt.Sprintf("%d", n)
		var out []byte
		for i, c := range []byte(digits) {
			if i > 0 && (len(digits)-i)%3 == 0 {
				out = append(out, ',')
			}
			out = append(out, c)
		}
		s = string(out)
	}
	if neg {
		return "-" + s
	}
	return s
}

// oneLine summarises a result for the console.
func oneLine(r *Result) string {
	var parts []string
	if r.Error != "" {
		parts = append(parts, "ERROR "+r.Error)
	}
	if r.Delivery != nil && r.Delivery.Count > 0 {
		l := r.Delivery
		parts = append(parts, fmt.Sprintf("p50 %s p90 %s p99 %s p99.9 %s max %s ms, %s deliveries/s, lost %d of %d", ms(l.P50Ms), ms(l.P90Ms), ms(l.P99Ms), ms(l.P999Ms), ms(l.MaxMs), fmtNum(r.DeliveriesPerSec), r.Lost, r.Expected))
	}
	if r.Kind == "throughput" && r.PublishLatency != nil {
		l := r.PublishLatency
		parts = append(parts, fmt.Sprintf("%s acked/s, publish p50 %s p99 %s ms", fmtNum(r.PublishesPerSec), ms(l.P50Ms), ms(l.P99Ms)))
	}
	if c := r.Connections; c != nil {
		parts = append(parts, fmt.Sprintf("%d/%d connected in %.2fs, %s per connection, %d alive", c.Connected, c.Requested, c.ConnectSeconds, kb(c.BytesPerConn), c.Verified))
	}
	if r.Kind == "reads" && r.ReadLatency != nil {
		parts = append(parts, fmt.Sprintf("%s reads/s, p50 %s p99 %s ms, %d failed", fmtNum(r.ReadsPerSec), ms(r.ReadLatency.P50Ms), ms(r.ReadLatency.P99Ms), r.ReadsFailed))
	}
	if s := r.Stalled; s != nil {
		parts = append(parts, fmt.Sprintf("%d/%d stalled subscribers, RSS %s → peak %s (bound %s), %s each, %.0f cut off, alive after: %v", s.Connected, s.Subscribers,
			mib(s.RSSBeforeBytes), mib(s.RSSPeakBytes), mib(s.BoundBytes), kb(s.GrowthPerConnBytes), s.SlowConsumers, s.LiveAfter))
	}
	if x := r.Replay; x != nil {
		parts = append(parts, fmt.Sprintf("replayed %d in %.3fs = %s msg/s, live after %.3fs, lost %d", x.Replayed, x.Seconds, fmtNum(x.PerSec), x.ReachedLiveSeconds, r.Lost))
	}
	parts = append(parts, fmt.Sprintf("cpu gen %.2f srv %.2f irq %.2f other %.2f", r.CPU.GeneratorCores, r.CPU.ServerCores, r.CPU.IRQCores, r.CPU.OtherCores))
	return strings.Join(parts, "; ")
}
