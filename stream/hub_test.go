package stream

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/pushflo/pushflo/internal/clock"
	"github.com/pushflo/pushflo/log"
)

// TestHub_ClockJumpHidesNothingWithinRetention: a node whose wall clock
// jumps an hour ahead, with messages kept 30 minutes, still serves the
// messages a minute old from Since and counts them in Cutoff. Before the
// read clock was guarded, the jumped node hid them all
// (TestJepsen_ClockJump: consistent reads on that node lacked acknowledged
// publishes), while compaction, already guarded, kept them.
func TestHub_ClockJumpHidesNothingWithinRetention(t *testing.T) {
	t.Cleanup(func() { clock.SetOffset(0) })
	store, err := log.Open(log.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	const retention = 30 * time.Minute
	hub, err := New(Config{Retention: func(*log.Channel) time.Duration { return retention }, Logger: slog.New(slog.DiscardHandler)}, store)
	if err != nil {
		t.Fatal(err)
	}
	// One message stamped 31 minutes ago (expired), then five stamped one
	// minute ago, by a leader whose clock is right (times never decrease
	// along the log).
	b := store.NewBatch()
	b.Append(1, clock.Now().Add(-retention-time.Minute).UnixMilli(), []log.Entry{{Channel: "old", Content: []byte(`{}`)}})
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	stamp := clock.Now().Add(-time.Minute).UnixMilli()
	for i := 2; i <= 6; i++ {
		b := store.NewBatch()
		b.Append(uint64(i), stamp, []log.Entry{{Channel: "c", Content: []byte(fmt.Sprintf(`{"i":%d}`, i))}})
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	read := func(when string) {
		t.Helper()
		got, err := hub.Since("c", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Messages) != 5 || !got.Complete {
			t.Fatalf("%s: Since read %d messages (complete %v, gap %+v), want all 5 (a minute old, retention %s)", when, len(got.Messages), got.Complete, got.Gap, retention)
		}
		if c := hub.Cutoff("c"); c > stamp {
			t.Fatalf("%s: cutoff %s is after the messages' time %s", when, time.UnixMilli(c).UTC(), time.UnixMilli(stamp).UTC())
		}
	}
	read("before the jump")
	clock.SetOffset(time.Hour)
	read("clock an hour ahead")
	// Reads go on while the clock stays ahead: it does not leak through.
	for i := 0; i < 200; i++ {
		hub.Cutoff("c")
	}
	read("after 200 more reads")
	clock.SetOffset(0)
	read("clock back")

	// Expiry still hides what is past retention by the guarded clock.
	if got, err := hub.Since("old", 0, 100); err != nil || len(got.Messages) != 0 || got.Complete {
		t.Fatalf("Since on an expired channel = %+v, %v; want nothing and a gap", got, err)
	}
}
