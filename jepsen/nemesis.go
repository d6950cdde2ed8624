package jepsen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

// Nemesis injects one kind of fault into a Cluster. A run alternates Inject
// and Heal; both return a description that the workload records as an
// FNemesis op, so the history shows what was done when. An Inject
// description is "kind: detail", several joined by " + "; the report counts
// faults by kind.
type Nemesis interface {
	// Name is short and stable, for reports: "kill", "pause", "partition".
	Name() string
	// Inject starts one fault, choosing its target with rng so that a seed
	// reproduces the run.
	Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error)
	// Heal undoes every fault this nemesis injected and leaves the cluster
	// whole (all nodes running, resumed, connected).
	Heal(ctx context.Context, c *Cluster) (string, error)
}

// KillNemesis SIGKILLs a running node, the leader half the time; Heal
// restarts every node it killed (with its data directory intact) and waits
// for /ready.
type KillNemesis struct {
	// LeaderRate is the chance to kill the leader rather than a random
	// node. Default 0.5; negative never.
	LeaderRate float64
	// All kills every member at once (the restart then elects a leader
	// among nodes that have applied only their last snapshot).
	All bool
}

func (KillNemesis) Name() string { return "kill" }

func (k KillNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	if k.All {
		var ids []string
		for _, n := range c.Members() {
			if err := n.Kill(); err != nil {
				return "", fmt.Errorf("kill nemesis: %w", err)
			}
			ids = append(ids, n.ID)
		}
		return fmt.Sprintf("kill-all: %v", ids), nil
	}
	n, why := pickNode(ctx, c, rng, k.LeaderRate, func(n *Node) bool { return n.Running() })
	if n == nil {
		return "kill: no node running", nil
	}
	if err := n.Kill(); err != nil {
		return "", fmt.Errorf("kill nemesis: %w", err)
	}
	return "kill: " + n.ID + why, nil
}

// pickNode chooses a node that ok accepts: with chance leaderRate
// (default 0.5, negative never) the leader if ok accepts it, else one at
// random. why is " (leader)" when the leader was chosen as such.
func pickNode(ctx context.Context, c *Cluster, rng *rand.Rand, leaderRate float64, ok func(*Node) bool) (n *Node, why string) {
	if leaderRate == 0 {
		leaderRate = 0.5
	}
	var cand []*Node
	for _, n := range c.Members() {
		if ok(n) {
			cand = append(cand, n)
		}
	}
	if len(cand) == 0 {
		return nil, ""
	}
	pick := cand[rng.IntN(len(cand))]
	if rng.Float64() < leaderRate {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		leader, _ := c.Leader(lctx)
		cancel()
		if l := c.Node(leader); l != nil && ok(l) {
			return l, " (leader)"
		}
	}
	return pick, ""
}

func (KillNemesis) Heal(ctx context.Context, c *Cluster) (string, error) {
	var started []string
	for _, n := range c.Members() {
		if n.Running() {
			continue
		}
		if err := n.Start(); err != nil {
			return "", fmt.Errorf("kill nemesis heal: %w", err)
		}
		started = append(started, n.ID)
	}
	if err := c.WaitReady(ctx); err != nil {
		return "", fmt.Errorf("kill nemesis heal: %w", err)
	}
	return fmt.Sprintf("restart %v", started), nil
}

// PauseNemesis SIGSTOPs a node, the leader half the time, which then holds
// its sockets open but answers nothing (a GC pause, a stuck VM); Heal
// SIGCONTs it.
type PauseNemesis struct {
	// LeaderRate is the chance to pause the leader rather than a random
	// node. Default 0.5; negative never.
	LeaderRate float64
}

func (PauseNemesis) Name() string { return "pause" }

func (p PauseNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	n, why := pickNode(ctx, c, rng, p.LeaderRate, func(n *Node) bool { return n.Running() && !n.Paused() })
	if n == nil {
		return "pause: no node to pause", nil
	}
	if err := n.Pause(); err != nil {
		return "", fmt.Errorf("pause nemesis: %w", err)
	}
	return "pause: " + n.ID + why, nil
}

func (PauseNemesis) Heal(ctx context.Context, c *Cluster) (string, error) {
	var resumed []string
	for _, n := range c.Nodes() {
		if n.Paused() {
			if err := n.Resume(); err != nil {
				return "", fmt.Errorf("pause nemesis heal: %w", err)
			}
			resumed = append(resumed, n.ID)
		}
	}
	return fmt.Sprintf("resume %v", resumed), nil
}

