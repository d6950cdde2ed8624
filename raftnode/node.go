package raftnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/rpc"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/pushflo/pushflo/internal/clock"
	"github.com/pushflo/pushflo/internal/defaults"
	"github.com/pushflo/pushflo/log"
)

// Errors returned by writes. Callers tell them apart with errors.Is.
var (
	// ErrNoLeader is returned when no leader was known within LeaderWait, or
	// the leader refused the write before appending it. The write was not
	// applied; it is safe to retry.
	ErrNoLeader = errors.New("no leader: the write was not applied")
	// ErrUnknownOutcome is returned when leadership was lost, or the link to
	// the leader broke, after the write was sent: it may or may not have
	// been applied. Retry with an idempotency key to be sure.
	ErrUnknownOutcome = errors.New("leader lost during the write: it may or may not have been applied")
	// ErrClosed is returned by calls on a closed node.
	ErrClosed = errors.New("raft node closed")
	// ErrNotLeaderForAdmin is returned by membership changes that reach a
	// node that is not the leader.
	ErrNotLeaderForAdmin = errors.New("not the leader")
)

// Node is one member of the Raft group: it proposes writes (forwarding them
// to the leader when it is not the leader), applies committed entries to the
// log store, and answers cluster status. All methods are safe for concurrent
// use.
type Node struct {
	cfg    Config
	logger *slog.Logger

	raft       *raft.Raft
	trans      *raft.NetworkTransport
	stream     *streamLayer
	stores     *raftStores
	disk       *failStop // Raft's view of stores; diskFailCh is closed when it fails
	diskFailCh chan struct{}
	store      *log.Store
	batch      *batcher[*proposal]
	fsm        *fsm
	heartbeats heartbeatWatch
	fwd        *forwarder
	rpcSrv     *rpc.Server
	readIdx    readIndexCache

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// Open starts the node: opens the Raft log, listens on the Raft address,
// bootstraps or rejoins the cluster as configured.
func Open(cfg Config) (*Node, error) {
	defaults.Fill(&cfg, DefaultConfig())
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("raftnode config: %w", err)
	}
	logger := cfg.Logger.With("component", "raftnode")
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("open raft dir: %w", err)
	}
	n := &Node{cfg: cfg, logger: logger, store: cfg.Store, diskFailCh: make(chan struct{})}
	n.heartbeats.failed = make(map[raft.ServerID]time.Time)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	var err error
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()

	hlog := newHCLogger(cfg.Logger)
	n.stores, err = openRaftStores(cfg.Dir, cfg.LogStore, cfg.UnsafeNoSync, cfg.WALSegmentBytes, hlog)
	if err != nil {
		return nil, err
	}
	creds, err := cfg.linkCreds()
	if err != nil {
		return nil, err
	}
	if cfg.RaftListener != nil {
		n.stream, err = newStreamLayerOn(cfg.RaftListener, cfg.AdvertiseAddr, creds, logger)
	} else {
		n.stream, err = newStreamLayer(cfg.RaftAddr, cfg.AdvertiseAddr, creds, logger)
	}
	if err != nil {
		return nil, err
	}
	n.rpcSrv = rpc.NewServer()
	if err := n.rpcSrv.RegisterName("Node", &rpcService{n: n}); err != nil {
		return nil, fmt.Errorf("register rpc: %w", err)
	}
	n.stream.forward = func(c net.Conn) { n.rpcSrv.ServeConn(c) }
	n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: cfg.hooks.wrapStream(n.stream), MaxPool: 4, Timeout: 10 * time.Second, Logger: hlog, MaxRPCsInFlight: cfg.RPCsInFlight,
	})

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.Logger = hlog
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = 256

	f := &fsm{store: cfg.Store, logger: logger}
	if err := f.loadLearners(); err != nil {
		return nil, err
	}
	n.fsm = f
	has, err := n.stores.hasState()
	if err != nil {
		return nil, fmt.Errorf("read raft state: %w", err)
	}
	// Raft writes through failStop: the first failed write to the log or
	// stable store stops the node (diskfail.go).
	var logs raft.LogStore = n.stores.log
	if cfg.wrapLogStore != nil {
		logs = cfg.wrapLogStore(logs)
	}
	n.disk = &failStop{log: logs, stable: n.stores.stable, onFail: n.diskFailed}
	n.raft, err = raft.NewRaft(rc, cfg.hooks.wrapFSM(f), failStopLog{n.disk}, failStopStable{n.disk}, n.stores.snaps, n.trans)
	if err != nil {
		return nil, fmt.Errorf("start raft: %w", err)
	}
	n.stream.setPeerNames(n.raft)
	if !has && !cfg.Join {
		peers := cfg.BootstrapPeers
		if len(peers) == 0 {
			peers = []Peer{{ID: cfg.NodeID, Addr: string(n.trans.LocalAddr())}}
		}
		var conf raft.Configuration
		for _, p := range peers {
			conf.Servers = append(conf.Servers, raft.Server{ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Addr), Suffrage: raft.Voter})
		}
		if err := n.raft.BootstrapCluster(conf).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			return nil, fmt.Errorf("bootstrap cluster: %w", err)
		}
		logger.Info("bootstrapped cluster", "members", len(peers))
	}
	n.fwd = newForwarder(n)
	n.batch = newBatcher(cfg.MaxBatch, cfg.MaxInflight, n.applyPublish)
	n.wg.Go(func() { n.batch.run(n.ctx) })
	n.wg.Go(n.watchLeader)
	n.wg.Go(n.watchDisk)
	n.wg.Go(n.promoteLoop)
	n.wg.Go(n.watchHeartbeats)
	ok = true
	logger.Info("raft node started", "raft_addr", string(n.trans.LocalAddr()), "existing_state", has, "log_store", n.stores.kind)
	return n, nil
}

