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

	mu sync.Mutex // guards the fields below
	// faults is the current fault setting; changed is closed and replaced
	// whenever it changes, waking every pump.
	faults  Faults
	changed chan struct{}
	conns   map[*proxyConn]struct{}
	rng     *rand.Rand
	closed  bool

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
	p := &Proxy{
		ln:      ln,
		target:  target,
		changed: make(chan struct{}),
		conns:   map[*proxyConn]struct{}{},
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address clients should dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target returns the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// SetFaults replaces the fault setting. Cut closes open connections at once;
// lifting Stall releases held traffic in order.
func (p *Proxy) SetFaults(f Faults) {
	if f.LossPenalty <= 0 {
		f.LossPenalty = 200 * time.Millisecond
	}
	p.mu.Lock()
	p.faults = f
	close(p.changed)
	p.changed = make(chan struct{})
	var cut []*proxyConn
	if f.Cut {
		for c := range p.conns {
			cut = append(cut, c)
		}
	}
	p.mu.Unlock()
	for _, c := range cut {
		c.close()
	}
}

// Faults returns the current fault setting.
func (p *Proxy) Faults() Faults {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

// Heal removes every fault.
func (p *Proxy) Heal() { p.SetFaults(Faults{}) }

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
		refuse := p.faults.Cut || p.closed
		p.mu.Unlock()
		if refuse {
			if tc, ok := down.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // reset, like a refused path
			}
			down.Close()
			continue
		}
		p.wg.Add(1)
		go p.serve(down)
	}
}

// proxyConn is one client connection and its upstream.
type proxyConn struct {
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
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		down.Close()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &proxyConn{down: down, up: up, ctx: ctx, cancel: cancel}
	p.mu.Lock()
	if p.closed || p.faults.Cut {
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
				due := time.Now().Add(p.holdFor())
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
		if err := p.waitDeliverable(c.ctx, ch.due); err != nil {
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
func (p *Proxy) holdFor() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.faults.Delay
	if p.faults.Jitter > 0 {
		d += time.Duration(p.rng.Int64N(int64(p.faults.Jitter)))
	}
	if p.faults.LossRate > 0 && p.rng.Float64() < p.faults.LossRate {
		d += p.faults.LossPenalty
	}
	return d
}

// waitDeliverable returns once due has passed and no stall is on, or with
// an error when the connection ends first.
func (p *Proxy) waitDeliverable(ctx context.Context, due time.Time) error {
	for {
		p.mu.Lock()
		stall, cut, changed := p.faults.Stall, p.faults.Cut, p.changed
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
