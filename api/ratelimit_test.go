package api

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/pushflo/pushflo/stream"
	"github.com/valyala/fasthttp"
)

// expectLimited checks a 429 RATE_LIMITED answer with a Retry-After of at
// least one second and a body of our words only.
func expectLimited(t *testing.T, what string, r response) {
	t.Helper()
	if r.status != 429 {
		t.Fatalf("%s: %d %s, want 429 RATE_LIMITED", what, r.status, r.body)
	}
	if code := r.json(t)["code"]; code != CodeRateLimited {
		t.Errorf("%s: code %v, want %s", what, code, CodeRateLimited)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("%s: Retry-After %q, want whole seconds ≥ 1", what, r.header.Get("Retry-After"))
	}
	if strings.Contains(string(r.body), "198.51.100") || strings.Contains(string(r.body), testKeys.Secret) {
		t.Errorf("%s: the reply echoes the request: %s", what, r.body)
	}
}

// TestRateLimit_PerAddress: one client address past its bucket gets 429
// RATE_LIMITED with Retry-After on REST and on the WebSocket handshake,
// while another address, the same address's /health, the secret-key
// holder's publishes and an already open subscription go on being served.
// Addresses come from X-Forwarded-For through a trusted proxy (loopback).
func TestRateLimit_PerAddress(t *testing.T) {
	ts := startServer(t, func(c *Config, _ *stream.Config) {
		c.RateAddr, c.RateAddrBurst = 0.01, 3 // one token per 100 s: no refill during the test
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	sub := ts.dialWS(testKeys.Publish)
	sub.expect("connected")
	sub.send(map[string]any{"type": "subscribe", "channel": "busy"})
	sub.expect("subscribed")

	const a, b = "198.51.100.7", "198.51.100.8"
	get := func(addr string) response {
		return ts.do("GET", "/api/v1/channels/busy/messages", testKeys.Publish, nil, "X-Forwarded-For", addr)
	}
	for i := 0; i < 3; i++ {
		if r := get(a); r.status == 429 {
			t.Fatalf("request %d of a burst of 3: 429", i+1)
		}
	}
	expectLimited(t, "4th request from "+a, get(a))

	// The WebSocket handshake is a request of the same address.
	u := strings.Replace(ts.url, "http://", "ws://", 1) + "/ws?token=" + testKeys.Publish
	_, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"X-Forwarded-For": {a}})
	if err == nil || resp == nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("WebSocket handshake from a limited address: status %d, err %v; want 429 with Retry-After", status, err)
	}

	// Everyone else is still served.
	if r := get(b); r.status == 429 {
		t.Fatalf("another address was limited too: %s", r.body)
	}
	if r := ts.do("GET", "/health", "", nil, "X-Forwarded-For", a); r.status != 200 {
		t.Fatalf("/health from a limited address: %d", r.status)
	}
	r := ts.do("POST", "/api/v1/channels/busy/messages", testKeys.Secret, `{"content":{"n":1}}`, "X-Forwarded-For", a)
	if r.status != 201 {
		t.Fatalf("a secret-key publish through a limited address: %d %s (keys count against the key)", r.status, r.body)
	}
	if m := sub.expect("message"); m["channel"] != "busy" {
		t.Fatalf("open subscription: %v", m)
	}
}

// TestRateLimit_UntrustedPeerCannotPickItsAddress: with no trusted proxy,
// X-Forwarded-For is ignored, so a client that rotates it is still one
// address and is limited.
func TestRateLimit_UntrustedPeerCannotPickItsAddress(t *testing.T) {
	ts := startServer(t, func(c *Config, _ *stream.Config) {
		c.RateAddr, c.RateAddrBurst = 0.01, 3
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} // not loopback
	})
	limited := 0
	for i := 0; i < 6; i++ {
		r := ts.do("GET", "/api/v1/channels", testKeys.Publish, nil, "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		if r.status == 429 {
			limited++
		}
	}
	if limited != 3 {
		t.Fatalf("%d of 6 requests with rotating X-Forwarded-For from an untrusted peer were limited, want 3 (burst 3)", limited)
	}
	if n := ts.srv.addrs.size(); n != 1 {
		t.Fatalf("%d addresses tracked, want 1 (the peer's)", n)
	}
}

