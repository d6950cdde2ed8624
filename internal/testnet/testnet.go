// Package testnet gives tests a TCP listener on a free loopback port that
// closes when the test ends: the fake peers, echo servers and relays of
// the tests of cmd/pushflo and jepsen listen through it.
package testnet

import (
	"net"
	"testing"
)

// Listen listens on a free TCP port of 127.0.0.1 until the test ends; it
// fails the test if it cannot.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
