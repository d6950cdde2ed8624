//go:build linux

package jepsen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Address plan of a namespace network: a bridge of the run's own in the
// root namespace holds 10.77.S.1/24, where S is a third octet no interface
// of this machine uses yet; node i (from 0) is 10.77.S.(11+i) on the eth0
// of namespace pfj-TAG-PID-nI. Nothing routes beyond the bridge: the
// addresses exist only inside this run's namespaces and bridge.
const (
	netnsPrefix = "pfj-"
	netHTTPPort = 8080
	netRaftPort = 7000
	// netProxyPort is where each node's Raft proxy listens inside the
	// node's namespace; it is the address the node advertises.
	netProxyPort = 7001
)

// netnsNetwork is NetworkNetns.
type netnsNetwork struct {
	linkState
	tag    string
	bridge string
	// forwardRule is set when the run inserted its iptables FORWARD rule
	// for the bridge (hostfw_linux.go); Close deletes it.
	forwardRule bool
	subnet      string // "10.77.S"
	nodes       []*Node
	ips         map[string]string // node ID → address
	logger      *slog.Logger
}

func (nn *netnsNetwork) Mechanism() NetworkMode { return NetworkNetns }

// setnsSyscall is setns(2) by architecture: package syscall does not name
// it everywhere.
var setnsSyscall = map[string]uintptr{"amd64": 308, "arm64": 268, "riscv64": 268, "386": 346, "arm": 375, "ppc64le": 350, "s390x": 339}

// inNetns runs fn on an OS thread that has entered the named namespace.
// Sockets fn opens belong to that namespace for their whole life. The
// thread goes back to its own namespace afterwards; if it cannot, it stays
// locked and ends with the goroutine (the main thread, which cannot end,
// must never be left in another namespace: /proc/self/net follows it).
func inNetns(ns string, fn func() error) error {
	nr, ok := setnsSyscall[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("setns: unknown syscall number on %s", runtime.GOARCH)
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		defer home.Close()
		f, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		_, _, e := syscall.RawSyscall(nr, f.Fd(), syscall.CLONE_NEWNET, 0)
		f.Close()
		if e != 0 {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", ns, e)
			return
		}
		err = fn()
		if _, _, e := syscall.RawSyscall(nr, home.Fd(), syscall.CLONE_NEWNET, 0); e == 0 {
			runtime.UnlockOSThread()
		} // else: stay locked, and the thread ends with this goroutine
		errc <- err
	}()
	return <-errc
}

// run runs a command and returns its error with its output.
func run(ctx context.Context, stdin string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ensureNft makes sure the nft tool is there, installing Debian's nftables
// package when it is missing (apt-get update only if the first try fails).
// The whole attempt is bounded to five minutes.
func ensureNft(ctx context.Context, logger *slog.Logger) error {
	if _, err := exec.LookPath("nft"); err == nil {
		return nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return errors.New("nft not found and no apt-get to install nftables")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	logger.Info("network: installing nftables")
	install := func() error {
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "-q", "nftables")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get install nftables: %w: %s", err, lastLines(out, 3))
		}
		return nil
	}
	if err := install(); err != nil {
		if uerr := run(ctx, "", "apt-get", "update", "-q"); uerr != nil {
			return fmt.Errorf("%w; apt-get update: %w", err, uerr)
		}
		if err := install(); err != nil {
			return err
		}
	}
	if _, err := exec.LookPath("nft"); err != nil {
		return errors.New("nftables installed but nft not found")
	}
	return nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

// staleNetns matches the namespaces and bridges this harness creates:
// pfj-TAG-PID-nI and pfjTAGbr (whose alias is pfj-TAG-PID).
var staleNetns = regexp.MustCompile(`^pfj-([0-9a-f]{6})-([0-9]+)(-n[0-9]+)?$`)

// staleVeth matches the root ends of this harness's veth pairs in ip -o
// link output that have no bridge: "15: pfjabc123v0@if14: <…> … state".
var staleVeth = regexp.MustCompile(`(?m)^[0-9]+: (pfj([0-9a-f]{6})v[0-9]+)@[^ ]+: [^\n]*$`)

// cleanStale deletes namespaces and bridges that an earlier run of this
// harness made and left behind: those whose owner process is gone.
func cleanStale(ctx context.Context, logger *slog.Logger) {
	alive := func(pid string) bool {
		_, err := os.Stat("/proc/" + pid)
		return err == nil
	}
	if out, err := exec.CommandContext(ctx, "ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			m := staleNetns.FindStringSubmatch(f[0])
			if m == nil || m[3] == "" || alive(m[2]) {
				continue
			}
			// Nodes of a run that died run on in their own process
			// groups: end them (they are ours: the namespace is) first.
			if pids, err := exec.CommandContext(ctx, "ip", "netns", "pids", f[0]).Output(); err == nil {
				for _, p := range strings.Fields(string(pids)) {
					if pid, err := strconv.Atoi(p); err == nil {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
			logger.Info("network: deleting a stale namespace", "netns", f[0])
			_ = run(ctx, "", "ip", "netns", "del", f[0])
		}
	}
	// Tags still in use: a namespace or a bridge of a live run names them.
	live := map[string]bool{}
	if out, err := exec.CommandContext(ctx, "ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 0 {
				if m := staleNetns.FindStringSubmatch(f[0]); m != nil {
					live[m[1]] = true
				}
			}
		}
	}
	if out, err := exec.CommandContext(ctx, "ip", "-o", "link", "show").Output(); err == nil {
		for _, m := range staleVeth.FindAllStringSubmatch(string(out), -1) {
			if !live[m[2]] {
				logger.Info("network: deleting a stale veth pair", "veth", m[1])
				_ = run(ctx, "", "ip", "link", "del", m[1])
			}
		}
	}
	if out, err := exec.CommandContext(ctx, "ip", "-o", "link", "show", "type", "bridge").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			// "12: pfjabc123br: <…> … \    alias pfj-abc123-4242"
			f := strings.Fields(line)
			if len(f) < 2 || !strings.HasPrefix(f[1], "pfj") {
				continue
			}
			name := strings.TrimSuffix(f[1], ":")
			i := slices.Index(f, "alias")
			if i < 0 || i+1 >= len(f) {
				continue
			}
			m := staleNetns.FindStringSubmatch(f[i+1])
			if m == nil || alive(m[2]) {
				continue
			}
			logger.Info("network: deleting a stale bridge", "bridge", name)
			_ = run(ctx, "", "ip", "link", "del", name)
		}
	}
	cleanStaleForwardRules(ctx)
}

