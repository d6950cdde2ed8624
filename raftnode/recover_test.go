package raftnode

import (
	"context"
	"testing"
	"time"

	"github.com/pushflo/pushflo/internal/testwait"
	"github.com/pushflo/pushflo/log"
)

// TestRecover_SurvivorLeadsAlone: a three-node cluster loses two nodes for
// good; the survivor cannot elect a leader. Stopped, recovered as a
// cluster of itself (hashicorp/raft's RecoverCluster under Recover) and
// started again on the same directory and address, it leads, holds every
// acknowledged message, takes publishes, and a new node can join it.
func TestRecover_SurvivorLeadsAlone(t *testing.T) {
	base := t.TempDir()
	nodes := startCluster(t, base, nil)
	leader, _ := leaderOf(t, nodes)
	acked := publishN(t, leader, "r", 0, 30)
	survivor := nodes[2]
	checkHolds(t, survivor, "r", acked)
	for _, n := range nodes[:2] {
		n.stop()
	}
	time.Sleep(3 * survivor.cfg.ElectionTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_, err := survivor.Publish(ctx, entry("r", 99))
	cancel()
	if err == nil || survivor.IsLeader() {
		t.Fatalf("the survivor of three leads alone before recovery (publish err %v)", err)
	}
	addr := survivor.addr()
	survivor.stop()

	dir := base + "/" + survivor.ID()
	st, err := log.Open(log.Config{Dir: dir + "/store", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{NodeID: survivor.ID(), Dir: dir + "/raft", Store: st, Logger: testLogger(t)}
	local, err := ReadLocalState(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(local.Voters) != 3 || local.LastIndex == 0 {
		t.Fatalf("local state before recovery = %+v; want three voters and a log", local)
	}
	if err := Recover(cfg, []Peer{{ID: survivor.ID(), Addr: addr}}); err != nil {
		t.Fatal(err)
	}
	if local, err = ReadLocalState(cfg); err != nil || len(local.Voters) != 1 || local.Voters[0] != survivor.ID() {
		t.Fatalf("local state after recovery = %+v, %v; want the survivor alone", local, err)
	}
	st.Close()

	n := startNode(t, survivor.ID(), dir, func(c *Config) { c.RaftAddr = addr })
	testwait.For(t, "the recovered node leads", n.IsLeader)
	checkHolds(t, n, "r", acked)
	acked = append(acked, publishN(t, n, "r", 30, 5)...)
	n4 := startNode(t, "n4", base+"/n4", func(c *Config) { c.Join = true })
	addMember(t, []*testNode{n}, n4)
	acked = append(acked, publishN(t, n, "r", 35, 5)...)
	checkHolds(t, n4, "r", acked)
}

// TestReadLocalState_LeavesTheStoreAlone: reading a stopped node's Raft
// state (what `pushflo recover --dry-run` prints) changes nothing, even
// when the log store given is behind the newest Raft snapshot: the old
// read went through raft's start-up, which restored that snapshot into
// the store.
func TestReadLocalState_LeavesTheStoreAlone(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, "n1", dir, nil)
	testwait.For(t, "leadership", n.IsLeader)
	publishN(t, n, "r", 0, 5)
	if err := n.Snapshot(); err != nil {
		t.Fatal(err)
	}
	n.stop()

	behind, err := log.Open(log.Config{Dir: t.TempDir() + "/store", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer behind.Close()
	local, err := ReadLocalState(Config{NodeID: "n1", Dir: dir + "/raft", Store: behind, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(local.Voters) != 1 || local.Voters[0] != "n1" || local.LastIndex == 0 {
		t.Fatalf("local state = %+v; want n1 the only voter and a log", local)
	}
	if got := behind.Applied(); got != 0 {
		t.Fatalf("reading the local state moved the store given to applied index %d; want it left at 0", got)
	}
}