// ClientLinkNemesis degrades the path between clients and one node through
// the node's client Proxy (ClusterConfig.ClientProxies): it stalls it (a
// silent partition of that node from its clients), cuts it, or adds latency
// and loss. Raft traffic between nodes is untouched.
type ClientLinkNemesis struct {
	// Modes to choose from; default all of "stall", "cut", "slow".
	Modes []string
	// Slow is the fault used by "slow". Default 100ms delay, 50ms jitter,
	// 10% loss.
	Slow Faults
}

func (ClientLinkNemesis) Name() string { return "client-link" }

func (n ClientLinkNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	nodes := c.Members()
	node := nodes[rng.IntN(len(nodes))]
	if node.Proxy == nil {
		return "", errors.New("client-link nemesis: cluster started without ClientProxies")
	}
	mode := pickMode(rng, n.Modes, "stall", "cut", "slow")
	switch mode {
	case "stall":
		node.Proxy.SetFaults(Faults{Stall: true})
	case "cut":
		node.Proxy.SetFaults(Faults{Cut: true})
	case "slow":
		f := n.Slow
		if f == (Faults{}) {
			f = Faults{Delay: 100 * time.Millisecond, Jitter: 50 * time.Millisecond, LossRate: 0.1}
		}
		node.Proxy.SetFaults(f)
	default:
		return "", fmt.Errorf("client-link nemesis: mode %q is not stall, cut or slow", mode)
	}
	return fmt.Sprintf("client-%s: %s", mode, node.ID), nil
}

func (ClientLinkNemesis) Heal(ctx context.Context, c *Cluster) (string, error) {
	for _, node := range c.Nodes() {
		if node.Proxy != nil {
			// The proxy's own setting only: a client cut of a partition
			// (a per-source override) belongs to the partition nemesis.
			node.Proxy.SetFaults(Faults{})
		}
	}
	return "client-link heal", nil
}

// NetnsSupport says whether network namespaces can be used for partitions
// between nodes, and why not when they cannot.
type NetnsSupport struct {
	OK     bool
	Reason string
}

// CheckNetns reports whether this process can run nodes in network
// namespaces: it needs root, the ip tool, the right to create a namespace
// (containers often lack it) and nft, which it installs from Debian's
// nftables package when missing. It creates and deletes a probe namespace.
// Partitions fall back to proxies when it says no.
func CheckNetns(ctx context.Context) NetnsSupport {
	if os.Geteuid() != 0 {
		return NetnsSupport{Reason: "not root"}
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		return NetnsSupport{Reason: "ip (iproute2) not found"}
	}
	name := fmt.Sprintf("pfprobe%d", os.Getpid())
	if out, err := exec.CommandContext(ctx, ip, "netns", "add", name).CombinedOutput(); err != nil {
		return NetnsSupport{Reason: fmt.Sprintf("ip netns add: %v: %s", err, out)}
	}
	if out, err := exec.CommandContext(ctx, ip, "netns", "del", name).CombinedOutput(); err != nil {
		return NetnsSupport{Reason: fmt.Sprintf("ip netns del %s: %v: %s", name, err, out)}
	}
	if err := ensureNft(ctx, slog.Default()); err != nil {
		return NetnsSupport{Reason: err.Error()}
	}
	return NetnsSupport{OK: true}
}

// PartitionNemesis cuts links between nodes through the cluster's Network
// (ClusterConfig.Network): packets are dropped silently, so connections
// stall rather than fail. Heal restores every link it cut.
type PartitionNemesis struct {
	// Modes to choose from; default all of:
	//   - "halves": a random minority against the majority;
	//   - "leader": the current leader (GET /api/v1/cluster) against the rest;
	//   - "bridge": two halves that cannot see each other, and one node
	//     that sees both (it can win elections the halves cannot agree on).
	// and, only when named:
	//   - "one-way": packets in one direction only are dropped: from the
	//     leader to the others (they stop hearing it and elect another,
	//     while it still hears them) or from the others to the leader (it
	//     loses its quorum while they still receive its heartbeats on open
	//     connections), or from one random node to another.
	Modes []string
	// ClientCutRate is the chance that, in "halves" and "leader", the
	// clients lose the minority side too (a subscriber there must notice by
	// heartbeat). Default 0.5; negative never.
	ClientCutRate float64
}

func (PartitionNemesis) Name() string { return "partition" }

