package log

import (
	"sort"
	"sync"
	"unsafe"
)

// messageOverhead is what a message costs the feed beyond its variable
// parts: the Message struct itself.
const messageOverhead = int64(unsafe.Sizeof(Message{}))

// feedCost is the memory a message holds while it is in the feed.
func feedCost(m *Message) int64 {
	return messageOverhead + int64(len(m.Channel)+len(m.EventType)+len(m.ClientID)+len(m.Content))
}

// feed keeps the most recently applied messages, in position order, for the
// tailer, and wakes waiters when the head moves. It holds at most maxBytes
// of messages (plus the newest one, however large), measured by feedCost.
//
// Slices handed out by Store.Feed alias msgs, so an element once appended
// is never written again: evicting advances start, and the array is
// replaced (not compacted in place) once the evicted prefix is worth
// freeing. Memory held is therefore at most maxBytes live plus maxBytes/4
// evicted but not yet released, plus what readers still hold.
type feed struct {
	mu       sync.Mutex
	maxBytes int64
	msgs     []Message // positions ascending; msgs[start:] are live
	start    int
	bytes    int64  // feedCost of msgs[start:]
	dead     int64  // feedCost of msgs[:start]
	head     uint64 // highest position applied
	lost     uint64 // highest position no longer in the feed
	notify   chan struct{}
	closed   bool
}

func (f *feed) init(maxBytes int64) {
	f.maxBytes = maxBytes
	f.notify = make(chan struct{})
}

// reset forgets the feed's messages: every position up to head is lost.
func (f *feed) reset(head uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs, f.start, f.bytes, f.dead = nil, 0, 0, 0
	f.head = head
	f.lost = head
	f.wakeLocked()
}

func (f *feed) append(msgs []Message, head uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range msgs {
		f.bytes += feedCost(&msgs[i])
	}
	f.msgs = append(f.msgs, msgs...)
	for f.bytes > f.maxBytes && len(f.msgs)-f.start > 1 {
		c := feedCost(&f.msgs[f.start])
		f.bytes -= c
		f.dead += c
		f.lost = f.msgs[f.start].Position
		f.start++
	}
	if f.dead > f.maxBytes/4 {
		live := f.msgs[f.start:]
		f.msgs = append(make([]Message, 0, len(live)+len(live)/4), live...)
		f.start, f.dead = 0, 0
	}
	if head > f.head {
		f.head = head
	}
	f.wakeLocked()
}

// heldBytes returns the bytes of messages the feed's array still holds,
// live and evicted-but-unreleased.
func (f *feed) heldBytes() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bytes + f.dead
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
// after `after` have already left the feed (it keeps Config.FeedBytes of
// the newest messages): the caller must then read what it needs from the
// store by channel (Read), and resume the feed from the head. The returned
// slice must not be modified.
func (s *Store) Feed(after uint64, max int) (msgs []Message, lapped bool) {
	f := &s.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	if after < f.lost {
		return nil, true
	}
	live := f.msgs[f.start:]
	i := sort.Search(len(live), func(i int) bool { return live[i].Position > after })
	j := len(live)
	if max > 0 && j-i > max {
		j = i + max
	}
	return live[i:j:j], false
}
