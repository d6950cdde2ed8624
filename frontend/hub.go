package frontend

import (
	"context"
	"sync"
	"time"

	"github.com/pushflo/pushflo/log"
)

// hub fans applied messages out to the subscriptions of this node. One
// tailer goroutine follows the store's feed in position order and hands
// each message to the subscriptions of its channel, without ever blocking
// on a connection.
type hub struct {
	s  *Server
	mu sync.RWMutex
	// channels maps a channel to its subscriptions. Guarded by mu.
	channels map[string]map[*subscription]struct{}
	// conns are the open connections. Guarded by mu.
	conns map[*conn]struct{}
}

func newHub(s *Server) *hub {
	return &hub{s: s, channels: map[string]map[*subscription]struct{}{}, conns: map[*conn]struct{}{}}
}

func (h *hub) addConn(c *conn) {
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	h.s.metrics.connections.WithLabelValues(c.transport).Inc()
}

func (h *hub) removeConn(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.s.metrics.connections.WithLabelValues(c.transport).Dec()
}

// add registers a subscription for live delivery.
func (h *hub) add(sub *subscription) {
	h.mu.Lock()
	for _, ch := range sub.channels {
		m := h.channels[ch]
		if m == nil {
			m = map[*subscription]struct{}{}
			h.channels[ch] = m
		}
		m[sub] = struct{}{}
	}
	h.mu.Unlock()
	h.s.metrics.subscriptions.Add(float64(len(sub.channels)))
}

// remove unregisters a subscription and stops its replay.
func (h *hub) remove(sub *subscription) {
	h.mu.Lock()
	for _, ch := range sub.channels {
		if m := h.channels[ch]; m != nil {
			delete(m, sub)
			if len(m) == 0 {
				delete(h.channels, ch)
			}
		}
	}
	h.mu.Unlock()
	sub.stop()
	h.s.metrics.subscriptions.Sub(float64(len(sub.channels)))
}

// subscriberCount returns how many subscriptions this node holds on a
// channel: the "delivered" figure of a publish.
func (h *hub) subscriberCount(channel string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.channels[channel])
}

// tail follows the store's feed until ctx ends.
func (h *hub) tail(ctx context.Context) {
	store := h.s.store
	cursor, _ := store.Head()
	var subs []*subscription
	for {
		_, changed := store.Head()
		msgs, lapped := store.Feed(cursor, 4096)
		if lapped {
			// The feed moved on without us (or the store was restored from
			// a snapshot): every subscription catches up from the log.
			cursor, _ = store.Head()
			h.s.logger.Warn("tailer lapped by the feed; subscriptions catch up from the log", "head", log.FormatID(cursor))
			h.resyncAll()
			continue
		}
		if len(msgs) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-changed:
			}
			continue
		}
		now := time.Now()
		for i := range msgs {
			m := &msgs[i]
			cursor = m.Position
			h.mu.RLock()
			set := h.channels[m.Channel]
			if len(set) == 0 {
				h.mu.RUnlock()
				continue
			}
			subs = subs[:0]
			for sub := range set {
				subs = append(subs, sub)
			}
			h.mu.RUnlock()
			d := &delivery{msg: *m, picked: now}
			for _, sub := range subs {
				sub.deliver(d)
			}
		}
	}
}

// pingAll pings every WebSocket each interval until ctx ends: one
// goroutine for all connections instead of one each.
func (h *hub) pingAll(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var conns []*conn
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.mu.RLock()
		conns = conns[:0]
		for c := range h.conns {
			if c.ping != nil {
				conns = append(conns, c)
			}
		}
		h.mu.RUnlock()
		for _, c := range conns {
			c.ping()
		}
	}
}

// resyncAll makes every subscription catch up from the log.
func (h *hub) resyncAll() {
	h.mu.RLock()
	all := map[*subscription]struct{}{}
	for _, set := range h.channels {
		for sub := range set {
			all[sub] = struct{}{}
		}
	}
	h.mu.RUnlock()
	for sub := range all {
		sub.resync()
	}
}

// closeAll closes every connection as the server shuts down; clients
// reconnect (to another node) and resume.
func (h *hub) closeAll() {
	h.mu.RLock()
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.RUnlock()
	for _, c := range conns {
		c.fail(&closeReason{code: closeShutdown, text: "server shutting down"})
	}
}
