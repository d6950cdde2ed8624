//go:build integration

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// dataDirOf is the --data-dir a proc was started with.
func dataDirOf(t *testing.T, p *proc) string {
	t.Helper()
	for i, a := range p.args {
		if a == "--data-dir" && i+1 < len(p.args) {
			return p.args[i+1]
		}
	}
	t.Fatal("no --data-dir")
	return ""
}

// TestBackup_RestoreNodeFromCopy is docs/operations.md's backup and restore:
// a follower is stopped, its data directory copied, and it is started
// again; more is published (enough for the cluster to snapshot and truncate
// its log past the copy); then the follower's disk "dies", the copy is put
// back, and the node must serve every message, those published after the
// backup included, in the leader's order.
func TestBackup_RestoreNodeFromCopy(t *testing.T) {
	nodes := startCluster(t, 3, "--snapshot-threshold", "50", "--trailing-logs", "20", "--snapshot-interval", "100ms")
	leader, followers := leaderOf(t, nodes, func(*proc) bool { return true })
	base := "http://" + leader.httpAddr
	pub := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if code, _, err := publish(base, "backup:a", fmt.Sprintf(`{"n":%d}`, i)); err != nil || code != 201 {
				t.Fatalf("publish %d: %d %v", i, code, err)
			}
		}
	}
	pub(0, 30)

	f := followers[0]
	dir := dataDirOf(t, f)
	backup := filepath.Join(t.TempDir(), "backup")
	f.stop()
	if out, err := exec.Command("cp", "-a", dir, backup).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	f.start()
	f.waitReady()
	pub(30, 230)

	f.kill()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", backup, dir).CombinedOutput(); err != nil {
		t.Fatalf("cp back: %v %s", err, out)
	}
	f.start()
	f.waitReady()
	want := history(t, leader, "backup:a")
	if len(want) != 230 {
		t.Fatalf("leader has %d messages, want 230", len(want))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := history(t, f, "backup:a")
		same := len(got) == len(want)
		for i := 0; same && i < len(got); i++ {
			same = got[i].ID == want[i].ID
		}
		if same {
			t.Logf("%s restored from a copy taken after 30 messages serves all %d, in the leader's order", f.id, len(got))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("restored %s serves %d messages, the leader %d", f.id, len(got), len(want))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
