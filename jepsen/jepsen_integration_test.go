//go:build integration

package jepsen

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client"
)

// pushfloBin returns PUSHFLO_BIN or builds the binary into a temp dir.
func pushfloBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PUSHFLO_BIN"); p != "" {
		return p
	}
	mod, err := ModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin, err := BuildBinary(ctx, mod, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestJepsen_Short is the short run of `make test`: three nodes, a kill,
// pause and client-link nemesis, publishers and resuming subscribers for a
// few seconds, then the six checks. JEPSEN_SEED repeats a run.
func TestJepsen_Short(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("JEPSEN_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("JEPSEN_SEED=%q: %v", s, err)
		}
		seed = v
	}
	dir := t.TempDir()
	if keep := os.Getenv("JEPSEN_DIR"); keep != "" {
		dir = keep
	}
	bin := pushfloBin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := StartCluster(ctx, ClusterConfig{Bin: bin, Dir: dir, Size: 3, ClientProxies: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })

	history := filepath.Join(dir, "history.jsonl")
	report, err := Run(ctx, c, RunConfig{
		Seed:            seed,
		Duration:        15 * time.Second,
		NemesisInterval: 3 * time.Second,
		Nemeses:         []Nemesis{KillNemesis{}, PauseNemesis{}, ClientLinkNemesis{}},
		HistoryPath:     history,
		Workload: WorkloadConfig{
			Publishers:      4,
			Subscribers:     4,
			IdempotencyKeys: true,
			Client: client.Config{
				SecretKey:      c.Config().SecretKey,
				PublishKey:     c.Config().PublishKey,
				RequestTimeout: 3 * time.Second,
				PingInterval:   500 * time.Millisecond,
				IdleTimeout:    3 * time.Second,
				MinBackoff:     50 * time.Millisecond,
				MaxBackoff:     time.Second,
			},
		},
	})
	if err != nil {
		t.Fatalf("seed %d, history %s: %v", seed, history, err)
	}
	t.Logf("seed %d, history %s\n%s", seed, history, report)
	if !report.Valid {
		t.Fatalf("seed %d, history %s: checks failed (repeat with JEPSEN_SEED=%d)", seed, history, seed)
	}
	if report.Counts.PublishOK == 0 || report.Counts.Received == 0 {
		t.Fatalf("run did nothing useful: %+v", report.Counts)
	}
}
