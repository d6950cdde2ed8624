//go:build !windows

package testproc

import (
	"net"
	"testing"
)

// TestPort_ReservedForTheHarness: while reserved, a port cannot be bound by
// a plain listener (another test binary picking a port), refuses
// connections when no handed-over socket listens, and accepts them through
// the socket Listen hands out, again and again.
func TestPort_ReservedForTheHarness(t *testing.T) {
	p, err := ReservePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if ln, err := net.Listen("tcp", p.Addr); err == nil {
		ln.Close()
		t.Fatalf("a plain listener bound reserved %s", p.Addr)
	}
	for round := range 2 {
		if c, err := net.Dial("tcp", p.Addr); err == nil {
			c.Close()
			t.Fatalf("round %d: a connection to %s was accepted with nothing listening", round, p.Addr)
		}
		f, err := p.Listen()
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.FileListener(f) // what the child does with it
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.Dial("tcp", p.Addr)
		if err != nil {
			t.Fatalf("round %d: dial the handed-over socket: %v", round, err)
		}
		a, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		c.Close()
		ln.Close()
	}
	p.Close()
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		t.Fatalf("after Close the port is still taken: %v", err)
	}
	ln.Close()
}
