package stream

import (
	"sort"
	"sync"

	"github.com/pushflo/pushflo/log"
)

// replayPage is the most messages a replay reads from the log at a time;
// fewer when messages are large (replayLimit).
const replayPage = 512

// maxPendingBytes is how many bytes of live messages (Frame.Size) a
// subscription buffers while it replays; past that it drops them and
// reads them from the log instead. A budget in bytes, not messages: at
// 32 KiB a message, the 8,192 messages it used to allow held 256 MiB.
const maxPendingBytes = 1 << 20

// subscription delivers one or more channels to one connection, in
// position order, each message exactly once. A WebSocket subscription has
// one channel; an SSE stream is one subscription over all its channels, so
// that its single Last-Event-ID is a valid cursor for every one of them.
//
// A subscription starts catching up: the tailer's live messages go to
// pending while the replay goroutine reads the log from the cursor; when
// the replay reaches the head it flushes pending (dropping what it already
// sent) and switches to live. Since the subscription is registered with the
// hub before the first read, every message is either read or pending: no
// gap; positions only grow, so none is sent twice.
type subscription struct {
	c        *Conn
	key      string
	channels []string

	mu sync.Mutex
	// last is the position of the last message queued. Guarded by mu.
	last     uint64
	catching bool
	pending  []*Delivery
	// pendingBytes is the Frame.Size of pending, against maxPendingBytes.
	pendingBytes int
	overflow     bool
	stopped      bool
	// replaying is true while a replay goroutine runs. Guarded by mu.
	replaying bool
	// gapSent avoids repeating a gap announcement on resync.
	gapSent bool
	// avgSize is the mean Frame.Size of the last page read, sizing the
	// next (replayLimit). Used by the replay goroutine only.
	avgSize int
}

// replayLimit is how many messages the next replay read may return: about
// half the connection's byte budget, so a replay holds little more than
// what its queue may hold (at least one message).
func (sub *subscription) replayLimit() int {
	if sub.avgSize <= 0 {
		return 4 // first page: small until sizes are known
	}
	n := sub.c.hub.cfg.QueueBytes / 2 / sub.avgSize
	return max(1, min(n, replayPage))
}

// Subscribe starts a subscription of the connection to channels under key
// (the transport's name for it: the channel for a WebSocket, "" for an SSE
// stream's one subscription). With resume, delivery starts after position
// `after`, replaying the log first; without, it starts live after the
// channels' newest message. first, when not nil, is called once with the
// first read's catch-up state of each channel, before anything of the
// subscription is queued. It returns ErrSubscribed or
// ErrTooManySubscriptions, or nil once the replay runs.
func (c *Conn) Subscribe(key string, channels []string, after uint64, resume bool, first func(cus []log.Catchup)) error {
	c.mu.Lock()
	if _, dup := c.subs[key]; dup {
		c.mu.Unlock()
		return ErrSubscribed
	}
	if len(c.subs) >= c.hub.cfg.MaxSubscriptionsPerConn {
		c.mu.Unlock()
		return ErrTooManySubscriptions
	}
	sub := &subscription{c: c, key: key, channels: channels, last: after, catching: true, replaying: true}
	c.subs[key] = sub
	c.mu.Unlock()

	c.hub.add(sub)
	if !resume {
		// Live from now: start after the newest message, read after
		// registering so nothing applied from here on is missed.
		var latest uint64
		for _, ch := range channels {
			if info, ok := c.hub.log.Channel(ch); ok && info.LastPos > latest {
				latest = info.LastPos
			}
		}
		sub.mu.Lock()
		sub.last = latest
		sub.mu.Unlock()
	}
	c.replays.Add(1)
	go func() {
		defer c.replays.Done()
		sub.replay(first)
	}()
	return nil
}

// Unsubscribe ends the subscription under key; it reports whether there
// was one.
func (c *Conn) Unsubscribe(key string) bool {
	c.mu.Lock()
	sub := c.subs[key]
	delete(c.subs, key)
	c.mu.Unlock()
	if sub != nil {
		c.hub.remove(sub)
	}
	return sub != nil
}

// deliver hands a live message to the subscription. Called by the tailer.
func (sub *subscription) deliver(d *Delivery) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.stopped || d.Message.Position <= sub.last {
		return
	}
	if sub.catching {
		if sub.overflow {
			return
		}
		f := Frame{Delivery: d}
		if sub.pendingBytes+f.Size() > maxPendingBytes {
			sub.overflow = true
			sub.dropPending()
			return
		}
		sub.pending = append(sub.pending, d)
		sub.pendingBytes += f.Size()
		return
	}
	if sub.c.Push(Frame{Delivery: d}) {
		sub.last = d.Message.Position
	}
}

// dropPending empties pending. REQUIRES sub.mu.
func (sub *subscription) dropPending() {
	sub.pending, sub.pendingBytes = nil, 0
}

func (sub *subscription) stop() {
	sub.mu.Lock()
	sub.stopped = true
	sub.dropPending()
	sub.mu.Unlock()
}

