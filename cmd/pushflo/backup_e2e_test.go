//go:build integration

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
			publishRetried(t, base, "backup:a", fmt.Sprintf(`{"n":%d}`, i))
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

// TestBackup_OnlineBackupRestoresNewCluster is docs/operations.md's online
// backup: `pushflo backup` against a follower of a three-node cluster while
// two publishers keep writing, then `pushflo restore` into an empty
// directory and `pushflo serve` on it. The restored node leads a new
// cluster; it holds every message acknowledged before the backup began, in
// the old cluster's order and with the same IDs, nothing the old cluster
// did not hold, and the private channel's settings; and it takes
// publishes.
func TestBackup_OnlineBackupRestoresNewCluster(t *testing.T) {
	nodes := startCluster(t, 3)
	leader, followers := leaderOf(t, nodes, func(*proc) bool { return true })
	base := "http://" + leader.httpAddr
	if st, body, err := call("POST", base+"/api/v1/channels", secKey, `{"name":"Vault","slug":"backup-vault","isPrivate":true}`); err != nil || st != 201 {
		t.Fatalf("create private channel: %d %s %v", st, body, err)
	}
	l := startLoad([]string{base, "http://" + followers[1].httpAddr}, "backup:b")
	l.waitAcked(100, 60*time.Second)
	l.mu.Lock()
	before := make(map[string]string, len(l.acked))
	for v, id := range l.acked {
		before[v] = id
	}
	l.mu.Unlock()

	file := filepath.Join(t.TempDir(), "cluster.tar")
	out, err := exec.Command(binPath, "backup", "--server", "http://"+followers[0].httpAddr, "--key", mgmtKey, "-o", file).CombinedOutput()
	if err != nil {
		t.Fatalf("pushflo backup: %v\n%s", err, out)
	}
	t.Logf("pushflo backup: %s", strings.TrimSpace(string(out)))
	l.waitAcked(len(before)+50, 60*time.Second)
	l.halt()
	old := history(t, leader, "backup:b")

	dir := filepath.Join(t.TempDir(), "r1")
	r := newProc(t, "r1", dir)
	out, err = exec.Command(binPath, "restore", "--data-dir", dir, "--node-id", "r1", "--raft-addr", r.raftAddr, file).CombinedOutput()
	if err != nil {
		t.Fatalf("pushflo restore: %v\n%s", err, out)
	}
	r.start()
	r.waitReady()
	got := history(t, r, "backup:b")
	checkAcked(t, got, before)
	if len(got) > len(old) {
		t.Fatalf("restored node has %d messages, the old cluster %d", len(got), len(old))
	}
	for i := range got {
		if got[i].ID != old[i].ID {
			t.Fatalf("restored message %d is %s, the old cluster's is %s", i, got[i].ID, old[i].ID)
		}
	}
	t.Logf("restored node holds %d messages (%d acknowledged before the backup began; the old cluster went on to %d)", len(got), len(before), len(old))
	if st, body, err := call("GET", "http://"+r.httpAddr+"/api/v1/channels/backup-vault", secKey, ""); err != nil || st != 200 || !strings.Contains(string(body), `"isPrivate":true`) {
		t.Fatalf("restored private channel: %d %s %v", st, body, err)
	}
	st, id, err := publish("http://"+r.httpAddr, "backup:b", `{"v":"after-restore"}`)
	if err != nil || st != 201 {
		t.Fatalf("publish to the restored node: %d %v", st, err)
	}
	if len(got) > 0 && id <= got[len(got)-1].ID {
		t.Fatalf("first ID after restore %s is not after the backup's last %s", id, got[len(got)-1].ID)
	}
	// Restoring over a directory that has state is refused.
	r.stop()
	out, err = exec.Command(binPath, "restore", "--data-dir", dir, "--node-id", "r1", "--raft-addr", r.raftAddr, file).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "already holds state") {
		t.Fatalf("restore over a node's data: %v\n%s", err, out)
	}
}
