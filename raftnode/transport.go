package raftnode

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Connections on the Raft port open with a mutual challenge–response proving
// that both ends know the cluster secret, then one byte says what the
// connection carries: Raft RPCs, or forwarded requests to the leader.
const (
	handshakeMagic   = "PUSHFLO1"
	nonceLen         = 16
	connRaft         = 'R'
	connForward      = 'F'
	handshakeTimeout = 5 * time.Second
)

// ErrUnauthenticated is returned when the far end of a Raft connection does
// not prove knowledge of the cluster secret.
var ErrUnauthenticated = errors.New("raft peer failed cluster-secret authentication")

// streamLayer is the raft.StreamLayer of a node: a TCP listener whose
// connections are authenticated and then routed by kind.
type streamLayer struct {
	ln        net.Listener
	advertise net.Addr
	secret    []byte
	logger    *slog.Logger

	raftConns chan net.Conn
	forward   func(net.Conn) // serves a connForward connection
	done      chan struct{}
	closeOnce sync.Once
	// wg tracks the accept loop and the routers, each of which serves a
	// forward connection until it closes.
	wg sync.WaitGroup

	mu       sync.Mutex
	forwards map[net.Conn]struct{} // open forward connections; guarded by mu
}

func newStreamLayer(bind, advertise string, secret []byte, logger *slog.Logger) (*streamLayer, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("listen on raft address %s: %w", bind, err)
	}
	var adv net.Addr = ln.Addr()
	if advertise != "" {
		a, err := net.ResolveTCPAddr("tcp", advertise)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("resolve advertise address %q: %w", advertise, err)
		}
		adv = a
	}
	s := &streamLayer{ln: ln, advertise: adv, secret: secret, logger: logger, raftConns: make(chan net.Conn), done: make(chan struct{}), forwards: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

func (s *streamLayer) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			s.logger.Warn("accept on raft port", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.route(c)
		}()
	}
}

// route authenticates an inbound connection and hands it on by kind.
func (s *streamLayer) route(c net.Conn) {
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	kind, err := serverHandshake(c, s.secret)
	if err != nil {
		s.logger.Warn("rejected raft connection", "remote", c.RemoteAddr().String(), "err", err)
		c.Close()
		return
	}
	c.SetDeadline(time.Time{})
	switch kind {
	case connRaft:
		select {
		case s.raftConns <- c:
		case <-s.done:
			c.Close()
		}
	case connForward:
		s.mu.Lock()
		select {
		case <-s.done:
			s.mu.Unlock()
			c.Close()
			return
		default:
		}
		s.forwards[c] = struct{}{}
		s.mu.Unlock()
		if s.forward != nil {
			s.forward(c)
		}
		c.Close()
		s.mu.Lock()
		delete(s.forwards, c)
		s.mu.Unlock()
	default:
		c.Close()
	}
}

// Accept returns the next authenticated Raft connection.
func (s *streamLayer) Accept() (net.Conn, error) {
	select {
	case c := <-s.raftConns:
		return c, nil
	case <-s.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting and closes the forward connections it serves.
// Raft connections already accepted belong to the transport.
func (s *streamLayer) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		close(s.done)
		for c := range s.forwards {
			c.Close()
		}
		s.mu.Unlock()
		s.ln.Close()
	})
	return nil
}

// wait waits for the accept loop and connection routers to stop; call it
// after Close.
func (s *streamLayer) wait() { s.wg.Wait() }

func (s *streamLayer) Addr() net.Addr { return s.advertise }

// Dial opens an authenticated Raft connection.
func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return s.dial(string(addr), timeout, connRaft)
}

func (s *streamLayer) dial(addr string, timeout time.Duration, kind byte) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := clientHandshake(c, s.secret, kind); err != nil {
		c.Close()
		return nil, fmt.Errorf("handshake with %s: %w", addr, err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

func mac(secret []byte, role string, a, b []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(role))
	m.Write(a)
	m.Write(b)
	return m.Sum(nil)
}

// clientHandshake: send magic+nonceC; read nonceS+mac("server"); send
// mac("client") and the kind byte.
func clientHandshake(c net.Conn, secret []byte, kind byte) error {
	nc := make([]byte, nonceLen)
	rand.Read(nc)
	if _, err := c.Write(append([]byte(handshakeMagic), nc...)); err != nil {
		return err
	}
	resp := make([]byte, nonceLen+sha256.Size)
	if _, err := io.ReadFull(c, resp); err != nil {
		return err
	}
	ns := resp[:nonceLen]
	if !hmac.Equal(resp[nonceLen:], mac(secret, "server", nc, ns)) {
		return ErrUnauthenticated
	}
	_, err := c.Write(append(mac(secret, "client", nc, ns), kind))
	return err
}

func serverHandshake(c net.Conn, secret []byte) (byte, error) {
	hello := make([]byte, len(handshakeMagic)+nonceLen)
	if _, err := io.ReadFull(c, hello); err != nil {
		return 0, err
	}
	if string(hello[:len(handshakeMagic)]) != handshakeMagic {
		return 0, errors.New("not a pushflo raft connection")
	}
	nc := hello[len(handshakeMagic):]
	ns := make([]byte, nonceLen)
	rand.Read(ns)
	if _, err := c.Write(append(ns, mac(secret, "server", nc, ns)...)); err != nil {
		return 0, err
	}
	resp := make([]byte, sha256.Size+1)
	if _, err := io.ReadFull(c, resp); err != nil {
		return 0, err
	}
	if !hmac.Equal(resp[:sha256.Size], mac(secret, "client", nc, ns)) {
		return 0, ErrUnauthenticated
	}
	return resp[sha256.Size], nil
}
