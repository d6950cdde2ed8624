package raftnode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/rpc"
	"sync"
	"time"

	"github.com/pushflo/pushflo/log"
)

// Outcome kinds carried over RPC, so the follower's caller learns exactly
// what the leader knew.
const (
	kindOK = iota
	kindRetry
	kindUnknown
	kindFailed
)

// PublishArgs carries forwarded messages to the leader.
type PublishArgs struct{ Entries []log.Entry }

// ForwardResult is one forwarded message's outcome.
type ForwardResult struct {
	Result log.Result
	Kind   int
	Err    string
}

// PublishReply answers PublishArgs, one result per entry.
type PublishReply struct{ Results []ForwardResult }

// ChannelReply answers a forwarded channel command.
type ChannelReply struct {
	Channel  log.Channel
	Index    uint64
	Kind     int
	Err      string
	NotFound bool
	Exists   bool
}

// MemberArgs names a member to add or remove.
type MemberArgs struct {
	ID       string
	Addr     string
	NonVoter bool
}

// rpcService is what a node serves on forward connections of its Raft port.
type rpcService struct{ n *Node }

// Publish proposes forwarded messages on this (leader) node.
func (s *rpcService) Publish(args *PublishArgs, reply *PublishReply) error {
	ctx, cancel := context.WithTimeout(s.n.ctx, s.n.cfg.ApplyTimeout+5*time.Second)
	defer cancel()
	reply.Results = make([]ForwardResult, len(args.Entries))
	ps := make([]*proposal, len(args.Entries))
	for i, e := range args.Entries {
		if !s.n.IsLeader() {
			for j := i; j < len(ps); j++ {
				reply.Results[j] = ForwardResult{Kind: kindRetry, Err: "not the leader"}
			}
			break
		}
		ps[i] = &proposal{entry: e, done: make(chan outcome, 1)}
		if err := s.n.batch.enqueue(ctx, ps[i]); err != nil {
			ps[i] = nil
			reply.Results[i] = ForwardResult{Kind: kindRetry, Err: "leader busy or closing"}
		}
	}
	for i, p := range ps {
		if p != nil {
			reply.Results[i] = toForwardResult(s.n.batch.wait(ctx, p))
		}
	}
	return nil
}

func toForwardResult(o outcome) ForwardResult {
	switch {
	case o.err == nil:
		return ForwardResult{Result: o.res}
	case errors.Is(o.err, errRetry), errors.Is(o.err, ErrClosed):
		// The leader is closing: not applied, the next leader may take it.
		return ForwardResult{Kind: kindRetry, Err: o.err.Error()}
	case errors.Is(o.err, ErrUnknownOutcome):
		return ForwardResult{Kind: kindUnknown, Err: o.err.Error()}
	}
	return ForwardResult{Kind: kindFailed, Err: o.err.Error()}
}

func fromForwardResult(r ForwardResult) outcome {
	switch r.Kind {
	case kindOK:
		return outcome{res: r.Result}
	case kindRetry:
		return outcome{err: errRetry}
	case kindUnknown:
		return outcome{err: fmt.Errorf("%w: %s", ErrUnknownOutcome, r.Err)}
	}
	return outcome{err: errors.New(r.Err)}
}

// ChannelArgs carries a channel command as JSON: gob would drop pointers to
// zero values, which in Settings mean "set to zero".
type ChannelArgs struct{ JSON []byte }

// Channel applies a forwarded channel command on this (leader) node.
func (s *rpcService) Channel(args *ChannelArgs, reply *ChannelReply) error {
	var cmd channelCommand
	if err := json.Unmarshal(args.JSON, &cmd); err != nil {
		return err
	}
	c, idx, err := s.n.applyChannel(s.n.ctx, &cmd)
	reply.Channel, reply.Index = c, idx
	if err != nil {
		reply.Err = err.Error()
		reply.NotFound = errors.Is(err, log.ErrChannelNotFound)
		reply.Exists = errors.Is(err, log.ErrChannelExists)
		reply.Kind = toForwardResult(outcome{err: err}).Kind
	}
	return nil
}

// ReadIndex returns this leader's read index (see localReadIndex).
func (s *rpcService) ReadIndex(_ *struct{}, reply *uint64) error {
	ctx, cancel := context.WithTimeout(s.n.ctx, s.n.cfg.ApplyTimeout)
	defer cancel()
	idx, err := s.n.localReadIndex(ctx)
	*reply = idx
	return err
}

// Status returns this node's view of itself.
func (s *rpcService) Status(_ *struct{}, reply *NodeStatus) error {
	*reply = s.n.localStatus()
	return nil
}

// AddMember adds a member; only on the leader.
func (s *rpcService) AddMember(args *MemberArgs, reply *MemberReply) error {
	ctx, cancel := context.WithTimeout(s.n.ctx, s.n.cfg.PromoteWait+s.n.cfg.ApplyTimeout)
	defer cancel()
	role, err := s.n.addMemberLocal(ctx, args)
	return toReply(role, err, reply)
}

