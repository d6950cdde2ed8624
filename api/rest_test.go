package api

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pushflo/pushflo/web"
)

func TestServer_PublishAndHistory(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.do("POST", "/api/v1/channels/orders:user-123/messages", testKeys.Secret,
		`{"content":{"status":"shipped"},"eventType":"order-shipped","clientId":"backend-1"}`)
	if r.status != 201 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	data := r.json(t)["data"].(map[string]any)
	for _, k := range []string{"id", "channelSlug", "eventType", "clientId", "delivered", "createdAt"} {
		if _, ok := data[k]; !ok {
			t.Errorf("publish response lacks %q: %s", k, r.body)
		}
	}
	if data["channelSlug"] != "orders:user-123" || data["eventType"] != "order-shipped" || data["clientId"] != "backend-1" {
		t.Fatalf("publish response = %s", r.body)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(data["createdAt"].(string)) {
		t.Fatalf("createdAt %q is not ISO 8601 with milliseconds", data["createdAt"])
	}
	for i := 0; i < 4; i++ {
		ts.publish("orders:user-123", fmt.Sprintf(`{"n":%d}`, i))
	}
	h := ts.do("GET", "/api/v1/channels/orders:user-123/messages?pageSize=2", testKeys.Secret, nil)
	if h.status != 200 {
		t.Fatalf("history: %d %s", h.status, h.body)
	}
	hd := h.json(t)["data"].(map[string]any)
	items := hd["items"].([]any)
	pg := hd["pagination"].(map[string]any)
	if len(items) != 2 || pg["total"].(float64) != 5 || pg["totalPages"].(float64) != 3 || pg["page"].(float64) != 1 {
		t.Fatalf("history page = %s", h.body)
	}
	first := items[0].(map[string]any)
	if first["content"].(map[string]any)["n"].(float64) != 3 {
		t.Fatalf("history is not newest first: %s", h.body)
	}
	for _, k := range []string{"id", "channel", "eventType", "clientId", "content", "timestamp", "createdAt"} {
		if _, ok := first[k]; !ok {
			t.Errorf("history message lacks %q", k)
		}
	}
	last := ts.do("GET", "/api/v1/channels/orders:user-123/messages?page=3&pageSize=2", testKeys.Secret, nil).json(t)["data"].(map[string]any)["items"].([]any)
	if len(last) != 1 || last[0].(map[string]any)["id"] != data["id"] {
		t.Fatalf("last page = %v, want the first message %v", last, data["id"])
	}
	ev := ts.do("GET", "/api/v1/channels/orders:user-123/messages?eventType=order-shipped", testKeys.Secret, nil).json(t)["data"].(map[string]any)
	if len(ev["items"].([]any)) != 1 {
		t.Fatalf("eventType filter = %v", ev)
	}
}

func TestServer_Since(t *testing.T) {
	ts := startServer(t, nil)
	ids := ts.publishN("c", 5)
	r := ts.do("GET", "/api/v1/channels/c/messages?since="+ids[1]+"&limit=2", testKeys.Secret, nil)
	d := r.json(t)["data"].(map[string]any)
	items := d["items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["id"] != ids[2] || d["complete"] != true || d["hasMore"] != true {
		t.Fatalf("since = %s", r.body)
	}
}

func TestServer_Idempotency(t *testing.T) {
	ts := startServer(t, nil)
	body := `{"content":{"a":1}}`
	a := ts.do("POST", "/api/v1/channels/c/messages", testKeys.Secret, body, "Idempotency-Key", "req-1")
	b := ts.do("POST", "/api/v1/channels/c/messages", testKeys.Secret, body, "Idempotency-Key", "req-1")
	if a.status != 201 || b.status != 201 {
		t.Fatalf("statuses %d %d", a.status, b.status)
	}
	if a.json(t)["data"].(map[string]any)["id"] != b.json(t)["data"].(map[string]any)["id"] {
		t.Fatalf("retry got a new ID: %s vs %s", a.body, b.body)
	}
	h := ts.do("GET", "/api/v1/channels/c/messages", testKeys.Secret, nil).json(t)["data"].(map[string]any)
	if n := len(h["items"].([]any)); n != 1 {
		t.Fatalf("history holds %d messages after a retried publish, want 1", n)
	}
}

// TestServer_BadInput checks every refusal: status, code, a sentence, and
// that the server keeps serving afterwards.
func TestServer_BadInput(t *testing.T) {
	ts := startServer(t, nil)
	big := `{"content":{"x":"` + strings.Repeat("a", 33<<10) + `"}}`
	pub := "/api/v1/channels/c/messages"
	cases := []struct {
		name, method, path, key, body string
		hdr                           []string
		status                        int
		code                          string
	}{
		{"not JSON", "POST", pub, testKeys.Secret, `{"content":`, nil, 400, CodeValidation},
		{"content an array", "POST", pub, testKeys.Secret, `{"content":[1,2]}`, nil, 400, CodeValidation},
		{"content a string", "POST", pub, testKeys.Secret, `{"content":"hi"}`, nil, 400, CodeValidation},
		{"content missing", "POST", pub, testKeys.Secret, `{"eventType":"x"}`, nil, 400, CodeValidation},
		{"over 32 KiB", "POST", pub, testKeys.Secret, big, nil, 413, CodePayloadTooLarge},
		{"bad channel name", "POST", "/api/v1/channels/bad%20name!/messages", testKeys.Secret, `{"content":{}}`, nil, 400, CodeValidation},
		{"channel too long", "POST", "/api/v1/channels/" + strings.Repeat("a", 129) + "/messages", testKeys.Secret, `{"content":{}}`, nil, 400, CodeValidation},
		{"empty eventType", "POST", pub, testKeys.Secret, `{"content":{},"eventType":""}`, nil, 400, CodeValidation},
		{"long eventType", "POST", pub, testKeys.Secret, `{"content":{},"eventType":"` + strings.Repeat("e", 65) + `"}`, nil, 400, CodeValidation},
		{"control char eventType", "POST", pub, testKeys.Secret, `{"content":{},"eventType":"a\nb"}`, nil, 400, CodeValidation},
		{"long idempotency key", "POST", pub, testKeys.Secret, `{"content":{}}`, []string{"Idempotency-Key", strings.Repeat("k", 129)}, 400, CodeValidation},
		{"missing key", "POST", pub, "", `{"content":{}}`, nil, 401, CodeUnauthorized},
		{"unknown key", "POST", pub, "sec_nope", `{"content":{}}`, nil, 401, CodeUnauthorized},
		{"publish key publishing", "POST", pub, testKeys.Publish, `{"content":{}}`, nil, 403, CodeForbidden},
		{"publish key reading history", "GET", pub, testKeys.Publish, "", nil, 403, CodeForbidden},
		{"publish key creating a channel", "POST", "/api/v1/channels", testKeys.Publish, `{"name":"x"}`, nil, 403, CodeForbidden},
		{"secret key adding a member", "POST", "/api/v1/cluster/members", testKeys.Secret, `{"nodeId":"n9","raftAddr":"127.0.0.1:1"}`, nil, 403, CodeForbidden},
		{"unknown route", "GET", "/api/v1/nothing", testKeys.Secret, "", nil, 404, CodeNotFound},
		{"wrong method", "DELETE", pub, testKeys.Secret, "", nil, 405, CodeValidation},
		{"bad page size", "GET", pub + "?pageSize=1000", testKeys.Secret, "", nil, 400, CodeValidation},
		{"bad since", "GET", pub + "?since=zzz", testKeys.Secret, "", nil, 400, CodeValidation},
		{"unknown channel", "GET", "/api/v1/channels/nope", testKeys.Secret, "", nil, 404, CodeNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do(tc.method, tc.path, tc.key, tc.body, tc.hdr...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			m := r.json(t)
			if m["success"] != false || m["code"] != tc.code || len(m["error"].(string)) < 10 {
				t.Fatalf("body = %s, want code %s and a sentence", r.body, tc.code)
			}
			ts.publish("still-serving", `{"ok":true}`)
		})
	}
	h := ts.do("GET", pub, testKeys.Secret, nil).json(t)["data"].(map[string]any)
	if n := len(h["items"].([]any)); n != 0 {
		t.Fatalf("refused publishes stored %d messages", n)
	}
}

// TestServer_RefusesHugeBodyUnread announces a body of megabytes, sends
// none of it, and gets 413 PAYLOAD_TOO_LARGE: the server refused it from
// the Content-Length alone.
func TestServer_RefusesHugeBodyUnread(t *testing.T) {
	ts := startServer(t, nil)
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /api/v1/channels/c/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", testKeys.Secret, 50<<20)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(body), CodePayloadTooLarge) {
		t.Fatalf("got %d %s, want 413 %s", resp.StatusCode, body, CodePayloadTooLarge)
	}
	ts.publish("still-serving", `{}`)
}

