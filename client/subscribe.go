package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Transport selects how a Subscription receives messages.
type Transport int

const (
	// WebSocket subscribes over /ws (the default).
	WebSocket Transport = iota
	// SSE subscribes over /sse, the server-sent events extension.
	SSE
)

func (t Transport) String() string {
	if t == SSE {
		return "sse"
	}
	return "ws"
}

// SubscribeOptions configures a Subscription. The zero value subscribes over
// WebSocket to live messages only.
type SubscribeOptions struct {
	// FromID resumes after this message ID: the subscription first receives
	// every retained message after it, then live ones. Empty means live
	// messages only; until the first message arrives a reconnect then cannot
	// recover messages published while disconnected.
	FromID string
	// Transport is WebSocket (default) or SSE.
	Transport Transport
	// Buffer is the capacity of the Events channel. Default 256.
	Buffer int
	// ReportConnects makes the subscription deliver an EventConnected each
	// time it (re)subscribes on a node.
	ReportConnects bool
}

// EventKind says what an Event carries.
type EventKind int

const (
	// EventMessage carries a Message.
	EventMessage EventKind = iota + 1
	// EventGap carries a Gap: messages compacted before they could be
	// delivered. Delivery continues with Gap.Before.
	EventGap
	// EventConnected reports a (re)subscription on node Addr resuming after
	// From; only with SubscribeOptions.ReportConnects.
	EventConnected
)

