package jepsen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pushflo/pushflo/client"
)

// BuildBinary builds ./cmd/pushflo of the module in moduleDir into
// outDir/pushflo and returns its path.
func BuildBinary(ctx context.Context, moduleDir, outDir string) (string, error) {
	bin := filepath.Join(outDir, "pushflo")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/pushflo")
	cmd.Dir = moduleDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/pushflo in %s: %w\n%s", moduleDir, err, out)
	}
	return bin, nil
}

// ModuleDir returns the root of the Go module that contains dir, found by
// walking up to go.mod.
func ModuleDir(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("module dir: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}

// ClusterConfig describes a cluster of local pushflo processes. Zero values
// mean the documented default.
type ClusterConfig struct {
	// Bin is the pushflo binary (see BuildBinary). Required.
	Bin string
	// Dir holds each node's data directory and log file. Required.
	Dir string
	// Size is the number of nodes: 1 runs a single node without peers,
	// otherwise the nodes bootstrap together. Default 3.
	Size int
	// Keys shared by every node. Defaults pub_jepsen_test, sec_jepsen_test, mgmt_jepsen_test
	// (the server wants at least 12 characters) and
	// "jepsen-cluster-secret".
	PublishKey, SecretKey, MgmtKey, ClusterSecret string
	// ClientProxies puts a Proxy in front of each node's HTTP address;
	// Node.URL then points at the proxy, so a nemesis can slow or cut the
	// path from clients to that node.
	ClientProxies bool
	// Network selects how nodes reach each other and so which faults can
	// be injected between them: NetworkLoopback (default, none),
	// NetworkNetns, NetworkProxy or NetworkAuto. Cluster.Network says which
	// one runs.
	Network NetworkMode
	// Spares are extra nodes (n4, …) with addresses, namespaces and data
	// directories but neither started nor bootstrapped: the membership
	// nemesis joins them to the cluster and removes members back into
	// spares. Default 0.
	Spares int
	// FaultFS mounts a fault-injecting FUSE filesystem (package faultfs)
	// over each node's data directory, backed by a "backing" directory
	// beside it, for the power-loss and disk-error nemeses. Needs root and
	// /dev/fuse.
	FaultFS bool
	// ClockOffsets starts every node with --unsafe-clock-offset-file, so
	// Node.SetClockOffset can make its wall clock jump (ClockNemesis).
	ClockOffsets bool
	// ExtraArgs are appended to every node's serve command line.
	ExtraArgs []string
	// ReadyTimeout bounds the wait for /ready after a start. Default 60s.
	ReadyTimeout time.Duration
	// Logger receives lifecycle lines. Default: discard.
	Logger *slog.Logger
}

// Cluster is a set of pushflo nodes running as child processes on loopback.
type Cluster struct {
	cfg   ClusterConfig
	nodes []*Node
	net   Network
	// netNote says why NetworkAuto fell back to proxies.
	netNote string
}

// StartCluster picks free loopback ports, starts every node and waits until
// each answers /ready. On failure it stops what it started.
func StartCluster(ctx context.Context, cfg ClusterConfig) (*Cluster, error) {
	if cfg.Bin == "" || cfg.Dir == "" {
		return nil, fmt.Errorf("start cluster: Bin (%q) and Dir (%q) are required", cfg.Bin, cfg.Dir)
	}
	if cfg.Size <= 0 {
		cfg.Size = 3
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&cfg.PublishKey, "pub_jepsen_test")
	def(&cfg.SecretKey, "sec_jepsen_test")
	def(&cfg.MgmtKey, "mgmt_jepsen_test")
	def(&cfg.ClusterSecret, "jepsen-cluster-secret")
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{cfg: cfg}
	ports, err := freePorts(2 * (cfg.Size + cfg.Spares))
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	var peers []string
	for i := 0; i < cfg.Size+cfg.Spares; i++ {
		id := fmt.Sprintf("n%d", i+1)
		n := &Node{
			ID:       id,
			HTTPAddr: fmt.Sprintf("127.0.0.1:%d", ports[2*i]),
			RaftAddr: fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]),
			DataDir:  filepath.Join(cfg.Dir, id, "data"),
			LogPath:  filepath.Join(cfg.Dir, id, "pushflo.log"),
			bin:      cfg.Bin,
			logger:   cfg.Logger.With("component", "jepsen", "node", id),
			member:   i < cfg.Size,
		}
		c.nodes = append(c.nodes, n)
	}
	if cfg.Network != NetworkLoopback {
		nw, note, err := openNetwork(ctx, cfg.Network, c.nodes, cfg.Logger)
		if err != nil {
			return nil, fmt.Errorf("start cluster: %w", err)
		}
		c.net, c.netNote = nw, note
	}
	for _, n := range c.nodes {
		if n.AdvertiseAddr == "" {
			n.AdvertiseAddr = n.RaftAddr
		}
		if n.member {
			peers = append(peers, n.ID+"="+n.AdvertiseAddr)
		}
	}
	for _, n := range c.nodes {
		n.args = []string{"serve",
			"--http-addr", n.HTTPAddr,
			"--raft-addr", n.RaftAddr,
			"--advertise-raft-addr", n.AdvertiseAddr,
			"--data-dir", n.DataDir,
			"--node-id", n.ID,
			"--publish-key", cfg.PublishKey,
			"--secret-key", cfg.SecretKey,
			"--mgmt-key", cfg.MgmtKey,
		}
		if cfg.Size > 1 {
			n.args = append(n.args, "--cluster-secret", cfg.ClusterSecret)
			n.bootstrap = []string{"--bootstrap-peers", strings.Join(peers, ",")}
		}
		if cfg.ClockOffsets {
			n.clockFile = filepath.Join(cfg.Dir, n.ID, "clock-offset")
			n.args = append(n.args, "--unsafe-clock-offset-file", n.clockFile)
		}
		n.args = append(n.args, cfg.ExtraArgs...)
		if err := os.MkdirAll(n.DataDir, 0o755); err != nil {
			c.Close()
			return nil, fmt.Errorf("start cluster: %w", err)
		}
		if cfg.FaultFS {
			if err := diskSupported(ctx); err != nil {
				c.Close()
				return nil, fmt.Errorf("start cluster: %w", err)
			}
			cleanStaleFaultFS(cfg.Logger)
			fs, err := mountFaultFS(n, cfg.Logger)
			if err != nil {
				c.Close()
				return nil, fmt.Errorf("start cluster: %w", err)
			}
			n.disk = fs
		}
		if cfg.ClientProxies {
			p, err := StartProxy("127.0.0.1:0", n.HTTPAddr, uint64(len(n.ID)))
			if err != nil {
				c.Close()
				return nil, fmt.Errorf("start cluster: %w", err)
			}
			n.Proxy = p
		}
	}
	for _, n := range c.nodes {
		if !n.member {
			continue
		}
		if err := n.Start(); err != nil {
			c.Close()
			return nil, fmt.Errorf("start cluster: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.ReadyTimeout)
	defer cancel()
	if err := c.waitReadyWarm(ctx); err != nil {
		err = c.explain(err)
		c.Close()
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	return c, nil
}

// diagnoser is a Network that can name host settings in its way.
type diagnoser interface {
	Diagnose(ctx context.Context) string
}

// explain adds to an error about nodes that did not become ready what the
// network knows about host settings that drop their packets.
func (c *Cluster) explain(err error) error {
	d, ok := c.net.(diagnoser)
	if !ok {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if why := d.Diagnose(ctx); why != "" {
		return fmt.Errorf("%w; host: %s", err, why)
	}
	return err
}

// WarmupChannel is where StartCluster publishes when a fresh cluster does
// not become ready on its own.
const WarmupChannel = "jepsen-warmup"

// waitReadyWarm waits for every node's /ready. Workaround: the server
// reports a fresh, idle cluster as "catching up" until the first write is
// applied, so if the nodes are not ready after a few seconds one message is
// published to WarmupChannel (errors ignored) and the wait goes on.
func (c *Cluster) waitReadyWarm(ctx context.Context) error {
	first, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := c.waitAllReady(first)
	cancel()
	if err == nil {
		return nil
	}
	for ctx.Err() == nil {
		cl, cerr := client.New(client.Config{Addrs: c.directURLs(), SecretKey: c.cfg.SecretKey, RequestTimeout: 5 * time.Second})
		if cerr != nil {
			return cerr
		}
		if _, perr := cl.Publish(ctx, WarmupChannel, map[string]bool{"warmup": true}); perr == nil {
			c.cfg.Logger.Info("published a warm-up message to make the cluster ready")
			break
		}
		sleepCtx(ctx, 500*time.Millisecond)
	}
	return c.waitAllReady(ctx)
}

// waitAllReady waits for every running node's /ready; a member that is not
// running (it exited by itself after a restart) is an error.
func (c *Cluster) waitAllReady(ctx context.Context) error {
	for _, n := range c.nodes {
		if !n.Running() {
			if n.Member() {
				return fmt.Errorf("%s is a member but not running (it exited; see %s)", n.ID, n.LogPath)
			}
			continue
		}
		if err := n.WaitReady(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) directURLs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.DirectURL()
	}
	return out
}

// Config returns the cluster's configuration with defaults filled in.
func (c *Cluster) Config() ClusterConfig { return c.cfg }

// Nodes returns the nodes in ID order (n1, n2, …), spares included.
func (c *Cluster) Nodes() []*Node { return c.nodes }

// Members returns the nodes that are members of the cluster as far as the
// harness knows (started at bootstrap or joined, and not removed), in ID
// order.
func (c *Cluster) Members() []*Node {
	var out []*Node
	for _, n := range c.nodes {
		if n.Member() {
			out = append(out, n)
		}
	}
	return out
}

// Node returns the node with the given ID, or nil.
func (c *Cluster) Node(id string) *Node {
	for _, n := range c.nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// URLs returns every node's client base URL, in node order.
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.URL()
	}
	return out
}

// WaitReady waits until every running node answers /ready, bounded by
// ReadyTimeout; a member that is not running is an error.
func (c *Cluster) WaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.ReadyTimeout)
	defer cancel()
	if err := c.waitReadyWarm(ctx); err != nil {
		return c.explain(err)
	}
	return nil
}

// Network returns the fault-injecting network between the nodes, or nil
// for NetworkLoopback.
func (c *Cluster) Network() Network { return c.net }

// NetworkDescription says which network runs, for reports: "loopback",
// "netns", or "proxy" with the reason namespaces were not used.
func (c *Cluster) NetworkDescription() string {
	switch {
	case c.net == nil:
		return "loopback (no faults between nodes)"
	case c.netNote != "":
		return fmt.Sprintf("%s (namespaces unavailable: %s)", c.net.Mechanism(), c.netNote)
	}
	return string(c.net.Mechanism())
}

// Close kills every node (resuming paused ones first), closes the proxies,
// unmounts the faultfs mounts and tears the network down. Data directories and logs stay for
// inspection.
func (c *Cluster) Close() error {
	var errs []error
	for _, n := range c.nodes {
		if err := n.Kill(); err != nil {
			errs = append(errs, err)
		}
		if n.Proxy != nil {
			n.Proxy.Close()
		}
		if n.disk != nil {
			if err := n.disk.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if c.net != nil {
		if err := c.net.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Node is one pushflo process. Its methods may be called from any
// goroutine.
type Node struct {
	ID       string
	HTTPAddr string // where the node listens for HTTP
	RaftAddr string // where it listens for Raft
	// AdvertiseAddr is the Raft address peers dial: the node's Raft proxy
	// under NetworkNetns and NetworkProxy, else RaftAddr.
	AdvertiseAddr string
	// Netns is the network namespace the node runs in, under NetworkNetns.
	Netns   string
	DataDir string
	LogPath string
	// Proxy, when set, fronts HTTPAddr; URL points at it.
	Proxy *Proxy
	// raftProxy fronts RaftAddr under NetworkNetns and NetworkProxy.
	raftProxy *Proxy
	// disk is the faultfs under DataDir (ClusterConfig.FaultFS), or nil.
	disk diskFS
	// clockFile is the node's --unsafe-clock-offset-file
	// (ClusterConfig.ClockOffsets), or "".
	clockFile string

	bin    string
	args   []string
	logger *slog.Logger

	mu sync.Mutex // guards the fields below
	// member says the node belongs to the cluster (see Cluster.Members).
	member bool
	// bootstrap is the --bootstrap-peers part of the command line, used
	// while join is empty; join is the --join part once the node has been
	// (re)joined by the membership nemesis.
	bootstrap, join []string
	cmd             *exec.Cmd
	exited          chan struct{} // closed when cmd has been waited for
	paused          bool
}

// URL returns the base URL clients should use: through the proxy if any.
func (n *Node) URL() string {
	if n.Proxy != nil {
		return "http://" + n.Proxy.Addr()
	}
	return "http://" + n.HTTPAddr
}

// DirectURL returns the node's own base URL, bypassing any proxy.
func (n *Node) DirectURL() string { return "http://" + n.HTTPAddr }

// Args returns the serve command line (without the binary).
func (n *Node) Args() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.join != nil {
		return append(append([]string(nil), n.args...), n.join...)
	}
	return append(append([]string(nil), n.args...), n.bootstrap...)
}

// Start launches the process if it is not running. Output goes to LogPath,
// appended across restarts.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		select {
		case <-n.exited: // crashed by itself: start again
		default:
			return nil
		}
	}
	logf, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: %w", n.ID, err)
	}
	fmt.Fprintf(logf, "\n=== jepsen: start %s at %s\n", n.ID, time.Now().Format(time.RFC3339Nano))
	args := append(append([]string(nil), n.args...), n.bootstrap...)
	if n.join != nil {
		args = append(append([]string(nil), n.args...), n.join...)
	}
	cmd := exec.Command(n.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so signals to the test do not reach it and
	// Kill reaches nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := cmd.Start
	if n.Netns != "" {
		// Forked from a thread inside the node's network namespace, so
		// it starts there. Not with `ip netns exec`: that also gives the
		// process a mount namespace of its own, holding copies of every
		// mount (faultfs ones too), which then cannot be unmounted while
		// it lives.
		start = func() error { return inNetns(n.Netns, cmd.Start) }
	}
	if err := start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", n.ID, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	n.cmd, n.exited, n.paused = cmd, exited, false
	n.logger.Info("node started", "pid", cmd.Process.Pid)
	return nil
}

// Member reports whether the node belongs to the cluster.
func (n *Node) Member() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.member
}

// setMember records whether the node belongs to the cluster.
func (n *Node) setMember(m bool) {
	n.mu.Lock()
	n.member = m
	n.mu.Unlock()
}

// setJoin makes the next Start join the cluster through url (a member's
// HTTP address) instead of bootstrapping, as a non-voter if nonVoter.
func (n *Node) setJoin(url string, nonVoter bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.join = []string{"--join", url}
	if nonVoter {
		n.join = append(n.join, "--nonvoter")
	}
}

// SetClockOffset makes the node's wall clock run d ahead (behind when
// negative) of the machine's, within about 100ms; it needs
// ClusterConfig.ClockOffsets.
func (n *Node) SetClockOffset(d time.Duration) error {
	if n.clockFile == "" {
		return fmt.Errorf("%s: cluster started without ClockOffsets", n.ID)
	}
	return os.WriteFile(n.clockFile, []byte(d.String()+"\n"), 0o644)
}

// PID returns the process ID of the running node, or 0.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	select {
	case <-n.exited:
		return 0
	default:
		return n.cmd.Process.Pid
	}
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