func TestServer_ChannelsCRUD(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.do("POST", "/api/v1/channels", testKeys.Mgmt, `{"name":"Chat 42","slug":"chat:room-42","description":"d","isPrivate":true,"metadata":{"k":1},"retentionSeconds":60}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	c := r.json(t)["data"].(map[string]any)
	for _, k := range []string{"id", "name", "slug", "description", "isPrivate", "metadata", "messageCount", "createdAt", "updatedAt"} {
		if _, ok := c[k]; !ok {
			t.Errorf("channel lacks %q: %s", k, r.body)
		}
	}
	if c["isPrivate"] != true || c["retentionSeconds"].(float64) != 60 {
		t.Fatalf("created = %s", r.body)
	}
	if dup := ts.do("POST", "/api/v1/channels", testKeys.Mgmt, `{"name":"again","slug":"chat:room-42"}`); dup.status != 409 || dup.json(t)["code"] != CodeConflict {
		t.Fatalf("duplicate create: %d %s", dup.status, dup.body)
	}
	p := ts.do("PATCH", "/api/v1/channels/chat:room-42", testKeys.Mgmt, `{"isPrivate":false,"description":"e"}`)
	if p.status != 200 || p.json(t)["data"].(map[string]any)["isPrivate"] != false {
		t.Fatalf("patch: %d %s", p.status, p.body)
	}
	ts.publish("chat:room-42", `{"hi":1}`)
	g := ts.do("GET", "/api/v1/channels/chat:room-42", testKeys.Secret, nil).json(t)["data"].(map[string]any)
	if g["messageCount"].(float64) != 1 || g["description"] != "e" {
		t.Fatalf("get = %v", g)
	}
	l := ts.do("GET", "/api/v1/channels", testKeys.Secret, nil).json(t)
	if len(l["data"].([]any)) != 1 || l["pagination"] == nil {
		t.Fatalf("list = %v", l)
	}
	if d := ts.do("DELETE", "/api/v1/channels/chat:room-42", testKeys.Mgmt, nil); d.status != 204 {
		t.Fatalf("delete: %d %s", d.status, d.body)
	}
	if g := ts.do("GET", "/api/v1/channels/chat:room-42", testKeys.Secret, nil); g.status != 404 {
		t.Fatalf("get after delete: %d", g.status)
	}
	if d := ts.do("DELETE", "/api/v1/channels/chat:room-42", testKeys.Mgmt, nil); d.status != 404 {
		t.Fatalf("second delete: %d", d.status)
	}
}

func TestServer_Tokens(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.do("POST", "/api/v1/auth/token", "", `{"publishKey":"`+testKeys.Publish+`","clientId":"user-7"}`)
	if r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	d := r.json(t)["data"].(map[string]any)
	if d["clientId"] != "user-7" || d["token"] == "" || !strings.HasSuffix(d["endpoint"].(string), "/ws") || d["expiresAt"] == "" {
		t.Fatalf("token = %s", r.body)
	}
	if bad := ts.do("POST", "/api/v1/auth/token", "", `{"publishKey":"pub_wrong"}`); bad.status != 401 {
		t.Fatalf("bad publish key: %d", bad.status)
	}
	if grant := ts.do("POST", "/api/v1/auth/token", "", `{"publishKey":"`+testKeys.Publish+`","channels":["secret"]}`); grant.status != 403 {
		t.Fatalf("publish key granting channels: %d %s", grant.status, grant.body)
	}
	if grant := ts.do("POST", "/api/v1/auth/token", testKeys.Secret, `{"channels":["vip"],"ttl":60}`); grant.status != 200 {
		t.Fatalf("secret key granting channels: %d %s", grant.status, grant.body)
	}
	// A token is not a secret key.
	if h := ts.do("GET", "/api/v1/channels/c/messages", d["token"].(string), nil); h.status != 403 {
		t.Fatalf("token reading history: %d", h.status)
	}
}

func TestServer_Operations(t *testing.T) {
	ts := startServer(t, nil)
	if r := ts.do("GET", "/health", "", nil); r.status != 200 || r.json(t)["status"] != "ok" {
		t.Fatalf("health: %d %s", r.status, r.body)
	}
	if r := ts.do("GET", "/ready", "", nil); r.status != 200 {
		t.Fatalf("ready: %d %s", r.status, r.body)
	}
	ts.publish("m", `{}`)
	r := ts.do("GET", "/metrics", "", nil)
	for _, want := range []string{"pushflo_frontend_publishes_total 1", "pushflo_frontend_publish_duration_seconds_bucket", "pushflo_raftnode_applied_index", "pushflo_raftnode_is_leader 1", "pushflo_raftnode_apply_lag_entries 0", "pushflo_log_disk_bytes", "pushflo_frontend_subscriptions"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if r := ts.do("OPTIONS", "/api/v1/channels/c/messages", "", nil, "Origin", "https://app.example", "Access-Control-Request-Method", "POST"); r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("CORS preflight: %d %v", r.status, r.header)
	}
	st := ts.do("GET", "/api/v1/cluster", testKeys.Mgmt, nil)
	if st.status != 200 || !strings.Contains(string(st.body), `"leader":"n1"`) {
		t.Fatalf("cluster status: %d %s", st.status, st.body)
	}
	_ = fmt.Sprint
}

func TestServer_ServesSDKBundle(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.do("GET", web.SDKPath, "", nil, "Origin", "https://app.example")
	if r.status != 200 {
		t.Fatalf("GET %s: %d %s", web.SDKPath, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type %q, want text/javascript (browsers refuse modules of other types)", ct)
	}
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("no CORS header: a page on another origin cannot import the module: %v", r.header)
	}
	if string(r.body) != string(web.SDKBundle) {
		t.Errorf("served %d bytes, want the %d of web/sdk/pushflo.js", len(r.body), len(web.SDKBundle))
	}
	if r := ts.do("POST", web.SDKPath, "", nil); r.status == 200 {
		t.Errorf("POST %s answered 200", web.SDKPath)
	}
}
