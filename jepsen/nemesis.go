package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"time"
)

// Nemesis injects one kind of fault into a Cluster. A run alternates Inject
// and Heal; both return a description that the workload records as an
// FNemesis op, so the history shows what was done when.
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

// KillNemesis SIGKILLs a random running node; Heal restarts every node it
// killed (with its data directory intact) and waits for /ready.
type KillNemesis struct{}

func (KillNemesis) Name() string { return "kill" }

func (KillNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	var running []*Node
	for _, n := range c.Nodes() {
		if n.Running() {
			running = append(running, n)
		}
	}
	if len(running) == 0 {
		return "kill: no node running", nil
	}
	n := running[rng.IntN(len(running))]
	if err := n.Kill(); err != nil {
		return "", fmt.Errorf("kill nemesis: %w", err)
	}
	return "kill " + n.ID, nil
}

func (KillNemesis) Heal(ctx context.Context, c *Cluster) (string, error) {
	var started []string
	for _, n := range c.Nodes() {
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

// PauseNemesis SIGSTOPs a random node, which then holds its sockets open
// but answers nothing (a GC pause, a stuck VM); Heal SIGCONTs it.
type PauseNemesis struct{}

func (PauseNemesis) Name() string { return "pause" }

func (PauseNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	var cand []*Node
	for _, n := range c.Nodes() {
		if n.Running() && !n.Paused() {
			cand = append(cand, n)
		}
	}
	if len(cand) == 0 {
		return "pause: no node to pause", nil
	}
	n := cand[rng.IntN(len(cand))]
	if err := n.Pause(); err != nil {
		return "", fmt.Errorf("pause nemesis: %w", err)
	}
	return "pause " + n.ID, nil
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
	nodes := c.Nodes()
	node := nodes[rng.IntN(len(nodes))]
	if node.Proxy == nil {
		return "", errors.New("client-link nemesis: cluster started without ClientProxies")
	}
	modes := n.Modes
	if len(modes) == 0 {
		modes = []string{"stall", "cut", "slow"}
	}
	mode := modes[rng.IntN(len(modes))]
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
	return fmt.Sprintf("client-link %s %s", mode, node.ID), nil
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
// namespaces: it needs root, the ip tool, and the right to create a
// namespace (containers often lack it). It creates and deletes a probe
// namespace. Partitions fall back to proxies when it says no.
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
	return NetnsSupport{OK: true}
}
