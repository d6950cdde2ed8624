package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pushflo/pushflo/internal/testnet"
	"go.uber.org/goleak"
)

// TestServe_EarlyErrorsStopEverything makes serve fail at each step that
// comes after something was started (Raft, the store, the HTTP server,
// the hub) and checks that the failing serve leaves no goroutine behind
// and gives back its ports and data dir: a second serve on the same
// addresses and directory starts and stops cleanly.
func TestServe_EarlyErrorsStopEverything(t *testing.T) {
	cases := []struct {
		name string
		// setup returns extra flags and the fault's cleanup, run before
		// the second start.
		setup   func(t *testing.T) (extra []string, release func())
		wantErr string
		// block is which base address to hold while the first serve runs.
		block string
	}{
		{name: "http address in use", block: "http", wantErr: "listen on http address"},
		{name: "debug address in use", wantErr: "listen on debug address", setup: func(t *testing.T) ([]string, func()) {
			ln := testnet.Listen(t)
			return []string{"--debug-addr", ln.Addr().String()}, func() { ln.Close() }
		}},
		{name: "join refused", wantErr: "join via", setup: func(t *testing.T) ([]string, func()) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"error":{"code":"VALIDATION_ERROR","message":"no"}}`)
			}))
			return []string{"--join", ts.URL}, ts.Close
		}},
		{name: "join refused with metrics and debug servers", wantErr: "join via", setup: func(t *testing.T) ([]string, func()) {
			m, d := testnet.Listen(t), testnet.Listen(t)
			m.Close()
			d.Close()
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
			}))
			return []string{"--metrics-addr", m.Addr().String(), "--debug-addr", d.Addr().String(), "--join", ts.URL}, ts.Close
		}},
		{name: "bad tls key", wantErr: "load tls certificate", setup: func(t *testing.T) ([]string, func()) {
			dir := t.TempDir()
			cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
			os.WriteFile(cert, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600)
			os.WriteFile(key, []byte("not a key"), 0o600)
			return []string{"--tls-cert", cert, "--tls-key", key}, func() {}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			httpLn, raftLn := testnet.Listen(t), testnet.Listen(t)
			base := []string{"--node-id", "n1", "--data-dir", t.TempDir(),
				"--http-addr", httpLn.Addr().String(), "--raft-addr", raftLn.Addr().String(),
				"--publish-key", "pub_leaktestkey1", "--secret-key", "sec_leaktestkey1", "--mgmt-key", "mgmt_leaktestkey1",
				"--cluster-secret", "leak-test-secret", "--log-level", "warn"}
			raftLn.Close()
			if tc.block != "http" {
				httpLn.Close()
			}
			var extra []string
			release := func() {}
			if tc.setup != nil {
				extra, release = tc.setup(t)
			}
			leaks := goleak.IgnoreCurrent()

			err := runServeForTest(context.Background(), append(base, extra...), t)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("serve returned %v; want an error containing %q", err, tc.wantErr)
			}
			release()
			if tc.block == "http" {
				httpLn.Close()
			}
			if err := noGoroutinesLeft(leaks); err != nil {
				t.Errorf("serve left goroutines behind after %q:\n%v", tc.wantErr, err)
			}

			// The ports are free again, and the data dir serves again.
			for _, addr := range []string{httpLn.Addr().String(), raftLn.Addr().String()} {
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					t.Fatalf("after serve failed, its address is still taken: %v", err)
				}
				ln.Close()
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- runServeForTest(ctx, base, t) }()
			waitReady(t, "http://"+httpLn.Addr().String(), done)
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("second serve on the same addresses and data dir: %v", err)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("second serve did not stop within 60s of its context ending")
			}
		})
	}
}

// waitReady polls /ready until 200; serve ending first fails the test.
func waitReady(t *testing.T, base string, done <-chan error) {
	t.Helper()
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("serve ended before it was ready: %v", err)
		default:
		}
		if resp, err := hc.Get(base + "/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready within 60s", base)
}

// runServeForTest runs serve in this process, its output in t's log.
func runServeForTest(ctx context.Context, args []string, t *testing.T) error {
	return runServe(ctx, args, testWriter{t})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// noGoroutinesLeft waits up to 30s for every goroutine started since
// leaks was taken to end (fasthttp's worker pool cleaner, for one, sleeps
// up to 10s before it sees its server stopped), then names those left.
func noGoroutinesLeft(leaks goleak.Option) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		// The test's own HTTP client may keep idle connections.
		err := goleak.Find(leaks, goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"))
		if err == nil || time.Now().After(deadline) {
			return err
		}
	}
}