// TestRateLimit_PerKey: the secret key's bucket limits its publishes
// wherever they come from; the management key has its own bucket.
func TestRateLimit_PerKey(t *testing.T) {
	ts := startServer(t, func(c *Config, _ *stream.Config) {
		c.RateKey, c.RateKeyBurst = 0.01, 3
	})
	pub := func(key string) response {
		return ts.do("POST", "/api/v1/channels/k/messages", key, `{"content":{"n":1}}`)
	}
	for i := 0; i < 3; i++ {
		if r := pub(testKeys.Secret); r.status != 201 {
			t.Fatalf("publish %d of a burst of 3: %d %s", i+1, r.status, r.body)
		}
	}
	expectLimited(t, "4th publish with the secret key", pub(testKeys.Secret))
	if r := pub(testKeys.Mgmt); r.status != 201 {
		t.Fatalf("the management key shares the secret key's bucket: %d %s", r.status, r.body)
	}
	// An unknown key is no key: its requests count against the address.
	if r := pub("sec_guess"); r.status != 401 {
		t.Fatalf("unknown key: %d %s, want 401", r.status, r.body)
	}
}

// TestRateLimit_AddressTableBounded: a client that rotates addresses
// (through a trusted proxy, the worst case) never grows the table past
// RateAddrs, and the server keeps answering.
func TestRateLimit_AddressTableBounded(t *testing.T) {
	ts := startServer(t, func(c *Config, _ *stream.Config) {
		c.RateAddr, c.RateAddrBurst, c.RateAddrs = 0.01, 1, 50
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	for i := 0; i < 300; i++ {
		addr := fmt.Sprintf("203.0.%d.%d", i/256, i%256)
		if r := ts.do("GET", "/api/v1/channels", testKeys.Publish, nil, "X-Forwarded-For", addr); r.status == 429 {
			t.Fatalf("first request of new address %s: 429", addr)
		}
		if n := ts.srv.addrs.size(); n > 50 {
			t.Fatalf("after %d addresses the table holds %d, more than RateAddrs (50)", i+1, n)
		}
	}
}

// TestAddrLimiter_ForgetsIdleAndBounds: idle entries whose bucket has
// refilled are dropped first; a busy, limited address stays limited while
// the table has room; the table never exceeds its size.
func TestAddrLimiter_ForgetsIdleAndBounds(t *testing.T) {
	l := newAddrLimiter(1, 2, 100) // refills in 2 s
	now := time.Unix(1e9, 0)
	busy := addrKey(netip.MustParseAddr("192.0.2.1"))
	l.take(busy, now)
	l.take(busy, now)
	if l.take(busy, now) <= 0 {
		t.Fatal("third take of a burst of 2 was allowed")
	}
	for i := 0; i < 50; i++ {
		l.take(addrKey(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})), now)
	}
	if l.take(busy, now) <= 0 {
		t.Fatal("the busy address was forgotten while the table had room")
	}
	later := now.Add(3 * time.Second)
	l.take(addrKey(netip.MustParseAddr("203.0.113.1")), later)
	if n := l.size(); n != 1 {
		t.Fatalf("%d entries after every other bucket refilled and a new address came, want 1", n)
	}
	for i := 0; i < 10000; i++ {
		l.take(addrKey(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})), later)
	}
	if n := l.size(); n != 100 {
		t.Fatalf("%d entries after 10,000 addresses, want the bound, 100", n)
	}
	// IPv6 addresses count by /64.
	a := addrKey(netip.MustParseAddr("2001:db8:1:2::1"))
	b := addrKey(netip.MustParseAddr("2001:db8:1:2:ffff::9"))
	if a != b {
		t.Fatalf("addresses of one /64 have keys %v and %v", a, b)
	}
}