// RemoveMember removes a member; only on the leader.
func (s *rpcService) RemoveMember(args *MemberArgs, reply *MemberReply) error {
	ctx, cancel := context.WithTimeout(s.n.ctx, s.n.cfg.ApplyTimeout)
	defer cancel()
	return toReply("", s.n.removeMemberLocal(ctx, args.ID), reply)
}

// forwarder sends requests to other nodes over authenticated forward
// connections, one multiplexed RPC client per address, and batches
// forwarded publishes.
type forwarder struct {
	n     *Node
	mu    sync.Mutex
	conns map[string]*rpc.Client
	batch *batcher[*fwdProposal]
}

type fwdProposal struct {
	addr  string
	entry log.Entry
	done  chan outcome
}

func newForwarder(n *Node) *forwarder {
	f := &forwarder{n: n, conns: make(map[string]*rpc.Client)}
	// Several forwards may be in flight, so one stuck on a dying leader does
	// not hold back those addressed to the next one.
	f.batch = newBatcher(n.cfg.MaxBatch, max(n.cfg.MaxInflight, 4), f.flush)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f.batch.run(n.ctx)
	}()
	return f
}

func (f *forwarder) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for a, c := range f.conns {
		c.Close()
		delete(f.conns, a)
	}
}

// client returns the RPC client for addr, dialing if needed. A dial error
// means nothing was sent.
func (f *forwarder) client(addr string) (*rpc.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.conns[addr]; c != nil {
		return c, nil
	}
	conn, err := f.n.stream.dial(addr, 2*time.Second, connForward)
	if err != nil {
		return nil, err
	}
	c := rpc.NewClient(conn)
	f.conns[addr] = c
	return c, nil
}

func (f *forwarder) drop(addr string, c *rpc.Client) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns[addr] == c {
		delete(f.conns, addr)
	}
	c.Close()
}

// errLeaderMoved is returned by a call to the leader that was abandoned
// because another node became leader meanwhile.
var errLeaderMoved = errors.New("leadership moved while waiting for the old leader")

// call makes one RPC bounded by ctx. sent reports whether the request may
// have reached the far end. A call to the leader (toLeader) is abandoned as
// soon as this node learns of another leader, or stops knowing one: a partitioned old leader
// leaves its connection silently stalled, and nothing else would end the
// wait. An abandoned or timed-out call drops its connection, so later
// calls dial afresh instead of queueing behind it.
func (f *forwarder) call(ctx context.Context, addr, method string, args, reply any, toLeader bool) (sent bool, err error) {
	c, err := f.client(addr)
	if err != nil {
		return false, err
	}
	call := c.Go(method, args, reply, make(chan *rpc.Call, 1))
	var watch <-chan time.Time
	if toLeader {
		t := time.NewTicker(25 * time.Millisecond)
		defer t.Stop()
		watch = t.C
	}
	for {
		select {
		case <-call.Done:
			var se rpc.ServerError
			if call.Error != nil && !errors.As(call.Error, &se) {
				f.drop(addr, c)
			}
			return true, call.Error
		case <-ctx.Done():
			f.drop(addr, c)
			return true, ctx.Err()
		case <-watch:
			// Another leader, or none (this node lost touch with it):
			// either way the old one's answer is not coming.
			if _, leader := f.n.Leader(); leader != addr {
				f.drop(addr, c)
				return true, errLeaderMoved
			}
		}
	}
}

func (p *fwdProposal) answer() chan outcome { return p.done }

// publish queues one message for the forwarder's batcher and waits for the
// leader's answer.
func (f *forwarder) publish(ctx context.Context, addr string, e log.Entry) outcome {
	p := &fwdProposal{addr: addr, entry: e, done: make(chan outcome, 1)}
	return f.batch.submit(ctx, p)
}

// flush sends one RPC per leader address in the batch.
func (f *forwarder) flush(ps []*fwdProposal) {
	byAddr := map[string][]*fwdProposal{}
	for _, p := range ps {
		byAddr[p.addr] = append(byAddr[p.addr], p)
	}
	for addr, group := range byAddr {
		args := &PublishArgs{Entries: make([]log.Entry, len(group))}
		for i, p := range group {
			args.Entries[i] = p.entry
		}
		var reply PublishReply
		ctx, cancel := context.WithTimeout(f.n.ctx, f.n.cfg.ApplyTimeout+10*time.Second)
		sent, err := f.call(ctx, addr, "Node.Publish", args, &reply, true)
		cancel()
		for i, p := range group {
			switch {
			case err != nil && !sent:
				p.done <- outcome{err: errRetry}
			case err != nil:
				p.done <- outcome{err: fmt.Errorf("%w: forward to leader %s: %v", ErrUnknownOutcome, addr, err)}
			case i >= len(reply.Results):
				p.done <- outcome{err: fmt.Errorf("%w: short reply from leader", ErrUnknownOutcome)}
			default:
				p.done <- fromForwardResult(reply.Results[i])
			}
		}
	}
}
