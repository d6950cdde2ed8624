//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client/testproc"
)

// startCluster starts n real processes bootstrapped as one cluster.
func startCluster(t *testing.T, n int, extra ...string) []*proc {
	t.Helper()
	base := t.TempDir()
	var nodes []*proc
	for i := 1; i <= n; i++ {
		nodes = append(nodes, newProc(t, fmt.Sprintf("n%d", i), fmt.Sprintf("%s/n%d", base, i)))
	}
	var all []*testproc.Node
	for _, p := range nodes {
		all = append(all, p.Node)
	}
	for _, p := range nodes {
		p.args = append(p.args, append(testproc.BootstrapPeers(all), extra...)...)
		p.start()
	}
	for _, p := range nodes {
		p.waitReady()
	}
	return nodes
}

type clusterState struct {
	Leader  string
	Members []struct {
		ID      string
		State   string
		Applied uint64
		Error   string
	}
}

func status(t *testing.T, p *proc) (clusterState, error) {
	st, b, err := call("GET", "http://"+p.httpAddr+"/api/v1/cluster", mgmtKey, "")
	if err != nil || st != 200 {
		return clusterState{}, fmt.Errorf("status %d %s %v", st, b, err)
	}
	var r struct{ Data clusterState }
	err = json.Unmarshal(b, &r)
	return r.Data, err
}

