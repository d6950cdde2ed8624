package jepsen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Proxy is a fault-injecting TCP proxy: it forwards every connection made to
// its address to a target and can delay, lose, stall or cut the traffic. It
// is the nemesis's tool where network namespaces are unavailable, and
// between clients and nodes in any case.
//
// Faults act per direction on chunks of bytes as read from the sockets, and
// never reorder or corrupt a stream, as TCP would not:
//   - Delay holds each chunk for a fixed time plus jitter.
//   - Loss makes a chunk wait an extra retransmission penalty with a given
//     probability: to TCP, loss is latency.
//   - Stall forwards nothing while keeping connections open, like a
//     partition that drops packets silently; Heal releases what was held.
//   - Cut closes every connection and refuses new ones, like a reset.
type Proxy struct {
	ln     net.Listener
	target string
	dial   func() (net.Conn, error)
	source func(net.Conn) string

	mu sync.Mutex // guards the fields below
	// faults is the current fault setting; bySource overrides it for the
	// connections whose source (ProxyConfig.Source) is a key. changed is
	// closed and replaced whenever either changes, waking every pump.
	faults   Faults
	bySource map[string]Faults
	changed  chan struct{}
	conns    map[*proxyConn]struct{}
	rng      *rand.Rand
	closed   bool

	wg sync.WaitGroup
}

// Faults is what a Proxy does to traffic. The zero value forwards as is.
type Faults struct {
	// Delay and Jitter hold each chunk Delay plus a uniform [0, Jitter).
	Delay  time.Duration
	Jitter time.Duration
	// LossRate in [0, 1] is the chance that a chunk waits LossPenalty more
	// (default 200ms, a retransmission timeout).
	LossRate    float64
	LossPenalty time.Duration
	// Stall holds all traffic while true.
	Stall bool
	// Cut closes connections and refuses new ones while true.
	Cut bool
}

// StartProxy listens on listenAddr ("127.0.0.1:0" for any port) and forwards
// to target. seed makes the jitter and loss draws reproducible.
func StartProxy(listenAddr, target string, seed uint64) (*Proxy, error) {
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("proxy listen %s: %w", listenAddr, err)
	}
	return NewProxy(ProxyConfig{Listener: ln, Target: target, Seed: seed}), nil
}

// ProxyConfig describes a Proxy built by NewProxy.
type ProxyConfig struct {
	// Listener accepts the connections to forward. Required; the Proxy
	// closes it.
	Listener net.Listener
	// Target is the address forwarded to, for Dial and for reports.
	Target string
	// Dial opens the upstream connection. Default: TCP to Target within 5s.
	// A network namespace harness dials from inside the node's namespace.
	Dial func() (net.Conn, error)
	// Source names where an accepted connection comes from (a node ID), so
	// SetSourceFaults can treat the links into the target one by one.
	// Default: every connection has source "".
	Source func(net.Conn) string
	// Seed makes the jitter and loss draws reproducible.
	Seed uint64
}

// NewProxy starts forwarding the connections cfg.Listener accepts.
func NewProxy(cfg ProxyConfig) *Proxy {
	p := &Proxy{
		ln:       cfg.Listener,
		target:   cfg.Target,
		dial:     cfg.Dial,
		source:   cfg.Source,
		bySource: map[string]Faults{},
		changed:  make(chan struct{}),
		conns:    map[*proxyConn]struct{}{},
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
	}
	if p.dial == nil {
		p.dial = func() (net.Conn, error) { return net.DialTimeout("tcp", p.target, 5*time.Second) }
	}
	if p.source == nil {
		p.source = func(net.Conn) string { return "" }
	}
	p.wg.Add(1)
	go p.accept()
	return p
}

// Addr returns the address clients should dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target returns the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// SetFaults replaces the fault setting. Cut closes open connections at once;
// lifting Stall releases held traffic in order.
func (p *Proxy) SetFaults(f Faults) {
	p.mu.Lock()
	p.faults = f.withDefaults()
	p.changedLocked()
}

// SetSourceFaults replaces the per-source settings: a connection whose
// source (ProxyConfig.Source) is a key of m gets that setting instead of
// the one given to SetFaults. Nil or empty removes every override.
func (p *Proxy) SetSourceFaults(m map[string]Faults) {
	p.mu.Lock()
	p.bySource = map[string]Faults{}
	for k, f := range m {
		p.bySource[k] = f.withDefaults()
	}
	p.changedLocked()
}

// changedLocked wakes the pumps and closes the connections now cut. It
// requires p.mu held and releases it.
func (p *Proxy) changedLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
	var cut []*proxyConn
	for c := range p.conns {
		if p.faultsForLocked(c.src).Cut {
			cut = append(cut, c)
		}
	}
	p.mu.Unlock()
	for _, c := range cut {
		c.close()
	}
}

