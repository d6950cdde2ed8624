package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSubscribe_KeyOnlyInHeader: both transports send the subscription's
// key as Authorization: Bearer on the handshake and never in the URL
// (URLs end up in proxy logs; the server refuses secret keys in ?token=).
// The fake node records each handshake and refuses it.
func TestSubscribe_KeyOnlyInHeader(t *testing.T) {
	const secret, publish = "sec_0123456789", "pub_0123456789"
	for _, tc := range []struct {
		name string
		tr   Transport
		path string
		cfg  Config
		want string
	}{
		{"ws secret key", WebSocket, "/ws", Config{SecretKey: secret}, secret},
		{"ws publish key", WebSocket, "/ws", Config{SecretKey: secret, PublishKey: publish}, publish},
		{"sse secret key", SSE, "/sse", Config{SecretKey: secret}, secret},
		{"sse publish key", SSE, "/sse", Config{SecretKey: secret, PublishKey: publish}, publish},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type handshake struct{ query, auth string }
			got := make(chan handshake, 16)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tc.path {
					got <- handshake{r.URL.RawQuery, r.Header.Get("Authorization")}
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"success":false,"error":"a sentence","code":"UNAUTHORIZED"}`))
			}))
			t.Cleanup(srv.Close)
			cfg := tc.cfg
			cfg.Addrs = []string{srv.URL}
			c, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			sub, err := c.Subscribe(ctx, "c", SubscribeOptions{Transport: tc.tr})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			select {
			case h := <-got:
				if h.auth != "Bearer "+tc.want {
					t.Errorf("Authorization %q; want the key %q as a Bearer header", h.auth, tc.want)
				}
				for _, k := range []string{secret, publish} {
					if strings.Contains(h.query, k) {
						t.Errorf("handshake query %q carries a key", h.query)
					}
				}
			case <-ctx.Done():
				t.Fatalf("the client never opened %s", tc.path)
			}
		})
	}
}
