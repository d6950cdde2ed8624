package raftnode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// ReadLevel says how fresh a read from this node's store must be.
type ReadLevel int

const (
	// Linearizable, the zero value and the default: the read sees every
	// write acknowledged anywhere in the cluster before ReadBarrier was
	// called. The leader's read index is confirmed with a quorum; a leader
	// reading its own store is no exception.
	Linearizable ReadLevel = iota
	// Stale reads whatever this node has applied, at no cost: it may trail
	// the leader, and a node cut off from the cluster serves its old view.
	Stale
)

func (l ReadLevel) String() string {
	switch l {
	case Linearizable:
		return "linearizable"
	case Stale:
		return "stale"
	}
	return fmt.Sprintf("ReadLevel(%d)", int(l))
}

// ReadBarrier returns once this node's store may be read at level. For
// Linearizable it obtains a read index (on the leader: its applied index,
// after it has applied a barrier of its own term and a quorum has confirmed
// it still leads; on a follower: the same, asked of the leader) and waits
// until the local store has applied it. It writes nothing. It fails with
// ErrNoLeader when no leader confirmed a read index within LeaderWait or
// the context, with the context's error when the store did not catch up in
// time, and with ErrClosed on a closed node; a failed barrier is always
// safe to retry.
func (n *Node) ReadBarrier(ctx context.Context, level ReadLevel) error {
	if err := n.disk.failed(); err != nil {
		return err
	}
	if n.ctx.Err() != nil {
		return ErrClosed
	}
	switch level {
	case Stale:
		return nil
	case Linearizable:
	default:
		return fmt.Errorf("read barrier: unknown level %v", level)
	}
	idx, err := n.readIndex(ctx)
	if err != nil {
		return err
	}
	return n.waitApplied(ctx, idx)
}

// readIndex returns a Raft index such that once this node's store has
// applied it, the store holds every write acknowledged before readIndex
// was called. Any failure along the way is retried (a read changes
// nothing) with the next leader, within LeaderWait and ctx.
func (n *Node) readIndex(ctx context.Context) (uint64, error) {
	return onLeaderRetry(ctx, n,
		func() (uint64, error) { return n.localReadIndex(ctx) },
		func(addr string) (uint64, error) {
			var idx uint64
			if _, err := n.fwd.call(ctx, addr, "Node.ReadIndex", &struct{}{}, &idx, true); err != nil {
				n.logger.Debug("read index from leader failed; retrying", "leader_addr", addr, "err", err)
				return 0, errRetry
			}
			return idx, nil
		})
}

// localReadIndex is readIndex on the leader. It commits a barrier entry
// in its own term and returns its applied index once that barrier has
// applied, which covers every acknowledged write:
//   - this leader applies its own writes before acknowledging them;
//   - committing an entry of its term needs a majority to accept it after
//     the read began, so no later leader had been elected by then (a
//     majority that moved to a later term refuses the entry), and
//     everything its predecessors committed precedes the barrier in the
//     log and has been applied with it.
//
// It does not use raft's VerifyLeader: hashicorp/raft counts any heartbeat
// answer that arrives while the check is pending, including one to a
// heartbeat sent before the read began. A leader paused (or stalled) just
// after sending one, deposed meanwhile, then resumed, read that stale
// answer as a quorum and served its old view (TestJepsen_Short, seed
// 1796189609028164743: 20 stale reads on the resumed leader). An entry's
// commit cannot be confirmed by answers to older requests.
func (n *Node) localReadIndex(ctx context.Context) (uint64, error) {
	term := n.raft.CurrentTerm()
	if !n.IsLeader() {
		return 0, errRetry
	}
	if err := n.waitFuture(ctx, n.raft.Barrier(n.cfg.ApplyTimeout)); err != nil {
		return 0, err
	}
	idx := n.store.Applied()
	if n.raft.CurrentTerm() != term {
		// Leadership moved while the barrier ran: try again with the
		// current leader.
		return 0, errRetry
	}
	return idx, nil
}

// waitFuture waits for a Raft future within ctx. Raft errors and a
// deadline become errRetry (a read may always be tried again); shutdown
// becomes ErrClosed.
func (n *Node) waitFuture(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		return errRetry
	case <-n.ctx.Done():
		return ErrClosed
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrClosed
	}
	n.logger.Debug("read index not confirmed", "err", err)
	return errRetry
}

// waitApplied waits until the store has applied the Raft entry at index.
func (n *Node) waitApplied(ctx context.Context, index uint64) error {
	if n.store.Applied() >= index {
		return nil
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for n.store.Applied() < index {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for index %d (applied %d): %w", index, n.store.Applied(), ctx.Err())
		case <-n.ctx.Done():
			return ErrClosed
		case <-tick.C:
		}
	}
	return nil
}

// readIndexCache remembers the leader's read index for Ready, so a
// readiness probe does not cost a quorum round each time.
type readIndexCache struct {
	mu    sync.Mutex
	index uint64
	at    time.Time
}

// Ready returns nil when the node can serve: it knows a leader and its
// store has applied what the leader had committed a moment ago (a read
// index at most a second old).
func (n *Node) Ready(ctx context.Context) error {
	if err := n.disk.failed(); err != nil {
		return err
	}
	if n.ctx.Err() != nil {
		return ErrClosed
	}
	id, _ := n.Leader()
	if id == "" {
		return ErrNoLeader
	}
	c := &n.readIdx
	c.mu.Lock()
	fresh := time.Since(c.at) < time.Second
	idx := c.index
	c.mu.Unlock()
	if !fresh {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		var err error
		if idx, err = n.readIndex(ctx); err != nil {
			return err
		}
		c.mu.Lock()
		c.index, c.at = idx, time.Now()
		c.mu.Unlock()
	}
	if applied := n.store.Applied(); applied < idx {
		return fmt.Errorf("catching up: applied %d of %d", applied, idx)
	}
	return nil
}
