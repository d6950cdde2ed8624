//go:build integration

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRecover_ClusterThatLostQuorum is issue 11 item 4's recovery with
// real processes: a three-node cluster loses two nodes for good (SIGKILL,
// data directories deleted); the survivor cannot elect a leader and
// answers publishes with 503. Stopped, `pushflo recover` names it alone;
// started again with its usual flags it leads, holds every acknowledged
// message, answers publishes with 201, and a new node joins it, becomes a
// voter (pushflo cluster status says so in its ROLE column) and holds the
// whole history.
func TestRecover_ClusterThatLostQuorum(t *testing.T) {
	nodes := startCluster(t, 3)
	alive := map[*proc]bool{nodes[0]: true, nodes[1]: true, nodes[2]: true}
	leader, followers := leaderOf(t, nodes, func(p *proc) bool { return alive[p] })
	acked := map[string]string{}
	publishNumbered(t, leader, 0, 100, acked)
	survivor := followers[0]
	// The survivor must hold what was acknowledged before the others go:
	// a recovered node keeps its own log, nothing more.
	if h := history(t, survivor, "rec"); len(h) != len(acked) {
		t.Fatalf("the survivor lists %d of %d messages before the loss", len(h), len(acked))
	}
	for _, p := range []*proc{leader, followers[1]} {
		p.kill()
		alive[p] = false
		if err := os.RemoveAll(argValue(p.args, "--data-dir")); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if st, _, _ := publish("http://"+survivor.httpAddr, "rec", `{"v":"lost"}`); st == 201 {
			t.Fatal("the survivor of three accepted a publish alone")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st, _, _ := call("GET", "http://"+survivor.httpAddr+"/ready", "", ""); st != 503 {
		t.Fatalf("the survivor's /ready = %d without a quorum; want 503", st)
	}
	survivor.stop()

	dataDir := argValue(survivor.args, "--data-dir")
	out, err := exec.Command(binPath, "recover", "--data-dir", dataDir, "--node-id", survivor.id, "--dry-run").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "dry run: would make the cluster "+survivor.id+"="+survivor.raftAddr) {
		t.Fatalf("recover --dry-run: %v\n%s", err, out)
	}
	out, err = exec.Command(binPath, "recover", "--data-dir", dataDir, "--node-id", survivor.id).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "recovered: node "+survivor.id) {
		t.Fatalf("recover: %v\n%s", err, out)
	}
	t.Logf("pushflo recover:\n%s", out)

	survivor.start()
	survivor.waitReady()
	s, err := status(t, survivor)
	if err != nil || s.Leader != survivor.id || len(s.Members) != 1 {
		t.Fatalf("after recovery: %+v %v; want %s leading alone", s, err, survivor.id)
	}
	checkAcked(t, history(t, survivor, "rec"), acked)
	publishNumbered(t, survivor, 100, 110, acked)

	n4 := startProc(t, "n4", t.TempDir()+"/n4", "--join", "http://"+survivor.httpAddr)
	deadline = time.Now().Add(30 * time.Second)
	for {
		st, b, err := call("GET", "http://"+survivor.httpAddr+"/api/v1/cluster", mgmtKey, "")
		var r struct {
			Data struct{ Members []struct{ ID, Role string } }
		}
		if err == nil && st == 200 && json.Unmarshal(b, &r) == nil && len(r.Data.Members) == 2 && r.Data.Members[1].ID == "n4" && r.Data.Members[1].Role == "voter" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n4 not a voter within 30s: %d %s %v", st, b, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err = exec.Command(binPath, "cluster", "status", "--server", "http://"+survivor.httpAddr, "--key", mgmtKey).CombinedOutput()
	if err != nil || !regexp.MustCompile(`(?m)^n4\s+\S+\s+voter\s`).Match(out) || !regexp.MustCompile(`(?m)^ROLE|\sROLE\s`).Match(out) {
		t.Fatalf("pushflo cluster status does not show n4 a voter in its ROLE column: %v\n%s", err, out)
	}
	st, id, err := publish("http://"+n4.httpAddr, "rec", `{"v":"r-110"}`)
	if err != nil || st != 201 {
		t.Fatalf("publish through n4: %d %s %v", st, id, err)
	}
	acked["r-110"] = id
	checkAcked(t, history(t, n4, "rec"), acked)
}

// publishNumbered publishes {"v":"r-i"} to "rec" through p for i from
// from up to to, and records each message's ID under its value in acked.
func publishNumbered(t *testing.T, p *proc, from, to int, acked map[string]string) {
	t.Helper()
	for i := from; i < to; i++ {
		v := fmt.Sprintf("r-%d", i)
		st, id, err := publish("http://"+p.httpAddr, "rec", `{"v":"`+v+`"}`)
		if err != nil || st != 201 {
			t.Fatalf("publish %d through %s: %d %s %v", i, p.id, st, id, err)
		}
		acked[v] = id
	}
}

// argValue returns the value after flag in args.
func argValue(args []string, flag string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			return args[i+1]
		}
	}
	return ""
}
