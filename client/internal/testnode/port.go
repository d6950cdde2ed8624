package testnode

import (
	"context"
	"fmt"
	"net"
	"os"
	"syscall"
)

// port is a loopback address reserved for a node's life (see the package
// doc).
type port struct {
	addr    string
	reserve *os.File
}

func reservePorts(n int) ([]*port, error) {
	var out []*port
	for range n {
		f, addr, err := reserve()
		if err != nil {
			for _, p := range out {
				p.close()
			}
			return nil, fmt.Errorf("reserve a port: %w", err)
		}
		out = append(out, &port{addr: addr, reserve: f})
	}
	return out, nil
}

func (p *port) close() { p.reserve.Close() }

// listen binds a listening socket beside the reservation, as a file to
// hand to the node.
func (p *port) listen() (*os.File, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) { err = setReusePort(int(fd)) }); cerr != nil {
			return cerr
		}
		return err
	}}
	ln, err := lc.Listen(context.Background(), "tcp", p.addr)
	if err != nil {
		return nil, fmt.Errorf("listen on reserved port %s: %w", p.addr, err)
	}
	defer ln.Close()
	return ln.(*net.TCPListener).File()
}
