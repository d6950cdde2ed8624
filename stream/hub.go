package stream

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushflo/pushflo/internal/clock"
	"github.com/pushflo/pushflo/internal/defaults"
	"github.com/pushflo/pushflo/log"
)

// Log is what the stream reads: the head and feed of applied messages for
// live delivery, channel records, and the retention-aware read for replay.
// *log.Store implements it.
type Log interface {
	// Head returns the highest applied position and a channel closed when
	// it next moves.
	Head() (pos uint64, changed <-chan struct{})
	// Feed returns applied messages after a position, in position order,
	// or lapped when they have left the feed.
	Feed(after uint64, max int) (msgs []log.Message, lapped bool)
	// Channel returns a channel's record.
	Channel(slug string) (log.Channel, bool)
	// Since reads a channel after a position, hiding messages older than
	// cutoff (Unix ms) and naming the gap they leave.
	Since(channel string, after uint64, limit int, cutoff int64) (log.Catchup, error)
}

// Config configures a Hub. Zero values mean the defaults of DefaultConfig,
// except Retention, which is required.
type Config struct {
	// QueueFrames bounds each connection's outgoing queue; a subscriber
	// whose queue fills is failed as a slow consumer. Default 4096.
	QueueFrames int
	// QueueBytes bounds each connection's outgoing queue in bytes
	// (Frame.Size): live frames past it fail the connection as a slow
	// consumer; a replay waits while the queue holds half of it and reads
	// the log in pages of about that size, so a stalled subscriber holds
	// about QueueBytes plus one write batch whatever it resumes from.
	// Default 256 KiB (10,000 stalled connections: about 3 GiB).
	QueueBytes int
	// MaxSubscriptionsPerConn bounds Subscribe per connection; default 100.
	MaxSubscriptionsPerConn int
	// PingInterval is how often each connection's ping hook runs; default
	// 25s.
	PingInterval time.Duration
	// AccessInterval is how often every connection's subscriptions are
	// checked against its access (a channel made private drops subscribers
	// without a grant within this time even when nothing is published;
	// a message is never delivered without the check). Default 1s.
	AccessInterval time.Duration
	// Retention gives a channel's retention: messages older are never
	// replayed. Required (compaction.Policy.Retention in the binary).
	Retention func(c *log.Channel) time.Duration
	// Now is the clock reads measure expiry against. Nil means the node's
	// wall clock (internal/clock) behind a clock.Guard with a 5 s
	// tolerance: a clock that jumps forward hides nothing early. Tests that
	// expire messages by moving the clock set clock.Now here.
	Now func() time.Time
	// Logger receives logs; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the configuration a zero (or negative) field falls
// back to; Retention is left nil.
func DefaultConfig() Config {
	return Config{QueueFrames: 4096, QueueBytes: 256 << 10, MaxSubscriptionsPerConn: 100, PingInterval: 25 * time.Second, AccessInterval: time.Second,
		Logger: slog.Default()}
}

// Hub fans applied messages out to the subscriptions of this node. One
// tailer goroutine follows the log's feed in position order and hands each
// message to the subscriptions of its channel, without ever blocking on a
// connection.
type Hub struct {
	cfg     Config
	log     Log
	logger  *slog.Logger
	metrics *metrics

	// guard holds back the read clock when Config.Now is nil; holding
	// tells whether it did so at the last reading (one log line per
	// episode).
	guard   clock.Guard
	holding atomic.Bool

	mu sync.RWMutex
	// channels maps a channel to its subscriptions. Guarded by mu.
	channels map[string]map[*subscription]struct{}
	// conns are the open connections. Guarded by mu.
	conns map[*Conn]struct{}

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New builds a hub over a log. Start runs it.
func New(cfg Config, l Log) (*Hub, error) {
	defaults.Fill(&cfg, DefaultConfig())
	if cfg.Retention == nil {
		return nil, errors.New("stream config: Retention is required")
	}
	h := &Hub{
		cfg: cfg, log: l, logger: cfg.Logger.With("component", "stream"), metrics: newMetrics(),
		guard:    clock.Guard{Tolerance: 5 * time.Second},
		channels: map[string]map[*subscription]struct{}{}, conns: map[*Conn]struct{}{},
	}
	h.guard.Now() // the reference: the clock as the hub starts
	return h, nil
}

// Start launches the tailer and the pinger; Close stops them.
func (h *Hub) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.wg.Go(func() { h.tail(ctx) })
	h.wg.Go(func() { h.pingAll(ctx, h.cfg.PingInterval) })
	h.wg.Go(func() {
		t := time.NewTicker(h.cfg.AccessInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				h.checkAllAccess()
			}
		}
	})
}

