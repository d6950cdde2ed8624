//go:build linux

package jepsen

import (
	"net"
	"os"
	"testing"

	"github.com/pushflo/pushflo/internal/testnet"
)

// TestSocketOwner_FindsProcess checks that the proxy network can tell which
// process dialled a loopback connection: here, this one.
func TestSocketOwner_FindsProcess(t *testing.T) {
	ln := testnet.Listen(t)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if got := socketOwner(a, map[int]string{os.Getpid(): "me"}); got != "me" {
		t.Fatalf("socketOwner = %q, want me", got)
	}
	if got := socketOwner(a, map[int]string{1: "init"}); got != "" {
		t.Fatalf("socketOwner with another pid = %q, want empty", got)
	}
}
