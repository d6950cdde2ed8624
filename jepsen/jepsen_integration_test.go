//go:build integration

package jepsen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client"
	"github.com/pushflo/pushflo/client/testproc"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testproc.Cleanup()
	os.Exit(code)
}

// pushfloBin returns PUSHFLO_BIN, or the binary client/testproc builds
// once for this test binary.
func pushfloBin(t *testing.T) string {
	t.Helper()
	bin, err := testproc.Binary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// envSeed returns JEPSEN_SEED, or a seed from the clock.
func envSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("JEPSEN_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("JEPSEN_SEED=%q: %v", s, err)
		}
		return v
	}
	return uint64(time.Now().UnixNano())
}

// envNetwork returns PUSHFLO_JEPSEN_NET (auto, netns or proxy); default
// auto: namespaces where the machine allows them, else proxies.
func envNetwork(t *testing.T) NetworkMode {
	t.Helper()
	switch v := NetworkMode(os.Getenv("PUSHFLO_JEPSEN_NET")); v {
	case "":
		return NetworkAuto
	case NetworkAuto, NetworkNetns, NetworkProxy:
		return v
	default:
		t.Fatalf("PUSHFLO_JEPSEN_NET=%q: want auto, netns or proxy", v)
		return ""
	}
}

// jepsenRun is one run's shape.
type jepsenRun struct {
	seed     uint64
	dir      string
	duration time.Duration
	interval time.Duration
	network  NetworkMode
	// soft makes a harness error (a node that does not come back, a
	// cluster that does not start) fail the test without stopping it:
	// runJepsen then returns a nil report. The soak goes on to its next
	// round.
	soft bool
	// nemeses picks the faults: nil means allNemeses(faultFS).
	nemeses func(faultFS bool) []Nemesis
	// extraArgs are appended to every node's command line.
	extraArgs []string
	// clockOffsets starts the nodes with a clock offset file
	// (ClockNemesis).
	clockOffsets bool
	// retention is the servers' --retention, told to the checker; zero
	// keeps the default (a day). Subscribers then also wait about a
	// retention before resuming, so that gaps are reported.
	retention time.Duration
}

// allNemeses is every fault the harness injects: alone, and two at once;
// with faultFS (each data directory on faultfs) also power cuts of one
// node and of all nodes, and failing disks.
func allNemeses(faultFS bool) []Nemesis {
	kill, pause, client, part, link := KillNemesis{}, PauseNemesis{}, ClientLinkNemesis{}, PartitionNemesis{}, LinkNemesis{}
	oneWay := PartitionNemesis{Modes: []string{"one-way"}}
	// The leader paused while clients still reach it: reads queued on it
	// are answered as it wakes, the window where a leader that does not
	// confirm its leadership serves stale reads.
	pauseLeader := PauseNemesis{LeaderRate: 1}
	nems := []Nemesis{kill, pause, pauseLeader, client, part, part, oneWay, link, MembershipNemesis{},
		ComboNemesis{Nemeses: []Nemesis{part, kill, pause, link, oneWay, MembershipNemesis{}}}}
	if faultFS {
		nems = append(nems, PowerCutNemesis{Mode: "minority"}, PowerCutNemesis{Mode: "all"}, NewDiskNemesis())
	}
	return nems
}

// faultFSAvailable reports whether faultfs can be mounted here, logging
// why not when it cannot (the disk nemeses are then left out).
func faultFSAvailable(t *testing.T) bool {
	t.Helper()
	if err := diskSupported(); err != nil {
		t.Logf("faultfs unavailable (%v): no power-cut or disk nemesis", err)
		return false
	}
	return true
}

