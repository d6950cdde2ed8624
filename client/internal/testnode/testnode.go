// Package testnode runs the real pushflo binary as child processes for the
// client's tests. The client is its own module and cannot import the
// server's harness, so this is the small part of it the client needs:
// build (or find) the binary, start one or more nodes on loopback, wait
// until they are ready, kill and restart them.
//
// The binary is PUSHFLO_BIN when set (make test builds it first), else it is
// built once per test binary from the repository the client sits in.
//
// Ports follow the server's shared harness, internal/testproc (see its
// package doc for why): each port is reserved for the node's life by a
// socket bound with SO_REUSEPORT that never listens, and every start binds
// a listening socket beside it and hands it to the node by systemd socket
// activation (LISTEN_FDS, LISTEN_FDNAMES http and raft, LISTEN_PID set by
// `sh -c 'LISTEN_PID=$$ exec …'`). No port is ever released and re-taken,
// so no other process can take it in between, and a killed node's port
// refuses connections until it restarts on the same address. This module
// must not depend on the server module, so the few lines are repeated
// here instead of imported.
package testnode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Keys every node is started with.
const (
	PublishKey = "pub_clienttest_key"
	SecretKey  = "sec_clienttest_key"
	MgmtKey    = "mgmt_clienttest_key"
)

var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	buildErr  error
)

// Binary returns the path of the pushflo binary, building it on first use.
func Binary() (string, error) {
	buildOnce.Do(func() {
		if p := os.Getenv("PUSHFLO_BIN"); p != "" {
			if _, err := os.Stat(p); err == nil {
				binPath = p
				return
			}
		}
		root, err := repoRoot()
		if err != nil {
			buildErr = err
			return
		}
		buildDir, err = os.MkdirTemp("", "pushflo-client-bin-")
		if err != nil {
			buildErr = err
			return
		}
		out := filepath.Join(buildDir, "pushflo")
		cmd := exec.Command("go", "build", "-o", out, "./cmd/pushflo")
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build pushflo in %s: %w\n%s", root, err, b)
			return
		}
		binPath = out
	})
	return binPath, buildErr
}

// Cleanup removes a binary Binary built; call it from TestMain after the
// tests ran.
func Cleanup() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// repoRoot finds the server module's directory above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/pushflo/pushflo\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no github.com/pushflo/pushflo module above the working directory; set PUSHFLO_BIN")
		}
		dir = parent
	}
}

// Node is one pushflo process.
type Node struct {
	ID       string
	HTTPAddr string
	RaftAddr string
	args     []string
	logPath  string
	ports    []*port // http, raft, and for a leaderless node the dead join target

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// URL is the node's base URL.
func (n *Node) URL() string { return "http://" + n.HTTPAddr }

// Cluster is a set of nodes started together.
type Cluster struct {
	Nodes []*Node
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
				b, _ := os.ReadFile(n.logPath)
				if len(b) > 8000 {
					b = b[len(b)-8000:]
				}
				t.Logf("--- log of %s (tail)\n%s", n.ID, b)
			}
		}
	})
	return c
}

