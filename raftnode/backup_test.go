package raftnode

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/pushflo/pushflo/internal/testwait"
	"github.com/pushflo/pushflo/log"
)

// TestNode_BackupRestoresAsNewCluster takes a backup of a running node
// with a private channel and 100 messages, publishes 10 more after it, then
// restores the backup into an empty directory as a new node: the new node
// leads a one-node cluster, holds exactly the backup's 100 messages and the
// channel's settings, and continues the channel's positions on publish.
func TestNode_BackupRestoresAsNewCluster(t *testing.T) {
	ctx := context.Background()
	src := startNode(t, "n1", t.TempDir(), nil)
	testwait.For(t, "leadership", src.IsLeader)
	private := true
	if _, err := src.ChannelCommand(ctx, OpCreate, "c", log.Settings{IsPrivate: &private}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if _, err := src.Publish(ctx, entry("c", i)); err != nil {
			t.Fatal(err)
		}
	}
	backup, info := takeBackup(t, src)
	if info.Index == 0 || info.Term == 0 || info.NodeID != "n1" || info.Size == 0 {
		t.Fatalf("backup info = %+v", info)
	}
	// A second backup with no write since: only its own read barrier is new.
	_, info2 := takeBackup(t, src)
	if info2.Index < info.Index {
		t.Fatalf("second backup covers index %d, first %d", info2.Index, info.Index)
	}
	for i := 100; i < 110; i++ {
		if _, err := src.Publish(ctx, entry("c", i)); err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	addr := freeAddr(t)
	got, err := RestoreBackup(RestoreConfig{Dir: dir + "/raft", NodeID: "r1", Addr: addr}, bytes.NewReader(backup.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Index != info.Index {
		t.Fatalf("restored index %d, backup's %d", got.Index, info.Index)
	}
	if _, err := RestoreBackup(RestoreConfig{Dir: dir + "/raft", NodeID: "r1", Addr: addr}, bytes.NewReader(backup.Bytes())); !errors.Is(err, ErrHasState) {
		t.Fatalf("restore over a restored directory: %v, want ErrHasState", err)
	}

	dst := startNode(t, "r1", dir, func(c *Config) { c.RaftAddr = addr })
	testwait.For(t, "the restored node to lead", dst.IsLeader)
	msgs, err := dst.store.Read("c", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 100 {
		t.Fatalf("restored node holds %d messages, want the backup's 100", len(msgs))
	}
	for i, m := range msgs {
		want := string(entry("c", i).Content)
		if string(m.Content) != want {
			t.Fatalf("message %d = %s, want %s", i, m.Content, want)
		}
	}
	ch, ok := dst.store.Channel("c")
	if !ok || !ch.IsPrivate {
		t.Fatalf("restored channel = %+v (found %v), want private", ch, ok)
	}
	r, err := dst.Publish(ctx, entry("c", 100))
	if err != nil {
		t.Fatal(err)
	}
	if r.Message.Position <= msgs[99].Position {
		t.Fatalf("first publish after restore at position %d, not after the backup's last %d", r.Message.Position, msgs[99].Position)
	}
}

// TestRestoreBackup_RefusesWhatIsNotABackup: a stream that is not a
// backup, or is cut short, leaves no snapshot behind.
func TestRestoreBackup_RefusesWhatIsNotABackup(t *testing.T) {
	ctx := context.Background()
	src := startNode(t, "n1", t.TempDir(), nil)
	testwait.For(t, "leadership", src.IsLeader)
	if _, err := src.Publish(ctx, entry("c", 1)); err != nil {
		t.Fatal(err)
	}
	backup, info := takeBackup(t, src)
	if got, err := VerifyBackup(bytes.NewReader(backup.Bytes())); err != nil || got != info {
		t.Fatalf("VerifyBackup of a whole backup = %+v, %v; want %+v", got, err, info)
	}
	for name, in := range map[string][]byte{
		"empty":   nil,
		"text":    []byte(strings.Repeat("not a backup\n", 100)),
		"cut":     backup.Bytes()[:backup.Len()/2],
		"no data": backup.Bytes()[:1024],
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := VerifyBackup(bytes.NewReader(in)); err == nil {
				t.Fatal("VerifyBackup accepted it")
			}
			dir := t.TempDir()
			_, err := RestoreBackup(RestoreConfig{Dir: dir, NodeID: "r1", Addr: "127.0.0.1:1"}, bytes.NewReader(in))
			if err == nil {
				t.Fatal("restore accepted it")
			}
			// The directory holds no state: a good backup restores into it.
			if _, err := RestoreBackup(RestoreConfig{Dir: dir, NodeID: "r1", Addr: "127.0.0.1:1"}, bytes.NewReader(backup.Bytes())); err != nil {
				t.Fatalf("after a refused restore, a good one failed: %v", err)
			}
		})
	}
}

func takeBackup(t *testing.T, n *testNode) (*bytes.Buffer, BackupInfo) {
	t.Helper()
	b, err := n.OpenBackup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var buf bytes.Buffer
	if err := b.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return &buf, b.Info
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