func (p PartitionNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	nw, err := c.faultNetwork("partition")
	if err != nil {
		return "", err
	}
	rate := cmp.Or(p.ClientCutRate, 0.5)
	ids := make([]string, 0, len(c.Members()))
	for _, n := range c.Members() {
		ids = append(ids, n.ID)
	}
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	mode := pickMode(rng, p.Modes, "halves", "leader", "bridge")
	clientCut := rng.Float64() < rate
	var cut []Link
	var minority []string
	var desc string
	switch mode {
	case "halves":
		k := (len(ids) - 1) / 2
		minority = ids[:max(k, 1)]
		cut = partitionGroups(minority, ids[max(k, 1):])
		desc = fmt.Sprintf("partition-halves: %v | %v", minority, ids[max(k, 1):])
	case "leader":
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		leader, _ := c.Leader(lctx)
		cancel()
		if leader == "" {
			leader = ids[0]
		}
		minority = []string{leader}
		var rest []string
		for _, id := range ids {
			if id != leader {
				rest = append(rest, id)
			}
		}
		cut = partitionGroups(minority, rest)
		desc = fmt.Sprintf("partition-leader: %v | %v", minority, rest)
	case "bridge":
		if len(ids) < 3 {
			return "", fmt.Errorf("partition nemesis: bridge needs 3 nodes, have %d", len(ids))
		}
		bridge, rest := ids[0], ids[1:]
		half := len(rest) / 2
		cut = partitionGroups(rest[:half], rest[half:])
		desc = fmt.Sprintf("partition-bridge: %v | %s | %v", rest[:half], bridge, rest[half:])
		clientCut = false
	case "one-way":
		return p.oneWay(ctx, c, nw, ids, rng)
	default:
		return "", fmt.Errorf("partition nemesis: mode %q is not halves, leader, bridge or one-way", mode)
	}
	if rate < 0 {
		clientCut = false
	}
	err = nw.Update(func(s *LinkState) {
		s.Cut = cut
		s.ClientCut = nil
		if clientCut {
			s.ClientCut = minority
		}
	})
	if err != nil {
		return "", fmt.Errorf("partition nemesis: %w", err)
	}
	if clientCut {
		desc += fmt.Sprintf(" (clients cut from %v)", minority)
	}
	return desc + " [" + describeCut(cut) + "]", nil
}

// oneWay drops the packets of one direction: out of the leader, into the
// leader, or from one node to another, chosen with rng.
func (PartitionNemesis) oneWay(ctx context.Context, c *Cluster, nw Network, ids []string, rng *rand.Rand) (string, error) {
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	leader, _ := c.Leader(lctx)
	cancel()
	if leader == "" {
		leader = ids[0]
	}
	var links []Link
	var desc string
	switch rng.IntN(3) {
	case 0:
		for _, id := range ids {
			if id != leader {
				links = append(links, Link{leader, id})
			}
		}
		desc = fmt.Sprintf("partition-one-way: packets out of the leader %s dropped", leader)
	case 1:
		for _, id := range ids {
			if id != leader {
				links = append(links, Link{id, leader})
			}
		}
		desc = fmt.Sprintf("partition-one-way: packets into the leader %s dropped", leader)
	default:
		links = []Link{{ids[0], ids[1]}}
		desc = fmt.Sprintf("partition-one-way: packets from %s to %s dropped", ids[0], ids[1])
	}
	if err := nw.Update(func(s *LinkState) { s.OneWay = links }); err != nil {
		return "", fmt.Errorf("partition nemesis: %w", err)
	}
	var parts []string
	for _, l := range links {
		parts = append(parts, l.A+"->"+l.B)
	}
	return desc + " [" + strings.Join(parts, " ") + "]", nil
}

func (PartitionNemesis) Heal(ctx context.Context, c *Cluster) (string, error) {
	return c.healNetwork("partition", func(s *LinkState) { s.Cut, s.ClientCut, s.OneWay = nil, nil, nil })
}

// LinkNemesis degrades the links between nodes through the cluster's
// Network: "loss" drops a share of the packets between every pair of nodes
// (nftables under NetworkNetns; a retransmission delay under
// NetworkProxy), "delay" slows the Raft traffic into one node or all of
// them through their Raft proxies. Heal restores full speed.
type LinkNemesis struct {
	// Modes to choose from; default both "loss" and "delay".
	Modes []string
}

func (LinkNemesis) Name() string { return "link" }