// StartIn is Start outside a test: data and logs go under dir, and the
// caller calls Close.
func StartIn(dir string, size int) (*Cluster, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	var peers []string
	for i := 0; i < size; i++ {
		ports, err := reservePorts(2)
		if err != nil {
			c.Close()
			return nil, err
		}
		n := &Node{
			ID:       fmt.Sprintf("n%d", i+1),
			HTTPAddr: ports[0].addr,
			RaftAddr: ports[1].addr,
			ports:    ports,
		}
		n.logPath = filepath.Join(dir, n.ID+".log")
		peers = append(peers, n.ID+"="+n.RaftAddr)
		c.Nodes = append(c.Nodes, n)
	}
	for _, n := range c.Nodes {
		n.args = []string{bin, "serve", "--node-id", n.ID, "--http-addr", n.HTTPAddr, "--raft-addr", n.RaftAddr,
			"--data-dir", filepath.Join(dir, n.ID), "--publish-key", PublishKey, "--secret-key", SecretKey,
			"--mgmt-key", MgmtKey, "--cluster-secret", "clienttest-cluster-secret"}
		if size > 1 {
			n.args = append(n.args, "--bootstrap-peers", strings.Join(peers, ","))
		}
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

// StartLeaderless starts one node that waits to join a cluster nobody
// runs, so it never knows a leader: it answers writes with 503
// UNAVAILABLE (not applied) after its leader wait. It gives up and exits
// about a minute after it started.
func StartLeaderless(t testing.TB) *Node {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	ports, err := reservePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	n := &Node{ID: "lone", HTTPAddr: ports[0].addr, RaftAddr: ports[1].addr, ports: ports}
	n.logPath = filepath.Join(dir, n.ID+".log")
	n.args = []string{bin, "serve", "--node-id", n.ID, "--http-addr", n.HTTPAddr, "--raft-addr", n.RaftAddr,
		"--data-dir", filepath.Join(dir, n.ID), "--publish-key", PublishKey, "--secret-key", SecretKey,
		"--mgmt-key", MgmtKey, "--cluster-secret", "clienttest-cluster-secret",
		"--join", "http://" + ports[2].addr}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Kill()
		n.releasePorts()
		if t.Failed() {
			b, _ := os.ReadFile(n.logPath)
			t.Logf("--- log of %s\n%s", n.ID, b)
		}
	})
	// Wait until it serves HTTP (it is never ready).
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(n.URL() + "/health")
		if err == nil {
			resp.Body.Close()
			return n
		}
		if time.Now().After(deadline) || !n.Running() {
			t.Fatalf("leaderless node does not serve /health: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close kills every node and gives its ports back.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.Kill()
		n.releasePorts()
	}
}

func (n *Node) releasePorts() {
	for _, p := range n.ports {
		p.close()
	}
}

// WaitReady waits until every running node answers /ready with 200. A
// fresh idle cluster reports itself catching up until its first write is
// applied, so after a few seconds one message is published to
// "clienttest-warmup" (errors ignored) and the wait goes on.
func (c *Cluster) WaitReady(ctx context.Context) error {
	warm := time.Now().Add(3 * time.Second)
	for {
		var notReady []string
		for _, n := range c.Nodes {
			if n.Running() && !n.ready(ctx) {
				notReady = append(notReady, n.ID)
			}
		}
		if len(notReady) == 0 {
			return nil
		}
		if time.Now().After(warm) {
			warm = time.Now().Add(3 * time.Second)
			for _, n := range c.Nodes {
				if n.Running() {
					publishWarmup(ctx, n.URL())
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nodes %v not ready: %w", notReady, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (n *Node) ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.URL()+"/ready", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func publishWarmup(ctx context.Context, base string) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/channels/clienttest-warmup/messages",
		strings.NewReader(`{"content":{}}`))
	req.Header.Set("Authorization", "Bearer "+SecretKey)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// Start launches the node's process if it is not running; its output is
// appended to its log file.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		select {
		case <-n.exited:
		default:
			return nil
		}
	}
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	// The http and raft sockets, handed over by socket activation;
	// LISTEN_PID must be the node's own ID, which sh knows as $$.
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, p := range n.ports[:2] {
		f, err := p.listen()
		if err != nil {
			logf.Close()
			return fmt.Errorf("start %s: %w", n.ID, err)
		}
		files = append(files, f)
	}
	cmd := exec.Command("/bin/sh", append([]string{"-c", `LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"`}, n.args...)...)
	cmd.Env = append(os.Environ(), "LISTEN_FDS=2", "LISTEN_FDNAMES=http:raft")
	cmd.ExtraFiles = files
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", n.ID, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	n.cmd, n.exited = cmd, exited
	return nil
}

// Running reports whether the process was started and has not exited.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL and waits for the process to exit.
func (n *Node) Kill() error {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Kill()
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit within 30s of SIGKILL", n.ID, cmd.Process.Pid)
	}
}