// Close fails every connection with CloseShutdown and stops the tailer and
// pinger, waiting for them. Connections end when their transports finish
// them.
func (h *Hub) Close() {
	h.CloseAll()
	if h.cancel != nil {
		h.cancel()
	}
	h.wg.Wait()
}

// Config returns the hub's effective configuration, defaults filled in.
func (h *Hub) Config() Config { return h.cfg }

// Retention returns how long a channel keeps messages, by the policy the
// hub was given.
func (h *Hub) Retention(c *log.Channel) time.Duration { return h.cfg.Retention(c) }

// Cutoff returns the oldest message time (Unix ms) a reader of the channel
// may still see: older messages have expired even if compaction has not
// dropped them yet. It is measured at Now, which by default may not run
// ahead of elapsed time (see Config.Now): a node whose clock jumps forward
// does not hide messages still within retention on the other nodes'
// clocks.
func (h *Hub) Cutoff(channel string) int64 {
	c, ok := h.log.Channel(channel)
	if !ok {
		c = log.Channel{Slug: channel}
	}
	return h.now().Add(-h.cfg.Retention(&c)).UnixMilli()
}

// now is the time reads measure expiry at.
func (h *Hub) now() time.Time {
	if h.cfg.Now != nil {
		return h.cfg.Now()
	}
	now, held := h.guard.Now()
	if h.holding.Swap(held) != held && held {
		h.logger.Warn("wall clock ran ahead of elapsed time; reads hide expired messages as of the elapsed time instead", "wall", clock.Now().UTC().Format(time.RFC3339), "used", now.UTC().Format(time.RFC3339))
	}
	return now
}

// Since reads up to limit messages of a channel after a position as a
// reader may see them: expired ones hidden, the gap they leave named.
func (h *Hub) Since(channel string, after uint64, limit int) (log.Catchup, error) {
	return h.log.Since(channel, after, limit, h.Cutoff(channel))
}

func (h *Hub) addConn(c *Conn) {
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	h.metrics.connections.WithLabelValues(c.transport).Inc()
}

func (h *Hub) removeConn(c *Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.metrics.connections.WithLabelValues(c.transport).Dec()
}

// connList returns the open connections, copied so that the caller can
// act on them without holding h.mu.
func (h *Hub) connList() []*Conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return slices.Collect(maps.Keys(h.conns))
}

// ConnCount returns how many connections are open.
func (h *Hub) ConnCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.conns)
}

// QueuedBytes returns the bytes queued on all connections, waiting for
// their writers (Frame.Size).
func (h *Hub) QueuedBytes() int {
	n := 0
	for _, c := range h.connList() {
		c.mu.Lock()
		n += c.queuedBytes
		c.mu.Unlock()
	}
	return n
}

// ChannelCount returns how many channels have subscriptions.
func (h *Hub) ChannelCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.channels)
}

// add registers a subscription for live delivery.
func (h *Hub) add(sub *subscription) {
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
	h.metrics.subscriptions.Add(float64(len(sub.channels)))
}

// remove unregisters a subscription and stops its replay.
func (h *Hub) remove(sub *subscription) {
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
	h.metrics.subscriptions.Sub(float64(len(sub.channels)))
}

// SubscriberCount returns how many subscriptions this node holds on a
// channel: the "delivered" figure of a publish.
func (h *Hub) SubscriberCount(channel string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.channels[channel])
}

// tail follows the log's feed until ctx ends.
func (h *Hub) tail(ctx context.Context) {
	cursor, _ := h.log.Head()
	var subs []*subscription
	for {
		_, changed := h.log.Head()
		msgs, lapped := h.log.Feed(cursor, 4096)
		if lapped {
			// The feed moved on without us (or the store was restored from
			// a snapshot): every subscription catches up from the log.
			cursor, _ = h.log.Head()
			h.logger.Warn("tailer lapped by the feed; subscriptions catch up from the log", "head", log.FormatID(cursor))
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
			d := &Delivery{Message: *m, Picked: now}
			info, _ := h.log.Channel(m.Channel)
			for _, sub := range subs {
				if !sub.c.mayRead(m.Channel, info.IsPrivate) {
					sub.c.revoke(sub, m.Channel)
					continue
				}
				sub.deliver(d)
			}
		}
	}
}

// pingAll queues every connection's ping frame each interval until ctx
// ends: one goroutine for all connections instead of one each.
func (h *Hub) pingAll(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var conns []*Conn
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
			c.Push(Frame{Data: c.ping})
		}
	}
}

// resyncAll makes every subscription catch up from the log.
func (h *Hub) resyncAll() {
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

// CloseAll fails every connection with CloseShutdown as the server shuts
// down; clients reconnect (to another node) and resume.
func (h *Hub) CloseAll() {
	for _, c := range h.connList() {
		c.Fail(CloseReason{Kind: CloseShutdown})
	}
}
