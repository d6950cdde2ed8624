package stream

import (
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pushflo/pushflo/internal/testlog"
	"github.com/pushflo/pushflo/log"
)

// fixture is a hub over a real log.Store (Pebble on a temp dir), started,
// with helpers that apply entries the way the Raft FSM does.
type fixture struct {
	t     *testing.T
	store *log.Store
	hub   *Hub

	mu    sync.Mutex // serialises appends
	index uint64
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	store, err := log.Open(log.Config{Dir: t.TempDir(), Logger: testlog.New(t, slog.LevelWarn)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if cfg.Retention == nil {
		cfg.Retention = func(*log.Channel) time.Duration { return 24 * time.Hour }
	}
	cfg.Logger = testlog.New(t, slog.LevelWarn)
	hub, err := New(cfg, store)
	if err != nil {
		t.Fatal(err)
	}
	hub.Start()
	t.Cleanup(hub.Close)
	return &fixture{t: t, store: store, hub: hub}
}

// publish applies n messages of size content bytes to channel, one Raft
// entry each, and returns their positions.
func (f *fixture) publish(channel string, n, size int) []uint64 {
	var out []uint64
	for range n {
		f.mu.Lock()
		f.index++
		content := fmt.Appendf(nil, `{"i":%d,"pad":"`, f.index)
		for len(content) < size-2 {
			content = append(content, 'x')
		}
		content = append(content, `"}`...)
		b := f.store.NewBatch()
		res := b.Append(f.index, time.Now().UnixMilli(), []log.Entry{{Channel: channel, Content: content}})
		err := b.Commit()
		f.mu.Unlock()
		if err != nil {
			f.t.Error(err)
			return out
		}
		out = append(out, res[0].Message.Position)
	}
	return out
}

// setPrivate makes a channel private or public (creating its record).
func (f *fixture) setPrivate(channel string, private bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.index++
	b := f.store.NewBatch()
	set := log.Settings{IsPrivate: &private}
	if _, ok := f.store.Channel(channel); ok {
		if _, err := b.UpdateChannel(f.index, time.Now().UnixMilli(), channel, set); err != nil {
			f.t.Fatal(err)
		}
	} else if _, err := b.CreateChannel(f.index, time.Now().UnixMilli(), channel, set); err != nil {
		f.t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		f.t.Fatal(err)
	}
}

// sink is a connection with a test transport: its writer (when draining)
// takes every frame from the queue as soon as it is woken and records it.
type sink struct {
	c    *Conn
	kick chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup

	mu        sync.Mutex
	positions []uint64
	gaps      int
	closing   *CloseReason
	revoked   []string // key/channel of subscriptions revoked
}

// open opens a connection; a stalled one never has its queue drained.
func (f *fixture) open(draining bool) *sink {
	s := &sink{kick: make(chan struct{}, 1), stop: make(chan struct{})}
	wake := func(*Conn) {}
	if draining {
		wake = func(*Conn) {
			select {
			case s.kick <- struct{}{}:
			default:
			}
		}
	}
	s.c = f.hub.Open("test", wake, nil)
	if draining {
		s.wg.Add(1)
		go s.write()
	}
	f.t.Cleanup(s.finish)
	return s
}

func (s *sink) write() {
	defer s.wg.Done()
	var buf []Frame
	for {
		select {
		case <-s.kick:
		case <-s.stop:
			return
		}
		for {
			frames, closing, ok := s.c.Next(buf, 0)
			if !ok {
				break
			}
			s.record(frames, closing)
			if closing != nil {
				// Like a transport: send the reason, then no more.
				s.c.StopWriter()
				return
			}
			buf = frames
		}
	}
}

func (s *sink) record(frames []Frame, closing *CloseReason) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, fr := range frames {
		switch {
		case fr.Delivery != nil:
			s.positions = append(s.positions, fr.Delivery.Message.Position)
		case fr.Gap != nil:
			s.gaps++
		}
	}
	if closing != nil && s.closing == nil {
		s.closing = closing
	}
}

// drainStalled takes what a stalled connection's queue holds.
func (s *sink) drainStalled() {
	for {
		frames, closing, ok := s.c.Next(nil, 0)
		if !ok {
			return
		}
		s.record(frames, closing)
		if len(frames) == 0 {
			return
		}
	}
}

func (s *sink) finish() {
	s.c.Finish()
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
}

func (s *sink) got() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint64(nil), s.positions...)
}

func (s *sink) closeReason() *CloseReason {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// access returns an Access that refuses private channels, and records
// revocations in s.
func (s *sink) publicOnly() (Access, func(key, channel string)) {
	return func(_ string, private bool) bool { return !private }, func(key, channel string) {
		s.mu.Lock()
		s.revoked = append(s.revoked, key+"/"+channel)
		s.mu.Unlock()
	}
}

func (s *sink) revocations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.revoked...)
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// firstDiff describes where got departs from want.
func firstDiff(got, want []uint64) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d got %s, want %s (got %d, want %d in all)", i, log.FormatID(got[i]), log.FormatID(want[i]), len(got), len(want))
		}
	}
	return fmt.Sprintf("got %d, want %d", len(got), len(want))
}

// publicOnlyAccess gives the connection access to public channels only,
// recording revocations.
func (s *sink) publicOnlyAccess() {
	may, hook := s.publicOnly()
	s.c.SetAccess(may, time.Time{}, hook)
}
