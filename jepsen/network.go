package jepsen

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// NetworkMode selects how the nodes of a Cluster reach each other, and so
// which faults can be injected between them.
type NetworkMode string

const (
	// NetworkLoopback runs every node on 127.0.0.1 with Raft dialled
	// directly: no fault between nodes is possible. The zero value.
	NetworkLoopback NetworkMode = ""
	// NetworkNetns runs each node in its own Linux network namespace, on a
	// veth pair plugged into a bridge of the test's own; nftables rules
	// inside a namespace drop packets to cut links (silently, so open
	// connections stall) and to lose a share of them. Needs root, ip and
	// nft (installed from Debian's packages when missing).
	NetworkNetns NetworkMode = "netns"
	// NetworkProxy runs the nodes on loopback and makes each node's Raft
	// traffic enter through a Proxy that knows which node each connection
	// comes from: a cut link stalls, loss becomes a retransmission delay.
	// The fallback where namespaces are unavailable.
	NetworkProxy NetworkMode = "proxy"
	// NetworkAuto is NetworkNetns where the machine allows it, else
	// NetworkProxy.
	NetworkAuto NetworkMode = "auto"
)

// Link is an unordered pair of node IDs.
type Link struct{ A, B string }

// LinkState is the fault state of the network: which links are cut, which
// nodes the clients cannot reach, how lossy and how slow the links between
// nodes are. The zero value is a healthy network.
type LinkState struct {
	// Cut lists pairs of nodes that cannot reach each other in either
	// direction. Packets are dropped silently, so open connections stall
	// until a timeout or a heartbeat notices.
	Cut []Link
	// OneWay lists directed links: packets from A to B are dropped, those
	// from B to A pass (under NetworkNetns; NetworkProxy stalls the Raft
	// connections A opens to B, both ways, and leaves B's to A).
	OneWay []Link
	// ClientCut lists nodes the clients (this test process) cannot reach,
	// silently too. Under NetworkProxy it needs ClusterConfig.ClientProxies.
	ClientCut []string
	// Loss in [0, 1] is the share of packets between nodes that is lost.
	// Under NetworkNetns nftables drops them and TCP retransmits; under
	// NetworkProxy a chunk waits a retransmission penalty instead.
	Loss float64
	// Slow lists nodes whose incoming Raft traffic (Raft RPCs and forwarded
	// publishes, and their replies) waits Delay plus up to Jitter, through
	// the node's Raft proxy.
	Slow          []string
	Delay, Jitter time.Duration
}

// IsCut reports whether the link between nodes a and b is cut.
func (s LinkState) IsCut(a, b string) bool {
	for _, l := range s.Cut {
		if (l.A == a && l.B == b) || (l.A == b && l.B == a) {
			return true
		}
	}
	return false
}

// Healthy reports whether s injects no fault.
func (s LinkState) Healthy() bool {
	return len(s.Cut) == 0 && len(s.OneWay) == 0 && len(s.ClientCut) == 0 && s.Loss == 0 && len(s.Slow) == 0
}

// Drops reports whether packets from node from to node to are dropped: the
// link is cut, or cut one way in that direction.
func (s LinkState) Drops(from, to string) bool {
	return s.IsCut(from, to) || slices.Contains(s.OneWay, Link{from, to})
}

// Network is the fault-injecting network under a Cluster started with
// NetworkNetns or NetworkProxy. Its methods may be called from any
// goroutine.
type Network interface {
	// Mechanism is NetworkNetns or NetworkProxy: which one really runs.
	Mechanism() NetworkMode
	// Update changes the link state through fn and applies it; when it
	// returns without error the faults are in force. Nemeses that inject
	// different faults each change their own fields.
	Update(fn func(*LinkState)) error
	// State returns the link state in force.
	State() LinkState
	// Close heals the network and releases everything it set up.
	Close() error
}

// partitionGroups returns the cut links that separate the groups: every
// pair of nodes in different groups.
func partitionGroups(groups ...[]string) []Link {
	var cut []Link
	for i := range groups {
		for j := i + 1; j < len(groups); j++ {
			for _, a := range groups[i] {
				for _, b := range groups[j] {
					cut = append(cut, Link{a, b})
				}
			}
		}
	}
	return cut
}