// freeSubnet picks a third octet S such that no interface address of the
// root namespace is in 10.77.S.0/24.
func freeSubnet() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", fmt.Errorf("interface addresses: %w", err)
	}
	used := map[int]bool{}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip4 := ipn.IP.To4(); ip4 != nil && ip4[0] == 10 && ip4[1] == 77 {
				used[int(ip4[2])] = true
			}
		}
	}
	b := make([]byte, 1)
	for range 64 {
		_, _ = rand.Read(b)
		s := 1 + int(b[0])%250
		if !used[s] {
			return fmt.Sprintf("10.77.%d", s), nil
		}
	}
	return "", errors.New("no free 10.77.S.0/24 subnet after 64 draws")
}

// openNetns creates a bridge and one namespace per node, assigns each node
// its address (HTTPAddr, RaftAddr, AdvertiseAddr) and its ip netns exec
// prefix, and starts each node's Raft proxy inside its namespace. On error
// it removes what it made.
func openNetns(ctx context.Context, nodes []*Node, logger *slog.Logger) (_ *netnsNetwork, err error) {
	if err := ensureNft(ctx, logger); err != nil {
		return nil, err
	}
	cleanStale(ctx, logger)
	tagb := make([]byte, 3)
	_, _ = rand.Read(tagb)
	tag := hex.EncodeToString(tagb)
	subnet, err := freeSubnet()
	if err != nil {
		return nil, err
	}
	nn := &netnsNetwork{tag: tag, bridge: "pfj" + tag + "br", subnet: subnet, nodes: nodes, ips: map[string]string{}, logger: logger}
	nn.apply = nn.applyState
	defer func() {
		if err != nil {
			nn.Close()
		}
	}()
	owner := fmt.Sprintf("%s%s-%d", netnsPrefix, tag, os.Getpid())
	steps := [][]string{
		{"ip", "link", "add", nn.bridge, "type", "bridge"},
		{"ip", "link", "set", nn.bridge, "alias", owner},
		{"ip", "addr", "add", subnet + ".1/24", "dev", nn.bridge},
		{"ip", "link", "set", nn.bridge, "up"},
	}
	for i, n := range nodes {
		ns := fmt.Sprintf("%s-n%d", owner, i+1)
		host, peer := fmt.Sprintf("pfj%sv%d", tag, i), fmt.Sprintf("pfj%sp%d", tag, i)
		ip := fmt.Sprintf("%s.%d", subnet, 11+i)
		nn.ips[n.ID] = ip
		n.Netns = ns
		n.HTTPAddr = fmt.Sprintf("%s:%d", ip, netHTTPPort)
		n.RaftAddr = fmt.Sprintf("%s:%d", ip, netRaftPort)
		n.AdvertiseAddr = fmt.Sprintf("%s:%d", ip, netProxyPort)
		steps = append(steps,
			[]string{"ip", "netns", "add", ns},
			[]string{"ip", "link", "add", host, "type", "veth", "peer", "name", peer},
			[]string{"ip", "link", "set", peer, "netns", ns},
			[]string{"ip", "-n", ns, "link", "set", peer, "name", "eth0"},
			[]string{"ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0"},
			[]string{"ip", "-n", ns, "link", "set", "eth0", "up"},
			[]string{"ip", "-n", ns, "link", "set", "lo", "up"},
			[]string{"ip", "link", "set", host, "master", nn.bridge},
			[]string{"ip", "link", "set", host, "up"},
		)
	}
	for _, s := range steps {
		if err := run(ctx, "", s[0], s[1:]...); err != nil {
			return nil, fmt.Errorf("netns network: %w", err)
		}
	}
	if nn.forwardRule, err = allowBridgeForwarding(ctx, nn.bridge); err != nil {
		return nil, fmt.Errorf("netns network: %w", err)
	}
	if err := nn.applyState(LinkState{}); err != nil {
		return nil, err
	}
	if err := nn.probeReachability(ctx); err != nil {
		return nil, err
	}
	// Each node's Raft proxy listens and dials inside the node's
	// namespace, so peers' packets reach it through the node's own
	// nftables rules, carrying the peer's address.
	byIP := map[string]string{}
	for id, ip := range nn.ips {
		byIP[ip] = id
	}
	for i, n := range nodes {
		var ln net.Listener
		if err := inNetns(n.Netns, func() (err error) {
			ln, err = net.Listen("tcp", n.AdvertiseAddr)
			return err
		}); err != nil {
			return nil, fmt.Errorf("netns network: raft proxy of %s: %w", n.ID, err)
		}
		ns, target := n.Netns, n.RaftAddr
		n.raftProxy = NewProxy(ProxyConfig{
			Listener: ln,
			Target:   target,
			Dial: func() (c net.Conn, err error) {
				err = inNetns(ns, func() (err error) {
					c, err = net.DialTimeout("tcp", target, 5*time.Second)
					return err
				})
				return c, err
			},
			Source: func(c net.Conn) string {
				host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
				return byIP[host]
			},
			Seed: uint64(1000 + i),
		})
	}
	logger.Info("network: namespaces on a bridge", "bridge", nn.bridge, "subnet", subnet+".0/24")
	return nn, nil
}

