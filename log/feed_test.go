package log

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestStore_FeedBoundedInBytes hands 100 MiB of 32 KiB messages (the
// largest a publish may carry) to the feed of a store opened with the
// default configuration, the way Batch.Commit does, and checks what the
// feed still holds. Before the feed was capped in bytes it kept 65,536
// messages whatever their size: all 100 MiB here, 2 GiB at its count
// limit. (Pebble is left out to keep the test fast under -race; the
// commit path is exercised by TestStore_FeedEvictsUnderTailers.)
func TestStore_FeedBoundedInBytes(t *testing.T) {
	s := openTest(t, Config{Dir: "/s", FS: vfs.NewMem()})
	const (
		msgBytes  = 32 << 10
		perEntry  = 16
		entries   = 200 // 200 × 16 × 32 KiB = 100 MiB
		boundHeld = 64<<20 + 64<<20/4 + msgBytes
	)
	for i := 1; i <= entries; i++ {
		msgs := make([]Message, perEntry)
		for j := range msgs {
			content := make([]byte, msgBytes) // each its own buffer, as raftnode's decoded entries are
			msgs[j] = Message{Channel: fmt.Sprintf("c%d", j%4), Position: Position(uint64(i), j+1), EventType: "e", Content: content, Time: int64(i)}
		}
		s.feed.append(msgs, msgs[perEntry-1].Position)
	}
	s.feed.mu.Lock()
	var held, count int
	for i := range s.feed.msgs { // every message the feed's array still references
		held += len(s.feed.msgs[i].Content)
		count++
	}
	s.feed.mu.Unlock()
	t.Logf("feed holds %d messages, %d MiB of content, after %d MiB appended", count, held>>20, entries*perEntry*msgBytes>>20)
	if held > boundHeld {
		t.Fatalf("feed holds %d bytes of message content; want at most %d (64 MiB cap, a quarter more awaiting release, one message)", held, boundHeld)
	}
	// The newest messages are still served from memory.
	head, _ := s.Head()
	msgs, lapped := s.Feed(head-perEntry, 0)
	if lapped || len(msgs) != perEntry {
		t.Fatalf("feed of the newest entry = %d messages, lapped %v", len(msgs), lapped)
	}
}

// TestStore_FeedEvictsUnderTailers runs a writer against a feed of 64 KiB
// while tailers follow it the way the stream layer does: from the feed
// while it has their cursor, from Pebble (Read per channel, up to the head)
// when they were lapped. Each tailer must see every message exactly once,
// in position order, with its content; one tailer stalls on purpose so the
// feed evicts under it.
func TestStore_FeedEvictsUnderTailers(t *testing.T) {
	const (
		feedBytes = 64 << 10
		entries   = 600
	)
	s := openTest(t, Config{Dir: "/s", FS: vfs.NewMem(), FeedBytes: feedBytes})
	rng := rand.New(rand.NewPCG(7, 11))

	// The writer publishes entries of 1–4 messages of up to 3 KiB over five
	// channels, and records what it wrote.
	var (
		mu      sync.Mutex
		want    []Message
		written int // entries committed
		moved   = sync.NewCond(&mu)
		maxMsg  int64
		badHeld int64
	)
	plan := make([][]Entry, entries)
	for i := range plan {
		es := make([]Entry, 1+rng.IntN(4))
		for j := range es {
			content := bytes.Repeat([]byte{byte('a' + rng.IntN(26))}, 1+rng.IntN(3<<10))
			es[j] = Entry{Channel: fmt.Sprintf("ch%d", rng.IntN(5)), EventType: "e", Content: content}
		}
		plan[i] = es
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i, es := range plan {
			b := s.NewBatch()
			res := b.Append(uint64(i+1), int64(i+1), es)
			if err := b.Commit(); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			for _, r := range res {
				want = append(want, r.Message)
				if c := feedCost(&r.Message); c > maxMsg {
					maxMsg = c
				}
			}
			if h := s.feed.heldBytes(); h > feedBytes+feedBytes/4+maxMsg && h > badHeld {
				badHeld = h
			}
			written = i + 1
			moved.Broadcast()
			mu.Unlock()
		}
	}()
	// waitWritten blocks until the writer has committed n entries or is done.
	waitWritten := func(n int) {
		mu.Lock()
		for written < n && written < entries {
			moved.Wait()
		}
		mu.Unlock()
	}

	type result struct {
		got   []Message
		laps  int
		stall bool
	}
	finalHead := Position(entries, len(plan[entries-1]))
	tail := func(stall bool) result {
		r := result{stall: stall}
		var cursor uint64
		for n := 0; cursor < finalHead; n++ {
			if stall && n%5 == 0 {
				// Hold still while the writer moves far past the feed's size.
				mu.Lock()
				w := written
				mu.Unlock()
				waitWritten(w + 100)
			}
			head, changed := s.Head()
			msgs, lapped := s.Feed(cursor, 20)
			if lapped {
				r.laps++
				r.got = append(r.got, catchUp(t, s, cursor, head)...)
				cursor = head
				continue
			}
			for _, m := range msgs {
				r.got = append(r.got, m)
				cursor = m.Position
			}
			if len(msgs) > 0 {
				continue
			}
			select {
			case <-changed:
			case <-writerDone:
				if h, _ := s.Head(); h == cursor {
					return r // the writer failed; the counts below say so
				}
			}
		}
		return r
	}
	results := make([]result, 3)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = tail(i == 0)
		}()
	}
	wg.Wait()
	<-writerDone
	if badHeld > 0 {
		t.Fatalf("feed held %d bytes; want at most %d + %d + one message", badHeld, feedBytes, feedBytes/4)
	}
	for i, r := range results {
		t.Logf("tailer %d (stalling %v): %d messages, lapped %d times", i, r.stall, len(r.got), r.laps)
		if r.stall && r.laps == 0 {
			t.Fatalf("tailer %d stalled past the feed but was never lapped: the test proves nothing", i)
		}
		if len(r.got) != len(want) {
			t.Fatalf("tailer %d got %d messages, want %d", i, len(r.got), len(want))
		}
		for j := range want {
			g, w := r.got[j], want[j]
			if g.Position != w.Position || g.Channel != w.Channel || !bytes.Equal(g.Content, w.Content) {
				t.Fatalf("tailer %d message %d = %s on %s, want %s on %s", i, j, g.ID(), g.Channel, w.ID(), w.Channel)
			}
		}
	}
}

// catchUp reads from Pebble every message after cursor up to head, across
// channels, in position order: what a lapped tailer delivers.
func catchUp(t *testing.T, s *Store, cursor, head uint64) []Message {
	t.Helper()
	var out []Message
	for _, c := range s.AllChannels() {
		if c.LastPos <= cursor {
			continue
		}
		msgs, err := s.Read(c.Slug, cursor, 1<<20)
		if err != nil {
			t.Error(err)
			return nil
		}
		for _, m := range msgs {
			if m.Position <= head {
				out = append(out, m)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Position < out[j].Position })
	return out
}
