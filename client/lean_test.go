package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestSubscribe_AsksForLeanFrames: a WebSocket subscription asks the server
// for lean message frames (?frames=lean), since the client reads only the
// flat fields. The fake node only records the handshake's query; the frame
// shape itself is tested against the real server (api TestWS_LeanFrames),
// and every integration test here receives lean frames.
func TestSubscribe_AsksForLeanFrames(t *testing.T) {
	var mu sync.Mutex
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ws" {
			mu.Lock()
			query = r.URL.RawQuery
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"success":false,"error":"a sentence","code":"UNAUTHORIZED"}`))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{Addrs: []string{srv.URL}, SecretKey: "sec_0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub, err := c.Subscribe(ctx, "c", SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for ctx.Err() == nil {
		mu.Lock()
		q := query
		mu.Unlock()
		if q != "" {
			if q != "frames=lean" {
				t.Fatalf("WebSocket handshake query %q; want frames=lean", q)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the client never opened /ws")
}
