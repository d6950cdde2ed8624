//go:build integration

package main

import (
	"strings"
	"testing"
	"time"
)

// TestServe_RateLimitFlags: the binary's rate-limit and trusted-proxy
// flags reach the server. Through a trusted proxy (loopback) one client
// address is limited after its burst with 429 RATE_LIMITED and
// Retry-After while another is served, and the request log names the
// client, not the proxy. A node that trusts no proxy ignores the header.
func TestServe_RateLimitFlags(t *testing.T) {
	p := newProc(t, "n1", t.TempDir(), "--rate-limit-addr", "0.01", "--rate-limit-addr-burst", "2",
		"--trusted-proxies", "127.0.0.1", "--log-level", "debug")
	p.start()
	p.waitReady()
	base := "http://" + p.httpAddr
	get := func(addr string) (int, string) {
		st, b, err := call("GET", base+"/api/v1/channels", pubKey, "", "X-Forwarded-For", addr)
		if err != nil {
			t.Fatal(err)
		}
		return st, string(b)
	}
	for i := 0; i < 2; i++ {
		if st, b := get("198.51.100.1"); st == 429 {
			t.Fatalf("request %d of a burst of 2: %s", i+1, b)
		}
	}
	if st, b := get("198.51.100.1"); st != 429 || !strings.Contains(b, `"RATE_LIMITED"`) {
		t.Fatalf("3rd request: %d %s, want 429 RATE_LIMITED", st, b)
	}
	if st, b := get("198.51.100.2"); st == 429 {
		t.Fatalf("another client address was limited: %s", b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.logText(), "remote=198.51.100.2 proxy=127.0.0.1") {
		if time.Now().After(deadline) {
			t.Fatalf("the request log does not name the client behind the proxy:\n%s", p.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}

	q := startProc(t, "n1", t.TempDir(), "--rate-limit-addr", "0.01", "--rate-limit-addr-burst", "2")
	limited := 0
	for _, addr := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"} {
		st, _, err := call("GET", "http://"+q.httpAddr+"/api/v1/channels", pubKey, "", "X-Forwarded-For", addr)
		if err != nil {
			t.Fatal(err)
		}
		if st == 429 {
			limited++
		}
	}
	if limited != 2 {
		t.Fatalf("without --trusted-proxies, %d of 4 requests with rotating X-Forwarded-For were limited, want 2", limited)
	}
}
