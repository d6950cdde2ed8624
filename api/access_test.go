package api

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// Access holds for the life of a connection (issue 11 item 1): a channel
// made private drops subscribers without a grant, and a connection token's
// exp ends the connection unless refreshed.

// expectNoMessageBefore asserts that the next frame is a pong: a ping sent
// now is answered after everything queued before it.
func (c *wsClient) expectNothingQueued() {
	c.t.Helper()
	c.send(map[string]any{"type": "ping"})
	if m := c.expect("pong"); m == nil {
		c.t.Fatal("no pong")
	}
}

func TestWS_ChannelMadePrivateDropsSubscribers(t *testing.T) {
	ts := startServer(t, nil)
	// "before" is subscribed before it exists, then created private;
	// "patched" is public, then PATCHed private.
	if r := ts.do("POST", "/api/v1/channels", testKeys.Mgmt, `{"name":"p","slug":"orders:patched"}`); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	pub := ts.dialWS(testKeys.Publish)
	pub.expect("connected")
	pub.subscribe("orders:before", "")
	pub.subscribe("orders:patched", "")
	tok, _ := ts.token("granted", []string{"orders:before", "orders:patched"}, time.Hour)
	granted := ts.dialWS(tok)
	granted.expect("connected")
	granted.subscribe("orders:before", "")
	granted.subscribe("orders:patched", "")

	if r := ts.do("POST", "/api/v1/channels", testKeys.Mgmt, `{"name":"b","slug":"orders:before","isPrivate":true}`); r.status != 201 {
		t.Fatalf("create private: %d %s", r.status, r.body)
	}
	if r := ts.do("PATCH", "/api/v1/channels/orders:patched", testKeys.Mgmt, `{"isPrivate":true}`); r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	// Both subscriptions end with FORBIDDEN naming the channel, then
	// "unsubscribed", with nothing published in between.
	dropped := map[string]bool{}
	for len(dropped) < 2 {
		m := pub.expect("error")
		if m["code"] != CodeForbidden {
			t.Fatalf("frame = %v, want FORBIDDEN", m)
		}
		ch := m["channel"].(string)
		if u := pub.expect("unsubscribed"); u["channel"] != ch {
			t.Fatalf("unsubscribed = %v after FORBIDDEN for %s", u, ch)
		}
		dropped[ch] = true
	}
	if !dropped["orders:before"] || !dropped["orders:patched"] {
		t.Fatalf("dropped %v", dropped)
	}
	id1 := ts.publish("orders:before", `{"secret":1}`)
	id2 := ts.publish("orders:patched", `{"secret":2}`)
	if ids := granted.messages(2); ids[0] != id1 || ids[1] != id2 {
		t.Fatalf("granted got %v, want %s %s", ids, id1, id2)
	}
	pub.expectNothingQueued()
	// A new subscribe is refused, as before.
	pub.send(map[string]any{"type": "subscribe", "channel": "orders:patched"})
	if m := pub.expect("error"); m["code"] != CodeForbidden {
		t.Fatalf("resubscribe = %v", m)
	}
}

func TestSSE_ChannelMadePrivateEndsStream(t *testing.T) {
	ts := startServer(t, nil)
	ts.publish("orders:a", `{"n":0}`)
	s := ts.openSSE(url.Values{"channel": {"orders:a", "orders:b"}, "token": {testKeys.Publish}}, "")
	s.expectConnected()
	if r := ts.do("PATCH", "/api/v1/channels/orders:a", testKeys.Mgmt, `{"isPrivate":true}`); r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	ts.publish("orders:a", `{"secret":1}`)
	ev := s.next()
	if ev.event != "error" || !containsAll(ev.data, `"code":"FORBIDDEN"`, `"channel":"orders:a"`) {
		t.Fatalf("event = %+v, want error FORBIDDEN for orders:a", ev)
	}
	s.expectEnd()
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !contains(s, sub) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// expectConnected waits for the ": connected" comment, written once the
// stream is subscribed.
func (s *sseStream) expectConnected() {
	s.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l := <-s.lines:
			if len(l) > 11 && l[:11] == ": connected" {
				return
			}
		case <-deadline:
			s.t.Fatal("no \": connected\" within 10s")
		}
	}
}

// expectEnd waits for the server to end the stream.
func (s *sseStream) expectEnd() {
	s.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return
			}
			s.t.Fatalf("event %+v after the error; want the stream to end", ev)
		case <-deadline:
			s.t.Fatal("stream still open 10s after the error")
		}
	}
}

func TestWS_TokenExpiryClosesConnection(t *testing.T) {
	ts := startServer(t, nil)
	c, exp := ts.subscribeWithToken("short", 2*time.Second, "orders:a")
	m := c.expect("error")
	if m["code"] != CodeTokenExpired {
		t.Fatalf("frame = %v, want TOKEN_EXPIRED", m)
	}
	if time.Now().Before(exp) {
		t.Fatalf("closed before the token's exp %v", exp)
	}
	_, err := c.next()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 {
		t.Fatalf("close = %v, want 4001", err)
	}
}

func TestWS_RefreshKeepsConnection(t *testing.T) {
	ts := startServer(t, nil)
	c, exp := ts.subscribeWithToken("refresh", 2*time.Second, "orders:a")
	// A bad token is refused and changes nothing.
	c.send(map[string]any{"type": "refresh", "token": "nope"})
	if m := c.expect("error"); m["code"] != CodeUnauthorized {
		t.Fatalf("bad refresh = %v", m)
	}
	next, nextExp := ts.token("refresh", []string{"orders:private"}, time.Hour)
	c.send(map[string]any{"type": "refresh", "token": next})
	if m := c.expect("refreshed"); int64(m["expiresAt"].(float64)) != nextExp.UnixMilli() {
		t.Fatalf("refreshed = %v, want expiresAt %d", m, nextExp.UnixMilli())
	}
	for time.Now().Before(exp.Add(500 * time.Millisecond)) {
		time.Sleep(50 * time.Millisecond) // wait past the old token's exp
	}
	id := ts.publish("orders:a", `{"n":1}`)
	if ids := c.messages(1); ids[0] != id {
		t.Fatalf("got %v, want %s", ids, id)
	}
	// The new token's grants apply.
	if r := ts.do("POST", "/api/v1/channels", testKeys.Mgmt, `{"name":"p","slug":"orders:private","isPrivate":true}`); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	c.subscribe("orders:private", "")
}

func TestSSE_TokenExpiryEndsStream(t *testing.T) {
	ts := startServer(t, nil)
	tok, exp := ts.token("short", nil, 2*time.Second)
	s := ts.openSSE(url.Values{"channel": {"orders:a"}, "token": {tok}}, "")
	ev := s.next()
	if ev.event != "error" || !contains(ev.data, `"code":"TOKEN_EXPIRED"`) {
		t.Fatalf("event = %+v, want error TOKEN_EXPIRED", ev)
	}
	if time.Now().Before(exp) {
		t.Fatalf("ended before the token's exp %v", exp)
	}
	s.expectEnd()
}
