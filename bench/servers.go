package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pushflo/pushflo/client/testproc"
)

// Keys are the API keys a target accepts.
type Keys struct {
	Publish, Secret, Mgmt string
}

// node is one server of a target: its base URL and, when it runs on this
// machine under our control or its pid was given, its process ID.
type node struct {
	ID  string
	URL string
	PID int

	// proc is set for a node this process started.
	proc *testproc.Node
}

// target is the deployment a scenario runs against: one node or a cluster.
type target struct {
	Nodes []*node
	Keys  Keys
	// started is true when bench started the nodes and must stop them.
	started bool
	// leaderID is the leader found by the last roles call.
	leaderID string
}

// role returns "leader" or "follower" for n as of the last roles call,
// "node" on a single node.
func (t *target) role(n *node) string {
	switch {
	case len(t.Nodes) == 1:
		return "single"
	case n.ID == t.leaderID:
		return "leader"
	}
	return "follower"
}

// pids returns the known server process IDs.
func (t *target) pids() []int {
	var out []int
	for _, n := range t.Nodes {
		if n.PID > 0 {
			out = append(out, n.PID)
		}
	}
	return out
}

// pidsKnown reports whether every node's process is known, so that server
// CPU and memory can be read.
func (t *target) pidsKnown() bool { return len(t.pids()) == len(t.Nodes) }

// serverSpec says how to start local servers.
type serverSpec struct {
	Binary string
	// Dir holds the nodes' data directories and logs.
	Dir  string
	Keys Keys
	// Extra flags for every node, such as --max-conns-per-ip.
	Extra []string
}

// startServers starts size nodes (1: a single node; more: a cluster that
// bootstraps together) under spec.Dir/name through client/testproc
// (ports reserved for the run and handed over as sockets) and waits until
// every node answers /ready.
func startServers(ctx context.Context, spec serverSpec, name string, size int) (*target, error) {
	t := &target{Keys: spec.Keys, started: true}
	var procs []*testproc.Node
	for i := range size {
		id := fmt.Sprintf("n%d", i+1)
		dir := filepath.Join(spec.Dir, name, id)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.stop()
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		cfg := testproc.NodeConfig{Bin: spec.Binary, ID: id, DataDir: filepath.Join(dir, "data"), LogPath: filepath.Join(dir, "pushflo.log"),
			Keys: testproc.Keys{Publish: spec.Keys.Publish, Secret: spec.Keys.Secret, Mgmt: spec.Keys.Mgmt}, Args: append([]string{"--log-level", "warn"}, spec.Extra...)}
		if size > 1 {
			cfg.ClusterSecret = "bench-cluster-secret"
		}
		p, err := testproc.NewNode(cfg)
		if err != nil {
			t.stop()
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		p.KillWithParent = true
		procs = append(procs, p)
		t.Nodes = append(t.Nodes, &node{ID: id, URL: p.URL(), proc: p})
	}
	activation := socketActivation(spec.Binary)
	for _, n := range t.Nodes {
		if size > 1 {
			n.proc.SetArgs(append(n.proc.CurrentArgs(), testproc.BootstrapPeers(procs)...))
		}
		if !activation {
			// A binary older than socket activation binds its addresses
			// itself: give the reserved ports back just before it starts.
			n.proc.Sockets = nil
			n.proc.HTTP.Close()
			n.proc.Raft.Close()
		}
		if err := n.proc.Start(); err != nil {
			t.stop()
			return nil, fmt.Errorf("start %s node %s: %w", name, n.ID, err)
		}
		n.PID = n.proc.PID()
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := t.waitReady(ctx); err != nil {
		t.stop()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return t, nil
}

// socketActivation reports whether the pushflo binary at path takes its
// listening sockets from systemd socket activation (LISTEN_FDS), as every
// build since client/testproc does; baseline mode may compare with an
// older one. It looks for the variable's name in the binary, once per
// path: a run starts servers from the same one or two binaries for every
// scenario and round, and each is tens of megabytes.
func socketActivation(path string) bool {
	activationMu.Lock()
	defer activationMu.Unlock()
	if v, ok := activation[path]; ok {
		return v
	}
	b, err := os.ReadFile(path)
	v := err != nil || bytes.Contains(b, []byte("LISTEN_FDNAMES"))
	activation[path] = v
	return v
}

var (
	activationMu sync.Mutex
	activation   = map[string]bool{} // socketActivation's answer per path
)

// waitReady waits until every node answers /ready. A fresh cluster
// reports itself catching up until its first write is applied, so after
// a few seconds a warm-up message is published through any node.
func (t *target) waitReady(ctx context.Context) error {
	targets := make([]testproc.Target, len(t.Nodes))
	for i, n := range t.Nodes {
		targets[i] = testproc.Target{URL: n.URL}
		if n.proc != nil {
			targets[i].Proc = n.proc.Proc
		}
	}
	return testproc.WaitAllReady(ctx, targets, testproc.Warmup{Channel: "bench-warmup", SecretKey: t.Keys.Secret, Every: 2 * time.Second})
}

// roles asks the cluster who leads and returns each node's role
// ("leader" or "follower") by node ID, matched on HTTP address.
func (t *target) roles(ctx context.Context) (leader *node, followers []*node, err error) {
	if len(t.Nodes) == 1 {
		return t.Nodes[0], nil, nil
	}
	var lastErr error
	for attempt := 0; attempt < 50 && ctx.Err() == nil; attempt++ {
		for _, n := range t.Nodes {
			leaderAddr, err := clusterLeader(ctx, n.URL, t.Keys)
			if err != nil {
				lastErr = err
				continue
			}
			for _, m := range t.Nodes {
				if strings.TrimPrefix(m.URL, "http://") == leaderAddr {
					leader = m
				} else {
					followers = append(followers, m)
				}
			}
			if leader != nil {
				t.leaderID = leader.ID
				return leader, followers, nil
			}
			followers = nil
			lastErr = fmt.Errorf("leader's HTTP address %q is none of the target's nodes", leaderAddr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil, nil, fmt.Errorf("find the leader: %w", lastErr)
}

// stop ends the nodes bench started: SIGTERM, then SIGKILL after 5 s.
func (t *target) stop() {
	if t == nil || !t.started {
		return
	}
	var wg sync.WaitGroup
	for _, n := range t.Nodes {
		if n.proc == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = n.proc.Stop(5 * time.Second)
			n.proc.Close()
		}()
	}
	wg.Wait()
}

// checkAlive returns an error naming any started node that has exited.
func (t *target) checkAlive() error {
	var dead []string
	for _, n := range t.Nodes {
		if n.proc != nil && !n.proc.Running() {
			dead = append(dead, fmt.Sprintf("%s (log %s: %s)", n.ID, n.proc.LogPath, n.proc.LogTail(400)))
		}
	}
	if len(dead) > 0 {
		return errors.New("server exited: " + strings.Join(dead, "; "))
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// slowConsumers sums pushflo_frontend_slow_consumers_total over the nodes
// (unreachable nodes count zero).
func (t *target) slowConsumers(ctx context.Context) float64 {
	var sum float64
	for _, n := range t.Nodes {
		if v, err := scrapeCounter(ctx, n.URL, "pushflo_frontend_slow_consumers_total"); err == nil {
			sum += v
		}
	}
	return sum
}