// runJepsen starts a three-node cluster, runs the workload and every
// nemesis against it, and returns the report and the history path. A
// harness error fails the test; the verdict is the caller's.
func runJepsen(t *testing.T, bin string, r jepsenRun) (*Report, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), r.duration+5*time.Minute)
	defer cancel()
	faultFS := faultFSAvailable(t)
	if r.retention > 0 {
		r.extraArgs = append(r.extraArgs, "--retention", r.retention.String())
	}
	nemeses := allNemeses(faultFS)
	if r.nemeses != nil {
		nemeses = r.nemeses(faultFS)
	}
	c, err := StartCluster(ctx, ClusterConfig{
		Bin: bin, Dir: r.dir, Size: 3, Spares: 1, ClientProxies: true, Network: r.network, FaultFS: faultFS, ClockOffsets: r.clockOffsets,
		// Pings every second: SSE subscribers on a stalled link notice
		// within their idle timeout. Snapshots every thousand entries,
		// keeping only 200 behind: a node that was killed or cut off
		// for a while catches up by snapshot install, under faults too.
		ExtraArgs: append([]string{"--ping-interval", "1s", "--snapshot-interval", "2s", "--snapshot-threshold", "1000", "--trailing-logs", "200"}, r.extraArgs...),
		// A node restarted after a disk fault may wait out the leader's
		// replication backoff (hashicorp/raft doubles it from 10 ms per
		// rejected append, up to about 41 s) before it catches up.
		ReadyTimeout: 2 * time.Minute,
		Logger:       testLogger(t),
	})
	if err != nil {
		if r.soft {
			t.Errorf("seed %d: %v", r.seed, err)
			return nil, ""
		}
		t.Fatalf("seed %d: %v", r.seed, err)
	}
	defer func() {
		if err := c.Close(); err != nil {
			t.Errorf("close cluster: %v", err)
		}
	}()
	t.Logf("seed %d, network %s, data and history in %s", r.seed, c.NetworkDescription(), r.dir)
	history := filepath.Join(r.dir, "history.jsonl")
	report, err := Run(ctx, c, RunConfig{
		Seed:            r.seed,
		Duration:        r.duration,
		NemesisInterval: r.interval,
		Nemeses:         nemeses,
		HistoryPath:     history,
		Check:           CheckOptions{Retention: r.retention},
		Workload: WorkloadConfig{
			Publishers:      4,
			Subscribers:     4,
			Readers:         2,
			ResumeDelay:     r.retention,
			IdempotencyKeys: true,
			NoKeyPublishers: 2,
			BypassProxies:   true,
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
		if r.soft {
			t.Errorf("seed %d, history %s: %v (repeat with JEPSEN_SEED=%d)", r.seed, history, err, r.seed)
			return nil, history
		}
		t.Fatalf("seed %d, history %s: %v (repeat with JEPSEN_SEED=%d)", r.seed, history, err, r.seed)
	}
	// The server's own log says whether a catch-up by snapshot happened.
	installs := 0
	for _, n := range c.Nodes() {
		if b, err := os.ReadFile(n.LogPath); err == nil {
			installs += strings.Count(string(b), "Installed remote snapshot")
		}
	}
	t.Logf("seed %d: %d snapshot install(s) in the node logs", r.seed, installs)
	return report, history
}

// TestJepsen_Short is the short run of `make jepsen` and `make test`:
// three nodes in their own network namespaces (or behind proxies), about a
// minute of publishers (two with idempotency keys and retries, two
// without) and resuming WebSocket and SSE subscribers under
// partitions, kills, pauses, slow and lossy links and client-link faults,
// then the heal, the final reads, the subscribers' catch-up and the six
// checks. JEPSEN_SEED repeats a run's schedule, JEPSEN_DIR keeps its files,
// PUSHFLO_JEPSEN_NET picks the network.
func TestJepsen_Short(t *testing.T) {
	seed := envSeed(t)
	dir := t.TempDir()
	if keep := os.Getenv("JEPSEN_DIR"); keep != "" {
		dir = keep
	}
	report, history := runJepsen(t, pushfloBin(t), jepsenRun{seed: seed, dir: dir, duration: 60 * time.Second, interval: 3 * time.Second, network: envNetwork(t)})
	t.Logf("seed %d, history %s\n%s", seed, history, report)
	if !report.Valid {
		t.Fatalf("seed %d, history %s: checks failed (repeat with JEPSEN_SEED=%d)", seed, history, seed)
	}
	if report.Counts.PublishOK == 0 || report.Counts.Received == 0 {
		t.Fatalf("run did nothing useful: %+v", report.Counts)
	}
}

// TestJepsen_Soak runs round after round, each on a fresh cluster with the
// next seed, until PUSHFLO_JEPSEN_DURATION (such as 30m) has passed; it
// skips when that is unset. PUSHFLO_JEPSEN_ROUND sets a round's workload
// time (default 5m). A failing round does not stop the soak; at the end
// every failing seed and history is listed.
func TestJepsen_Soak(t *testing.T) {
	total, err := time.ParseDuration(os.Getenv("PUSHFLO_JEPSEN_DURATION"))
	if err != nil || total <= 0 {
		t.Skip("set PUSHFLO_JEPSEN_DURATION (such as 30m) for a soak")
	}
	round := 5 * time.Minute
	if v := os.Getenv("PUSHFLO_JEPSEN_ROUND"); v != "" {
		if round, err = time.ParseDuration(v); err != nil || round <= 0 {
			t.Fatalf("PUSHFLO_JEPSEN_ROUND=%q: %v", v, err)
		}
	}
	base := os.Getenv("JEPSEN_DIR")
	if base == "" {
		base = t.TempDir()
	}
	bin := pushfloBin(t)
	seed := envSeed(t)
	end := time.Now().Add(total)
	var failed, summary []string
	for i := 0; i < 10_000 && time.Until(end) > time.Minute; i++ {
		d := min(round, time.Until(end)-30*time.Second)
		s := seed + uint64(i)
		dir := filepath.Join(base, fmt.Sprintf("round-%03d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		report, history := runJepsen(t, bin, jepsenRun{seed: s, dir: dir, duration: d, interval: 5 * time.Second, network: envNetwork(t), soft: true})
		if report == nil {
			failed = append(failed, fmt.Sprintf("seed %d, dir %s: harness error (see the log above)", s, dir))
			summary = append(summary, fmt.Sprintf("round %d seed %d %s: HARNESS ERROR", i, s, d))
			continue
		}
		verdict := "VALID"
		if !report.Valid {
			verdict = "INVALID"
			failed = append(failed, fmt.Sprintf("seed %d, history %s", s, history))
		}
		n := report.Counts
		line := fmt.Sprintf("round %d seed %d %s: %s; publishes ok %d fail %d info %d, received %d, faults %v", i, s, d, verdict, n.PublishOK, n.PublishFail, n.PublishInfo, n.Received, n.Faults)
		summary = append(summary, line)
		t.Logf("%s\n%s", line, report)
	}
	t.Logf("soak summary:\n%s", strings.Join(summary, "\n"))
	if len(failed) > 0 {
		t.Fatalf("%d of %d rounds failed the checks (repeat one with JEPSEN_SEED):\n%s", len(failed), len(summary), strings.Join(failed, "\n"))
	}
}

// TestJepsen_PowerLossCaught proves the power-cut nemesis and the checker
// catch a server that acknowledges writes it has not made durable: with
// --unsafe-raft-no-sync (the Raft log never fsynced), cutting the power
// of every node at once must lose acknowledged publishes, and the
// no-lost-ack check must say so. It skips where faultfs cannot be
// mounted.
func TestJepsen_PowerLossCaught(t *testing.T) {
	if !faultFSAvailable(t) {
		t.Skip("needs faultfs")
	}
	s := runScenario(t, "power-loss-unsafe", jepsenRun{
		duration:  20 * time.Second,
		nemeses:   func(bool) []Nemesis { return []Nemesis{PowerCutNemesis{Mode: "all"}} },
		extraArgs: []string{"--unsafe-raft-no-sync"},
	})
	s.requireFault(t, "power-cut-all", "power cut")
	if s.report.Valid {
		t.Fatalf("seed %d, history %s: the run without fsync on the Raft log passed; the power-cut nemesis or the checker cannot see lost writes", s.seed, s.history)
	}
	if r := s.report.Result(CheckNoLostAck); r == nil || r.Valid {
		t.Errorf("no-lost-ack passed; the run failed for another reason")
	}
}

// TestJepsen_ClockJump makes one node's clock (the leader's half the
// time) jump an hour ahead while messages are kept for 30 minutes: a
// message within retention on every other clock must neither expire nor
// be hidden, so every acknowledged publish must be in the final histories
// and every read during the jump must be consistent.
// It runs with the soak (PUSHFLO_JEPSEN_DURATION set), not in make test.
func TestJepsen_ClockJump(t *testing.T) {
	skipUnlessSoak(t)
	s := runScenario(t, "clock-jump", jepsenRun{
		duration:     30 * time.Second,
		nemeses:      func(bool) []Nemesis { return []Nemesis{ClockNemesis{Jump: time.Hour}} },
		extraArgs:    []string{"--retention", "30m"},
		clockOffsets: true,
	})
	s.requireFault(t, "clock-jump", "clock jump")
	s.requireValid(t, "a leader whose clock jumped an hour ahead broke the checks")
}

// TestJepsen_Retention runs the workload with messages kept 10 seconds
// under kills, pauses, partitions and power cuts: gaps are expected, and
// every gap a subscriber or a since read is told of must name only
// messages that could have expired, and no message still within retention
// may be missing from a read. It runs with the soak
// (PUSHFLO_JEPSEN_DURATION set), not in make test.
func TestJepsen_Retention(t *testing.T) {
	skipUnlessSoak(t)
	s := runScenario(t, "retention", jepsenRun{
		duration: 45 * time.Second,
		nemeses: func(faultFS bool) []Nemesis {
			n := []Nemesis{KillNemesis{}, PauseNemesis{}, PartitionNemesis{}, LinkNemesis{}}
			if faultFS {
				n = append(n, PowerCutNemesis{Mode: "minority"})
			}
			return n
		},
		retention: 10 * time.Second,
	})
	s.requireValid(t, "checks failed with a 10 s retention")
	if s.report.Counts.Gaps == 0 {
		t.Logf("no subscriber was told of a gap in this run")
	}
}

// TestJepsen_LeaderReads aims every fault at the leader while clients
// still reach it: the leader paused (reads queue on it and are answered as
// it wakes), cut from its followers only, killed while Raft traffic or the
// followers' disks are slow, or every node killed and restarted (the first
// leader takes office before applying what was committed before). A leader that answers default
// reads without confirming it still leads serves stale reads in these
// windows, which the consistent-read check reports. It runs with the soak
// (PUSHFLO_JEPSEN_DURATION set), not in make test.
func TestJepsen_LeaderReads(t *testing.T) {
	skipUnlessSoak(t)
	s := runScenario(t, "leader-reads", jepsenRun{
		duration: 60 * time.Second,
		nemeses: func(bool) []Nemesis {
			return []Nemesis{PauseNemesis{LeaderRate: 1}, PartitionNemesis{Modes: []string{"leader"}, ClientCutRate: -1}, SlowKillLeaderNemesis{}, SlowDiskKillLeaderNemesis{}, KillNemesis{All: true}}
		},
	})
	s.requireValid(t, "checks failed with faults aimed at the leader")
}

// TestJepsen_DiskFaults draws only disk faults (a failing fsync or a full
// disk on one node, healed by a power cut and a restart on the healthy
// disk) and minority power cuts, so that a node restarts after a disk
// fault every few seconds: the leader must replicate to it again, which a
// soak round once saw stall for 8 minutes after ENOSPC (seed 4247, with
// pipelined replication). A node that does not become ready within the
// heal's wait fails the run. It runs with the soak (PUSHFLO_JEPSEN_DURATION
// set), not in make test, and skips without faultfs.
func TestJepsen_DiskFaults(t *testing.T) {
	skipUnlessSoak(t)
	if !faultFSAvailable(t) {
		t.Skip("needs faultfs")
	}
	s := runScenario(t, "disk-faults", jepsenRun{
		duration: 90 * time.Second,
		nemeses: func(bool) []Nemesis {
			return []Nemesis{NewDiskNemesis("enospc"), NewDiskNemesis("fsync-eio"), NewDiskNemesis("enospc"), PowerCutNemesis{Mode: "minority"}}
		},
	})
	s.requireFault(t, "disk-enospc", "disk fault")
	s.requireValid(t, "checks failed under disk faults")
}

// skipUnlessSoak skips a scenario that runs with the soak only.
func skipUnlessSoak(t *testing.T) {
	t.Helper()
	if os.Getenv("PUSHFLO_JEPSEN_DURATION") == "" {
		t.Skip("runs with the soak: set PUSHFLO_JEPSEN_DURATION")
	}
}

// scenario is the outcome of one scenario run (runScenario).
type scenario struct {
	seed    uint64
	history string
	report  *Report
}

// runScenario runs r under the seed from JEPSEN_SEED, in scenarioDir(name),
// with a fault every 3 s on the network from PUSHFLO_JEPSEN_NET, and logs
// the report; the scenario's own checks are the caller's.
func runScenario(t *testing.T, name string, r jepsenRun) scenario {
	t.Helper()
	r.seed = envSeed(t)
	r.dir = scenarioDir(t, name)
	r.interval = 3 * time.Second
	r.network = envNetwork(t)
	report, history := runJepsen(t, pushfloBin(t), r)
	t.Logf("seed %d, history %s\n%s", r.seed, history, report)
	return scenario{seed: r.seed, history: history, report: report}
}

// requireFault fails the test unless the nemesis injected the fault kind
// at least once (what names it in the message).
func (s scenario) requireFault(t *testing.T, kind, what string) {
	t.Helper()
	if s.report.Counts.Faults[kind] == 0 {
		t.Fatalf("no %s was injected: %+v", what, s.report.Counts.Faults)
	}
}

// requireValid fails the test, naming the seed to repeat it with, unless
// every check passed.
func (s scenario) requireValid(t *testing.T, what string) {
	t.Helper()
	if !s.report.Valid {
		t.Fatalf("seed %d, history %s: %s (repeat with JEPSEN_SEED=%d)", s.seed, s.history, what, s.seed)
	}
}

// scenarioDir is where a scenario keeps its data directories and history:
// JEPSEN_DIR/name when JEPSEN_DIR is set, else a temporary directory.
func scenarioDir(t *testing.T, name string) string {
	t.Helper()
	keep := os.Getenv("JEPSEN_DIR")
	if keep == "" {
		return t.TempDir()
	}
	dir := filepath.Join(keep, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
