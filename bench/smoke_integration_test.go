//go:build integration

package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBench_Smoke runs every scenario with tiny counts against servers it
// starts, and checks that each produced numbers and lost nothing. It never
// asserts a speed: this machine's figures belong in README.md, not in a
// test.
func TestBench_Smoke(t *testing.T) {
	bin := os.Getenv("PUSHFLO_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "pushflo")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/pushflo")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build ./cmd/pushflo: %v\n%s", err, out)
		}
	}
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
		"connections-ws-1node", "fanout-ws-3node", "fanout-sse-3node", "throughput-3node-leader-4", "throughput-3node-follower-4", "crossnode-ws-3node",
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
		}
		if r.CPU.Cores == 0 {
			t.Errorf("%s: no CPU figures", name)
		}
	}
	if len(rep.Targets) == 0 {
		t.Error("no target rows in the report")
	}
}

// testWriter sends the progress output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
