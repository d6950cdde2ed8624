package client

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client/testproc"
)

func TestPublish_ClosedPortIsNotApplied(t *testing.T) {
	// A port the harness reserves refuses connections, and no other
	// process can start listening on it meanwhile (Linux only: this file).
	port, err := testproc.ReservePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	addr := port.Addr

	c, err := New(Config{Addrs: []string{"http://" + addr, "http://" + addr}, SecretKey: "sec_x", RequestTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Publish(context.Background(), "c", map[string]any{"v": 1})
	if err == nil {
		t.Fatal("publish to a closed port succeeded")
	}
	if !NotApplied(err) {
		t.Fatalf("NotApplied = false for %v", err)
	}
	var re *RequestError
	if !errors.As(err, &re) || re.Attempts != 2 {
		t.Fatalf("err = %#v, want a RequestError after 2 attempts", err)
	}
}