// Kill sends SIGKILL and waits for the process to exit. It is a no-op when
// the node is not running.
func (n *Node) Kill() error { return n.stop(syscall.SIGKILL, 30*time.Second) }

// Terminate sends SIGTERM and waits up to grace for a clean exit, then
// kills.
func (n *Node) Terminate(grace time.Duration) error {
	if err := n.stop(syscall.SIGTERM, grace); err == nil {
		return nil
	}
	return n.Kill()
}

func (n *Node) stop(sig syscall.Signal, wait time.Duration) error {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(sig)
	if sig != syscall.SIGKILL {
		_ = cmd.Process.Signal(syscall.SIGCONT) // a paused process cannot act on TERM
	}
	select {
	case <-exited:
	case <-time.After(wait):
		return fmt.Errorf("%s (pid %d) did not exit within %s of %s", n.ID, cmd.Process.Pid, wait, sig)
	}
	n.mu.Lock()
	if n.cmd == cmd {
		n.cmd, n.paused = nil, false
	}
	n.mu.Unlock()
	n.logger.Info("node stopped", "signal", sig.String())
	return nil
}

// Pause sends SIGSTOP: the process keeps its sockets but does nothing.
func (n *Node) Pause() error { return n.signal(syscall.SIGSTOP, true) }

// Resume sends SIGCONT to a paused process.
func (n *Node) Resume() error { return n.signal(syscall.SIGCONT, false) }

