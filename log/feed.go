package log

import (
	"sort"
	"sync"
)

// feed keeps the most recently applied messages, in position order, for the
// tailer, and wakes waiters when the head moves.
type feed struct {
	mu     sync.Mutex
	size   int
	msgs   []Message // positions ascending
	head   uint64    // highest position applied
	lost   uint64    // highest position no longer in msgs
	notify chan struct{}
	closed bool
}

func (f *feed) init(size int) {
	f.size = size
	f.notify = make(chan struct{})
}

// reset forgets the feed's messages: every position up to head is lost.
func (f *feed) reset(head uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = nil
	f.head = head
	f.lost = head
	f.wakeLocked()
}

func (f *feed) append(msgs []Message, head uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, msgs...)
	if over := len(f.msgs) - f.size; over > f.size/4 {
		f.lost = f.msgs[over-1].Position
		f.msgs = append(f.msgs[:0:0], f.msgs[over:]...)
	}
	if head > f.head {
		f.head = head
	}
	f.wakeLocked()
}

func (f *feed) wakeLocked() {
	if f.closed {
		return
	}
	close(f.notify)
	f.notify = make(chan struct{})
}

func (f *feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.notify)
	}
}

// Head returns the highest position applied and a channel that is closed
// when it next moves (or the store closes).
func (s *Store) Head() (pos uint64, changed <-chan struct{}) {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	return s.feed.head, s.feed.notify
}

// Feed returns up to max applied messages with positions after the given
// one, across all channels, in position order. lapped is true when messages
// after `after` have already left the feed: the caller must then read what
// it needs from the store by channel (Read), and resume the feed from the
// head. The returned slice must not be modified.
func (s *Store) Feed(after uint64, max int) (msgs []Message, lapped bool) {
	f := &s.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	if after < f.lost {
		return nil, true
	}
	i := sort.Search(len(f.msgs), func(i int) bool { return f.msgs[i].Position > after })
	j := len(f.msgs)
	if max > 0 && j-i > max {
		j = i + max
	}
	return f.msgs[i:j:j], false
}
