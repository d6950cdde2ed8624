//go:build !windows

package testnode

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestWaitServing_BoundedByItsDeadline: a server that takes connections
// but never answers (a process whose socket was handed over and that
// hangs before serving) fails the wait when its context ends, instead of
// holding the request, and the test, for good.
func TestWaitServing_BoundedByItsDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // the kernel completes handshakes; nobody accepts
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- waitServing(ctx, nil, "http://"+ln.Addr().String()+"/health") }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("waitServing succeeded against a server that never answers")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("waitServing still waiting a minute after its 500 ms deadline")
	}
}
