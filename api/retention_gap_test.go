package api

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pushflo/pushflo/internal/clock"
	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/stream"
)

// publishConcurrently publishes n messages to a channel with a few clients
// at once (order does not matter to the callers); content gives the i-th
// message's content, nil for a small one.
func (ts *testServer) publishConcurrently(channel string, n int, content func(i int) string) {
	if content == nil {
		content = func(i int) string { return fmt.Sprintf(`{"n":%d}`, i) }
	}
	ts.t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := ts.do("POST", "/api/v1/channels/"+channel+"/messages", testKeys.Secret, `{"content":`+content(i)+`}`)
				if r.status != 201 {
					errs <- fmt.Errorf("publish %d: %d %s", i, r.status, r.body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		ts.t.Fatal(err)
	}
}

// expireAll makes every message published so far older than retention,
// by moving the server's clock forward (the leader stamps messages with
// it, reads hide what it says has expired: the test's hub reads clock.Now
// without the guard that would hold such a jump back) instead of sleeping: under CPU
// load a sleep-based test saw its fresh messages expire too. The clock is
// the process's: the offset is undone when the test (not a subtest: the
// store's message times never go back) ends.
func expireAll(t *testing.T, retention time.Duration) {
	t.Helper()
	clock.SetOffset(clock.Offset() + retention + time.Minute)
}

// startRetentionServer starts a server whose channels keep messages for
// retention, read against the unguarded process clock that expireAll moves
// forward; the clock is reset when the test ends.
func startRetentionServer(t *testing.T, retention time.Duration) *testServer {
	t.Helper()
	ts := startServer(t, func(_ *Config, h *stream.Config) {
		h.Retention = func(*log.Channel) time.Duration { return retention }
		h.Now = clock.Now // unguarded: expireAll moves the clock forward
	})
	t.Cleanup(func() { clock.SetOffset(0) })
	return ts
}

// TestServer_SinceGapWhenLimitExpired: when exactly as many expired
// messages as the read asks for come first after the cursor, the answer
// still names the gap (it once said complete:false with no gap).
func TestServer_SinceGapWhenLimitExpired(t *testing.T) {
	const retention = time.Hour
	ts := startRetentionServer(t, retention)
	for _, limit := range []int{1, 2, 5} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			ch := fmt.Sprintf("gap-%d", limit)
			// The since-read asks the log for limit+1 messages.
			ts.publishN(ch, limit+1)
			expireAll(t, retention)
			fresh := ts.publish(ch, `{"fresh":true}`)
			d := ts.do("GET", "/api/v1/channels/"+ch+"/messages?since=0&limit="+fmt.Sprint(limit), testKeys.Secret, nil).json(t)["data"].(map[string]any)
			gap, _ := d["gap"].(map[string]any)
			if d["complete"] != false || gap == nil || gap["before"] != fresh {
				t.Fatalf("since=0&limit=%d after %d expired = %v, want complete:false and a gap before %s", limit, limit+1, d, fresh)
			}
			items := d["items"].([]any)
			if len(items) != 1 || items[0].(map[string]any)["id"] != fresh {
				t.Fatalf("items = %v, want only %s", items, fresh)
			}
		})
	}
}

// TestWS_ResumeGapWhenReplayPageExpired: a resume whose first replay page
// has expired whole is told recovered:false and gets a gap frame.
func TestWS_ResumeGapWhenReplayPageExpired(t *testing.T) {
	const retention = time.Hour
	ts := startRetentionServer(t, retention)
	ts.publishConcurrently("page", 512, nil) // one replay read (stream's replayPage)
	expireAll(t, retention)
	fresh := ts.publish("page", `{"fresh":true}`)
	c := ts.dialWS(testKeys.Publish)
	c.expect("connected")
	s := c.subscribe("page", "0000000000000000")
	if s["recovered"] != false {
		t.Fatalf("subscribed = %v, want recovered:false", s)
	}
	g := c.expect("gap")
	if g["before"] != fresh {
		t.Fatalf("gap = %v, want before %s", g, fresh)
	}
	if m := c.messages(1); m[0] != fresh {
		t.Fatalf("replay gave %v, want %s", m, fresh)
	}
}
