package raftnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hashicorp/raft"
	"github.com/pushflo/pushflo/internal/testlog"
	"github.com/pushflo/pushflo/internal/testwait"
	"github.com/pushflo/pushflo/log"
)

func testLogger(t testing.TB) *slog.Logger { return testlog.New(t, slog.LevelWarn) }

type testNode struct {
	*Node
	store *log.Store
	cfg   Config
	net   *faultyStream // cuts the node off from its peers
	fsm   *gatedFSM     // holds back applies
}

// startNode starts a real node with a real Pebble store and raft-boltdb log
// under dir, listening on loopback, with fault hooks on its Raft network
// and FSM (both pass everything through until a test engages them).
func startNode(t *testing.T, id, dir string, mod func(*Config)) *testNode {
	t.Helper()
	st, err := log.Open(log.Config{Dir: dir + "/store", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	tn := &testNode{store: st}
	cfg := Config{NodeID: id, Dir: dir + "/raft", RaftAddr: "127.0.0.1:0", Store: st, Secret: "s3cret", Logger: testLogger(t).With("node", id),
		PromoteStable: 200 * time.Millisecond}
	cfg.hooks = testHooks{
		stream: func(s raft.StreamLayer) raft.StreamLayer { tn.net = newFaultyStream(s); return tn.net },
		fsm:    func(f raft.BatchingFSM) raft.BatchingFSM { tn.fsm = newGatedFSM(f); return tn.fsm },
	}
	if mod != nil {
		mod(&cfg)
	}
	n, err := Open(cfg)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	tn.Node, tn.cfg = n, cfg
	t.Cleanup(func() { tn.stop() })
	return tn
}

func (tn *testNode) stop() {
	tn.fsm.release() // raft's shutdown waits for the FSM goroutine
	tn.Node.Close()
	tn.store.Close()
}

func (tn *testNode) addr() string { return string(tn.trans.LocalAddr()) }

func entry(ch string, i int) log.Entry {
	return log.Entry{Channel: ch, EventType: "e", Content: []byte(fmt.Sprintf(`{"i":%d}`, i))}
}

// TestNode_SingleNodePublish publishes 200 messages at once while the first
// one's entry cannot apply, so the other 199 must queue: they are batched
// into shared Raft entries, each gets its own ID, and all are stored.
func TestNode_SingleNodePublish(t *testing.T) {
	n := startNode(t, "n1", t.TempDir(), nil)
	testwait.For(t, "leadership", n.IsLeader)
	ctx := context.Background()
	var wg sync.WaitGroup
	ids := make([]string, 200)
	errs := make([]error, 200)
	idx := make([]uint64, 200)
	publish := func(i int) {
		defer wg.Done()
		r, err := n.Publish(ctx, entry("c", i))
		ids[i], errs[i], idx[i] = r.Message.ID(), err, log.IndexOf(r.Message.Position)
	}
	n.fsm.hold()
	wg.Add(1)
	go publish(0)
	testwait.For(t, "the first entry in flight", func() bool { return len(n.batch.in) == 0 && len(n.batch.inflight) == 1 })
	for i := 1; i < len(ids); i++ {
		wg.Add(1)
		go publish(i)
	}
	// The batcher holds one, waiting for the in-flight slot; 198 queue.
	testwait.For(t, "199 publishes behind the first", func() bool { return len(n.batch.in) == 198 })
	n.fsm.release()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	msgs, err := n.store.Read("c", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 200 {
		t.Fatalf("store holds %d messages, want 200", len(msgs))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	if len(seen) != 200 {
		t.Fatalf("%d distinct IDs for 200 publishes", len(seen))
	}
	entries := map[uint64]bool{}
	for _, i := range idx {
		entries[i] = true
	}
	if len(entries) != 2 {
		t.Fatalf("200 publishes took %d Raft entries; want 2 (the first alone, then the 199 that queued behind it)", len(entries))
	}
}

func TestNode_IdempotentPublish(t *testing.T) {
	n := startNode(t, "n1", t.TempDir(), nil)
	ctx := context.Background()
	e := entry("c", 1)
	e.IdempotencyKey = "retry-1"
	r1, err := n.Publish(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	e.Content = []byte(`{"other":true}`)
	r2, err := n.Publish(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if !r2.Duplicate || r2.Message.ID() != r1.Message.ID() || string(r2.Message.Content) != `{"i":1}` {
		t.Fatalf("retry = %+v, want the first message %s", r2, r1.Message.ID())
	}
}

// TestNode_ReplaysAfterStoreCrash crashes the store's filesystem so that it
// loses its unsynced writes (the store never fsyncs on apply), restarts the
// node over the crashed store and the intact Raft log, and checks that Raft
// replays every acknowledged message back into the store exactly once.
func TestNode_ReplaysAfterStoreCrash(t *testing.T) {
	dir := t.TempDir()
	fs := vfs.NewCrashableMem()
	st, err := log.Open(log.Config{Dir: "/store", FS: fs, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{NodeID: "n1", Dir: dir, RaftAddr: "127.0.0.1:0", Store: st, Logger: testLogger(t), SnapshotThreshold: 50, TrailingLogs: 20, SnapshotInterval: 50 * time.Millisecond}
	n, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var acked []string
	for i := 0; i < 300; i++ {
		r, err := n.Publish(ctx, entry("c", i))
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, r.Message.ID())
		if i == 150 {
			if err := n.Snapshot(); err != nil {
				t.Fatal(err)
			}
		}
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{}) // only what was synced
	n.Close()
	st.Close()

	st2, err := log.Open(log.Config{Dir: "/store", FS: crashed, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	lost := st2.Applied()
	cfg.Store = st2
	n2, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	testwait.For(t, "replay", func() bool { return n2.IsLeader() && st2.Applied() >= log.IndexOf(mustParse(t, acked[len(acked)-1])) })
	msgs, err := st2.Read("c", 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(acked) {
		t.Fatalf("after crash (store had applied %d) and replay: %d messages, want %d", lost, len(msgs), len(acked))
	}
	for i, m := range msgs {
		if m.ID() != acked[i] {
			t.Fatalf("message %d is %s, want %s", i, m.ID(), acked[i])
		}
	}
	t.Logf("store lost everything after index %d in the crash; raft replayed it", lost)
}

func mustParse(t *testing.T, id string) uint64 {
	p, err := log.ParseID(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNode_ThreeNodeCluster(t *testing.T) {
	base := t.TempDir()
	n1 := startNode(t, "n1", base+"/n1", nil)
	testwait.For(t, "n1 leadership", n1.IsLeader)
	n2 := startNode(t, "n2", base+"/n2", func(c *Config) { c.Join = true })
	n3 := startNode(t, "n3", base+"/n3", func(c *Config) { c.Join = true })
	ctx := context.Background()
	addMember(t, []*testNode{n1}, n2)
	addMember(t, []*testNode{n1, n2}, n3)
	// Publish through a follower: forwarded to the leader.
	var ids []string
	for i := 0; i < 50; i++ {
		r, err := n3.Publish(ctx, entry("x", i))
		if err != nil {
			t.Fatalf("publish via follower: %v", err)
		}
		ids = append(ids, r.Message.ID())
	}
	// Read-your-writes on the follower that took the publish, after a barrier.
	if err := n3.ReadBarrier(ctx, Linearizable); err != nil {
		t.Fatal(err)
	}
	if got, _ := n3.store.Read("x", 0, 100); len(got) != 50 {
		t.Fatalf("follower n3 holds %d of its 50 acknowledged writes", len(got))
	}
	if err := n2.ReadBarrier(ctx, Linearizable); err != nil {
		t.Fatal(err)
	}
	if got, _ := n2.store.Read("x", 0, 100); len(got) != 50 {
		t.Fatalf("n2 holds %d messages after a barrier, want 50", len(got))
	}
	st, err := n2.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 3 || st[0].State != "Leader" {
		t.Fatalf("status = %+v", st)
	}

	// Kill the leader: a new one is elected and writes continue.
	n1.stop()
	testwait.For(t, "new leader", func() bool { return n2.IsLeader() || n3.IsLeader() })
	r, err := n2.Publish(ctx, entry("x", 50))
	if err != nil {
		t.Fatalf("publish after failover: %v", err)
	}
	ids = append(ids, r.Message.ID())
	testwait.For(t, "both survivors apply", func() bool {
		idx := log.IndexOf(r.Message.Position)
		return n2.store.Applied() >= idx && n3.store.Applied() >= idx
	})
	a, _ := n2.store.Read("x", 0, 100)
	b, _ := n3.store.Read("x", 0, 100)
	if fmt.Sprint(a) != fmt.Sprint(b) || len(a) != 51 {
		t.Fatalf("survivors differ or lost writes: %d vs %d", len(a), len(b))
	}
	for i, m := range a {
		if m.ID() != ids[i] {
			t.Fatalf("message %d = %s, want %s", i, m.ID(), ids[i])
		}
	}
}

func TestNode_RejectsWrongSecret(t *testing.T) {
	base := t.TempDir()
	n1 := startNode(t, "n1", base+"/n1", nil)
	testwait.For(t, "leadership", n1.IsLeader)
	intruder := startNode(t, "evil", base+"/evil", func(c *Config) { c.Join = true; c.Secret = "wrong" })
	// The intruder cannot reach the leader's forward port...
	if _, err := intruder.fwd.client(string(n1.trans.LocalAddr())); err == nil {
		t.Fatal("intruder opened a forward connection to the leader")
	}
	// ...and the leader cannot complete a Raft handshake with it.
	if _, err := n1.stream.dial(string(intruder.trans.LocalAddr()), time.Second, connRaft); err == nil {
		t.Fatal("leader completed a handshake with a node holding another secret")
	}
}

// TestNode_ServesOnGivenListener: with Config.RaftListener (a socket the
// service manager bound) the node serves Raft on that listener instead of
// listening on RaftAddr, advertises its address, leads and commits, and
// closes it on Close.
func TestNode_ServesOnGivenListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "n1", t.TempDir(), func(c *Config) {
		c.RaftAddr = "127.0.0.1:1" // never listened on
		c.RaftListener = ln
	})
	if got, want := n.addr(), ln.Addr().String(); got != want {
		t.Fatalf("node advertises %s; want the given listener's %s", got, want)
	}
	testwait.For(t, "leadership", n.IsLeader)
	if _, err := n.Publish(context.Background(), entry("c", 1)); err != nil {
		t.Fatal(err)
	}
	n.stop()
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept on the listener after Close = %v; want net.ErrClosed", err)
	}
}
