package stream

import (
	"errors"
	"sync"
	"time"

	"github.com/pushflo/pushflo/log"
)

// Errors returned to a connection's owner.
var (
	// ErrConnClosed is returned by PushWait once the connection is closing.
	ErrConnClosed = errors.New("connection closed")
	// ErrSubscribed is returned by Subscribe when the key is subscribed
	// already.
	ErrSubscribed = errors.New("already subscribed")
	// ErrTooManySubscriptions is returned by Subscribe when the connection
	// holds Config.MaxSubscriptionsPerConn subscriptions.
	ErrTooManySubscriptions = errors.New("too many subscriptions on this connection")
)

// CloseKind says why a connection ends.
type CloseKind int

// Reasons to end a connection. The transport maps each to its wire form
// (an error frame, a WebSocket close code).
const (
	// CloseShutdown: the server is going away; resume elsewhere.
	CloseShutdown CloseKind = iota + 1
	// CloseSlowConsumer: the queue overflowed; resume from the last ID.
	CloseSlowConsumer
	// CloseReadFailed: replaying the log failed; reconnect to resume.
	CloseReadFailed
	// ClosePeer: the client closed; PeerCode is its close code.
	ClosePeer
	// CloseForbidden: a channel of the connection became private and the
	// connection holds no grant for it (Channel names it). Sent only by a
	// transport that cannot drop one subscription alone (SSE).
	CloseForbidden
	// CloseTokenExpired: the connection token's expiry passed; reconnect
	// (or refresh) with a new token and resume.
	CloseTokenExpired
)

// CloseReason is why a connection ends.
type CloseReason struct {
	Kind CloseKind
	// PeerCode is the client's close code, for ClosePeer.
	PeerCode int
	// Channel names the channel, for CloseForbidden.
	Channel string
}

// Access says whether a connection may read a channel, given whether the
// channel is private now. The stream asks it at subscribe time (through
// the transport), before each replayed page, for each live message, and
// every Config.AccessInterval, so that access holds for the life of a
// connection. It must be cheap and must not call back into the stream.
type Access func(channel string, private bool) bool

// Frame is one item of a connection's outgoing queue: a shared message, a
// gap announcement, or bytes the transport built for this connection.
type Frame struct {
	// Delivery is a message; its renderings are shared by all receivers.
	Delivery *Delivery
	// Gap announces messages the subscriber missed (retention).
	Gap *log.Gap
	// Data is a frame of this connection alone (control frames), in the
	// transport's own form, written as is.
	Data []byte
}

// frameOverhead approximates what a frame costs beyond its payload: the
// queue slot, the rendering's envelope and header.
const frameOverhead = 256

// Size approximates the bytes the frame holds while queued, for budgets: a
// message counts twice, once stored and once rendered for the wire.
func (f *Frame) Size() int {
	n := len(f.Data) + frameOverhead
	if f.Delivery != nil {
		m := &f.Delivery.Message
		n += 2 * (len(m.Content) + len(m.Channel) + len(m.EventType) + len(m.ClientID))
	}
	return n
}

// Conn is one subscriber connection, of any transport: its subscriptions
// and its bounded outgoing queue. The tailer pushes live frames without
// blocking; replays push with backpressure; one writer at a time, owned by
// the transport, drains the queue to the socket.
type Conn struct {
	hub       *Hub
	transport string
	// wake starts or wakes the transport's writer; called with mu held.
	wake func(c *Conn)
	// ping, when set, is queued by the hub's pinger every PingInterval.
	ping []byte

	mu sync.Mutex
	// queue and queuedBytes are the frames waiting for the writer and the
	// bytes they hold (Frame.Size). Guarded by mu.
	queue       []Frame
	queuedBytes int
	space       chan struct{} // closed when the writer takes frames; nil if nobody waits
	closing     *CloseReason
	// writing is true while a writer drains; stopped once the transport
	// wants no more writers. Guarded by mu.
	writing, stopped bool
	subs             map[string]*subscription // by key; guarded by mu
	// access decides reads (nil: all allowed); expiry fails the
	// connection with CloseTokenExpired; revoked is the transport's hook
	// for a subscription dropped for lack of access. Guarded by mu.
	access  Access
	expiry  *time.Timer
	revoked func(key, channel string)

	done     chan struct{} // closed when the connection has ended
	doneOnce sync.Once
	replays  sync.WaitGroup
}

// Open registers a connection. transport names it in metrics ("websocket",
// "sse"); wake is called, with the connection's lock held, when frames are
// queued and no writer runs: it must start or wake a writer for c without
// blocking or calling back into it. ping, if not nil, is queued (as Frame
// Data) every PingInterval. The owner calls Finish when the connection
// ends.
func (h *Hub) Open(transport string, wake func(c *Conn), ping []byte) *Conn {
	c := &Conn{hub: h, transport: transport, wake: wake, ping: ping, subs: map[string]*subscription{}, done: make(chan struct{})}
	h.addConn(c)
	return c
}

