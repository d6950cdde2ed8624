package raftnode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/pushflo/pushflo/internal/testwait"
	"github.com/pushflo/pushflo/log"
)

// faultyLogStore is the disk under Raft's log as a test sees it: while
// failing is set, every append fails with EIO, as after a failed fsync;
// appendsAfterFault counts the appends that reached it once a fault had
// been injected (the failing one included).
type faultyLogStore struct {
	raft.LogStore
	failing           atomic.Bool
	faulted           atomic.Bool
	appendsAfterFault atomic.Int64
}

func (s *faultyLogStore) StoreLogs(logs []*raft.Log) error {
	if s.faulted.Load() {
		s.appendsAfterFault.Add(1)
	}
	if s.failing.Load() {
		return fmt.Errorf("write raft.db: %w", syscall.EIO)
	}
	return s.LogStore.StoreLogs(logs)
}

func (s *faultyLogStore) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

func (s *faultyLogStore) fail() { s.faulted.Store(true); s.failing.Store(true) }
func (s *faultyLogStore) heal() { s.failing.Store(false) }

// startFaultyLogCluster starts a three-node cluster in base with a
// faultyLogStore under the Raft log of node (which joins rather than
// bootstraps when join is set), recording what its OnFatal is told.
func startFaultyLogCluster(t *testing.T, base, node string, join bool) ([]*testNode, *faultyLogStore, *fatalRecorder) {
	t.Helper()
	faulty, fatal := &faultyLogStore{}, &fatalRecorder{}
	nodes := startCluster(t, base, map[string]func(*Config){node: func(c *Config) {
		c.Join = join
		c.wrapLogStore = func(ls raft.LogStore) raft.LogStore { faulty.LogStore = ls; return faulty }
		c.OnFatal = fatal.record
	}})
	return nodes, faulty, fatal
}

type fatalRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (r *fatalRecorder) record(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *fatalRecorder) get() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// startCluster starts n1 (bootstrapping) and adds n2, n3.
func startCluster(t *testing.T, base string, mods map[string]func(*Config)) []*testNode {
	t.Helper()
	mod := func(id string, join bool) func(*Config) {
		if m := mods[id]; m != nil {
			return m
		}
		return func(c *Config) { c.Join = join }
	}
	n1 := startNode(t, "n1", base+"/n1", mod("n1", false))
	testwait.For(t, "n1 leadership", n1.IsLeader)
	n2 := startNode(t, "n2", base+"/n2", mod("n2", true))
	n3 := startNode(t, "n3", base+"/n3", mod("n3", true))
	addMember(t, []*testNode{n1}, n2)
	addMember(t, []*testNode{n1, n2}, n3)
	nodes := []*testNode{n1, n2, n3}
	// Every node must know the whole configuration before a test cuts one
	// off: a follower that has not yet heard of n3 refuses n3's votes, and
	// with the leader cut off no election can then succeed (seen in
	// TestNode_ReadBarrier_CutOffLeader at load average 20).
	testwait.For(t, "every node to hold the three-voter configuration", func() bool {
		for _, n := range nodes {
			for _, m := range nodes {
				if roleIn(t, n, m.ID()) != RoleVoter {
					return false
				}
			}
		}
		return true
	})
	return nodes
}