// TestClientAddr_TrustedProxies: X-Forwarded-For is believed only from a
// trusted peer, walked right to left past trusted hops.
func TestClientAddr_TrustedProxies(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}}}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"untrusted peer ignores the header", "203.0.113.9", []string{"1.2.3.4"}, "203.0.113.9"},
		{"no header", "10.0.0.1", nil, "10.0.0.1"},
		{"trusted peer", "10.0.0.1", []string{"1.2.3.4"}, "1.2.3.4"},
		{"spoofed left entries ignored", "10.0.0.1", []string{"6.6.6.6, 1.2.3.4, 10.0.0.2"}, "1.2.3.4"},
		{"two headers are one list", "10.0.0.1", []string{"6.6.6.6, 1.2.3.4", "10.0.0.2"}, "1.2.3.4"},
		{"every hop trusted", "10.0.0.1", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"garbage stops at the last hop", "10.0.0.1", []string{"1.2.3.4, not-an-address"}, "10.0.0.1"},
		{"garbage left of the client is never read", "10.0.0.1", []string{"not-an-address, 1.2.3.4"}, "1.2.3.4"},
		{"address with port", "10.0.0.1", []string{"1.2.3.4:5678"}, "1.2.3.4"},
		{"IPv6 with port", "10.0.0.1", []string{"[2001:db8::7]:443"}, "2001:db8::7"},
		{"IPv6 proxy", "fd00::1", []string{"2001:db8::7"}, "2001:db8::7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req fasthttp.Request
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			var ctx fasthttp.RequestCtx
			ctx.Init(&req, &net.TCPAddr{IP: net.ParseIP(tc.peer), Port: 4711}, nil)
			if got := s.clientAddr(&ctx).String(); got != tc.want {
				t.Errorf("client address %s, want %s", got, tc.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8, 192.0.2.1 ,fd00::/8,")
	if err != nil || len(got) != 3 || got[1].String() != "192.0.2.1/32" {
		t.Fatalf("got %v, %v", got, err)
	}
	_, err = ParseTrustedProxies("10.0.0.0/8,bogus,300.1.1.1")
	if err == nil || !strings.Contains(err.Error(), `"bogus"`) || !strings.Contains(err.Error(), `"300.1.1.1"`) {
		t.Fatalf("error %v does not name both bad entries", err)
	}
}

// size is the number of addresses tracked.
func (l *addrLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// TestStreams_ConnLimitPerIPv6Slash64: --max-conns-per-ip counts an IPv6
// client by its /64, as the request rate limit does: one host usually
// holds a whole /64 and can pick a new address in it for every
// connection, so counting single addresses would not limit it at all.
// With a limit of 2, a third WebSocket or SSE stream from another address
// of the same /64 is refused with RATE_LIMITED; another /64 and an IPv4
// address are still served.
func TestStreams_ConnLimitPerIPv6Slash64(t *testing.T) {
	ts := startServer(t, func(c *Config, _ *stream.Config) {
		c.MaxConnsPerIP = 2
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	wsURL := strings.Replace(ts.url, "http://", "ws://", 1) + "/ws?token=" + testKeys.Publish
	dialWS := func(from string) map[string]any {
		t.Helper()
		ws, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"X-Forwarded-For": {from}})
		if err != nil {
			t.Fatalf("dial from %s: %v", from, err)
		}
		t.Cleanup(func() { ws.Close() })
		var first map[string]any
		if err := ws.ReadJSON(&first); err != nil {
			t.Fatalf("first frame for %s: %v", from, err)
		}
		return first
	}
	sse := func(from string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.url+"/sse?channel=conns&token="+testKeys.Publish, nil)
		req.Header.Set("X-Forwarded-For", from)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("sse from %s: %v", from, err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp.StatusCode
	}
	if m := dialWS("2001:db8:1:2::1"); m["type"] != "connected" {
		t.Fatalf("first connection of the /64: %v", m)
	}
	if st := sse("2001:db8:1:2::2"); st != 200 {
		t.Fatalf("second connection of the /64 (SSE): status %d", st)
	}
	if m := dialWS("2001:db8:1:2::3"); m["code"] != CodeRateLimited {
		t.Fatalf("third connection of the /64 from another address of it (WebSocket): %v; want an error frame %s", m, CodeRateLimited)
	}
	if st := sse("2001:db8:1:2:ffff::4"); st != 429 {
		t.Fatalf("third connection of the /64 from another address of it (SSE): status %d; want 429", st)
	}
	if m := dialWS("2001:db8:1:3::1"); m["type"] != "connected" {
		t.Fatalf("a connection from another /64: %v", m)
	}
	if m := dialWS("198.51.100.9"); m["type"] != "connected" {
		t.Fatalf("a connection from an IPv4 address: %v", m)
	}
}