// wakeLocked starts the writer if none runs. Requires c.mu held.
func (c *Conn) wakeLocked() {
	if !c.writing && !c.stopped {
		c.writing = true
		c.wake(c)
	}
}

// enqueueLocked appends a frame. Requires c.mu held.
func (c *Conn) enqueueLocked(f Frame) {
	c.queue = append(c.queue, f)
	c.queuedBytes += f.Size()
	c.wakeLocked()
}

// Push queues a frame without blocking. When the queue is full the
// subscriber is too slow: the connection is failed with CloseSlowConsumer
// (it may resume from its last ID) and Push returns false.
func (c *Conn) Push(f Frame) bool {
	c.mu.Lock()
	if c.closing != nil {
		c.mu.Unlock()
		return false
	}
	if len(c.queue) >= c.hub.cfg.QueueFrames || (len(c.queue) > 0 && c.queuedBytes+f.Size() > c.hub.cfg.QueueBytes) {
		c.mu.Unlock()
		c.CutOffSlow()
		return false
	}
	c.enqueueLocked(f)
	c.mu.Unlock()
	return true
}

// PushWait queues a frame, waiting while the queue is half full so that a
// replay leaves room for live frames of the connection's other channels.
// It returns ErrConnClosed once the connection is closing.
func (c *Conn) PushWait(f Frame) error {
	for {
		c.mu.Lock()
		if c.closing != nil {
			c.mu.Unlock()
			return ErrConnClosed
		}
		if len(c.queue) == 0 || (len(c.queue) < c.hub.cfg.QueueFrames/2 && c.queuedBytes < c.hub.cfg.QueueBytes/2) {
			c.enqueueLocked(f)
			c.mu.Unlock()
			return nil
		}
		if c.space == nil {
			c.space = make(chan struct{})
		}
		space := c.space
		c.mu.Unlock()
		select {
		case <-space:
		case <-c.done:
			return ErrConnClosed
		}
	}
}

// Next is the writer's call: it removes and returns queued frames, at
// least one and no more than about maxBytes (Frame.Size; 0: all), and the
// close reason once the connection is closing (the writer then sends only
// that). ok is false when there is nothing to write: the writer must then
// stop, and the next Push wakes a new one. Frames are appended to buf[:0]
// so a writer can reuse one slice.
func (c *Conn) Next(buf []Frame, maxBytes int) (frames []Frame, closing *CloseReason, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 && c.closing == nil {
		c.writing = false
		return nil, nil, false
	}
	n, size := 0, 0
	for n < len(c.queue) && (n == 0 || maxBytes <= 0 || size+c.queue[n].Size() <= maxBytes) {
		size += c.queue[n].Size()
		n++
	}
	frames = append(buf[:0], c.queue[:n]...)
	clear(c.queue[:n])
	c.queue = c.queue[n:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	c.queuedBytes -= size
	if c.space != nil {
		close(c.space)
		c.space = nil
	}
	return frames, c.closing, true
}

// StopWriter tells the connection no writer may start from now on (the
// socket is closed or about to be). A running writer finishes its batch.
func (c *Conn) StopWriter() {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
}

// Written records frames the writer has written to the socket: deliveries
// and the live ones' latency.
func (c *Conn) Written(frames []Frame) { c.hub.metrics.written(frames) }

// CutOffSlow counts the connection as a slow consumer and fails it with
// CloseSlowConsumer. Push calls it when the queue overflows; a transport
// calls it when a write to the socket timed out (the client stopped
// reading before the queue filled).
func (c *Conn) CutOffSlow() {
	if c.fail(CloseReason{Kind: CloseSlowConsumer}) {
		c.hub.metrics.slowConsumers.Inc()
	}
}

// Fail starts closing the connection; the writer sends the reason. The
// first reason wins.
func (c *Conn) Fail(r CloseReason) { c.fail(r) }

// fail sets the close reason unless one is set, and reports whether it did.
func (c *Conn) fail(r CloseReason) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing != nil {
		return false
	}
	c.closing = &r
	c.wakeLocked()
	return true
}

// Finish ends the connection: its subscriptions leave the hub, replays
// stop (Finish waits for them), and the hub forgets it. Called once by the
// goroutine that owns the socket; later calls do nothing.
func (c *Conn) Finish() {
	c.doneOnce.Do(func() {
		c.mu.Lock()
		if c.closing == nil {
			c.closing = &CloseReason{Kind: CloseShutdown}
		}
		subs := make([]*subscription, 0, len(c.subs))
		for _, sub := range c.subs {
			subs = append(subs, sub)
		}
		c.subs = map[string]*subscription{}
		if c.expiry != nil {
			c.expiry.Stop()
		}
		c.mu.Unlock()
		close(c.done)
		for _, sub := range subs {
			c.hub.remove(sub)
		}
		c.replays.Wait()
		c.hub.removeConn(c)
	})
}
