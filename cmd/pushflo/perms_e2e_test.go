//go:build integration

package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2E_DataDirPrivate starts a node on a data directory that already
// exists with the modes an operator's mkdir gives (0755) and holds a
// secrets.json an older version left 0644, publishes until Raft has taken
// a snapshot, and checks that every directory under it is 0700 and every
// file 0600: the Pebble store, the Raft log and snapshots, the keys. Before,
// everything but raft.db and a newly written secrets.json was left
// readable by other users.
func TestE2E_DataDirPrivate(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := fmt.Sprintf(`{"keys":{"publish":%q,"secret":%q,"mgmt":%q},"clusterSecret":"e2e-cluster-secret"}`, pubKey, secKey, mgmtKey)
	if err := os.WriteFile(filepath.Join(dir, "secrets.json"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "n1", dir, "--snapshot-threshold", "4", "--snapshot-interval", "100ms", "--trailing-logs", "2")
	base := "http://" + p.httpAddr
	snaps := filepath.Join(dir, "raft", "snapshots")
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		if status, body, err := publish(base, "perm", fmt.Sprintf(`{"i":%d}`, i)); err != nil || status != 201 {
			t.Fatalf("publish: %d %s %v", status, body, err)
		}
		if names, _ := os.ReadDir(snaps); len(names) > 0 && i >= 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no Raft snapshot in %s after %d publishes", snaps, i+1)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.stop()

	var bad []string
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else if !d.Type().IsRegular() {
			return nil
		} else {
			files++
		}
		if info.Mode().Perm() != want {
			rel, _ := filepath.Rel(dir, path)
			bad = append(bad, fmt.Sprintf("%s %o (want %o)", rel, info.Mode().Perm(), want))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 {
		t.Fatalf("only %d files under the data dir: the test proves little", files)
	}
	if len(bad) > 0 {
		t.Fatalf("%d of the data dir's entries are not private:\n%s", len(bad), strings.Join(bad, "\n"))
	}
	t.Logf("%d files, all 0600, in 0700 directories", files)
}