func (l LinkNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	nw, err := c.faultNetwork("link")
	if err != nil {
		return "", err
	}
	switch mode := pickMode(rng, l.Modes, "loss", "delay"); mode {
	case "loss":
		rate := []float64{0.05, 0.1, 0.2}[rng.IntN(3)]
		if err := nw.Update(func(s *LinkState) { s.Loss = rate }); err != nil {
			return "", fmt.Errorf("link nemesis: %w", err)
		}
		return fmt.Sprintf("loss: %.0f%% of packets between nodes", 100*rate), nil
	case "delay":
		var slow []string
		if rng.IntN(2) == 0 {
			slow = []string{c.Members()[rng.IntN(len(c.Members()))].ID}
		} else {
			for _, n := range c.Members() {
				slow = append(slow, n.ID)
			}
		}
		delay := time.Duration(50+rng.IntN(200)) * time.Millisecond
		jitter := delay / 2
		if err := nw.Update(func(s *LinkState) { s.Slow, s.Delay, s.Jitter = slow, delay, jitter }); err != nil {
			return "", fmt.Errorf("link nemesis: %w", err)
		}
		return fmt.Sprintf("delay: raft traffic into %v waits %s + up to %s", slow, delay, jitter), nil
	default:
		return "", fmt.Errorf("link nemesis: mode %q is not loss or delay", mode)
	}
}

func (LinkNemesis) Heal(ctx context.Context, c *Cluster) (string, error) {
	return c.healNetwork("link", func(s *LinkState) { s.Loss, s.Slow, s.Delay, s.Jitter = 0, nil, 0, 0 })
}

// pickMode draws one of modes, or of defaults when modes is empty.
func pickMode(rng *rand.Rand, modes []string, defaults ...string) string {
	if len(modes) == 0 {
		modes = defaults
	}
	return modes[rng.IntN(len(modes))]
}

// faultNetwork returns the cluster's Network for the nemesis named who, or
// an error when the cluster was started without one.
func (c *Cluster) faultNetwork(who string) (Network, error) {
	nw := c.Network()
	if nw == nil {
		return nil, fmt.Errorf("%s nemesis: cluster started without a Network", who)
	}
	return nw, nil
}

// healNetwork undoes the nemesis named who's link faults with heal; a
// cluster without a Network has none to undo.
func (c *Cluster) healNetwork(who string, heal func(*LinkState)) (string, error) {
	nw := c.Network()
	if nw == nil {
		return who + " heal: no network", nil
	}
	if err := nw.Update(heal); err != nil {
		return "", fmt.Errorf("%s nemesis heal: %w", who, err)
	}
	return who + " heal", nil
}

// ComboNemesis injects two faults of different nemeses at once (a
// partition and a kill, a pause and loss, …); Heal heals them all.
type ComboNemesis struct {
	Nemeses []Nemesis
}

func (ComboNemesis) Name() string { return "combo" }

func (cn ComboNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	if len(cn.Nemeses) < 2 {
		return "", fmt.Errorf("combo nemesis: needs two nemeses, has %d", len(cn.Nemeses))
	}
	i := rng.IntN(len(cn.Nemeses))
	j := rng.IntN(len(cn.Nemeses) - 1)
	if j >= i {
		j++
	}
	var descs []string
	for _, k := range []int{i, j} {
		d, err := cn.Nemeses[k].Inject(ctx, c, rng)
		if err != nil {
			return strings.Join(descs, " + "), err
		}
		descs = append(descs, d)
	}
	return strings.Join(descs, " + "), nil
}

func (cn ComboNemesis) Heal(ctx context.Context, c *Cluster) (string, error) {
	var descs []string
	for _, n := range healOrder(cn.Nemeses) {
		d, err := n.Heal(ctx, c)
		if err != nil {
			return strings.Join(descs, "; "), err
		}
		descs = append(descs, d)
	}
	return strings.Join(descs, "; "), nil
}

// healOrder returns nems in the order their faults must be healed: the
// network first (a node cut off cannot become ready), then paused nodes,
// then killed ones (whose heal waits for every running node to be ready),
// then anything else.
func healOrder(nems []Nemesis) []Nemesis {
	rank := func(n Nemesis) int {
		switch n.Name() {
		case "partition", "link", "client-link":
			return 0
		case "pause":
			return 1
		case "kill", "power-cut", "disk", "membership", "slow-kill-leader", "slow-disk-kill-leader":
			return 2
		}
		return 3
	}
	out := append([]Nemesis(nil), nems...)
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}