// publishN publishes count messages through n, each under its own
// idempotency key, retrying (for up to 20 s) any that fail: leadership may
// move on a busy machine. It returns the acknowledged IDs in order.
func publishN(t *testing.T, n *testNode, ch string, from, count int) []string {
	t.Helper()
	var ids []string
	for i := from; i < from+count; i++ {
		e := entry(ch, i)
		e.IdempotencyKey = fmt.Sprintf("k%d", i)
		deadline := time.Now().Add(20 * time.Second)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			r, err := n.Publish(ctx, e)
			cancel()
			if err == nil {
				ids = append(ids, r.Message.ID())
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("publish %d via %s: %v", i, n.ID(), err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return ids
}

// checkHolds waits until n has applied through the message acked last and
// checks it holds exactly the acked IDs of ch, in order (plus, at most
// once, the ID of a publish whose outcome was unknown).
func checkHolds(t *testing.T, n *testNode, ch string, acked []string) {
	t.Helper()
	last := mustParse(t, acked[len(acked)-1])
	testwait.For(t, n.ID()+" applies the last acknowledged write", func() bool { return n.store.Applied() >= log.IndexOf(last) })
	msgs, err := n.store.Read(ch, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, id := range acked {
		want[id] = true
	}
	j := 0
	for _, m := range msgs {
		if j < len(acked) && m.ID() == acked[j] {
			j++
			continue
		}
		if want[m.ID()] {
			t.Fatalf("%s: %s out of order", n.ID(), m.ID())
		}
	}
	if j != len(acked) {
		t.Fatalf("%s holds %d of %d acknowledged writes (%d messages)", n.ID(), j, len(acked), len(msgs))
	}
}

// TestNode_FollowerLogWriteErrorStops fails the Raft log writes of one
// follower. The follower must stop at the first failure and never write to
// (or acknowledge from) that disk again, even once writes would succeed:
// hashicorp/raft on its own rejects the AppendEntries and takes the
// leader's retry, so a follower whose fsync failed acknowledged entries on
// the retry. The cluster keeps accepting writes with the other two, and the
// follower, restarted on a healthy disk, catches up with every one.
func TestNode_FollowerLogWriteErrorStops(t *testing.T) {
	base := t.TempDir()
	nodes, faulty, fatal := startFaultyLogCluster(t, base, "n2", true)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	acked := publishN(t, n1, "d", 0, 20)
	checkHolds(t, n2, "d", acked)

	faulty.fail()
	acked = append(acked, publishN(t, n1, "d", 20, 20)...)
	testwait.For(t, "n2 stops", func() bool { return n2.Ready(context.Background()) != nil && len(fatal.get()) > 0 })
	if err := n2.Ready(context.Background()); !errors.Is(err, ErrDiskFailed) {
		t.Fatalf("n2 Ready = %v, want ErrDiskFailed", err)
	}
	if errs := fatal.get(); len(errs) != 1 || !errors.Is(errs[0], ErrDiskFailed) || !errors.Is(errs[0], syscall.EIO) {
		t.Fatalf("OnFatal got %v, want one ErrDiskFailed wrapping EIO", errs)
	}
	faulty.heal() // a retry would now succeed: it must never be made
	acked = append(acked, publishN(t, n1, "d", 40, 20)...)
	if n := faulty.appendsAfterFault.Load(); n != 1 {
		t.Fatalf("%d appends reached n2's disk after its first failed one; want exactly that one", n)
	}
	checkHolds(t, n3, "d", acked)

	// Restart n2 on a healthy disk: it catches up.
	addr := string(n2.trans.LocalAddr())
	n2.stop()
	n2 = startNode(t, "n2", base+"/n2", func(c *Config) { c.Join = true; c.RaftAddr = addr })
	if err := n1.ReadBarrier(context.Background(), Linearizable); err != nil {
		t.Fatal(err)
	}
	checkHolds(t, n2, "d", acked)
	checkHolds(t, n1, "d", acked)
}

// TestNode_LeaderLogWriteErrorStops fails the Raft log writes of the
// leader. The publish that hit the failure must report an unknown outcome
// (the entry may be on the leader's disk, and a later leader may commit
// it), never "not applied" nor success; the leader stops; the other two
// elect a leader and accept writes; and the old leader, restarted on a
// healthy disk, holds every acknowledged write in order.
func TestNode_LeaderLogWriteErrorStops(t *testing.T) {
	base := t.TempDir()
	nodes, faulty, fatal := startFaultyLogCluster(t, base, "n1", false)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	acked := publishN(t, n1, "d", 0, 20)

	faulty.fail()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	e := entry("d", 20)
	e.IdempotencyKey = "k20"
	_, err := n1.Publish(ctx, e)
	cancel()
	if err == nil || !errors.Is(err, ErrUnknownOutcome) {
		t.Fatalf("publish on the failing leader = %v, want ErrUnknownOutcome", err)
	}
	t.Logf("publish on the failing leader: %v", err)
	testwait.For(t, "n1 stops", func() bool { return len(fatal.get()) > 0 && !n1.IsLeader() })
	if err := n1.Ready(context.Background()); !errors.Is(err, ErrDiskFailed) {
		t.Fatalf("n1 Ready = %v, want ErrDiskFailed", err)
	}
	testwait.For(t, "a new leader", func() bool { return n2.IsLeader() || n3.IsLeader() })
	leader := n2
	if n3.IsLeader() {
		leader = n3
	}
	faulty.heal()
	acked = append(acked, publishN(t, leader, "d", 21, 20)...)
	if n := faulty.appendsAfterFault.Load(); n != 1 {
		t.Fatalf("%d appends reached n1's disk after its first failed one; want exactly that one", n)
	}

	addr := string(n1.trans.LocalAddr())
	n1.stop()
	n1 = startNode(t, "n1", base+"/n1", func(c *Config) { c.RaftAddr = addr })
	if err := leader.ReadBarrier(context.Background(), Linearizable); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*testNode{n1, n2, n3} {
		checkHolds(t, n, "d", acked)
	}
}
