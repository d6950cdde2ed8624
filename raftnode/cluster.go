package raftnode

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/pushflo/pushflo/internal/clock"
	"github.com/pushflo/pushflo/log"
)

// ChannelCommand creates, updates or deletes a channel through Raft,
// forwarding to the leader when needed, and returns the record after the
// change. Errors wrap log.ErrChannelExists or log.ErrChannelNotFound when
// those are the reason.
func (n *Node) ChannelCommand(ctx context.Context, op ChannelOp, slug string, set log.Settings) (log.Channel, error) {
	cmd := &channelCommand{Op: op, Slug: slug, Settings: set}
	return onLeaderRetry(ctx, n,
		func() (log.Channel, error) { c, _, err := n.applyChannel(ctx, cmd); return c, err },
		func(addr string) (log.Channel, error) { return n.forwardChannel(ctx, addr, cmd) })
}

// forwardChannel sends a channel command to the leader at addr.
func (n *Node) forwardChannel(ctx context.Context, addr string, cmd *channelCommand) (log.Channel, error) {
	var reply ChannelReply
	js, _ := json.Marshal(cmd)
	sent, err := n.fwd.call(ctx, addr, "Node.Channel", &ChannelArgs{JSON: js}, &reply, true)
	switch {
	case err != nil && !sent:
		return log.Channel{}, errRetry
	case err != nil:
		return log.Channel{}, fmt.Errorf("%w: %v", ErrUnknownOutcome, err)
	case reply.NotFound:
		return reply.Channel, fmt.Errorf("%s: %w", reply.Err, log.ErrChannelNotFound)
	case reply.Exists:
		return reply.Channel, fmt.Errorf("%s: %w", reply.Err, log.ErrChannelExists)
	case reply.Err != "":
		return reply.Channel, fromForwardResult(ForwardResult{Kind: reply.Kind, Err: reply.Err}).err
	}
	return reply.Channel, nil
}

// applyChannel proposes a channel command on this node, which must lead.
func (n *Node) applyChannel(ctx context.Context, cmd *channelCommand) (log.Channel, uint64, error) {
	cmd.Time = clock.Now().UnixMilli()
	data, err := encodeJSON(kindChannel, cmd)
	if err != nil {
		return log.Channel{}, 0, err
	}
	f := n.raft.Apply(data, n.cfg.ApplyTimeout)
	if err := f.Error(); err != nil {
		return log.Channel{}, 0, classify(err)
	}
	switch r := f.Response().(type) {
	case channelResult:
		return r.Channel, f.Index(), r.Err
	case error:
		return log.Channel{}, f.Index(), r
	}
	return log.Channel{}, f.Index(), fmt.Errorf("unexpected channel result %T", f.Response())
}

// Expire proposes dropping messages for retention. Only the leader may call
// it; elsewhere it returns ErrNotLeaderForAdmin. It returns how many
// messages this node dropped. Time-index entries older than
// timeIndexBefore (Unix ms) are trimmed.
func (n *Node) Expire(ctx context.Context, spans []log.Span, timeIndexBefore int64) (int64, error) {
	if !n.IsLeader() {
		return 0, ErrNotLeaderForAdmin
	}
	data, err := encodeJSON(kindExpire, &expireCommand{Time: clock.Now().UnixMilli(), Spans: spans, TimeIndexBefore: timeIndexBefore})
	if err != nil {
		return 0, err
	}
	f := n.raft.Apply(data, n.cfg.ApplyTimeout)
	if err := f.Error(); err != nil {
		return 0, classify(err)
	}
	switch r := f.Response().(type) {
	case int64:
		return r, nil
	case error:
		return 0, r
	}
	return 0, nil
}

// NodeStatus is one node's view of itself.
type NodeStatus struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raftAddr"`
	HTTPAddr string `json:"httpAddr"`
	State    string `json:"state"`
	Suffrage string `json:"suffrage,omitempty"`
	// Role is RoleVoter, RoleLearner (a non-voter the leader promotes
	// once it has caught up) or RoleNonvoter (a non-voter for good); set
	// in cluster status.
	Role        string `json:"role,omitempty"`
	Leader      string `json:"leader"`
	Term        uint64 `json:"term"`
	LastIndex   uint64 `json:"lastIndex"`
	CommitIndex uint64 `json:"commitIndex"`
	Applied     uint64 `json:"applied"`
	// LastContactMillis is how long ago this node last heard from the
	// leader, in milliseconds: 0 on the leader, -1 when it never has.
	LastContactMillis int64 `json:"lastContactMs"`
	// Lag is how many Raft entries this node's store trails the leader's
	// store; set in cluster status.
	Lag   uint64 `json:"lag"`
	Error string `json:"error,omitempty"`
}

func (n *Node) localStatus() NodeStatus {
	id, _ := n.Leader()
	contact := int64(-1)
	if n.IsLeader() {
		contact = 0
	} else if lc := n.raft.LastContact(); !lc.IsZero() {
		contact = time.Since(lc).Milliseconds()
	}
	return NodeStatus{
		ID: n.cfg.NodeID, RaftAddr: string(n.trans.LocalAddr()), HTTPAddr: n.cfg.HTTPAddr,
		State: n.raft.State().String(), Leader: id, Term: n.raft.CurrentTerm(),
		LastIndex: n.raft.LastIndex(), CommitIndex: n.raft.CommitIndex(), Applied: n.store.Applied(),
		LastContactMillis: contact,
	}
}

// Status asks every member for its status, in member order. Members that
// do not answer within the context carry an Error.
func (n *Node) Status(ctx context.Context) ([]NodeStatus, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	servers := f.Configuration().Servers
	out := make([]NodeStatus, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if string(s.ID) == n.cfg.NodeID {
				out[i] = n.localStatus()
			} else if st, err := n.probe(ctx, s); err != nil {
				out[i] = NodeStatus{ID: string(s.ID), RaftAddr: string(s.Address), State: "Unreachable", Error: err.Error()}
			} else {
				out[i] = st
			}
			out[i].Suffrage = s.Suffrage.String()
			out[i].Role = n.roleOf(s)
		}()
	}
	wg.Wait()
	// Lag is measured against the leader's store, not its commit index:
	// Raft's own no-op entries never reach a store.
	var head uint64
	for _, s := range out {
		if s.State == raft.Leader.String() {
			head = s.Applied
		}
	}
	for i := range out {
		if head > out[i].Applied && out[i].Error == "" {
			out[i].Lag = head - out[i].Applied
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Snapshot asks Raft to take a snapshot now.
func (n *Node) Snapshot() error { return n.raft.Snapshot().Error() }