// watchLeader logs leadership changes. Its observer may drop events when
// the log is slow; nothing but the log depends on it.
func (n *Node) watchLeader() {
	n.observe(16, func(d any) bool { _, ok := d.(raft.LeaderObservation); return ok }, func(d any) {
		lo := d.(raft.LeaderObservation)
		n.logger.Info("leader changed", "leader", string(lo.LeaderID), "leader_addr", string(lo.LeaderAddr))
	})
}

// observe hands the Raft observations whose data keep accepts to handle,
// one at a time, until the node closes. Raft drops observations when the
// buffer of size is full, so nothing may depend on seeing every one.
func (n *Node) observe(size int, keep func(any) bool, handle func(any)) {
	obs := make(chan raft.Observation, size)
	o := raft.NewObserver(obs, false, func(o *raft.Observation) bool { return keep(o.Data) })
	n.raft.RegisterObserver(o)
	defer n.raft.DeregisterObserver(o)
	for {
		select {
		case <-n.ctx.Done():
			return
		case ob := <-obs:
			handle(ob.Data)
		}
	}
}

// Close stops the node: pending writes fail, Raft shuts down, the Raft log
// closes. The store is left open for the caller to close.
func (n *Node) Close() error {
	var err error
	n.once.Do(func() {
		n.cancel()
		if n.raft != nil {
			if e := n.raft.Shutdown().Error(); e != nil {
				err = fmt.Errorf("shutdown raft: %w", e)
			}
		}
		if n.fwd != nil {
			n.fwd.close()
		}
		if n.trans != nil {
			n.trans.Close()
		}
		if n.stream != nil {
			n.stream.Close()
			n.stream.wait()
		}
		n.wg.Wait()
		if n.stores != nil {
			if e := n.stores.Close(); e != nil && err == nil {
				err = e
			}
		}
	})
	return err
}

// ID returns the node's ID.
func (n *Node) ID() string { return n.cfg.NodeID }

// IsLeader reports whether this node is the leader now.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Leader returns the current leader's ID and Raft address, empty if none is
// known.
func (n *Node) Leader() (id, addr string) {
	a, i := n.raft.LeaderWithID()
	return string(i), string(a)
}