func (n *Node) signal(sig syscall.Signal, paused bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return fmt.Errorf("%s: %s: not running", n.ID, sig)
	}
	if err := n.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("%s: %s: %w", n.ID, sig, err)
	}
	n.paused = paused
	return nil
}

// Paused reports whether the node was paused and not resumed.
func (n *Node) Paused() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paused
}

// WaitReady polls GET /ready on the node's own address until it answers
// 200, the process exits, or ctx ends.
func (n *Node) WaitReady(ctx context.Context) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var last string
	for {
		n.mu.Lock()
		exited := n.exited
		n.mu.Unlock()
		if exited != nil {
			select {
			case <-exited:
				return fmt.Errorf("%s exited before ready; see %s", n.ID, n.LogPath)
			default:
			}
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.DirectURL()+"/ready", nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready (last: %s): %w; see %s", n.ID, last, ctx.Err(), n.LogPath)
		case <-t.C:
		}
	}
}

// freePorts returns n distinct free loopback TCP ports. Another process may
// take one before it is used; a start then fails and is retried by callers
// that care.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Leader asks the running, unpaused nodes in turn, through their own
// addresses, which node leads (GET /api/v1/cluster with the management
// key) and returns the first answer naming one, with the node that gave
// it. It returns "" when no node names a leader before ctx ends or all
// have been asked.
func (c *Cluster) Leader(ctx context.Context) (leader, askedNode string) {
	// The server bounds its cluster status at 3s.
	hc := &http.Client{Timeout: 4 * time.Second}
	for _, n := range c.nodes {
		if !n.Running() || n.Paused() || ctx.Err() != nil {
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.DirectURL()+"/api/v1/cluster", nil)
		if err != nil {
			continue
		}
		req.Header.Set("Authorization", "Bearer "+c.cfg.MgmtKey)
		resp, err := hc.Do(req)
		if err != nil {
			continue
		}
		var body struct {
			Data struct {
				Leader string `json:"leader"`
			} `json:"data"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusOK && body.Data.Leader != "" {
			return body.Data.Leader, n.ID
		}
	}
	return "", ""
}
