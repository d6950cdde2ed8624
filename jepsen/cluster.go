package jepsen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pushflo/pushflo/client"
	"github.com/pushflo/pushflo/client/testproc"
)

// ClusterConfig describes a cluster of local pushflo processes. Zero values
// mean the documented default.
type ClusterConfig struct {
	// Bin is the pushflo binary (client/testproc.Binary or Build makes
	// one). Required.
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
	setDefault(&cfg.Size, 3)
	setDefault(&cfg.PublishKey, "pub_jepsen_test")
	setDefault(&cfg.SecretKey, "sec_jepsen_test")
	setDefault(&cfg.MgmtKey, "mgmt_jepsen_test")
	setDefault(&cfg.ClusterSecret, "jepsen-cluster-secret")
	setDefault(&cfg.ReadyTimeout, 60*time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.FaultFS {
		if err := diskSupported(); err != nil {
			return nil, fmt.Errorf("start cluster: %w", err)
		}
		cleanStaleFaultFS(cfg.Logger)
	}
	c := &Cluster{cfg: cfg}
	// Loopback ports stay reserved for the cluster's life and are handed
	// to each start as sockets (client/testproc); a node moved into a
	// network namespace gives its pair back.
	ports, err := testproc.ReservePorts("127.0.0.1", 2*(cfg.Size+cfg.Spares))
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	var peers []string
	for i := 0; i < cfg.Size+cfg.Spares; i++ {
		id := fmt.Sprintf("n%d", i+1)
		n := &Node{
			ID:       id,
			HTTPAddr: ports[2*i].Addr,
			RaftAddr: ports[2*i+1].Addr,
			DataDir:  filepath.Join(cfg.Dir, id, "data"),
			LogPath:  filepath.Join(cfg.Dir, id, "pushflo.log"),
			logger:   cfg.Logger.With("component", "jepsen", "node", id),
			member:   i < cfg.Size,
			ports:    ports[2*i : 2*i+2],
		}
		n.proc = &testproc.Proc{Name: id, Bin: cfg.Bin, LogPath: n.LogPath}
		c.nodes = append(c.nodes, n)
	}
	if cfg.Network != NetworkLoopback {
		nw, note, err := openNetwork(ctx, cfg.Network, c.nodes, cfg.Logger)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("start cluster: %w", err)
		}
		c.net, c.netNote = nw, note
	}
	for _, n := range c.nodes {
		if n.Netns == "" {
			n.proc.Sockets = []testproc.Socket{{Name: "http", Port: n.ports[0]}, {Name: "raft", Port: n.ports[1]}}
		} else {
			// Fixed addresses inside its namespace, which nothing else
			// binds.
			n.releasePorts()
			n.proc.StartFunc = func(cmd *exec.Cmd) error {
				// Forked from a thread inside the node's network
				// namespace, so it starts there. Not with `ip netns
				// exec`: that also gives the process a mount namespace
				// of its own, holding copies of every mount (faultfs
				// ones too), which then cannot be unmounted while it
				// lives.
				return inNetns(n.Netns, cmd.Start)
			}
		}
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
		// The management calls (Leader, the membership nemesis) go to
		// the node's own address, never retried on another node.
		n.admin, err = client.New(client.Config{Addrs: []string{n.DirectURL()}, SecretKey: cfg.SecretKey, MgmtKey: cfg.MgmtKey, RequestTimeout: 20 * time.Second})
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("start cluster: %w", err)
		}
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
	cl, err := client.New(client.Config{Addrs: c.directURLs(), SecretKey: c.cfg.SecretKey, RequestTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
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

// directURLs returns every node's own base URL, in node order.
func (c *Cluster) directURLs() []string { return c.eachNode((*Node).DirectURL) }

// eachNode returns f of every node, in node order.
func (c *Cluster) eachNode(f func(*Node) string) []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = f(n)
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
func (c *Cluster) URLs() []string { return c.eachNode((*Node).URL) }

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
		n.releasePorts()
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
	// admin is a client of the node's own address with the management
	// key.
	admin *client.Client
	// clockFile is the node's --unsafe-clock-offset-file
	// (ClusterConfig.ClockOffsets), or "".
	clockFile string

	args   []string
	logger *slog.Logger
	// proc runs the process (client/testproc); ports are its reserved
	// loopback ports, nil under NetworkNetns.
	proc  *testproc.Proc
	ports []*testproc.Port

	mu sync.Mutex // guards the fields below
	// member says the node belongs to the cluster (see Cluster.Members).
	member bool
	// bootstrap is the --bootstrap-peers part of the command line, used
	// while join is empty; join is the --join part once the node has been
	// (re)joined by the membership nemesis.
	bootstrap, join []string
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
	if n.proc.Running() {
		return nil
	}
	n.proc.SetArgs(n.Args())
	if err := n.proc.Start(); err != nil {
		return err
	}
	n.logger.Info("node started", "pid", n.proc.PID())
	return nil
}

// releasePorts gives the node's reserved loopback ports back.
func (n *Node) releasePorts() {
	for _, p := range n.ports {
		p.Close()
	}
	n.ports = nil
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
func (n *Node) PID() int { return n.proc.PID() }

// Running reports whether the process was started and has not exited.
func (n *Node) Running() bool { return n.proc.Running() }

// Kill sends SIGKILL and waits for the process to exit. It is a no-op when
// the node is not running.
func (n *Node) Kill() error {
	running := n.proc.Running()
	if err := n.proc.Kill(); err != nil {
		return err
	}
	if running {
		n.logger.Info("node stopped", "signal", "killed")
	}
	return nil
}

// Terminate sends SIGTERM and waits up to grace for a clean exit, then
// kills.
func (n *Node) Terminate(grace time.Duration) error {
	if err := n.proc.Stop(grace); err == nil {
		n.logger.Info("node stopped", "signal", "terminated")
	}
	return n.Kill()
}

// Pause sends SIGSTOP: the process keeps its sockets but does nothing.
func (n *Node) Pause() error { return n.proc.Pause() }

// Resume sends SIGCONT to a paused process.
func (n *Node) Resume() error { return n.proc.Resume() }

// Paused reports whether the node was paused and not resumed.
func (n *Node) Paused() bool { return n.proc.Paused() }

// WaitReady polls GET /ready on the node's own address until it answers
// 200, the process exits, or ctx ends.
func (n *Node) WaitReady(ctx context.Context) error {
	if err := testproc.WaitReady(ctx, n.proc, n.DirectURL()); err != nil {
		return fmt.Errorf("%w; see %s", err, n.LogPath)
	}
	return nil
}

// Leader asks the running, unpaused nodes in turn, through their own
// addresses, which node leads (GET /api/v1/cluster with the management
// key) and returns the first answer naming one, with the node that gave
// it. It returns "" when no node names a leader before ctx ends or all
// have been asked.
func (c *Cluster) Leader(ctx context.Context) (leader, askedNode string) {
	for _, n := range c.nodes {
		if !n.Running() || n.Paused() || ctx.Err() != nil {
			continue
		}
		if st, err := n.clusterStatus(ctx); err == nil && st.Leader != "" {
			return st.Leader, n.ID
		}
	}
	return "", ""
}

// clusterStatus asks the node itself for the cluster's status, with the
// management key, bounded at 4 s (the server bounds its answer at 3 s).
func (n *Node) clusterStatus(ctx context.Context) (client.ClusterStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	return n.admin.ClusterStatus(ctx)
}