// waitLeader waits until a leader is known or LeaderWait passes.
func (n *Node) waitLeader(ctx context.Context) (id, addr string, err error) {
	deadline := time.NewTimer(n.cfg.LeaderWait)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if id, addr = n.Leader(); id != "" {
			return id, addr, nil
		}
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-n.ctx.Done():
			return "", "", ErrClosed
		case <-deadline.C:
			return "", "", ErrNoLeader
		case <-tick.C:
		}
	}
}

// Publish appends one message through Raft and returns once it is committed
// by a majority (fsynced on each) and applied to the leader's store. On a
// follower the write is forwarded to the leader. Concurrent calls are
// batched into shared Raft entries. On ErrNoLeader nothing was written; on
// ErrUnknownOutcome the message may or may not have been appended.
func (n *Node) Publish(ctx context.Context, e log.Entry) (log.Result, error) {
	// A forwarded write returns as soon as the leader has it: readers on
	// this node who need it call Barrier (the frontend's reads do).
	return onLeaderRetry(ctx, n,
		func() (log.Result, error) { o := n.proposeLocal(ctx, e); return o.res, o.err },
		func(addr string) (log.Result, error) { o := n.fwd.publish(ctx, addr, e); return o.res, o.err })
}

// onLeaderRetry makes one write on the leader: local when this node leads,
// remote (forwarded to addr) otherwise. An attempt that certainly did not
// apply (errRetry: leadership moving) is tried again with the next leader,
// within LeaderWait and the caller's deadline, then fails with ErrNoLeader.
func onLeaderRetry[T any](ctx context.Context, n *Node, local func() (T, error), remote func(addr string) (T, error)) (T, error) {
	var zero T
	giveUp := time.Now().Add(n.cfg.LeaderWait)
	for {
		if n.ctx.Err() != nil {
			return zero, ErrClosed
		}
		id, addr, err := n.waitLeader(ctx)
		if err != nil {
			return zero, err
		}
		var v T
		if id == n.cfg.NodeID {
			v, err = local()
		} else {
			v, err = remote(addr)
		}
		if !errors.Is(err, errRetry) {
			return v, err
		}
		if time.Now().After(giveUp) {
			return zero, ErrNoLeader
		}
		select {
		case <-ctx.Done():
			return zero, ErrNoLeader
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// errRetry marks an outcome that was certainly not applied and may succeed
// on another attempt (leadership moved).
var errRetry = errors.New("retry: not applied")

type outcome struct {
	res log.Result
	err error
}

type proposal struct {
	entry log.Entry
	done  chan outcome // buffered, 1
}

func (p *proposal) answer() chan outcome { return p.done }

// proposeLocal queues one message for the leader's batcher and waits for
// its outcome.
func (n *Node) proposeLocal(ctx context.Context, e log.Entry) outcome {
	p := &proposal{entry: e, done: make(chan outcome, 1)}
	return n.batch.submit(ctx, p)
}

// applyPublish is the batcher's flush: one Raft entry for the batch.
func (n *Node) applyPublish(ps []*proposal) {
	cmd := publishCommand{Time: clock.Now().UnixMilli(), Entries: make([]log.Entry, len(ps))}
	for i, p := range ps {
		cmd.Entries[i] = p.entry
	}
	f := n.raft.Apply(encodePublish(&cmd), n.cfg.ApplyTimeout)
	err := f.Error()
	if err == nil {
		if e, ok := f.Response().(error); ok {
			err = e
		}
	}
	if err != nil {
		err = classify(err)
		for _, p := range ps {
			p.done <- outcome{err: err}
		}
		return
	}
	res := f.Response().([]log.Result)
	for i, p := range ps {
		p.done <- outcome{res: res[i]}
	}
}

// classify maps raft's errors to ours: was the entry possibly appended?
func classify(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, raft.ErrEnqueueTimeout):
		return errRetry
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrAbortedByRestore):
		return ErrUnknownOutcome
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: node shutting down", ErrUnknownOutcome)
	}
	return err
}
