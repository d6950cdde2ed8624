//go:build integration

package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client/testproc"
)

// TestBench_Smoke runs every scenario with tiny counts against servers it
// starts, and checks that each produced numbers and lost nothing. It never
// asserts a speed: this machine's figures belong in README.md, not in a
// test.
func TestBench_Smoke(t *testing.T) {
	bin := serverBinary(t)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	args := []string{"--binary", bin, "--smoke", "--out", out,
		"--duration", "1s", "--throughput-duration", "500ms", "--connections", "100", "--replay", "1000"}
	dir, err := run(ctx, args, io.Discard, testWriter{t})
	if err != nil {
		t.Fatalf("bench %s: %v", strings.Join(args, " "), err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	for _, f := range []string{"report.md", "latency-fanout-ws-1node.png", "latency-all-fanout.png", "latency-publish.png", "throughput-fanout-ws-3node.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}

	want := []string{
		"fanout-ws-1node", "fanout-sse-1node", "fanout-heavy-ws-1node", "throughput-1node-4", "replay-ws-1node", "replay-sse-1node",
		"connections-ws-1node", "stalled-resume-1node", "fanout-ws-3node", "fanout-sse-3node", "throughput-3node-leader-4", "throughput-3node-follower-4", "crossnode-ws-3node",
		"reads-3node-leader-consistent", "reads-3node-leader-stale", "reads-3node-follower-consistent", "reads-3node-follower-stale", "idle-3node",
	}
	got := map[string]Result{}
	for _, r := range rep.Results {
		got[r.Name] = r
	}
	for _, name := range want {
		r, ok := got[name]
		if !ok {
			t.Errorf("%s: no result", name)
			continue
		}
		if r.Error != "" {
			t.Errorf("%s: %s", name, r.Error)
		}
		if r.Lost != 0 || r.Disordered != 0 || r.Cut != 0 {
			t.Errorf("%s: lost %d, disordered %d, cut %d (%s)", name, r.Lost, r.Disordered, r.Cut, r.FirstCut)
		}
		switch r.Kind {
		case "fanout", "crossnode":
			if r.Delivery == nil || r.Delivery.Count == 0 || r.Delivery.P99Ms <= 0 || r.Received != r.Expected || r.DeliveriesPerSec <= 0 {
				t.Errorf("%s: no delivery figures: %+v, received %d of %d", name, r.Delivery, r.Received, r.Expected)
			}
		case "throughput":
			if r.PublishesPerSec <= 0 || r.PublishLatency == nil || r.PublishLatency.Count == 0 || r.Publish.Failed != 0 {
				t.Errorf("%s: no throughput figures: %.0f/s, latency %+v, publish %+v", name, r.PublishesPerSec, r.PublishLatency, r.Publish)
			}
		case "connections":
			c := r.Connections
			if c == nil || c.Connected != c.Requested || c.Verified != c.Requested || c.RSSAfterBytes <= 0 || c.ConnectSeconds <= 0 {
				t.Errorf("%s: %+v", name, c)
			}
		case "replay":
			x := r.Replay
			if x == nil || x.Backlog == 0 || x.Replayed != x.Backlog || x.PerSec <= 0 || x.LiveReceived < x.LiveAcked {
				t.Errorf("%s: %+v", name, x)
			}
		case "reads":
			if r.ReadsPerSec <= 0 || r.ReadLatency == nil || r.ReadLatency.Count == 0 || r.ReadsFailed != 0 {
				t.Errorf("%s: %.0f reads/s, latency %+v, %d failed", name, r.ReadsPerSec, r.ReadLatency, r.ReadsFailed)
			}
		case "stalled":
			s := r.Stalled
			if s == nil || s.Connected != s.Subscribers || s.Messages == 0 || s.RSSPeakBytes <= 0 || s.BoundBytes <= s.RSSBeforeBytes || !s.LiveAfter {
				t.Errorf("%s: %+v", name, s)
			}
		}
		if r.CPU.Cores == 0 {
			t.Errorf("%s: no CPU figures", name)
		}
	}
	if len(rep.Targets) == 0 {
		t.Error("no target rows in the report")
	}
}

// TestBench_BaselineSmoke runs baseline mode with the same binary on both
// sides, one round of one scenario of each kind with tiny counts, and
// checks that every figure was measured on both sides and has a ratio. It
// asserts no ratio: both sides are the same build, and this machine is
// shared.
func TestBench_BaselineSmoke(t *testing.T) {
	bin := serverBinary(t)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	scenarios := []string{"fanout-ws-1node", "throughput-1node-4", "replay-ws-1node", "connections-ws-1node", "fanout-ws-3node"}
	args := []string{"--baseline", bin, "--binary", bin, "--rounds", "1", "--labels", "a,b", "--binary-flags", "--log-level error",
		"--smoke", "--out", out, "--duration", "1s", "--throughput-duration", "500ms", "--connections", "100", "--replay", "1000",
		"--scenarios", strings.Join(scenarios, ",")}
	var stdout strings.Builder
	dir, err := run(ctx, args, &stdout, testWriter{t})
	if err != nil {
		t.Fatalf("bench %s: %v", strings.Join(args, " "), err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Comparison struct {
			Sides []side `json:"sides"`
			Rows  []struct {
				Scenario, Figure            string
				Old, New                    []*float64
				OldMedian, NewMedian, Ratio *float64
			} `json:"rows"`
			Runs []CompareRun `json:"runs"`
		} `json:"comparison"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	cmp := rep.Comparison
	if len(cmp.Sides) != 2 || cmp.Sides[0].Label != "a" || cmp.Sides[1].Label != "b" || strings.Join(cmp.Sides[1].Flags, " ") != "--log-level error" {
		t.Errorf("sides: %+v", cmp.Sides)
	}
	if len(cmp.Runs) != 2*len(scenarios) {
		t.Errorf("%d runs; want one per scenario and side, %d", len(cmp.Runs), 2*len(scenarios))
	}
	for _, run := range cmp.Runs {
		if run.Error != "" {
			t.Errorf("%s on %s: %s", run.Scenario, run.Side, run.Error)
		}
	}
	want := map[string]string{
		"fanout-ws-1node": "delivery p50 ms", "throughput-1node-4": "acked publishes/s", "replay-ws-1node": "replayed messages/s",
		"connections-ws-1node": "RSS KB per connection", "fanout-ws-3node": "followers − leader p50 ms",
	}
	for _, r := range cmp.Rows {
		if want[r.Scenario] != r.Figure {
			continue
		}
		delete(want, r.Scenario)
		if len(r.Old) != 1 || len(r.New) != 1 || r.Old[0] == nil || r.New[0] == nil || r.OldMedian == nil || r.NewMedian == nil {
			t.Errorf("%s %s: not measured on both sides: %+v", r.Scenario, r.Figure, r)
		}
		if r.Figure != "followers − leader p50 ms" && (r.Ratio == nil || *r.Ratio <= 0) {
			t.Errorf("%s %s: no ratio", r.Scenario, r.Figure)
		}
	}
	for sc, fig := range want {
		t.Errorf("%s: no row %q", sc, fig)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil || !strings.Contains(string(md), "| scenario | figure | better | a | b | b ÷ a |") {
		t.Errorf("report.md has no comparison table: %v\n%s", err, md)
	}
	if !strings.Contains(stdout.String(), "| fanout-ws-1node | delivery p50 ms |") {
		t.Errorf("the table was not printed:\n%s", stdout.String())
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	testproc.Cleanup()
	os.Exit(code)
}

// serverBinary returns $PUSHFLO_BIN, or the binary client/testproc builds
// once for this test binary.
func serverBinary(t *testing.T) string {
	t.Helper()
	bin, err := testproc.Binary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// testWriter sends the progress output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
