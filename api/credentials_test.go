package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/fasthttp/websocket"
	"github.com/pushflo/pushflo/stream"
)

// TestServer_RESTRefusesQueryToken: REST takes keys only in the
// Authorization header; a key in ?token= is refused with 401, whatever
// its role. (Before: any key, the management key included, worked there.)
func TestServer_RESTRefusesQueryToken(t *testing.T) {
	ts := startServer(t, nil)
	for _, tc := range []struct{ method, path, key string }{
		{"GET", "/api/v1/channels", testKeys.Secret},
		{"GET", "/api/v1/cluster", testKeys.Mgmt},
		{"POST", "/api/v1/channels/q/messages", testKeys.Secret},
	} {
		r := ts.do(tc.method, tc.path+"?token="+tc.key, "", `{"content":{"n":1}}`)
		if r.status != 401 || r.json(t)["code"] != CodeUnauthorized {
			t.Errorf("%s %s?token=<%s key>: %d %s, want 401 UNAUTHORIZED", tc.method, tc.path, tc.key[:strings.IndexByte(tc.key, '_')], r.status, r.body)
		}
		if strings.Contains(string(r.body), tc.key) {
			t.Errorf("the reply echoes the key: %s", r.body)
		}
	}
	if r := ts.do("GET", "/api/v1/channels", testKeys.Secret, nil); r.status != 200 {
		t.Fatalf("the same key in the header: %d %s", r.status, r.body)
	}
}

// TestStreams_QueryTokenTakesOnlyPublicCredentials: on WebSocket and SSE,
// ?token= takes the publish key and connection tokens; a secret or
// management key there is refused (WebSocket: UNAUTHORIZED frame, close
// 4001; SSE: 401). Clients that can set headers send any key in
// Authorization: Bearer.
func TestStreams_QueryTokenTakesOnlyPublicCredentials(t *testing.T) {
	ts := startServer(t, nil)
	ts.do("POST", "/api/v1/channels", testKeys.Secret, `{"name":"Secret","slug":"secret","isPrivate":true}`)
	tok := ts.do("POST", "/api/v1/auth/token", testKeys.Secret, `{"channels":["secret"]}`).json(t)["data"].(map[string]any)["token"].(string)
	wsURL := strings.Replace(ts.url, "http://", "ws://", 1) + "/ws"

	for _, key := range []string{testKeys.Secret, testKeys.Mgmt} {
		role := key[:strings.IndexByte(key, '_')]
		ws, _, err := websocket.DefaultDialer.Dial(wsURL+"?token="+key, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := &wsClient{t: t, ws: ws}
		m, err := c.next()
		if err != nil || m["type"] != "error" || m["code"] != CodeUnauthorized {
			t.Errorf("ws ?token=<%s key>: first frame %v, %v; want an UNAUTHORIZED error frame", role, m, err)
		} else if strings.Contains(m["error"].(string), key) {
			t.Errorf("the error frame echoes the key: %v", m)
		}
		if _, err := c.next(); !websocket.IsCloseError(err, closeUnauthorized) {
			t.Errorf("ws ?token=<%s key>: %v, want close %d", role, err, closeUnauthorized)
		}
		ws.Close()
		if st := sseStatus(t, ts.url+"/sse?channel=secret&token="+key, ""); st != 401 {
			t.Errorf("sse ?token=<%s key>: %d, want 401", role, st)
		}
		// The same key in a header is accepted, and reads private channels.
		if st := sseStatus(t, ts.url+"/sse?channel=secret", key); st != 200 {
			t.Errorf("sse with the %s key in Authorization: %d, want 200", role, st)
		}
		hws, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Authorization": {"Bearer " + key}})
		if err != nil {
			t.Fatal(err)
		}
		h := &wsClient{t: t, ws: hws}
		h.expect("connected")
		h.send(map[string]any{"type": "subscribe", "channel": "secret"})
		h.expect("subscribed")
		hws.Close()
	}
	for name, cred := range map[string]string{"publish key": testKeys.Publish, "connection token": tok} {
		c := ts.dialWS(cred)
		c.expect("connected")
		if st := sseStatus(t, ts.url+"/sse?channel=secret&token="+cred, ""); name == "connection token" && st != 200 {
			t.Errorf("sse ?token=<%s>: %d, want 200", name, st)
		}
	}
}

// sseStatus opens an SSE stream and returns its status, closing it.
func sseStatus(t *testing.T, u, bearer string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestMetrics_PrivateNeedsKey: with a metrics key, GET /metrics answers
// only the metrics, secret or management key; without one it stays open.
func TestMetrics_PrivateNeedsKey(t *testing.T) {
	ts := startServer(t, func(c *Config, _ *stream.Config) { c.MetricsKey = "metrics_scrape" })
	for _, tc := range []struct {
		key    string
		status int
	}{{"", 401}, {testKeys.Publish, 401}, {"metrics_wrong", 401}, {"metrics_scrape", 200}, {testKeys.Secret, 200}, {testKeys.Mgmt, 200}} {
		r := ts.do("GET", "/metrics", tc.key, nil)
		if r.status != tc.status {
			t.Errorf("/metrics with %q: %d, want %d", tc.key, r.status, tc.status)
		}
		if tc.status == 200 && !strings.Contains(string(r.body), "pushflo_frontend_publishes_total") {
			t.Errorf("/metrics with %q: no pushflo series", tc.key)
		}
	}
	open := startServer(t, nil)
	if r := open.do("GET", "/metrics", "", nil); r.status != 200 {
		t.Fatalf("default /metrics without a key: %d", r.status)
	}
}
