package raftnode

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

var errCutOff = errors.New("test: node cut off from the network")

// faultyStream wraps a node's Raft stream layer so a test can cut the node
// off from its peers: while cut, every Raft connection it holds is closed,
// dials fail, and inbound connections are closed as they arrive. Forward
// connections (net/rpc on the same port) are not affected.
type faultyStream struct {
	raft.StreamLayer
	mu      sync.Mutex
	cut     bool                       // guarded by mu
	conns   map[net.Conn]struct{}      // guarded by mu
	refused map[raft.ServerAddress]int // dials refused while cut; guarded by mu
}

func newFaultyStream(s raft.StreamLayer) *faultyStream {
	return &faultyStream{StreamLayer: s, conns: map[net.Conn]struct{}{}, refused: map[raft.ServerAddress]int{}}
}

// track records c unless the node is cut off; it reports whether it did.
func (s *faultyStream) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cut {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *faultyStream) Accept() (net.Conn, error) {
	for {
		c, err := s.StreamLayer.Accept()
		if err != nil {
			return nil, err
		}
		if s.track(c) {
			return c, nil
		}
		c.Close()
	}
}

func (s *faultyStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	s.mu.Lock()
	cut := s.cut
	if cut {
		s.refused[addr]++
	}
	s.mu.Unlock()
	if cut {
		return nil, errCutOff
	}
	c, err := s.StreamLayer.Dial(addr, timeout)
	if err != nil {
		return nil, err
	}
	if !s.track(c) {
		c.Close()
		return nil, errCutOff
	}
	return c, nil
}

// refusedDials reports how many dials to addr were refused while cut.
func (s *faultyStream) refusedDials(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused[raft.ServerAddress(addr)]
}

// setCut cuts the node off (true) or lets it talk again (false).
func (s *faultyStream) setCut(cut bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut = cut
	if cut {
		for c := range s.conns {
			c.Close()
		}
		clear(s.conns)
	}
}

// gatedFSM wraps a node's FSM so a test can hold back applying committed
// entries: while held, the FSM goroutine blocks before each apply, as on a
// node whose disk has stalled.
type gatedFSM struct {
	raft.BatchingFSM
	mu   sync.Mutex
	open chan struct{} // closed while applies may pass; guarded by mu
}

func newGatedFSM(f raft.BatchingFSM) *gatedFSM {
	g := &gatedFSM{BatchingFSM: f, open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gatedFSM) gate() chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open
}

// hold makes later applies wait until release.
func (g *gatedFSM) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
		g.open = make(chan struct{})
	default:
	}
}

// release lets applies through again.
func (g *gatedFSM) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func (g *gatedFSM) Apply(l *raft.Log) any {
	<-g.gate()
	return g.BatchingFSM.Apply(l)
}

func (g *gatedFSM) ApplyBatch(logs []*raft.Log) []any {
	<-g.gate()
	return g.BatchingFSM.ApplyBatch(logs)
}
