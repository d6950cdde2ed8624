package raftnode

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// Every connection on the Raft port is TLS 1.3 with mutual certificate
// authentication (linktls.go). Inside the protected stream the dialer's
// first byte says what the connection carries (Raft RPCs, or forwarded
// requests to the leader) and the listener answers one byte once it has
// accepted the dialer's certificate, so a refusal shows at dial time.
const (
	connRaft         = 'R'
	connForward      = 'F'
	connAccepted     = 'K'
	handshakeTimeout = 5 * time.Second
)

// ErrUnauthenticated is returned by dials to a peer whose certificate does
// not chain to this node's cluster CA, or which refused this node's: with
// the default credentials, the two do not share the cluster secret.
var ErrUnauthenticated = errors.New("raft peer failed cluster authentication")

// streamLayer is the raft.StreamLayer of a node: a TCP listener whose
// connections are authenticated by TLS and then routed by kind.
type streamLayer struct {
	ln        net.Listener
	advertise net.Addr
	creds     *linkCreds
	logger    *slog.Logger
	// peerName names the node at a Raft address for logs ("n2"); set once
	// Raft runs, empty before.
	peerName atomic.Pointer[func(addr string) string]
	// rejects logs refused connections once per peer (rejectlog.go).
	rejects *rejectLog

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

func newStreamLayer(bind, advertise string, creds *linkCreds, logger *slog.Logger) (*streamLayer, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("listen on raft address %s: %w", bind, err)
	}
	return newStreamLayerOn(ln, advertise, creds, logger)
}

// newStreamLayerOn serves on ln, a listener already bound, and closes it on
// Close (or here, on an error).
func newStreamLayerOn(ln net.Listener, advertise string, creds *linkCreds, logger *slog.Logger) (*streamLayer, error) {
	var adv net.Addr = ln.Addr()
	if advertise != "" {
		a, err := net.ResolveTCPAddr("tcp", advertise)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("resolve advertise address %q: %w", advertise, err)
		}
		adv = a
	}
	s := &streamLayer{ln: ln, advertise: adv, creds: creds, logger: logger, rejects: newRejectLog(logger),
		raftConns: make(chan net.Conn), done: make(chan struct{}), forwards: map[net.Conn]struct{}{}}
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
func (s *streamLayer) route(raw net.Conn) {
	kind, c, err := s.accept(raw)
	if err != nil {
		raw.Close()
		s.rejectedInbound(raw.RemoteAddr(), err)
		return
	}
	host := remoteHost(raw.RemoteAddr())
	s.rejects.ok(host)
	s.rejects.ok(host + " auth")
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
	}
}

// accept runs the server side of the handshake: TLS, then the kind byte,
// then the answer that tells the dialer it was accepted.
func (s *streamLayer) accept(raw net.Conn) (byte, net.Conn, error) {
	raw.SetDeadline(time.Now().Add(handshakeTimeout))
	c := tls.Server(raw, s.creds.serverConfig())
	if err := c.Handshake(); err != nil {
		return 0, nil, err
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return 0, nil, fmt.Errorf("read connection kind: %w", err)
	}
	if b[0] != connRaft && b[0] != connForward {
		return 0, nil, fmt.Errorf("unknown connection kind %#x", b[0])
	}
	if _, err := c.Write([]byte{connAccepted}); err != nil {
		return 0, nil, err
	}
	raw.SetDeadline(time.Time{})
	return b[0], c, nil
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

// dial opens an authenticated connection of the given kind. A peer that
// fails authentication gives an error wrapping ErrUnauthenticated that
// says so in a sentence, and is logged once.
func (s *streamLayer) dial(addr string, timeout time.Duration, kind byte) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), max(timeout, handshakeTimeout))
	defer cancel()
	raw, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c, err := s.handshake(ctx, raw, kind)
	if err != nil {
		raw.Close()
		if authFailure(err) {
			err = fmt.Errorf("%w: %s %s (%v)", ErrUnauthenticated, s.describePeer(addr), s.mismatch(), err)
			s.rejects.once(addr, s.describePeer(addr)+" "+s.mismatch())
		}
		return nil, fmt.Errorf("handshake with %s: %w", addr, err)
	}
	s.rejects.ok(addr)
	return c, nil
}

// handshake runs the dialer's side: TLS, the kind byte, the answer.
func (s *streamLayer) handshake(ctx context.Context, raw net.Conn, kind byte) (net.Conn, error) {
	deadline, _ := ctx.Deadline()
	raw.SetDeadline(deadline)
	c := tls.Client(raw, s.creds.clientConfig())
	if err := c.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte{kind}); err != nil {
		return nil, err
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return nil, err
	}
	if b[0] != connAccepted {
		return nil, fmt.Errorf("unexpected answer %#x to the connection kind", b[0])
	}
	raw.SetDeadline(time.Time{})
	return c, nil
}

// authFailure reports whether a handshake error means one end refused the
// other's certificate (as opposed to a network failure).
func authFailure(err error) bool {
	if errors.Is(err, errPeerNotInCluster) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error" && strings.Contains(op.Err.Error(), "certificate")
}

// mismatch is the reason two ends refuse each other, in this node's terms.
func (s *streamLayer) mismatch() string {
	if s.creds.fromSecret {
		return "does not share this node's cluster secret"
	}
	return "does not hold a certificate from this node's --raft-tls-ca, or does not trust this node's"
}

// describePeer is "n2 (10.0.0.2:7000)", or the address alone when no
// member has it.
func (s *streamLayer) describePeer(addr string) string {
	if f := s.peerName.Load(); f != nil {
		if id := (*f)(addr); id != "" {
			return fmt.Sprintf("%s (%s)", id, addr)
		}
	}
	return addr
}

// setPeerNames makes logs name peers by their ID in r's configuration.
func (s *streamLayer) setPeerNames(r *raft.Raft) {
	f := func(addr string) string {
		cf := r.GetConfiguration()
		if cf.Error() != nil {
			return ""
		}
		for _, srv := range cf.Configuration().Servers {
			if string(srv.Address) == addr {
				return string(srv.ID)
			}
		}
		return ""
	}
	s.peerName.Store(&f)
}

// rejectedInbound logs a refused inbound connection: once per remote host,
// then counted in a periodic summary (rejectlog.go).
func (s *streamLayer) rejectedInbound(remote net.Addr, err error) {
	host := remoteHost(remote)
	if authFailure(err) {
		s.rejects.once(host+" auth", "raft connection from "+remote.String()+" "+s.mismatch())
		return
	}
	s.rejects.once(host, "raft connection refused", "remote", remote.String(), "err", err)
}

func remoteHost(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	return a.String()
}
