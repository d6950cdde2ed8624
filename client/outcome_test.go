package client

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// These tests inject faults at the network boundary (a closed port, a black
// hole that takes the request and never answers); no server behaviour is
// imitated.

func TestPublish_TimeoutAfterSendIsUnknown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Never accepted: the kernel completes the handshake and buffers the
	// request, and nothing ever answers.
	t.Cleanup(func() { ln.Close() })

	c, err := New(Config{Addrs: []string{"http://" + ln.Addr().String()}, SecretKey: "sec_x", RequestTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Publish(context.Background(), "c", map[string]any{"v": 1})
	if err == nil {
		t.Fatal("publish to a black hole succeeded")
	}
	if NotApplied(err) {
		t.Fatalf("NotApplied = true for a request that was sent: %v", err)
	}
}

func TestPublish_CancelledBeforeSendIsNotApplied(t *testing.T) {
	c, err := New(Config{Addrs: []string{"http://127.0.0.1:1"}, SecretKey: "sec_x"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Publish(ctx, "c", map[string]any{"v": 1})
	if !NotApplied(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want a not-applied context.Canceled", err)
	}
}

func TestPublish_BadContentIsNotApplied(t *testing.T) {
	c, err := New(Config{Addrs: []string{"http://127.0.0.1:1"}, SecretKey: "sec_x"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Publish(context.Background(), "c", func() {})
	if !NotApplied(err) {
		t.Fatalf("err = %v, want not applied", err)
	}
}