// resync switches a live subscription back to catching up from the log.
func (sub *subscription) resync() {
	sub.mu.Lock()
	if sub.stopped {
		sub.mu.Unlock()
		return
	}
	sub.catching, sub.overflow = true, true
	sub.dropPending()
	start := !sub.replaying
	sub.replaying = true
	sub.mu.Unlock()
	if start {
		sub.c.replays.Add(1)
		go func() {
			defer sub.c.replays.Done()
			sub.replay(nil)
		}()
	}
}

// read returns the next messages after the cursor across the
// subscription's channels, merged in position order, and the catch-up
// state of each channel read.
//
// The channels are read one after the other, so a later read may return
// messages applied after an earlier channel was read; passing them would
// move the cursor over that channel's messages applied in between, which
// the tailer then drops as already sent. So every channel's messages are
// cut at the head as it was before the first read: up to there each read
// saw all, and what comes after reaches the subscription through the
// tailer (pending) or the next read.
func (sub *subscription) read(after uint64) ([]log.Message, []log.Catchup, bool, error) {
	var all []log.Message
	var cus []log.Catchup
	full := false
	bound := ^uint64(0)
	if len(sub.channels) > 1 {
		bound, _ = sub.c.hub.log.Head()
	}
	limit := sub.replayLimit()
	for _, ch := range sub.channels {
		cu, err := sub.c.hub.Since(ch, after, limit)
		if err != nil {
			return nil, nil, false, err
		}
		if len(cu.Messages) == limit {
			full = true
			if p := cu.Messages[len(cu.Messages)-1].Position; p < bound {
				bound = p
			}
		}
		all = append(all, cu.Messages...)
		cus = append(cus, cu)
	}
	if len(sub.channels) > 1 {
		sort.Slice(all, func(i, j int) bool { return all[i].Position < all[j].Position })
		n := sort.Search(len(all), func(i int) bool { return all[i].Position > bound })
		all = all[:n]
	}
	if len(all) > 0 {
		total := 0
		for i := range all {
			f := Frame{Delivery: &Delivery{Message: all[i]}}
			total += f.Size()
		}
		sub.avgSize = total / len(all)
	}
	return all, cus, full, nil
}

// replay catches the subscription up from the log and then switches it to
// live. first, when not nil, is called with the first read's catch-up
// states before anything is queued (to send "subscribed" with recovered).
// It runs on its own goroutine, owned by the connection.
func (sub *subscription) replay(first func(cus []log.Catchup)) {
	defer func() {
		sub.mu.Lock()
		sub.replaying = false
		sub.mu.Unlock()
	}()
	c := sub.c
	for {
		// Phase 1: read the log until a short read.
		for {
			sub.mu.Lock()
			after, stopped := sub.last, sub.stopped
			sub.mu.Unlock()
			if stopped {
				return
			}
			msgs, cus, full, err := sub.read(after)
			if err != nil {
				c.hub.logger.Warn("replay read failed", "err", err)
				c.Fail(CloseReason{Kind: CloseReadFailed})
				return
			}
			// Checked after the read: what was read was applied before
			// the channel record looked at now.
			if ch, ok := sub.allowedAll(); !ok {
				c.revoke(sub, ch)
				return
			}
			if first != nil {
				first(cus)
				first = nil
			}
			if !sub.gapSent {
				for _, cu := range cus {
					if cu.Gap != nil {
						sub.gapSent = true
						if c.PushWait(Frame{Gap: cu.Gap}) != nil {
							return
						}
					}
				}
			}
			for i := range msgs {
				if c.PushWait(Frame{Delivery: &Delivery{Message: msgs[i]}}) != nil {
					return
				}
				c.hub.metrics.replayed.Inc()
				sub.mu.Lock()
				sub.last = msgs[i].Position
				sub.mu.Unlock()
			}
			if !full {
				break
			}
		}
		// Phase 2: flush what the tailer buffered meanwhile, then go live.
		for {
			sub.mu.Lock()
			if sub.stopped {
				sub.mu.Unlock()
				return
			}
			if sub.overflow {
				sub.overflow = false
				sub.dropPending()
				sub.mu.Unlock()
				break // back to phase 1
			}
			if len(sub.pending) == 0 {
				// Live from here; clearing replaying under the same lock
				// lets a resync that comes later start a new replay.
				sub.catching, sub.replaying = false, false
				sub.mu.Unlock()
				return
			}
			p := sub.pending
			sub.dropPending()
			last := sub.last
			sub.mu.Unlock()
			if ch, ok := sub.allowedAll(); !ok {
				c.revoke(sub, ch)
				return
			}
			for _, d := range p {
				if d.Message.Position <= last {
					continue
				}
				if c.PushWait(Frame{Delivery: d}) != nil {
					return
				}
				last = d.Message.Position
				sub.mu.Lock()
				sub.last = last
				sub.mu.Unlock()
			}
		}
	}
}
