package compaction

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/pushflo/pushflo/internal/testlog"
	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/raftnode"
)

func start(t *testing.T) (*raftnode.Node, *log.Store) { return startBench(t) }

// startBench starts a real one-node Raft group over a real Pebble store.
func startBench(t testing.TB) (*raftnode.Node, *log.Store) {
	t.Helper()
	logger := testlog.New(t, slog.LevelWarn)
	dir := t.TempDir()
	st, err := log.Open(log.Config{Dir: dir + "/store", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	n, err := raftnode.Open(raftnode.Config{NodeID: "n1", Dir: dir + "/raft", RaftAddr: "127.0.0.1:0", Store: st, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(); st.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for !n.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("no leadership")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return n, st
}

// publish publishes count messages from 16 goroutines and returns them in
// position order.
func publish(t *testing.T, n *raftnode.Node, ch string, content []byte, count int) []log.Message {
	t.Helper()
	out := make([]log.Message, count)
	errs := make(chan error, count)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < count; i += 16 {
				r, err := n.Publish(context.Background(), log.Entry{Channel: ch, EventType: "e", Content: content})
				if err != nil {
					errs <- err
					return
				}
				out[i] = r.Message
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Position < out[j].Position })
	return out
}

func TestParseRules(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		fail bool
	}{
		{"", 0, false},
		{"chat:*=72h,game:*=10m", 2, false},
		{"chat:*", 0, true},
		{"chat:*=soon", 0, true},
		{"chat:*=-1h", 0, true},
		{"[=1h", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			rs, err := ParseRules(tc.in)
			if (err != nil) != tc.fail || len(rs) != tc.n {
				t.Fatalf("ParseRules(%q) = %v, %v", tc.in, rs, err)
			}
		})
	}
	p := Policy{Default: time.Hour, Rules: []Rule{{"chat:*", 72 * time.Hour}, {"game:*", 10 * time.Minute}}}
	for slug, want := range map[string]time.Duration{"chat:room-1": 72 * time.Hour, "game:9": 10 * time.Minute, "orders:1": time.Hour} {
		if got := p.Retention(&log.Channel{Slug: slug}); got != want {
			t.Errorf("retention of %s = %s, want %s", slug, got, want)
		}
	}
	if got := p.Retention(&log.Channel{Slug: "chat:x", Retention: time.Minute}); got != time.Minute {
		t.Errorf("a channel's own retention must win, got %s", got)
	}
}

// TestCompactor_ExpiresAndReclaims publishes megabytes to a channel with a
// short retention, lets the compactor expire them through Raft, and checks
// the messages are gone, the channel unlisted, the resume told of the gap,
// and the directory smaller.
func TestCompactor_ExpiresAndReclaims(t *testing.T) {
	n, st := start(t)
	raw := make([]byte, 1500)
	rand.Read(raw)
	pad := []byte(`{"pad":"` + base64.StdEncoding.EncodeToString(raw) + `"}`) // incompressible
	old := publish(t, n, "game:short", pad, 3000)
	keep := publish(t, n, "orders:long", pad, 10)
	// Flush so the data is in sstables before measuring.
	if err := st.Flush(); err != nil {
		t.Fatal(err)
	}
	before, beforeAll := dirBytes(t, st.Dir())

	policy := &Policy{Default: time.Hour, Rules: []Rule{{"game:*", 200 * time.Millisecond}}}
	time.Sleep(300 * time.Millisecond)
	c := Start(Config{Node: n, Store: st, Policy: policy, Interval: 50 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ch, _ := st.Channel("game:short")
		if ch.MessageCount == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("game:short still holds %d messages", ch.MessageCount)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if msgs, _ := st.Read("game:short", 0, 10); len(msgs) != 0 {
		t.Fatalf("expired channel still reads %d messages", len(msgs))
	}
	if msgs, _ := st.Read("orders:long", 0, 100); len(msgs) != len(keep) {
		t.Fatalf("channel with a long retention lost messages: %d of %d", len(msgs), len(keep))
	}
	cu, err := st.Since("game:short", old[10].Position, 10, 0)
	if err != nil || cu.Complete || cu.Gap == nil {
		t.Fatalf("since from an expired ID = %+v, %v; want incomplete with a gap", cu, err)
	}
	for _, ch := range st.Channels() {
		if ch.Slug == "game:short" {
			t.Fatal("an emptied implicit channel is still listed")
		}
	}
	// Space comes back once Pebble compacts the span (the store asks it to).
	deadline = time.Now().Add(20 * time.Second)
	for {
		after, afterAll := dirBytes(t, st.Dir())
		if after < before/10 {
			t.Logf("sstables: %d bytes before expiry, %d after (whole directory %d and %d: the rest is Pebble's recycled WAL files, bounded by its memtable size)", before, after, beforeAll, afterAll)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("disk did not shrink: %d bytes before expiry, %d after", before, after)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestCompactor_Caps(t *testing.T) {
	n, st := start(t)
	publish(t, n, "capped", []byte(`{"a":1}`), 50)
	max := int64(20)
	if _, err := n.ChannelCommand(context.Background(), raftnode.OpUpdate, "capped", log.Settings{MaxMessages: &max}); err != nil {
		t.Fatal(err)
	}
	c := newCompactor(Config{Node: n, Store: st, Policy: &Policy{Default: time.Hour}})
	if err := c.Pass(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	ch, _ := st.Channel("capped")
	if ch.MessageCount != 20 {
		t.Fatalf("capped channel holds %d messages, want 20", ch.MessageCount)
	}
	msgs, _ := st.Read("capped", 0, 100)
	if len(msgs) != 20 || msgs[0].Position <= ch.DroppedPos {
		t.Fatalf("kept the wrong messages: %d, first %x, dropped through %x", len(msgs), msgs[0].Position, ch.DroppedPos)
	}
}

func dirBytes(t *testing.T, dir string) (sst, all int64) { return dirSize(dir) }

// dirSize returns the bytes of the sstables under dir (the stored data)
// and of all its files.
func dirSize(dir string) (sst, all int64) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				all += info.Size()
				if filepath.Ext(p) == ".sst" {
					sst += info.Size()
				}
			}
		}
		return nil
	})
	return sst, all
}