// leaderOf returns the leader among the alive nodes, as one of them
// reports it, and the other alive nodes.
func leaderOf(t *testing.T, nodes []*proc, alive func(*proc) bool) (*proc, []*proc) {
	t.Helper()
	var live []*testproc.Node
	for _, p := range nodes {
		if alive(p) {
			live = append(live, p.Node)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := testproc.Leader(ctx, live, mgmtKey)
	if err != nil {
		t.Fatal(err)
	}
	var leader *proc
	var followers []*proc
	for _, p := range nodes {
		if p.Node == l {
			leader = p
		} else if alive(p) {
			followers = append(followers, p)
		}
	}
	return leader, followers
}

// history returns a node's full listing of a channel as raw JSON items.
func history(t *testing.T, p *proc, channel string) []message {
	return readAll(t, "http://"+p.httpAddr, channel, "")
}

// TestCluster_FailoverKeepsAcknowledgedWrites SIGKILLs the leader of a
// three-node cluster under load and checks that the survivors and the
// restarted node hold every acknowledged publish; once per Raft log store.
func TestCluster_FailoverKeepsAcknowledgedWrites(t *testing.T) {
	forEachLogStore(t, func(t *testing.T, store string) {
		nodes := startCluster(t, 3, "--raft-log-store", store)
		alive := map[*proc]bool{nodes[0]: true, nodes[1]: true, nodes[2]: true}
		isAlive := func(p *proc) bool { return alive[p] }
		leader, followers := leaderOf(t, nodes, isAlive)

		// A subscriber on one follower, publishes through the other.
		sub := followers[1]
		events := make(chan string, 10000)
		stopSub := make(chan struct{})
		go func() {
			streamSSEUntil("http://"+sub.httpAddr+"/sse?channel=ha&token="+pubKey, stopSub, events)
		}()
		time.Sleep(200 * time.Millisecond)
		first, id, err := publish("http://"+followers[0].httpAddr, "ha", `{"v":"first"}`)
		if err != nil || first != 201 {
			t.Fatalf("publish via follower: %d %s %v", first, id, err)
		}
		select {
		case got := <-events:
			if got != id {
				t.Fatalf("subscriber on %s got %s, want %s", sub.id, got, id)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("subscriber on another node did not receive a message published via a follower")
		}

		// Publishers on both followers; kill -9 the leader mid-stream.
		var targets []string
		for _, p := range followers {
			targets = append(targets, repeat("http://"+p.httpAddr, 4)...)
		}
		l := startLoad(targets, "ha")
		time.Sleep(700 * time.Millisecond)
		killedAt := time.Now()
		leader.kill()
		alive[leader] = false
		newLeader, _ := leaderOf(t, nodes, isAlive)
		electedIn := time.Since(killedAt)
		// Keep publishing a while under the new leader.
		l.waitAcked(600, 15*time.Second)
		time.Sleep(500 * time.Millisecond)
		acked, _ := l.halt()
		t.Logf("leader %s killed; %s elected within %s; %d acknowledged, %d answered 503, %d failed otherwise", leader.id, newLeader.id, electedIn.Round(time.Millisecond), len(acked), l.unavailable, l.failed)

		// Every acknowledged publish is on both survivors, in the same order.
		h1, h2 := history(t, followers[0], "ha"), history(t, followers[1], "ha")
		if fmt.Sprint(h1) != fmt.Sprint(h2) {
			t.Fatalf("survivors' histories differ: %d vs %d messages", len(h1), len(h2))
		}
		checkAcked(t, h1, acked)

		// Restart the dead node: it catches up and lists the same history.
		leader.start()
		leader.waitReady()
		h3 := history(t, leader, "ha")
		if fmt.Sprint(h3) != fmt.Sprint(h1) {
			t.Fatalf("restarted node's history differs: %d vs %d messages", len(h3), len(h1))
		}
		close(stopSub)
	})
}

// checkAcked checks a history is in ID order with each value once, and
// holds every acknowledged value under its acknowledged ID.
func checkAcked(t *testing.T, hist []message, acked map[string]string) {
	t.Helper()
	seen := map[string]string{}
	for i, m := range hist {
		if i > 0 && m.ID <= hist[i-1].ID {
			t.Fatalf("history out of order at %d: %s after %s", i, m.ID, hist[i-1].ID)
		}
		var c struct{ V string }
		json.Unmarshal(m.Content, &c)
		if _, dup := seen[c.V]; dup {
			t.Fatalf("value %s twice in history", c.V)
		}
		seen[c.V] = m.ID
	}
	for v, id := range acked {
		if seen[v] != id {
			t.Fatalf("acknowledged %s (%s) missing or moved (history has %q)", v, id, seen[v])
		}
	}
}

// TestCluster_SnapshotInstallAndMembership: a node that was down while the
// log moved past a snapshot rejoins through InstallSnapshot with an
// identical history; then a fourth node joins and is removed.
// With raft-wal, segments of 8 KiB let a snapshot trim the log.
func TestCluster_SnapshotInstallAndMembership(t *testing.T) {
	nodes := startCluster(t, 3, "--snapshot-threshold", "64", "--trailing-logs", "16", "--snapshot-interval", "200ms", "--raft-wal-segment-bytes", "8192")
	alive := map[*proc]bool{nodes[0]: true, nodes[1]: true, nodes[2]: true}
	isAlive := func(p *proc) bool { return alive[p] }
	_, followers := leaderOf(t, nodes, isAlive)
	down := followers[0]
	down.kill()
	alive[down] = false
	via := followers[1]
	acked := map[string]string{}
	for i := 0; i < 400; i++ {
		v := fmt.Sprintf("s-%d", i)
		acked[v] = publishRetried(t, "http://"+via.httpAddr, "snap", `{"v":"`+v+`"}`)
	}
	// Snapshots run on an interval; wait until the leader has taken one
	// past the dead node's log.
	time.Sleep(2 * time.Second)
	down.start()
	down.waitReady()
	hd, hv := history(t, down, "snap"), history(t, via, "snap")
	if fmt.Sprint(hd) != fmt.Sprint(hv) {
		t.Fatalf("rejoined node lists %d messages, others %d", len(hd), len(hv))
	}
	checkAcked(t, hd, acked)
	installed := strings.Contains(down.logText(), "restored snapshot")
	if !installed {
		t.Log("note: the rejoined node caught up from the log, not a snapshot")
	}

	// Join a fourth node, publish, check it holds the history; remove it.
	n4 := startProc(t, "n4", t.TempDir()+"/n4", "--join", "http://"+via.httpAddr)
	if h4 := history(t, n4, "snap"); fmt.Sprint(h4) != fmt.Sprint(hv) {
		t.Fatalf("joined node lists %d messages, others %d", len(h4), len(hv))
	}
	s, err := status(t, via)
	if err != nil || len(s.Members) != 4 {
		t.Fatalf("status after join: %+v %v", s, err)
	}
	if st, b, err := call("DELETE", "http://"+via.httpAddr+"/api/v1/cluster/members/n4", mgmtKey, ""); err != nil || st != 204 {
		t.Fatalf("remove n4: %d %s %v", st, b, err)
	}
	// via is a follower: it learns of the removal with the next append.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		s, err = status(t, via)
		if err == nil && len(s.Members) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status after remove: %+v %v", s, err)
		}
	}
	// A non-voting member replicates and serves subscribers and reads.
	n5 := startProc(t, "n5", t.TempDir()+"/n5", "--join", "http://"+via.httpAddr, "--nonvoter")
	if h5 := history(t, n5, "snap"); fmt.Sprint(h5) != fmt.Sprint(hv) {
		t.Fatalf("non-voter lists %d messages, others %d", len(h5), len(hv))
	}
	st, b, err := call("GET", "http://"+via.httpAddr+"/api/v1/cluster", mgmtKey, "")
	if err != nil || st != 200 || !strings.Contains(string(b), `"id":"n5"`) || !strings.Contains(string(b), `"suffrage":"Nonvoter"`) {
		t.Fatalf("status with a non-voter: %d %s %v", st, b, err)
	}
	if !installed {
		t.Fatal("the rejoined node never installed a snapshot; the snapshot path went untested")
	}
}

func channelList(t *testing.T, p *proc) string {
	t.Helper()
	st, b, err := call("GET", "http://"+p.httpAddr+"/api/v1/channels?pageSize=100", secKey, "")
	if err != nil || st != 200 {
		t.Fatalf("list channels on %s: %d %s %v", p.id, st, b, err)
	}
	var r struct {
		Data []struct {
			Slug         string
			MessageCount int
		}
	}
	json.Unmarshal(b, &r)
	return fmt.Sprint(r.Data)
}

// TestCluster_RetentionIdenticalOnReplicas: an expiry that runs while a
// node is down reaches it through the log; afterwards all three hold the
// same history and channel list, and resumes from expired IDs say so.
func TestCluster_RetentionIdenticalOnReplicas(t *testing.T) {
	nodes := startCluster(t, 3, "--retention-rules", "tmp:*=2s")
	alive := map[*proc]bool{nodes[0]: true, nodes[1]: true, nodes[2]: true}
	_, followers := leaderOf(t, nodes, func(p *proc) bool { return alive[p] })
	via := followers[1]
	var first string
	for i := 0; i < 100; i++ {
		st, id, err := publish("http://"+via.httpAddr, "tmp:x", fmt.Sprintf(`{"i":%d}`, i))
		if err != nil || st != 201 {
			t.Fatalf("publish: %d %v", st, err)
		}
		if i == 0 {
			first = id
		}
		if st, _, err := publish("http://"+via.httpAddr, "keep:x", fmt.Sprintf(`{"i":%d}`, i)); err != nil || st != 201 {
			t.Fatalf("publish: %d %v", st, err)
		}
	}
	down := followers[0]
	down.kill()
	alive[down] = false
	// Wait for the expiry to be applied on the survivors.
	deadline := time.Now().Add(20 * time.Second)
	for strings.Contains(channelList(t, via), "tmp:x") {
		if time.Now().After(deadline) {
			t.Fatalf("tmp:x never expired: %s", channelList(t, via))
		}
		time.Sleep(100 * time.Millisecond)
	}
	down.start()
	down.waitReady()
	want := channelList(t, via)
	for _, p := range nodes {
		if got := channelList(t, p); got != want {
			t.Fatalf("%s lists %s, %s lists %s", p.id, got, via.id, want)
		}
		if h := history(t, p, "tmp:x"); len(h) != 0 {
			t.Fatalf("%s still serves %d expired messages", p.id, len(h))
		}
		if h := history(t, p, "keep:x"); len(h) != 100 {
			t.Fatalf("%s holds %d of keep:x's 100 messages", p.id, len(h))
		}
		st, b, err := call("GET", "http://"+p.httpAddr+"/api/v1/channels/tmp:x/messages?since="+first, secKey, "")
		if err != nil || st != 200 || !strings.Contains(string(b), `"complete":false`) {
			t.Fatalf("since an expired ID on %s: %d %s %v", p.id, st, b, err)
		}
	}
}
