package jepsen

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pushflo/pushflo/internal/testnet"
)

// startEcho runs a line echo server on loopback until the test ends.
func startEcho(t *testing.T) string {
	t.Helper()
	ln := testnet.Listen(t)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func startTestProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := StartProxy("127.0.0.1:0", target, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// connectedProxy starts an echo server behind a proxy and returns the
// proxy and a connection through it that has carried one line.
func connectedProxy(t *testing.T) (*Proxy, net.Conn) {
	t.Helper()
	p := startTestProxy(t, startEcho(t))
	c := dial(t, p.Addr())
	if _, err := roundTrip(c, "before", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return p, c
}

// roundTrip sends a line and reads it back within wait.
func roundTrip(c net.Conn, line string, wait time.Duration) (string, error) {
	_ = c.SetDeadline(time.Now().Add(wait))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

func TestProxy_Forwards(t *testing.T) {
	p := startTestProxy(t, startEcho(t))
	c := dial(t, p.Addr())
	for _, line := range []string{"one", strings.Repeat("x", 100_000)} {
		c2 := c
		got, err := roundTrip(c2, line, 10*time.Second)
		if err != nil || got != line {
			t.Fatalf("round trip of %d bytes: %d bytes back, %v", len(line), len(got), err)
		}
	}
}

func TestProxy_Delay(t *testing.T) {
	p := startTestProxy(t, startEcho(t))
	p.SetFaults(Faults{Delay: 50 * time.Millisecond})
	c := dial(t, p.Addr())
	start := time.Now()
	if got, err := roundTrip(c, "slow", 10*time.Second); err != nil || got != "slow" {
		t.Fatalf("round trip: %q, %v", got, err)
	}
	// A lower bound only: the proxy holds each direction at least 50ms.
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Fatalf("round trip took %s through a 50ms-per-direction delay", took)
	}
}

func TestProxy_StallThenHeal(t *testing.T) {
	p, c := connectedProxy(t)
	p.SetFaults(Faults{Stall: true})
	_ = c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := io.WriteString(c, "held\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	_, err := c.Read(buf)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read through a stalled proxy: %v, want a deadline error", err)
	}
	_ = c.SetDeadline(time.Time{})
	p.Heal()
	// The held line arrives after the heal, then the stream goes on.
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	got, err := r.ReadString('\n')
	if err != nil || got != "held\n" {
		t.Fatalf("after heal: %q, %v", got, err)
	}
}

func TestProxy_CutThenHeal(t *testing.T) {
	p, c := connectedProxy(t)
	p.SetFaults(Faults{Cut: true})
	if _, err := roundTrip(c, "after cut", 10*time.Second); err == nil {
		t.Fatal("connection survived a cut")
	}
	// New connections are refused (closed at once) while cut.
	if c2, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second); err == nil {
		defer c2.Close()
		if _, err := roundTrip(c2, "refused", 10*time.Second); err == nil {
			t.Fatal("new connection worked through a cut proxy")
		}
	}
	p.Heal()
	c3 := dial(t, p.Addr())
	if got, err := roundTrip(c3, "healed", 10*time.Second); err != nil || got != "healed" {
		t.Fatalf("after heal: %q, %v", got, err)
	}
}

func TestProxy_LossKeepsStreamIntact(t *testing.T) {
	p := startTestProxy(t, startEcho(t))
	p.SetFaults(Faults{LossRate: 0.5, LossPenalty: 5 * time.Millisecond, Jitter: 2 * time.Millisecond})
	c := dial(t, p.Addr())
	for i := 0; i < 20; i++ {
		line := strings.Repeat(string(rune('a'+i)), 1000+i)
		if got, err := roundTrip(c, line, 10*time.Second); err != nil || got != line {
			t.Fatalf("line %d corrupted or lost: %v", i, err)
		}
	}
}

func TestProxy_CloseEndsConnections(t *testing.T) {
	p, err := StartProxy("127.0.0.1:0", startEcho(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p.Addr())
	if _, err := roundTrip(c, "x", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(c, "y", 10*time.Second); err == nil {
		t.Fatal("connection survived Close")
	}
}