// nftScript is the whole nftables table of node id's namespace under s:
// drops from cut peers and, for a client cut, from the bridge (where the
// test process's packets come from), then a random drop of s.Loss of the
// packets from every peer. It replaces the table atomically.
func (nn *netnsNetwork) nftScript(s LinkState, id string) string {
	var cut, peers []string
	for _, n := range nn.nodes {
		if n.ID == id {
			continue
		}
		peers = append(peers, nn.ips[n.ID])
		if s.Drops(n.ID, id) {
			cut = append(cut, nn.ips[n.ID])
		}
	}
	if slices.Contains(s.ClientCut, id) {
		cut = append(cut, nn.subnet+".1")
	}
	var b strings.Builder
	b.WriteString("table inet jepsen\ndelete table inet jepsen\ntable inet jepsen {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n")
	if len(cut) > 0 {
		fmt.Fprintf(&b, "\t\tip saddr { %s } drop\n", strings.Join(cut, ", "))
	}
	if permille := int(s.Loss*1000 + 0.5); permille > 0 && len(peers) > 0 {
		fmt.Fprintf(&b, "\t\tip saddr { %s } numgen random mod 1000 < %d drop\n", strings.Join(peers, ", "), permille)
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

func (nn *netnsNetwork) applyState(s LinkState) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ids []string
	for _, n := range nn.nodes {
		ids = append(ids, n.ID)
	}
	for _, n := range nn.nodes {
		if err := run(ctx, nn.nftScript(s, n.ID), "ip", "netns", "exec", n.Netns, "nft", "-f", "-"); err != nil {
			return fmt.Errorf("netns network: %w", err)
		}
		if n.raftProxy != nil {
			global, _, _ := linkFaults(s, n.ID, ids, false)
			global.LossRate = 0 // real loss, from nftables
			n.raftProxy.SetFaults(global)
		}
	}
	return nil
}

// Close stops the Raft proxies and deletes the namespaces and the bridge.
// Nodes must have been stopped first.
func (nn *netnsNetwork) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for _, n := range nn.nodes {
		if n.raftProxy != nil {
			n.raftProxy.Close()
			n.raftProxy = nil
		}
		if n.Netns != "" {
			if _, err := os.Stat(filepath.Join("/run/netns", n.Netns)); err == nil {
				if err := run(ctx, "", "ip", "netns", "del", n.Netns); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	// A deleted namespace lingers while the kernel holds sockets of it
	// (TIME_WAIT), and its veth pair with it: delete the pairs by hand.
	for i := range nn.nodes {
		if err := run(ctx, "", "ip", "link", "del", fmt.Sprintf("pfj%sv%d", nn.tag, i)); err != nil && !strings.Contains(err.Error(), "Cannot find device") {
			errs = append(errs, err)
		}
	}
	if err := run(ctx, "", "ip", "link", "del", nn.bridge); err != nil && !strings.Contains(err.Error(), "Cannot find device") {
		errs = append(errs, err)
	}
	if nn.forwardRule {
		if err := removeBridgeForwarding(ctx, nn.bridge); err != nil {
			errs = append(errs, err)
		}
		nn.forwardRule = false
	}
	return errors.Join(errs...)
}

// Diagnose names the host settings that may keep nodes from reaching each
// other, for an error about nodes that never became ready; "" when none.
func (nn *netnsNetwork) Diagnose(ctx context.Context) string {
	return hostForwardingDiagnosis(ctx, nn.bridge)
}
