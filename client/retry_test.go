package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeNode answers every request with one fixed status, code and body, and
// records the requests it saw. It imitates only the wire shape of an
// answer, to table-test how the client reads each code; the real server is
// exercised by the integration tests.
type fakeNode struct {
	*httptest.Server
	status int
	code   string
	mu     sync.Mutex
	keys   []string // Idempotency-Key of each request seen
	stale  []string // the stale query parameter of each request seen
}

func newFakeNode(t *testing.T, status int, code string) *fakeNode {
	f := &fakeNode{status: status, code: code}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.keys = append(f.keys, r.Header.Get("Idempotency-Key"))
		f.stale = append(f.stale, r.URL.Query().Get("stale"))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if f.status == http.StatusOK {
			w.Write([]byte(`{"success":true,"data":{"items":[]}}`))
			return
		}
		if f.status == http.StatusCreated {
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"success":true,"data":{"id":"0001","channelSlug":"c","eventType":"message"}}`))
			return
		}
		if f.status == http.StatusServiceUnavailable || f.status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(f.status)
		if f.code != "" {
			w.Write([]byte(`{"success":false,"error":"a sentence","code":"` + f.code + `"}`))
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// newFakeClient is a client of the fake nodes, in order.
func newFakeClient(t *testing.T, nodes ...*fakeNode) *Client {
	t.Helper()
	var addrs []string
	for _, f := range nodes {
		addrs = append(addrs, f.URL)
	}
	c, err := New(Config{Addrs: addrs, SecretKey: "sec_x", RequestTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fakeNode) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.keys...)
}

// TestPublish_WireCodes: which answers of a first node make Publish try a
// second one, with and without an idempotency key, and what the error says
// when it does not.
func TestPublish_WireCodes(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   string
		// retried says whether the second node is tried without / with an
		// idempotency key.
		retried, retriedWithKey bool
		// notApplied is NotApplied(err) when the second node is not tried.
		notApplied bool
	}{
		{"503 UNAVAILABLE: not applied", 503, "UNAVAILABLE", true, true, true},
		{"503 OUTCOME_UNKNOWN: maybe applied", 503, "OUTCOME_UNKNOWN", false, true, false},
		{"503 without a code: unknown", 503, "", false, true, false},
		{"500 SERVER_ERROR: unknown", 500, "SERVER_ERROR", false, true, false},
		{"502 from a proxy: unknown", 502, "", false, true, false},
		{"400 VALIDATION_ERROR: refused", 400, "VALIDATION_ERROR", false, false, true},
		{"401 UNAUTHORIZED: refused", 401, "UNAUTHORIZED", false, false, true},
		{"403 FORBIDDEN: refused", 403, "FORBIDDEN", false, false, true},
		{"413 PAYLOAD_TOO_LARGE: refused", 413, "PAYLOAD_TOO_LARGE", false, false, true},
		{"429 RATE_LIMITED: refused", 429, "RATE_LIMITED", false, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, key := range []string{"", "k-1"} {
				first := newFakeNode(t, tc.status, tc.code)
				second := newFakeNode(t, http.StatusCreated, "")
				c := newFakeClient(t, first, second)
				var opts []PublishOption
				want := tc.retried
				if key != "" {
					opts = append(opts, WithIdempotencyKey(key))
					want = tc.retriedWithKey
				}
				res, err := c.Publish(context.Background(), "c", map[string]int{"n": 1}, opts...)
				if got := len(first.requests()); got != 1 {
					t.Fatalf("key %q: first node saw %d requests, want 1", key, got)
				}
				if !want {
					if err == nil || len(second.requests()) != 0 {
						t.Fatalf("key %q: second node tried (%d requests), err %v", key, len(second.requests()), err)
					}
					var ae *APIError
					if !errors.As(err, &ae) || ae.Status != tc.status {
						t.Fatalf("key %q: err = %v, want an APIError with status %d", key, err, tc.status)
					}
					if NotApplied(err) != tc.notApplied {
						t.Fatalf("key %q: NotApplied = %v, want %v (%v)", key, !tc.notApplied, tc.notApplied, err)
					}
					continue
				}
				if err != nil || res.ID != "0001" {
					t.Fatalf("key %q: publish = %+v, %v; want the second node's answer", key, res, err)
				}
				if got := second.requests(); len(got) != 1 || got[0] != key {
					t.Fatalf("key %q: second node saw %q", key, got)
				}
			}
		})
	}
}

// TestPublish_AllNodesUnavailable: when every node says 503 UNAVAILABLE the
// error is definite and carries Retry-After.
func TestPublish_AllNodesUnavailable(t *testing.T) {
	a := newFakeNode(t, 503, "UNAVAILABLE")
	b := newFakeNode(t, 503, "UNAVAILABLE")
	c := newFakeClient(t, a, b)
	_, err := c.Publish(context.Background(), "c", map[string]int{"n": 1})
	var re *RequestError
	var ae *APIError
	if !errors.As(err, &re) || re.Attempts != 2 || !NotApplied(err) {
		t.Fatalf("err = %v, want not applied after 2 attempts", err)
	}
	if !errors.As(err, &ae) || ae.Code != CodeUnavailable || ae.RetryAfter != time.Second {
		t.Fatalf("APIError = %+v, want UNAVAILABLE with Retry-After 1s", ae)
	}
}

// TestPublish_OutcomeUnknownThenUnavailable: one unknown outcome makes the
// whole publish unknown, even if a later node certainly did nothing.
func TestPublish_OutcomeUnknownThenUnavailable(t *testing.T) {
	a := newFakeNode(t, 503, "OUTCOME_UNKNOWN")
	b := newFakeNode(t, 503, "UNAVAILABLE")
	c := newFakeClient(t, a, b)
	_, err := c.Publish(context.Background(), "c", map[string]int{"n": 1}, WithIdempotencyKey("k"))
	if NotApplied(err) || len(b.requests()) != 1 {
		t.Fatalf("err = %v (NotApplied %v), second node saw %d requests", err, NotApplied(err), len(b.requests()))
	}
}
