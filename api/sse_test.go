package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client/sse"
	"github.com/pushflo/pushflo/stream"
)

// sseEvent is one parsed server-sent event.
type sseEvent struct{ id, event, data string }

// sseStream is a real SSE client reading events off one HTTP response with
// the client's SSE reader; comment lines go to lines (as ": text").
type sseStream struct {
	t      testing.TB
	resp   *http.Response
	events chan sseEvent
	lines  chan string
}

func (ts *testServer) openSSE(query url.Values, lastEventID string) *sseStream {
	ts.t.Helper()
	req, _ := http.NewRequest("GET", ts.url+"/sse?"+query.Encode(), nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		ts.t.Fatalf("sse: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		ts.t.Fatalf("sse content type %q", ct)
	}
	s := &sseStream{t: ts.t, resp: resp, events: make(chan sseEvent, 10000), lines: make(chan string, 10000)}
	go func() {
		defer close(s.events)
		r := sse.NewReader(resp.Body, 0)
		r.Comments = true
		for {
			ev, err := r.Next()
			if err != nil {
				return
			}
			if ev.Comment != "" {
				select {
				case s.lines <- ": " + ev.Comment:
				default:
				}
				continue
			}
			s.events <- sseEvent{id: ev.ID, event: ev.Type, data: ev.Data}
		}
	}()
	ts.t.Cleanup(func() { resp.Body.Close() })
	return s
}

func (s *sseStream) next() sseEvent {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("sse stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		s.t.Fatal("no sse event within 10s")
	}
	return sseEvent{}
}

func (s *sseStream) close() { s.resp.Body.Close() }

func TestSSE_ResumeTwoChannels(t *testing.T) {
	ts := startServer(t, nil)
	q := url.Values{"channel": {"orders:a", "orders:b"}, "token": {testKeys.Publish}}
	s := ts.openSSE(q, "")
	time.Sleep(100 * time.Millisecond) // let the stream subscribe: it is live-only without an ID
	var want []string
	for i := 0; i < 6; i++ {
		ch := "orders:a"
		if i%2 == 1 {
			ch = "orders:b"
		}
		want = append(want, ts.publish(ch, `{"i":1}`))
	}
	var last string
	for i := 0; i < 4; i++ {
		ev := s.next()
		if ev.id != want[i] || ev.event != "test" || !strings.Contains(ev.data, `"content":{"i":1}`) {
			t.Fatalf("event %d = %+v, want id %s", i, ev, want[i])
		}
		last = ev.id
	}
	s.close()
	for i := 0; i < 4; i++ {
		ch := "orders:b"
		if i%2 == 1 {
			ch = "orders:a"
		}
		want = append(want, ts.publish(ch, `{"i":2}`))
	}
	// Resume with the browser's Last-Event-ID header: both channels, in order.
	s2 := ts.openSSE(q, last)
	for i := 4; i < len(want); i++ {
		if ev := s2.next(); ev.id != want[i] {
			t.Fatalf("resumed event %d = %s, want %s", i, ev.id, want[i])
		}
	}
	// And with ?lastEventId= for clients that cannot set headers.
	q2 := url.Values{"channel": {"orders:a", "orders:b"}, "token": {testKeys.Publish}, "lastEventId": {want[7]}}
	s3 := ts.openSSE(q2, "")
	for i := 8; i < len(want); i++ {
		if ev := s3.next(); ev.id != want[i] {
			t.Fatalf("lastEventId resume %d = %s, want %s", i, ev.id, want[i])
		}
	}
}

func TestSSE_KeepAlive(t *testing.T) {
	ts := startServer(t, func(_ *Config, h *stream.Config) { h.PingInterval = 50 * time.Millisecond })
	s := ts.openSSE(url.Values{"channel": {"quiet"}, "token": {testKeys.Publish}}, "")
	deadline := time.After(5 * time.Second)
	for {
		select {
		case line := <-s.lines:
			if strings.HasPrefix(line, ": keep-alive") {
				return
			}
		case <-deadline:
			t.Fatal("no keep-alive comment on an idle stream")
		}
	}
}

func TestSSE_Refusals(t *testing.T) {
	ts := startServer(t, nil)
	cases := []struct {
		name, query string
		status      int
	}{
		{"no token", "channel=a", 401},
		{"bad token", "channel=a&token=pub_nope", 401},
		{"no channel", "token=" + testKeys.Publish, 400},
		{"bad channel", "channel=bad%20name&token=" + testKeys.Publish, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do("GET", "/sse?"+tc.query, "", nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
		})
	}
}

// TestSSE_ForeignLastEventID: a Last-Event-ID this server never issued (an
// ID kept from the hosted service, or one past everything written) opens a
// live stream instead of a 400.
func TestSSE_ForeignLastEventID(t *testing.T) {
	ts := startServer(t, nil)
	old := ts.publish("foreign", `{"old":true}`)
	for _, last := range []string{"xyz", "cm4x7k2p90000abcdxyz", "ffffffffffffffff"} {
		s := ts.openSSE(url.Values{"channel": {"foreign"}, "token": {testKeys.Publish}}, last)
		s.expectConnected()
		id := ts.publish("foreign", `{"live":true}`)
		if ev := s.next(); ev.id != id {
			t.Fatalf("Last-Event-ID %q: first event %s, want the live %s (not the old %s)", last, ev.id, id, old)
		}
		s.close()
	}
}

// TestSSE_ChannelWithComma: ',' is part of a channel name, not a list
// separator; several channels are several parameters.
func TestSSE_ChannelWithComma(t *testing.T) {
	ts := startServer(t, nil)
	s := ts.openSSE(url.Values{"channel": {"a,b"}, "token": {testKeys.Publish}}, "")
	s.expectConnected()
	ts.publish("a", `{"n":1}`)
	id := ts.publish("a,b", `{"n":2}`)
	if ev := s.next(); ev.id != id {
		t.Fatalf("first event %s, want %s from channel a,b", ev.id, id)
	}
}
