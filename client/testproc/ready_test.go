//go:build !windows

package testproc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestWaitAllReady_PollsBetweenWarmups: a fresh cluster becomes ready once
// a warm-up message is applied; WaitAllReady sees that at its next poll,
// not when the next warm-up would be due. The fake node answers /ready 503
// until it has taken a publish, and the warm-up period is an hour: the
// wait must end after one publish, well inside the test's deadline.
func TestWaitAllReady_PollsBetweenWarmups(t *testing.T) {
	var publishes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/channels/warm/messages":
			if r.Header.Get("Authorization") != "Bearer sec_0123456789" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			publishes.Add(1)
			w.WriteHeader(http.StatusCreated)
		case r.URL.Path == "/ready" && publishes.Load() > 0:
			w.WriteHeader(http.StatusOK)
		case r.URL.Path == "/ready":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := WaitAllReady(ctx, []Target{{URL: srv.URL}}, Warmup{Channel: "warm", SecretKey: "sec_0123456789", Every: time.Hour})
	if err != nil {
		t.Fatalf("WaitAllReady: %v (after %d warm-up publishes)", err, publishes.Load())
	}
	if n := publishes.Load(); n != 1 {
		t.Fatalf("%d warm-up publishes, want 1", n)
	}
}
