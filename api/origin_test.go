package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/fasthttp/websocket"
	"github.com/pushflo/pushflo/stream"
)

// TestOrigins_AllowList: with --allowed-origins, CORS answers only the
// listed origins (and the server's own), and a WebSocket or SSE handshake
// from another page's origin is refused with 403 FORBIDDEN; requests with
// no Origin (not from a page) go on. Without it any origin is allowed, as
// before. (67f2b71 let every origin open a WebSocket.)
func TestOrigins_AllowList(t *testing.T) {
	ts := startServer(t, func(c *Config, _ *stream.Config) {
		c.AllowedOrigins = []string{"https://app.example.com", "https://*.example.org"}
		c.PublicURL = "https://Push.example.net/rt"
	})
	host := strings.TrimPrefix(ts.url, "http://")
	acao := func(origin string) string {
		return ts.do("GET", "/api/v1/channels", testKeys.Secret, nil, "Origin", origin).header.Get("Access-Control-Allow-Origin")
	}
	for origin, want := range map[string]string{
		"https://app.example.com":  "https://app.example.com",
		"https://a.b.example.org":  "https://a.b.example.org",
		"https://evil.example":     "",
		"https://example.org.evil": "",
		"http://app.example.com":   "",
		"https://push.example.net": "https://push.example.net",
	} {
		if got := acao(origin); got != want {
			t.Errorf("CORS for %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
		}
	}
	wsURL := strings.Replace(ts.url, "http://", "ws://", 1) + "/ws?token=" + testKeys.Publish
	for _, tc := range []struct {
		origin string
		ok     bool
	}{{"https://evil.example", false}, {"https://app.example.com", true}, {"http://" + host, true}, {"", true}} {
		hdr := http.Header{}
		if tc.origin != "" {
			hdr.Set("Origin", tc.origin)
		}
		ws, resp, err := websocket.DefaultDialer.Dial(wsURL, hdr)
		if tc.ok {
			if err != nil {
				t.Errorf("WebSocket from origin %q: %v, want it open", tc.origin, err)
				continue
			}
			(&wsClient{t: t, ws: ws}).expect("connected")
			ws.Close()
			continue
		}
		if err == nil {
			ws.Close()
			t.Errorf("WebSocket from origin %q opened, want 403", tc.origin)
		} else if resp == nil || resp.StatusCode != 403 {
			t.Errorf("WebSocket from origin %q: %v, want 403", tc.origin, err)
		}
	}
	req, _ := http.NewRequest("GET", ts.url+"/sse?channel=a&token="+testKeys.Publish, nil)
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("SSE from a refused origin: %d, want 403", resp.StatusCode)
	}

	open := startServer(t, nil)
	if got := open.do("GET", "/api/v1/channels", testKeys.Secret, nil, "Origin", "https://evil.example").header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("default CORS: %q, want *", got)
	}
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(open.url, "http://", "ws://", 1)+"/ws?token="+testKeys.Publish, http.Header{"Origin": {"https://evil.example"}})
	if err != nil {
		t.Fatalf("default: WebSocket from any origin: %v", err)
	}
	ws.Close()
}

func TestParseAllowedOrigins(t *testing.T) {
	got, err := ParseAllowedOrigins(" https://App.example.com/, https://*.example.org:8443 ,*")
	if err != nil || strings.Join(got, " ") != "https://app.example.com https://*.example.org:8443 *" {
		t.Fatalf("got %q, %v", got, err)
	}
	_, err = ParseAllowedOrigins("app.example.com,https://x.example/path,ftp://x")
	if err == nil || strings.Count(err.Error(), `"`) != 6 {
		t.Fatalf("error %v does not name the three bad entries", err)
	}
}
