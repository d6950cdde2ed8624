package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServer_TransportErrorsEchoNothing sends requests fasthttp cannot
// read over a raw TCP socket, each pipelined in one write with a second
// request carrying another secret key, and checks the reply: a fixed JSON
// error in our words, the connection closed, and not one run of eight bytes
// of what was sent, the keys least of all. Before, the reply repeated the
// read buffer: the request's own Authorization header and, with two
// requests in one write, the next request's key.
func TestServer_TransportErrorsEchoNothing(t *testing.T) {
	ts := startServer(t, nil)
	addr := strings.TrimPrefix(ts.url, "http://")
	const key1, key2 = "sec_FIRSTREQUESTKEY0123456789", "sec_SECONDREQUESTKEY987654321"
	next := "POST /api/v1/channels/c/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key2 + "\r\nContent-Length: 2\r\n\r\n{}"
	cases := []struct {
		name   string
		first  string
		status int
		code   string
	}{
		{"control byte in a header", "GET /api/v1/channels HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key1 + "\r\nX-Bad: \x01\r\n\r\n", 400, CodeValidation},
		{"no colon in a header", "GET /api/v1/channels HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key1 + "\r\nthis is not a header\r\n\r\n", 400, CodeValidation},
		{"bad request line", "GET /api/v1/channels HTTP/1.1 extra\x00\r\nAuthorization: Bearer " + key1 + "\r\n\r\n", 400, CodeValidation},
		{"headers too large", "GET /api/v1/channels HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key1 + "\r\nX-Pad: " + strings.Repeat("p", 8<<10) + "\r\n\r\n", 431, CodeHeadersTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sent := tc.first + next
			raw := exchange(t, addr, sent)
			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(raw))), nil)
			if err != nil {
				t.Fatalf("reply is not HTTP: %v: %q", err, raw)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var e struct{ Error, Code string }
			if err := json.Unmarshal(body, &e); err != nil || e.Code != tc.code {
				t.Fatalf("body %s: want a JSON error with code %s", body, tc.code)
			}
			if n := strings.Count(string(raw), "HTTP/1.1 "); n != 1 {
				t.Fatalf("%d replies on the connection, want 1: the pipelined request must not be served after an unreadable one", n)
			}
			for _, k := range []string{key1, key2, "Bearer", "X-Bad", "X-Pad", "ppppppp"} {
				if strings.Contains(string(raw), k) {
					t.Fatalf("reply contains %q from the request: %s", k, raw)
				}
			}
			for i := 0; i+8 <= len(sent); i++ {
				if w := sent[i : i+8]; strings.Contains(string(body), w) {
					t.Fatalf("reply body contains %q, sent at byte %d: %s", w, i, body)
				}
			}
		})
	}
	// The server still serves.
	if r := ts.do("GET", "/health", "", nil); r.status != 200 {
		t.Fatalf("health after bad requests: %d", r.status)
	}
}

// exchange writes sent in one write on a new connection and reads until the
// server closes it. A server that closes with request bytes unread resets
// the connection, which may come right after its reply: a reset after some
// bytes arrived counts as the close, one before any is retried.
func exchange(t *testing.T, addr, sent string) []byte {
	t.Helper()
	for attempt := 1; ; attempt++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, sent); err != nil {
			c.Close()
			t.Fatal(err)
		}
		raw, err := io.ReadAll(c)
		c.Close()
		switch {
		case err == nil:
			return raw
		case errors.Is(err, syscall.ECONNRESET) && len(raw) > 0:
			return raw
		case errors.Is(err, syscall.ECONNRESET) && attempt < 3:
			continue
		}
		t.Fatalf("read until close: %v (got %q)", err, raw)
	}
}
