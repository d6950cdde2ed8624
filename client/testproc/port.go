//go:build !windows

package testproc

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"
)

// Port is a TCP address reserved for the harness (see the package doc):
// nobody else can bind it until Close, and connections to it are refused
// unless a process started with it as a socket is listening.
type Port struct {
	// Addr is host:port.
	Addr    string
	reserve *os.File
}

// ReservePort reserves a free port on host ("127.0.0.1").
func ReservePort(host string) (*Port, error) {
	f, addr, err := reserve(host)
	if err != nil {
		return nil, fmt.Errorf("reserve a port on %s: %w", host, err)
	}
	return &Port{Addr: addr, reserve: f}, nil
}

// ReservePorts reserves n free ports on host; on error none stays
// reserved.
func ReservePorts(host string, n int) ([]*Port, error) {
	var out []*Port
	for range n {
		p, err := ReservePort(host)
		if err != nil {
			for _, q := range out {
				q.Close()
			}
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Close gives the port back.
func (p *Port) Close() error {
	if p == nil || p.reserve == nil {
		return nil
	}
	return p.reserve.Close()
}

// Listen returns a new listening socket on the port, as a file to hand to
// a child. The caller closes it once the child has started.
func (p *Port) Listen() (*os.File, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) { err = setReusePort(fd) }); cerr != nil {
			return cerr
		}
		return err
	}}
	ln, err := lc.Listen(context.Background(), "tcp", p.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on reserved port %s: %w", p.Addr, err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		return nil, fmt.Errorf("listen on reserved port %s: %w", p.Addr, err)
	}
	return f, nil
}