// describeCut renders cut links compactly for history notes: "n1-n3 n2-n3".
func describeCut(cut []Link) string {
	var parts []string
	for _, l := range cut {
		a, b := l.A, l.B
		if b < a {
			a, b = b, a
		}
		parts = append(parts, a+"-"+b)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// linkFaults is the proxy setting of the Raft links into node id from each
// peer under s, and the setting of its client link.
func linkFaults(s LinkState, id string, peers []string, stallCut bool) (global Faults, bySource map[string]Faults, client Faults) {
	global = Faults{LossRate: s.Loss}
	if slices.Contains(s.Slow, id) {
		global.Delay, global.Jitter = s.Delay, s.Jitter
	}
	bySource = map[string]Faults{}
	if stallCut {
		for _, p := range peers {
			if p != id && s.Drops(p, id) {
				bySource[p] = Faults{Stall: true}
			}
		}
	}
	if slices.Contains(s.ClientCut, id) {
		client = Faults{Stall: true}
	}
	return global, bySource, client
}

// linkState holds a Network's state and applies changes one at a time.
type linkState struct {
	mu    sync.Mutex // serialises Update; guards s
	s     LinkState
	apply func(LinkState) error
}

func (l *linkState) Update(fn func(*LinkState)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	next := l.s
	next.Cut = slices.Clone(l.s.Cut)
	next.ClientCut = slices.Clone(l.s.ClientCut)
	next.OneWay = slices.Clone(l.s.OneWay)
	next.Slow = slices.Clone(l.s.Slow)
	fn(&next)
	if err := l.apply(next); err != nil {
		return err
	}
	l.s = next
	return nil
}

func (l *linkState) State() LinkState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s
}

// proxyNetwork is NetworkProxy: one Raft proxy per node on loopback, each
// told by socketOwner which node a connection comes from.
type proxyNetwork struct {
	linkState
	nodes []*Node
}

func (p *proxyNetwork) Mechanism() NetworkMode { return NetworkProxy }

func (p *proxyNetwork) applyState(s LinkState) error {
	var ids []string
	for _, n := range p.nodes {
		ids = append(ids, n.ID)
	}
	for _, n := range p.nodes {
		global, bySource, client := linkFaults(s, n.ID, ids, true)
		n.raftProxy.SetFaults(global)
		n.raftProxy.SetSourceFaults(bySource)
		if n.Proxy != nil {
			// The client-link nemesis owns the proxy's own setting; a client
			// cut is an override for the (single, anonymous) source.
			if client.Stall {
				n.Proxy.SetSourceFaults(map[string]Faults{"": client})
			} else {
				n.Proxy.SetSourceFaults(nil)
			}
		} else if client.Stall {
			return fmt.Errorf("proxy network: cannot cut clients from %s without ClientProxies", n.ID)
		}
	}
	return nil
}

func (p *proxyNetwork) Close() error {
	for _, n := range p.nodes {
		if n.raftProxy != nil {
			n.raftProxy.Close()
		}
	}
	return nil
}

// openProxyNetwork puts a Raft proxy in front of each node: nodes listen on
// their RaftAddr and advertise the proxy. It fills Node.AdvertiseAddr.
func openProxyNetwork(nodes []*Node, logger *slog.Logger) (*proxyNetwork, error) {
	pn := &proxyNetwork{nodes: nodes}
	pn.apply = pn.applyState
	pids := func() map[int]string {
		m := map[int]string{}
		for _, n := range nodes {
			if pid := n.PID(); pid > 0 {
				m[pid] = n.ID
			}
		}
		return m
	}
	for i, n := range nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			pn.Close()
			return nil, fmt.Errorf("proxy network: %w", err)
		}
		n.raftProxy = NewProxy(ProxyConfig{
			Listener: ln,
			Target:   n.RaftAddr,
			Source: func(c net.Conn) string {
				// The dialler's socket may not be listed yet: retry
				// briefly before treating the connection as anonymous.
				for try := 0; ; try++ {
					if src := socketOwner(c, pids()); src != "" || try == 10 {
						if src == "" {
							logger.Warn("network: raft connection from an unknown process; link faults do not apply to it", "into", n.ID, "remote", c.RemoteAddr().String())
						}
						return src
					}
					time.Sleep(20 * time.Millisecond)
				}
			},
			Seed: uint64(1000 + i),
		})
		n.AdvertiseAddr = ln.Addr().String()
	}
	logger.Info("network: proxies between nodes on loopback")
	return pn, nil
}

// openNetwork sets up the network for mode and returns it with the mode
// that really runs; for NetworkAuto, why namespaces were not used.
func openNetwork(ctx context.Context, mode NetworkMode, nodes []*Node, logger *slog.Logger) (Network, string, error) {
	if mode == NetworkAuto || mode == NetworkNetns {
		sup := CheckNetns(ctx)
		if sup.OK {
			nn, err := openNetns(ctx, nodes, logger)
			if err == nil {
				return nn, "", nil
			}
			if mode == NetworkNetns {
				return nil, "", err
			}
			sup.Reason = err.Error()
		} else if mode == NetworkNetns {
			return nil, "", fmt.Errorf("network namespaces unavailable: %s", sup.Reason)
		}
		logger.Warn("network: namespaces unavailable, falling back to proxies", "reason", sup.Reason)
		pn, err := openProxyNetwork(nodes, logger)
		return pn, sup.Reason, err
	}
	pn, err := openProxyNetwork(nodes, logger)
	return pn, "", err
}
