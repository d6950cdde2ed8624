//go:build !windows

// Package testnode starts the real pushflo binary for the client's tests,
// through the shared harness github.com/pushflo/pushflo/client/testproc
// (which builds the binary, reserves ports and hands them over by socket
// activation, starts, kills and restarts processes and waits until they
// are ready): one node or several bootstrapping together, with the keys
// below, and a node that never learns a leader.
//
// The binary is PUSHFLO_BIN when set (make test builds it first), else it is
// built once per test binary from the repository the client sits in.
package testnode

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client/testproc"
)

// Keys every node is started with.
const (
	PublishKey = "pub_clienttest_key"
	SecretKey  = "sec_clienttest_key"
	MgmtKey    = "mgmt_clienttest_key"
)

const clusterSecret = "clienttest-cluster-secret"

// Cleanup removes a binary the harness built; call it from TestMain after
// the tests ran.
func Cleanup() { testproc.Cleanup() }

// Cluster is a set of nodes started together.
type Cluster struct {
	Nodes []*testproc.Node
}

// URLs returns the nodes' base URLs in order.
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.URL()
	}
	return out
}

// Start starts size nodes (one alone, or several bootstrapping together),
// waits until all are ready, and stops them when the test ends (printing
// their logs if it failed).
func Start(t testing.TB, size int) *Cluster {
	t.Helper()
	c, err := StartIn(t.TempDir(), size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		if t.Failed() {
			for _, n := range c.Nodes {
				t.Logf("--- log of %s (tail)\n%s", n.ID, n.LogTail(8000))
			}
		}
	})
	return c
}

// StartIn is Start outside a test: data goes under dir, each node's log
// to dir/<id>.log, and the caller calls Close.
func StartIn(dir string, size int) (*Cluster, error) {
	c := &Cluster{}
	for i := 0; i < size; i++ {
		n, err := newNode(dir, fmt.Sprintf("n%d", i+1))
		if err != nil {
			c.Close()
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
	}
	if size > 1 {
		peers := testproc.BootstrapPeers(c.Nodes)
		for _, n := range c.Nodes {
			n.SetArgs(append(n.CurrentArgs(), peers...))
		}
	}
	for _, n := range c.Nodes {
		if err := n.Start(); err != nil {
			c.Close()
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// WaitReady waits until every running node answers /ready. A fresh idle
// cluster reports itself catching up until its first write is applied, so
// after a few seconds one message is published to "clienttest-warmup" and
// the wait goes on. A node that exits while it waits fails it.
func (c *Cluster) WaitReady(ctx context.Context) error {
	warmup := testproc.Warmup{Channel: "clienttest-warmup", SecretKey: SecretKey}
	return testproc.WaitAllReady(ctx, testproc.Targets(c.Nodes), warmup)
}

func newNode(dir, id string, extra ...string) (*testproc.Node, error) {
	bin, err := testproc.Binary()
	if err != nil {
		return nil, err
	}
	return testproc.NewNode(testproc.NodeConfig{Bin: bin, ID: id, DataDir: filepath.Join(dir, id),
		Keys: testproc.Keys{Publish: PublishKey, Secret: SecretKey, Mgmt: MgmtKey}, ClusterSecret: clusterSecret, Args: extra})
}

// Close kills every node and gives its ports back.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.Close()
	}
}

// StartLeaderless starts one node that waits to join a cluster nobody
// runs, so it never knows a leader: it answers writes with 503
// UNAVAILABLE (not applied) after its leader wait. It gives up and exits
// about a minute after it started.
func StartLeaderless(t testing.TB) *testproc.Node {
	t.Helper()
	nobody, err := testproc.ReservePort("127.0.0.1") // reserved, never listening
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nobody.Close() })
	n, err := newNode(t.TempDir(), "lone", "--join", "http://"+nobody.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Close()
		if t.Failed() {
			t.Logf("--- log of %s\n%s", n.ID, n.LogTail(1<<20))
		}
	})
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until it serves HTTP (it is never ready).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := waitServing(ctx, n.Proc, n.URL()+"/health"); err != nil {
		t.Fatalf("leaderless node does not serve /health: %v", err)
	}
	return n
}

// waitServing polls GET url until it answers, p exits, or ctx ends. Each
// request is bounded by ctx, so a process that accepts connections (its
// socket is handed over before it serves) and never answers cannot hold
// the wait past its deadline.
func waitServing(ctx context.Context, p *testproc.Proc, url string) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if p != nil && !p.Running() {
			return fmt.Errorf("%s exited: %w", p.Name, err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}
