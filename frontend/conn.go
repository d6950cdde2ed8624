package frontend

import (
	"encoding/json"
	"errors"
	"sync"
)

var errConnClosed = errors.New("connection closed")

// closeReason says why the server ends a connection: an error frame to send
// first (optional) and the WebSocket close code.
type closeReason struct {
	frame []byte
	code  int
	text  string
}

// conn is one subscriber connection, WebSocket or SSE: its principal, its
// subscriptions and its bounded outgoing queue. The tailer pushes live
// frames without blocking; replays push with backpressure; one writer at a
// time drains the queue to the socket.
type conn struct {
	s         *Server
	transport string
	p         *principal
	clientID  string
	ip        string

	mu      sync.Mutex
	queue   []frame
	space   chan struct{} // closed when the writer takes frames; nil if nobody waits
	closing *closeReason
	subs    map[string]*subscription // by channel (WebSocket); guarded by mu
	// kick starts or wakes the writer. Requires mu held.
	kick func()
	// ping, when set, sends a transport-level ping (WebSocket).
	ping func()

	done     chan struct{} // closed when the connection has ended
	doneOnce sync.Once
	replays  sync.WaitGroup
}

func newConn(s *Server, transport string, p *principal, clientID, ip string) *conn {
	return &conn{s: s, transport: transport, p: p, clientID: clientID, ip: ip, subs: map[string]*subscription{}, done: make(chan struct{})}
}

// push queues a live frame without blocking. When the queue is full the
// subscriber is too slow: the connection is closed with a slow-consumer
// error (it may resume from its last ID) and push returns false.
func (c *conn) push(f frame) bool {
	c.mu.Lock()
	if c.closing != nil {
		c.mu.Unlock()
		return false
	}
	if len(c.queue) >= c.s.cfg.QueueFrames {
		c.mu.Unlock()
		c.s.metrics.slowConsumers.Inc()
		c.fail(&closeReason{
			frame: mustJSON(errorFrame{Type: "error", Code: "SLOW_CONSUMER", Error: "the subscriber fell too far behind and was disconnected; reconnect and resume from the last message ID"}),
			code:  closeSlowConsumer, text: "slow consumer",
		})
		return false
	}
	c.queue = append(c.queue, f)
	c.kick()
	c.mu.Unlock()
	return true
}

// pushWait queues a frame, waiting while the queue is half full so that a
// replay leaves room for live frames of the connection's other channels.
func (c *conn) pushWait(f frame) error {
	for {
		c.mu.Lock()
		if c.closing != nil {
			c.mu.Unlock()
			return errConnClosed
		}
		if len(c.queue) < c.s.cfg.QueueFrames/2 {
			c.queue = append(c.queue, f)
			c.kick()
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
			return errConnClosed
		}
	}
}

// take removes and returns the queued frames, and the close reason once
// the connection is closing. Called by the writer.
func (c *conn) take() ([]frame, *closeReason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	if c.space != nil {
		close(c.space)
		c.space = nil
	}
	return q, c.closing
}

// fail starts closing the connection with a reason; the writer sends it.
func (c *conn) fail(r *closeReason) {
	c.mu.Lock()
	if c.closing == nil {
		c.closing = r
		c.kick()
	}
	c.mu.Unlock()
}

// finish marks the connection ended: replays stop and its subscriptions
// leave the hub. Called once by the goroutine that owns the socket.
func (c *conn) finish() {
	c.doneOnce.Do(func() {
		c.mu.Lock()
		if c.closing == nil {
			c.closing = &closeReason{code: closeShutdown}
		}
		subs := make([]*subscription, 0, len(c.subs))
		for _, sub := range c.subs {
			subs = append(subs, sub)
		}
		c.subs = map[string]*subscription{}
		c.mu.Unlock()
		close(c.done)
		for _, sub := range subs {
			c.s.hub.remove(sub)
		}
		c.replays.Wait()
	})
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
