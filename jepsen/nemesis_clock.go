package jepsen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// ClockNemesis makes the leader's wall clock jump (ClusterConfig.
// ClockOffsets; the server's --unsafe-clock-offset-file): the leader stamps
// messages and decides what has expired with its own clock, so a leader an
// hour ahead may expire messages that are still within retention on every
// other clock. Heal sets every node's offset back to zero.
type ClockNemesis struct {
	// Jump is the offset given to the leader. Default one hour ahead.
	Jump time.Duration
}

func (ClockNemesis) Name() string { return "clock" }

func (cn ClockNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (string, error) {
	jump := cn.Jump
	if jump == 0 {
		jump = time.Hour
	}
	n, why := pickNode(ctx, c, rng, 1, func(n *Node) bool { return n.Running() })
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