func (f Faults) withDefaults() Faults {
	if f.LossPenalty <= 0 {
		f.LossPenalty = 200 * time.Millisecond
	}
	return f
}

// faultsForLocked returns the setting for connections from src. It
// requires p.mu held.
func (p *Proxy) faultsForLocked(src string) Faults {
	if f, ok := p.bySource[src]; ok {
		return f
	}
	return p.faults
}

// Faults returns the current fault setting (without per-source overrides).
func (p *Proxy) Faults() Faults {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

// Heal removes every fault, per-source overrides included.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.faults = Faults{}.withDefaults()
	p.bySource = map[string]Faults{}
	p.changedLocked()
}

// Close stops listening, closes every connection and waits for the proxy's
// goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	conns := make([]*proxyConn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	err := p.ln.Close()
	for _, c := range conns {
		c.close()
	}
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed {
			down.Close()
			continue
		}
		p.wg.Add(1)
		go p.serve(down)
	}
}

// refuse resets a connection, like a refused path.
func refuse(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// proxyConn is one client connection and its upstream.
type proxyConn struct {
	src      string
	down, up net.Conn
	once     sync.Once
	ctx      context.Context
	cancel   context.CancelFunc
}

func (c *proxyConn) close() {
	c.once.Do(func() {
		c.cancel()
		c.down.Close()
		if c.up != nil {
			c.up.Close()
		}
	})
}

func (p *Proxy) serve(down net.Conn) {
	defer p.wg.Done()
	src := p.source(down)
	p.mu.Lock()
	cut := p.faultsForLocked(src).Cut
	p.mu.Unlock()
	if cut {
		refuse(down)
		return
	}
	up, err := p.dial()
	if err != nil {
		down.Close()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &proxyConn{src: src, down: down, up: up, ctx: ctx, cancel: cancel}
	p.mu.Lock()
	if p.closed || p.faultsForLocked(src).Cut {
		p.mu.Unlock()
		c.close()
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pump(c, down, up) }()
	go func() { defer wg.Done(); p.pump(c, up, down) }()
	wg.Wait()
	c.close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// chunk is a piece of stream due for delivery at due.
type chunk struct {
	b   []byte
	due time.Time
}

// pump copies src to dst through the fault setting. A reader goroutine
// stamps chunks with their due time; the writer (this goroutine) waits for
// that time and for the stall to lift. The bounded queue gives TCP
// backpressure: a stalled proxy stops reading, so the sender's buffers fill.
func (p *Proxy) pump(c *proxyConn, src, dst net.Conn) {
	q := make(chan chunk, 64)
	var readErr error
	go func() {
		defer close(q)
		var last time.Time
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				due := time.Now().Add(p.holdFor(c.src))
				if due.Before(last) {
					due = last // never reorder
				}
				last = due
				select {
				case q <- chunk{b: buf[:n], due: due}:
				case <-c.ctx.Done():
					return
				}
			}
			if err != nil {
				readErr = err
				return
			}
		}
	}()
	for ch := range q {
		if err := p.waitDeliverable(c.ctx, c.src, ch.due); err != nil {
			c.close()
			return
		}
		if _, err := dst.Write(ch.b); err != nil {
			c.close()
			return
		}
	}
	// q is closed, so readErr is set. A clean EOF is passed on as a
	// half-close and the other direction keeps running; anything else ends
	// the connection.
	tc, ok := dst.(*net.TCPConn)
	if errors.Is(readErr, io.EOF) && ok {
		_ = tc.CloseWrite()
		return
	}
	c.close()
}

// holdFor draws how long a chunk read now is held.
func (p *Proxy) holdFor(src string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.faultsForLocked(src)
	d := f.Delay
	if f.Jitter > 0 {
		d += time.Duration(p.rng.Int64N(int64(f.Jitter)))
	}
	if f.LossRate > 0 && p.rng.Float64() < f.LossRate {
		d += f.LossPenalty
	}
	return d
}

// waitDeliverable returns once due has passed and no stall is on, or with
// an error when the connection ends first.
func (p *Proxy) waitDeliverable(ctx context.Context, src string, due time.Time) error {
	for {
		p.mu.Lock()
		f := p.faultsForLocked(src)
		stall, cut, changed := f.Stall, f.Cut, p.changed
		p.mu.Unlock()
		if cut {
			return errors.New("proxy cut")
		}
		if !stall {
			wait := time.Until(due)
			if wait <= 0 {
				return nil
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
				continue // re-check the stall
			case <-changed:
				t.Stop()
				continue
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
