package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/pushflo/pushflo/compaction"
	"github.com/pushflo/pushflo/internal/testlog"
	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/raftnode"
	"github.com/pushflo/pushflo/stream"
)

var testKeys = Keys{Publish: "pub_testtesttest", Secret: "sec_testtesttest", Mgmt: "mgmt_testtesttest"}

func testLogger(t testing.TB) *slog.Logger { return testlog.New(t, slog.LevelWarn) }

// testServer is a real single node: Pebble in a temp dir, a one-node Raft
// group on loopback, and the fasthttp frontend on a loopback port.
type testServer struct {
	t     testing.TB
	url   string
	srv   *Server
	hub   *stream.Hub
	store *log.Store
	node  *raftnode.Node
}

// startServer starts one node; mod, when not nil, changes the api's and
// the hub's configuration first.
func startServer(t testing.TB, mod func(*Config, *stream.Config)) *testServer {
	t.Helper()
	return startServerWrapped(t, mod, nil)
}

// startServerWrapped is startServer with the frontend seeing the node
// through wrap, so a test can change what the node answers.
func startServerWrapped(t testing.TB, mod func(*Config, *stream.Config), wrap func(*raftnode.Node) Node) *testServer {
	t.Helper()
	dir := t.TempDir()
	store, err := log.Open(log.Config{Dir: dir + "/store", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	node, err := raftnode.Open(raftnode.Config{NodeID: "n1", Dir: dir + "/raft", RaftAddr: "127.0.0.1:0", Store: store, Logger: testLogger(t)})
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	var n Node = node
	if wrap != nil {
		n = wrap(node)
	}
	ts := serveAPI(t, n, store, mod)
	ts.node = node
	t.Cleanup(func() {
		node.Close()
		store.Close()
	})
	deadline := time.Now().Add(10 * time.Second)
	for !node.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("single node never became leader")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return ts
}

// serveAPI runs the api and a hub over a node and a store on a loopback
// port until the test ends.
func serveAPI(t testing.TB, node Node, store *log.Store, mod func(*Config, *stream.Config)) *testServer {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := Config{Keys: testKeys, Metrics: reg, Logger: testLogger(t)}
	policy := &compaction.Policy{Default: 24 * time.Hour}
	scfg := stream.Config{Retention: policy.Retention, Logger: testLogger(t)}
	if mod != nil {
		mod(&cfg, &scfg)
	}
	hub, err := stream.New(scfg, store)
	if err != nil {
		t.Fatal(err)
	}
	hub.Start()
	srv, err := New(cfg, node, store, hub)
	if err != nil {
		t.Fatal(err)
	}
	// As the binary does: each package's collectors in one registry.
	reg.MustRegister(append(append(srv.Collectors(), hub.Collectors()...), store.Collectors()...)...)
	if rn, ok := node.(*raftnode.Node); ok {
		reg.MustRegister(rn.Collectors()...)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hub.Close()
	})
	return &testServer{t: t, url: "http://" + ln.Addr().String(), srv: srv, hub: hub, store: store}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.status, r.body)
	}
	return m
}

func (ts *testServer) do(method, path, key string, body any, hdr ...string) response {
	ts.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
	}
	return request(ts.t, http.DefaultClient, method, ts.url+path, key, rd, hdr...)
}

// request makes one HTTP request with key as its bearer credential (none
// when empty) and hdr as name, value pairs, and fails tb if no answer
// comes.
func request(tb testing.TB, hc *http.Client, method, url, key string, body io.Reader, hdr ...string) response {
	tb.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		tb.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: the server stopped answering: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// heapInuse returns the process's in-use heap bytes after two garbage
// collections, for tests that bound what connections hold.
func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// subscribeWithToken opens a WebSocket with a token minted for clientID
// that expires after ttl, waits for "connected" and subscribes to channel;
// it returns the connection and the token's exp.
func (ts *testServer) subscribeWithToken(clientID string, ttl time.Duration, channel string) (*wsClient, time.Time) {
	ts.t.Helper()
	tok, exp := ts.token(clientID, nil, ttl)
	c := ts.dialWS(tok)
	c.expect("connected")
	c.subscribe(channel, "")
	return c, exp
}

// token mints a subscriber token for clientID, granting channels, valid
// for ttl; it returns the token and its exp.
func (ts *testServer) token(clientID string, channels []string, ttl time.Duration) (string, time.Time) {
	ts.t.Helper()
	tok, exp, err := ts.srv.mintToken(clientID, channels, ttl)
	if err != nil {
		ts.t.Fatal(err)
	}
	return tok, exp
}

// publish publishes and returns the message ID, failing the test otherwise.
func (ts *testServer) publish(channel string, content string) string {
	ts.t.Helper()
	r := ts.do("POST", "/api/v1/channels/"+channel+"/messages", testKeys.Secret, `{"content":`+content+`,"eventType":"test"}`)
	if r.status != 201 {
		ts.t.Fatalf("publish to %s: %d %s", channel, r.status, r.body)
	}
	return r.json(ts.t)["data"].(map[string]any)["id"].(string)
}

func (ts *testServer) publishN(channel string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = ts.publish(channel, fmt.Sprintf(`{"n":%d}`, i))
	}
	return ids
}
