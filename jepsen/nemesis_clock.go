package jepsen

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// ClockNemesis makes one node's wall clock jump (ClusterConfig.
// ClockOffsets; the server's --unsafe-clock-offset-file): the leader stamps
// messages and decides what has expired with its own clock, and every node
// hides expired messages from its readers by its own clock, so a node an
// hour ahead may expire (the leader) or hide (any node) messages that are
// still within retention on every other clock. Heal sets every node's
// offset back to zero.
type ClockNemesis struct {
	// Jump is the offset given to the node. Default one hour ahead.
	Jump time.Duration
	// LeaderRate is the chance the node is the leader (default 0.5, as
	// pickNode; negative never); otherwise any running member.
	LeaderRate float64
}

func (ClockNemesis) Name() string { return "clock" }

func (cn ClockNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	jump := cmp.Or(cn.Jump, time.Hour)
	n, why := pickNode(ctx, c, rng, cn.LeaderRate, func(n *Node) bool { return n.Running() })
	if n == nil {
		return "clock: no node running", nil
	}
	if err := n.SetClockOffset(jump); err != nil {
		return "", fmt.Errorf("clock nemesis: %w", err)
	}
	return fmt.Sprintf("clock-jump: %s%s runs %s ahead", n.ID, why, jump), nil
}

func (ClockNemesis) Heal(ctx context.Context, c *Cluster) (string, error) {
	for _, n := range c.Nodes() {
		if err := n.SetClockOffset(0); err != nil {
			return "", fmt.Errorf("clock nemesis heal: %w", err)
		}
	}
	return "clock heal: every offset 0", nil
}

// SlowDiskKillLeaderNemesis gives every follower a slow disk (each write
// and fsync waits, faultfs), lets writes go on for a moment, then kills
// the leader: a follower applies committed entries to its store well after
// it learns they are committed, so the new leader takes office with
// acknowledged writes not yet applied. A leader that serves default reads
// without first applying everything committed answers them without those
// writes. Heal restores the disks, then restarts the killed node.
type SlowDiskKillLeaderNemesis struct {
	// Delay of each write and fsync on the followers' disks. Default 20ms.
	Delay time.Duration
}

func (SlowDiskKillLeaderNemesis) Name() string { return "slow-disk-kill-leader" }

func (s SlowDiskKillLeaderNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	d := cmp.Or(s.Delay, 20*time.Millisecond)
	n, why := pickNode(ctx, c, rng, 1, func(n *Node) bool { return n.Running() })
	if n == nil {
		return "slow-disk-kill-leader: no node running", nil
	}
	for _, m := range c.Members() {
		if m != n && m.disk != nil {
			m.disk.SetDelay(d)
		}
	}
	sleepCtx(ctx, time.Second)
	if err := n.Kill(); err != nil {
		return "", fmt.Errorf("slow-disk-kill-leader nemesis: %w", err)
	}
	return fmt.Sprintf("slow-disk-kill-leader: followers' disks wait %s per write, then killed %s%s", d, n.ID, why), nil
}

func (SlowDiskKillLeaderNemesis) Heal(ctx context.Context, c *Cluster) (string, error) {
	for _, m := range c.Nodes() {
		if m.disk != nil {
			m.disk.SetDelay(0)
		}
	}
	desc, err := KillNemesis{}.Heal(ctx, c)
	if err != nil {
		return "", err
	}
	return "disks fast again; " + desc, nil
}

// SlowKillLeaderNemesis slows the Raft traffic into every node, lets
// writes go on for a moment, then kills the leader: followers hold
// entries the old leader acknowledged but learn that they are committed
// only a delay later, so the new leader takes office before it has applied
// them. A leader that serves default reads as soon as it leads (without a
// barrier or read index) answers them without those writes. Heal restores
// the links, then restarts the killed node.
type SlowKillLeaderNemesis struct {
	// Delay of the Raft traffic into each node. Default 200ms.
	Delay time.Duration
}

func (SlowKillLeaderNemesis) Name() string { return "slow-kill-leader" }

func (s SlowKillLeaderNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	nw, err := c.faultNetwork("slow-kill-leader")
	if err != nil {
		return "", err
	}
	d := cmp.Or(s.Delay, 200*time.Millisecond)
	var all []string
	for _, n := range c.Members() {
		all = append(all, n.ID)
	}
	if err := nw.Update(func(st *LinkState) { st.Slow, st.Delay, st.Jitter = all, d, 0 }); err != nil {
		return "", fmt.Errorf("slow-kill-leader nemesis: %w", err)
	}
	sleepCtx(ctx, time.Second)
	n, why := pickNode(ctx, c, rng, 1, func(n *Node) bool { return n.Running() })
	if n == nil {
		return fmt.Sprintf("slow-kill-leader: raft traffic delayed %s, no node to kill", d), nil
	}
	if err := n.Kill(); err != nil {
		return "", fmt.Errorf("slow-kill-leader nemesis: %w", err)
	}
	return fmt.Sprintf("slow-kill-leader: raft traffic delayed %s, then killed %s%s", d, n.ID, why), nil
}

func (SlowKillLeaderNemesis) Heal(ctx context.Context, c *Cluster) (string, error) {
	if _, err := (LinkNemesis{}).Heal(ctx, c); err != nil {
		return "", err
	}
	desc, err := KillNemesis{}.Heal(ctx, c)
	if err != nil {
		return "", err
	}
	return "link heal; " + desc, nil
}