func (k EventKind) String() string {
	switch k {
	case EventMessage:
		return "message"
	case EventGap:
		return "gap"
	case EventConnected:
		return "connected"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one item of a Subscription's stream.
type Event struct {
	Kind    EventKind
	Message Message // EventMessage
	Gap     Gap     // EventGap
	// Addr is the node's base URL and From the ID resumed after
	// (EventConnected).
	Addr string
	From string
	// Recovered is the server's "recovered" flag on a WebSocket resume, nil
	// when not reported.
	Recovered *bool
}

// SubscriptionStats counts what a Subscription has done so far.
type SubscriptionStats struct {
	// Connects counts successful (re)subscriptions.
	Connects int
	// Failures counts connection attempts and connections that ended in an
	// error.
	Failures int
	// Delivered counts messages handed to Events.
	Delivered int
	// Dropped counts messages not delivered because their ID was at or
	// below the last delivered one (a server replaying too much).
	Dropped int
}

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("subscription closed")

// Subscription is a channel subscription that survives disconnects. One
// goroutine owns the connection; Events, Next, LastID, Stats, Err and Close
// may be called from any goroutine.
type Subscription struct {
	c       *Client
	channel string
	opts    SubscribeOptions
	events  chan Event
	cancel  context.CancelFunc
	done    chan struct{}
	ready   chan struct{}

	mu sync.Mutex // guards the fields below
	// last is the resume point: FromID, then the last delivered ID.
	last string
	// delivered is the last delivered ID. Only it filters repeats: FromID
	// may be an ID the server never issued (one kept from another
	// service), which the server answers live, and whose order against
	// this server's IDs means nothing.
	delivered string
	err       error
	closed    bool
	stats     SubscriptionStats
	readyOnce bool
}

// Subscribe starts a subscription to channel and returns at once; the
// connection is made in the background. Messages arrive on Events in channel
// order, each ID greater than the one before. The subscription ends when ctx
// is cancelled, Close is called, or the server refuses it for good
// (UNAUTHORIZED, FORBIDDEN, VALIDATION_ERROR); Err then says why.
func (c *Client) Subscribe(ctx context.Context, channel string, opts SubscribeOptions) (*Subscription, error) {
	if err := ValidateChannel(channel); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	if opts.Transport != WebSocket && opts.Transport != SSE {
		return nil, fmt.Errorf("subscribe: transport %d is neither WebSocket nor SSE", int(opts.Transport))
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 256
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Subscription{
		c:       c,
		channel: channel,
		opts:    opts,
		events:  make(chan Event, opts.Buffer),
		cancel:  cancel,
		done:    make(chan struct{}),
		ready:   make(chan struct{}),
		last:    opts.FromID,
	}
	go s.run(ctx)
	return s, nil
}

// Events returns the stream of events. It is closed when the subscription
// ends.
func (s *Subscription) Events() <-chan Event { return s.events }

// Next waits for the next event. After the subscription ends it returns Err,
// or ErrClosed if that is nil.
func (s *Subscription) Next(ctx context.Context) (Event, error) {
	select {
	case ev, ok := <-s.events:
		if !ok {
			if err := s.Err(); err != nil {
				return Event{}, err
			}
			return Event{}, ErrClosed
		}
		return ev, nil
	case <-ctx.Done():
		return Event{}, ctx.Err()
	}
}

// WaitConnected blocks until the subscription has been accepted by a node
// once, or ctx ends, or the subscription ends.
func (s *Subscription) WaitConnected(ctx context.Context) error {
	select {
	case <-s.ready:
		return nil
	case <-s.done:
		if err := s.Err(); err != nil {
			return err
		}
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// LastID returns the ID of the last message delivered, or FromID if none.
func (s *Subscription) LastID() string { return locked(&s.mu, &s.last) }

// Stats returns counters of the subscription's life so far.
func (s *Subscription) Stats() SubscriptionStats { return locked(&s.mu, &s.stats) }

// Err returns why the subscription ended: nil while it runs and after
// Close, the context's error if it was cancelled, or the server's refusal.
func (s *Subscription) Err() error { return locked(&s.mu, &s.err) }

// locked reads *v under mu.
func locked[T any](mu *sync.Mutex, v *T) T {
	mu.Lock()
	defer mu.Unlock()
	return *v
}

// Close ends the subscription and waits for its goroutines to stop. Events
// is closed when it returns.
func (s *Subscription) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	<-s.done
	return nil
}

// run is the subscription's goroutine: connect, read until the connection
// fails, back off, move to the next node, repeat.
func (s *Subscription) run(ctx context.Context) {
	defer close(s.done)
	defer close(s.events)
	c := s.c
	log := c.logger.With("channel", s.channel, "transport", s.opts.Transport.String())
	backoff := c.cfg.MinBackoff
	idx := int(c.next.Load()) % len(c.addrs)
	for {
		base := c.addrs[idx%len(c.addrs)]
		var delivered bool
		var err error
		if s.opts.Transport == SSE {
			delivered, err = s.runSSE(ctx, base)
		} else {
			delivered, err = s.runWS(ctx, base)
		}
		if ctx.Err() != nil {
			s.finish(ctx.Err())
			return
		}
		if isFatal(err) {
			log.Warn("subscription refused", "addr", base.String(), "err", err)
			s.finish(err)
			return
		}
		s.mu.Lock()
		s.stats.Failures++
		s.mu.Unlock()
		if delivered {
			backoff = c.cfg.MinBackoff
		}
		// Full jitter over the upper half keeps reconnect storms apart.
		d := backoff/2 + rand.N(backoff/2+1)
		log.Info("subscription disconnected, reconnecting", "addr", base.String(), "err", err, "after", d)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			s.finish(ctx.Err())
			return
		case <-t.C:
		}
		backoff = min(backoff*2, c.cfg.MaxBackoff)
		idx++
	}
}

func (s *Subscription) finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		err = nil
	}
	s.err = err
}

// connected records a successful (re)subscription and reports it.
func (s *Subscription) connected(ctx context.Context, addr string, recovered *bool) error {
	s.mu.Lock()
	s.stats.Connects++
	from := s.last
	first := !s.readyOnce
	s.readyOnce = true
	s.mu.Unlock()
	if first {
		close(s.ready)
	}
	if !s.opts.ReportConnects {
		return nil
	}
	return s.emit(ctx, Event{Kind: EventConnected, Addr: addr, From: from, Recovered: recovered})
}

// deliverMessage hands m on unless its ID is not after the last delivered
// one. It returns whether m was delivered.
func (s *Subscription) deliverMessage(ctx context.Context, m Message) (bool, error) {
	s.mu.Lock()
	if s.delivered != "" && m.ID <= s.delivered {
		s.stats.Dropped++
		s.mu.Unlock()
		return false, nil
	}
	// Count it before handing it on, so a reader that has the event sees
	// it in Stats and LastID; a failed emit means the subscription is over.
	s.last, s.delivered = m.ID, m.ID
	s.stats.Delivered++
	s.mu.Unlock()
	if err := s.emit(ctx, Event{Kind: EventMessage, Message: m}); err != nil {
		return false, err
	}
	return true, nil
}

func (s *Subscription) emit(ctx context.Context, ev Event) error {
	select {
	case s.events <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// isFatal reports whether err means retrying cannot help.
func isFatal(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Code {
	case "UNAUTHORIZED", "FORBIDDEN", "VALIDATION_ERROR":
		return true
	}
	return ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden || ae.Status == http.StatusBadRequest
}

func (s *Subscription) key() string {
	if s.c.cfg.PublishKey != "" {
		return s.c.cfg.PublishKey
	}
	return s.c.cfg.SecretKey
}
