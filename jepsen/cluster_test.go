package jepsen

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client/testproc"
)

// TestWaitReadyWarm_OneConnectionForTheWarmup: while a cluster is not
// ready, waitReadyWarm publishes a warm-up message every half second until
// one is acknowledged; those publishes go through one client, so over one
// kept-alive connection, not a new transport (and connection, left idle)
// per attempt. The node's address is an HTTP server that refuses the first
// three warm-up publishes with 503 and acknowledges the fourth.
func TestWaitReadyWarm_OneConnectionForTheWarmup(t *testing.T) {
	var conns, publishes atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/"+WarmupChannel+"/messages") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if publishes.Add(1) <= 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":"no leader","code":"UNAVAILABLE"}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"data":{"id":"0000000000010001","channel":"`+WarmupChannel+`"}}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	// A member that is not running: every readiness wait fails at once,
	// so the warm-up loop runs until a publish is acknowledged.
	n := &Node{ID: "n1", HTTPAddr: strings.TrimPrefix(srv.URL, "http://"), LogPath: "n1.log", member: true,
		proc: &testproc.Proc{Name: "n1"}}
	c := &Cluster{cfg: ClusterConfig{SecretKey: "sec_jepsen_test", Logger: slog.New(slog.DiscardHandler)}, nodes: []*Node{n}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.waitReadyWarm(ctx); err == nil || !strings.Contains(err.Error(), "member but not running") {
		t.Fatalf("waitReadyWarm = %v, want the not-running member named", err)
	}
	if got := publishes.Load(); got != 4 {
		t.Fatalf("%d warm-up publishes, want 4 (three refused, the fourth acknowledged)", got)
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("the warm-up publishes opened %d connections, want 1 (one client, its connection kept alive)", got)
	}
}
