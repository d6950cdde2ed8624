package frontend

import (
	"sort"
	"sync"

	"github.com/pushflo/pushflo/log"
)

// replayPage is how many messages a replay reads from the log at a time.
const replayPage = 512

// maxPending is how many live messages a subscription buffers while it
// replays; past that it drops them and reads them from the log instead.
const maxPending = 8192

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
	c        *conn
	channels []string

	mu sync.Mutex
	// last is the position of the last message queued. Guarded by mu.
	last     uint64
	catching bool
	pending  []*delivery
	overflow bool
	stopped  bool
	// replaying is true while a replay goroutine runs. Guarded by mu.
	replaying bool
	// gapSent avoids repeating a gap announcement on resync.
	gapSent bool
}

func newSubscription(c *conn, channels []string, last uint64) *subscription {
	return &subscription{c: c, channels: channels, last: last, catching: true}
}

// deliver hands a live message to the subscription. Called by the tailer.
func (sub *subscription) deliver(d *delivery) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.stopped || d.msg.Position <= sub.last {
		return
	}
	if sub.catching {
		if sub.overflow {
			return
		}
		if len(sub.pending) >= maxPending {
			sub.overflow, sub.pending = true, nil
			return
		}
		sub.pending = append(sub.pending, d)
		return
	}
	if sub.c.push(frame{d: d}) {
		sub.last = d.msg.Position
	}
}

func (sub *subscription) stop() {
	sub.mu.Lock()
	sub.stopped = true
	sub.pending = nil
	sub.mu.Unlock()
}

// resync switches a live subscription back to catching up from the log.
func (sub *subscription) resync() {
	sub.mu.Lock()
	if sub.stopped {
		sub.mu.Unlock()
		return
	}
	sub.catching, sub.overflow, sub.pending = true, true, nil
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
func (sub *subscription) read(after uint64) ([]log.Message, []log.Catchup, bool, error) {
	var all []log.Message
	var cus []log.Catchup
	full := false
	bound := ^uint64(0)
	for _, ch := range sub.channels {
		cu, err := sub.c.s.catchup(ch, after, replayPage)
		if err != nil {
			return nil, nil, false, err
		}
		if len(cu.Messages) == replayPage {
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
	s := sub.c.s
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
				s.logger.Warn("replay read failed", "err", err)
				sub.c.fail(&closeReason{frame: mustJSON(errorFrame{Type: "error", Code: CodeServerError, Error: "could not read the channel's history; reconnect to resume"}), code: 1011, text: "replay failed"})
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
						if sub.c.pushWait(gapFrame(toGapJSON(cu.Gap))) != nil {
							return
						}
					}
				}
			}
			for i := range msgs {
				if sub.c.pushWait(frame{d: &delivery{msg: msgs[i]}}) != nil {
					return
				}
				s.metrics.replayed.Inc()
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
				sub.overflow, sub.pending = false, nil
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
			sub.pending = nil
			last := sub.last
			sub.mu.Unlock()
			for _, d := range p {
				if d.msg.Position <= last {
					continue
				}
				if sub.c.pushWait(frame{d: d}) != nil {
					return
				}
				last = d.msg.Position
				sub.mu.Lock()
				sub.last = last
				sub.mu.Unlock()
			}
		}
	}
}
