package client

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBackup_RequestTimeoutBoundsHeadersOnly: RequestTimeout bounds the
// wait for a node's answer, not the stream that follows it. The first node
// accepts the request and never answers: Backup gives up on it and asks
// the second, which answers at once and then streams its body for several
// times RequestTimeout; read gets the whole of it.
func TestBackup_RequestTimeoutBoundsHeadersOnly(t *testing.T) {
	const timeout = 200 * time.Millisecond
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(silent.Close)
	const chunks = 5
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/cluster/backup" || r.Header.Get("Authorization") != "Bearer mgmt_0123456789" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
		for i := range chunks {
			io.WriteString(w, "chunk\n")
			w.(http.Flusher).Flush()
			if i < chunks-1 {
				time.Sleep(timeout) // the whole stream takes 4 × RequestTimeout at least
			}
		}
	}))
	t.Cleanup(slow.Close)

	c, err := New(Config{Addrs: []string{silent.URL, slow.URL}, MgmtKey: "mgmt_0123456789", RequestTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got string
	var calls int
	err = c.Backup(ctx, func(r io.Reader) error {
		calls++
		b, err := io.ReadAll(r)
		got = string(b)
		return err
	})
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if calls != 1 || got != strings.Repeat("chunk\n", chunks) {
		t.Fatalf("read called %d times, last with %q; want once with the whole stream", calls, got)
	}

	// The silent node alone: the error says it did not answer in time.
	c, err = New(Config{Addrs: []string{silent.URL}, MgmtKey: "mgmt_0123456789", RequestTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Backup(ctx, func(io.Reader) error {
		t.Error("read called for a node that never answered")
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "no answer within "+timeout.String()) || !strings.Contains(err.Error(), silent.URL) {
		t.Fatalf("Backup from a silent node: %v; want its address and no answer within %s", err, timeout)
	}
}
