//go:build integration && !windows

package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client"
	"github.com/pushflo/pushflo/client/internal/testnode"
)

// These tests run the real pushflo binary (see internal/testnode).

// exampleAddr is a single node started by TestMain for the Examples and
// the tests that need no node of their own.
var exampleAddr string

func TestMain(m *testing.M) {
	code := func() int {
		defer testnode.Cleanup()
		dir, err := os.MkdirTemp("", "pushflo-example-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		c, err := testnode.StartIn(dir, 1)
		if err != nil {
			fmt.Fprintln(os.Stderr, "start example server:", err)
			logs, _ := os.ReadFile(filepath.Join(dir, "n1.log"))
			fmt.Fprintf(os.Stderr, "%s\n", logs)
			return 1
		}
		defer c.Close()
		exampleAddr = c.URLs()[0]
		return m.Run()
	}()
	os.Exit(code)
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newClient(t *testing.T, urls []string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{
		Addrs:          urls,
		SecretKey:      testSecretKey,
		PublishKey:     testPublishKey,
		Logger:         testLogger(t),
		RequestTimeout: 5 * time.Second,
		PingInterval:   500 * time.Millisecond,
		IdleTimeout:    3 * time.Second,
		MinBackoff:     50 * time.Millisecond,
		MaxBackoff:     time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

type body struct {
	N int `json:"n"`
}

func TestClient_PublishHistoryRoundTrip(t *testing.T) {
	cl := newClient(t, []string{exampleAddr})
	ctx := testCtx(t, 30*time.Second)
	ch := "orders:round-trip"
	var ids []string
	for i := 1; i <= 3; i++ {
		res, err := cl.Publish(ctx, ch, body{N: i}, client.WithEventType("order-shipped"), client.WithClientID("tester"))
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		if res.ID == "" || res.ChannelSlug != ch || res.EventType != "order-shipped" || res.ClientID != "tester" || res.CreatedAt == "" {
			t.Fatalf("publish result = %+v", res)
		}
		if len(ids) > 0 && res.ID <= ids[len(ids)-1] {
			t.Fatalf("id %q does not sort after %q", res.ID, ids[len(ids)-1])
		}
		ids = append(ids, res.ID)
	}

	page, err := cl.History(ctx, ch, client.HistoryOptions{PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.Pagination.Total != 3 {
		t.Fatalf("history = %d items, pagination %+v", len(page.Items), page.Pagination)
	}
	for i, m := range page.Items { // newest first
		want := ids[2-i]
		var b body
		_ = json.Unmarshal(m.Content, &b)
		if m.ID != want || b.N != 3-i || m.Channel != ch || m.EventType != "order-shipped" {
			t.Errorf("history[%d] = %+v, want id %s n %d", i, m, want, 3-i)
		}
	}
	page, err = cl.History(ctx, ch, client.HistoryOptions{Page: 2, PageSize: 2})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != ids[0] {
		t.Fatalf("page 2 = %+v, %v", page, err)
	}

	since, err := cl.Since(ctx, ch, ids[0], 10)
	if err != nil {
		t.Fatal(err)
	}
	if !since.Complete || len(since.Items) != 2 || since.Items[0].ID != ids[1] || since.Items[1].ID != ids[2] {
		t.Fatalf("since = %+v", since)
	}
	all, err := cl.ReadAll(ctx, ch, "", 2)
	if err != nil || len(all) != 3 || all[0].ID != ids[0] {
		t.Fatalf("read all = %d messages, %v", len(all), err)
	}
}

func TestClient_IdempotencyKey(t *testing.T) {
	cl := newClient(t, []string{exampleAddr})
	ctx := testCtx(t, 30*time.Second)
	a, err := cl.Publish(ctx, "idem", body{N: 1}, client.WithIdempotencyKey("k-1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := cl.Publish(ctx, "idem", body{N: 1}, client.WithIdempotencyKey("k-1"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID {
		t.Fatalf("retry with the same key got id %q, first %q", b.ID, a.ID)
	}
	all, err := cl.ReadAll(ctx, "idem", "", 100)
	if err != nil || len(all) != 1 {
		t.Fatalf("channel has %d messages (%v), want 1", len(all), err)
	}
}

func TestClient_APIErrors(t *testing.T) {
	ctx := testCtx(t, 30*time.Second)
	good := newClient(t, []string{exampleAddr})
	badKey, _ := client.New(client.Config{Addrs: []string{exampleAddr}, SecretKey: "sec_wrong_key_000"})
	pubOnly, _ := client.New(client.Config{Addrs: []string{exampleAddr}, SecretKey: testPublishKey})
	tests := []struct {
		name    string
		c       *client.Client
		channel string
		content any
		status  int
		code    string
	}{
		{"unknown key", badKey, "errs", body{1}, 401, "UNAUTHORIZED"},
		{"publish key cannot publish", pubOnly, "errs", body{1}, 403, "FORBIDDEN"},
		{"content not an object", good, "errs", json.RawMessage(`[1,2]`), 400, "VALIDATION_ERROR"},
		{"content too large", good, "errs", map[string]string{"x": strings.Repeat("a", 40<<10)}, 413, "PAYLOAD_TOO_LARGE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.Publish(ctx, tc.channel, tc.content)
			var ae *client.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want an APIError", err)
			}
			if ae.Status != tc.status || ae.Code != tc.code {
				t.Errorf("APIError = %d %s (%q), want %d %s", ae.Status, ae.Code, ae.Message, tc.status, tc.code)
			}
			if !client.NotApplied(err) {
				t.Errorf("a %d answer is not reported as not applied", tc.status)
			}
		})
	}
	t.Run("history with bad key", func(t *testing.T) {
		_, err := badKey.History(ctx, "errs", client.HistoryOptions{})
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != 401 {
			t.Fatalf("err = %v, want 401", err)
		}
	})
	t.Run("subscribe with bad key ends the subscription", func(t *testing.T) {
		for _, tr := range []client.Transport{client.WebSocket, client.SSE} {
			bad, _ := client.New(client.Config{Addrs: []string{exampleAddr}, PublishKey: "pub_wrong_key_000"})
			sub, err := bad.Subscribe(ctx, "errs", client.SubscribeOptions{Transport: tr})
			if err != nil {
				t.Fatal(err)
			}
			_, err = sub.Next(ctx)
			var ae *client.APIError
			if !errors.As(err, &ae) || ae.Code != "UNAUTHORIZED" || ae.Status != 401 {
				t.Errorf("%s: Next = %v, want 401 UNAUTHORIZED", tr, err)
			}
			if err != nil && (strings.Contains(err.Error(), " 0 ") || !strings.Contains(err.Error(), "401")) {
				t.Errorf("%s: error reads %q", tr, err)
			}
			sub.Close()
		}
	})
}

// receive reads n messages from sub, bounded by ctx.
// subscribeConnected subscribes cl to ch and waits until the subscription
// is connected; it is closed when the test ends.
func subscribeConnected(t *testing.T, ctx context.Context, cl *client.Client, ch string, opts client.SubscribeOptions) *client.Subscription {
	t.Helper()
	sub, err := cl.Subscribe(ctx, ch, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	if err := sub.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	return sub
}

func receive(t *testing.T, ctx context.Context, sub *client.Subscription, n int) []client.Message {
	t.Helper()
	var out []client.Message
	for len(out) < n {
		ev, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", len(out), n, err)
		}
		switch ev.Kind {
		case client.EventMessage:
			out = append(out, ev.Message)
		case client.EventGap:
			t.Fatalf("unexpected gap %+v", ev.Gap)
		}
	}
	return out
}

func publishN(t *testing.T, ctx context.Context, cl *client.Client, ch string, from, n int) []string {
	t.Helper()
	var ids []string
	for i := from; i < from+n; i++ {
		res, err := cl.Publish(ctx, ch, body{N: i})
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		ids = append(ids, res.ID)
	}
	return ids
}

func assertIDs(t *testing.T, got []client.Message, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("received %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i] {
			t.Fatalf("message %d has id %q, want %q", i, got[i].ID, want[i])
		}
	}
}

var transports = []client.Transport{client.WebSocket, client.SSE}

func TestSubscribe_LiveAndResume(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			cl := newClient(t, []string{exampleAddr})
			ctx := testCtx(t, 60*time.Second)
			ch := "live-" + tr.String()
			sub := subscribeConnected(t, ctx, cl, ch, client.SubscribeOptions{Transport: tr})
			ids := publishN(t, ctx, cl, ch, 1, 5)
			got := receive(t, ctx, sub, 5)
			assertIDs(t, got, ids)
			var b body
			if err := json.Unmarshal(got[4].Content, &b); err != nil || b.N != 5 || got[4].Channel != ch {
				t.Fatalf("last message = %+v", got[4])
			}
			if sub.LastID() != ids[4] {
				t.Fatalf("LastID = %q, want %q", sub.LastID(), ids[4])
			}
			// A second subscription resumes after the second message.
			re, err := cl.Subscribe(ctx, ch, client.SubscribeOptions{Transport: tr, FromID: ids[1]})
			if err != nil {
				t.Fatal(err)
			}
			defer re.Close()
			assertIDs(t, receive(t, ctx, re, 3), ids[2:])
			more := publishN(t, ctx, cl, ch, 6, 2)
			assertIDs(t, receive(t, ctx, re, 2), more)
			assertIDs(t, receive(t, ctx, sub, 2), more)
		})
	}
}

func TestSubscribe_ResumeAfterServerRestart(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			c := testnode.Start(t, 1)
			cl := newClient(t, c.URLs())
			ctx := testCtx(t, 2*time.Minute)
			ch := "restart"
			sub := subscribeConnected(t, ctx, cl, ch, client.SubscribeOptions{Transport: tr})
			ids := publishN(t, ctx, cl, ch, 1, 3)
			assertIDs(t, receive(t, ctx, sub, 3), ids)

			n := c.Nodes[0]
			if err := n.Kill(); err != nil {
				t.Fatal(err)
			}
			if err := n.Start(); err != nil {
				t.Fatal(err)
			}
			if err := c.WaitReady(ctx); err != nil {
				t.Fatal(err)
			}
			more := publishN(t, ctx, cl, ch, 4, 3)
			assertIDs(t, receive(t, ctx, sub, 3), more)
			if st := sub.Stats(); st.Connects < 2 || st.Delivered != 6 {
				t.Fatalf("stats = %+v, want at least 2 connects and 6 delivered", st)
			}
		})
	}
}

func TestSubscribe_FailoverAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes")
	}
	c := testnode.Start(t, 3)
	ctx := testCtx(t, 3*time.Minute)
	urls := c.URLs()
	cl := newClient(t, urls) // subscribes to n1 first
	ch := "failover"
	sub := subscribeConnected(t, ctx, cl, ch, client.SubscribeOptions{})
	pub := newClient(t, urls[1:])
	ids := publishN(t, ctx, pub, ch, 1, 3)
	assertIDs(t, receive(t, ctx, sub, 3), ids)

	if err := c.Nodes[0].Kill(); err != nil {
		t.Fatal(err)
	}
	// The two survivors are a majority: publishes go on, and the
	// subscription moves to one of them and resumes.
	var more []string
	for i := 4; i <= 6; i++ {
		var res client.PublishResult
		var err error
		for {
			res, err = pub.Publish(ctx, ch, body{N: i}, client.WithIdempotencyKey(fmt.Sprintf("failover-%d", i)))
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("publish %d: %v", i, err)
			}
			t.Logf("publish %d during failover: %v; retrying", i, err)
			time.Sleep(200 * time.Millisecond)
		}
		more = append(more, res.ID)
	}
	assertIDs(t, receive(t, ctx, sub, 3), more)
}

func TestSubscribe_CloseStopsEverything(t *testing.T) {
	cl := newClient(t, []string{exampleAddr})
	ctx := testCtx(t, 30*time.Second)
	for _, tr := range transports {
		sub, err := cl.Subscribe(ctx, "closing", client.SubscribeOptions{Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		if err := sub.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
		sub.Close()
		if _, ok := <-sub.Events(); ok {
			t.Fatalf("%s: Events still open after Close", tr)
		}
		if _, err := sub.Next(ctx); !errors.Is(err, client.ErrClosed) {
			t.Fatalf("%s: Next after Close = %v", tr, err)
		}
	}
}

// Keys of every test node.
const (
	testSecretKey  = testnode.SecretKey
	testPublishKey = testnode.PublishKey
)

// TestClient_ChannelNamesEscapedOnce publishes to, reads and subscribes to
// protocol-valid names whose characters a URL path escapes.
func TestClient_ChannelNamesEscapedOnce(t *testing.T) {
	cl := newClient(t, []string{exampleAddr})
	ctx := testCtx(t, 60*time.Second)
	for _, ch := range []string{"a,b", "x=1,y=2", "user@host:room.1", "A-Z_0-9"} {
		t.Run(ch, func(t *testing.T) {
			subs := map[client.Transport]*client.Subscription{}
			for _, tr := range transports {
				sub, err := cl.Subscribe(ctx, ch, client.SubscribeOptions{Transport: tr})
				if err != nil {
					t.Fatal(err)
				}
				defer sub.Close()
				if err := sub.WaitConnected(ctx); err != nil {
					t.Fatalf("%s: %v", tr, err)
				}
				subs[tr] = sub
			}
			res, err := cl.Publish(ctx, ch, body{N: 1})
			if err != nil {
				t.Fatalf("publish: %v", err)
			}
			if res.ChannelSlug != ch {
				t.Fatalf("published to %q, want %q", res.ChannelSlug, ch)
			}
			page, err := cl.History(ctx, ch, client.HistoryOptions{})
			if err != nil || len(page.Items) != 1 || page.Items[0].ID != res.ID {
				t.Fatalf("history = %+v, %v", page, err)
			}
			since, err := cl.Since(ctx, ch, "", 10)
			if err != nil || len(since.Items) != 1 {
				t.Fatalf("since = %+v, %v", since, err)
			}
			for tr, sub := range subs {
				got := receive(t, ctx, sub, 1)
				if got[0].ID != res.ID || got[0].Channel != ch {
					t.Fatalf("%s delivered %+v", tr, got[0])
				}
			}
		})
	}
}

// TestClient_BadChannelNames: a name the protocol refuses fails before
// anything is sent, with a sentence that says what is wrong.
func TestClient_BadChannelNames(t *testing.T) {
	cl := newClient(t, []string{exampleAddr})
	ctx := testCtx(t, 30*time.Second)
	tests := []struct {
		name, channel, want string
	}{
		{"empty", "", "channel name is empty"},
		{"slash", "a/b", `channel name "a/b" contains '/' at position 2`},
		{"escaped slash", "a%2Fb", `contains '%' at position 2`},
		{"space", "a b", `contains ' ' at position 2`},
		{"non-ASCII", "caf\u00e9", `contains 'é' at position 4`},
		{"too long", strings.Repeat("c", 129), "channel name is 129 characters; at most 128"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check := func(op string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s: no error", op)
				}
				if !errors.Is(err, client.ErrInvalidChannel) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: err = %v, want ErrInvalidChannel saying %q", op, err, tc.want)
				}
			}
			_, err := cl.Publish(ctx, tc.channel, body{N: 1})
			check("publish", err)
			if !client.NotApplied(err) {
				t.Errorf("publish: NotApplied = false for %v", err)
			}
			_, err = cl.History(ctx, tc.channel, client.HistoryOptions{})
			check("history", err)
			_, err = cl.Since(ctx, tc.channel, "", 1)
			check("since", err)
			_, err = cl.Subscribe(ctx, tc.channel, client.SubscribeOptions{})
			check("subscribe", err)
		})
	}
}

// TestPublish_NotAppliedRetriedOnAnotherNode: a node without a leader
// answers 503 UNAVAILABLE, and a publish without an idempotency key goes on
// to the next node instead of failing.
func TestPublish_NotAppliedRetriedOnAnotherNode(t *testing.T) {
	lone := testnode.StartLeaderless(t)
	cl, err := client.New(client.Config{
		Addrs:          []string{lone.URL(), exampleAddr},
		SecretKey:      testSecretKey,
		Logger:         testLogger(t),
		RequestTimeout: 30 * time.Second, // the lone node waits for a leader first
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, 60*time.Second)
	res, err := cl.Publish(ctx, "retry-elsewhere", body{N: 1})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	all, err := cl.ReadAll(ctx, "retry-elsewhere", "", 10)
	if err != nil || len(all) != 1 || all[0].ID != res.ID {
		t.Fatalf("channel holds %+v (%v), want exactly the one message", all, err)
	}
	// Alone, the leaderless node's answer is a definite failure.
	alone, _ := client.New(client.Config{Addrs: []string{lone.URL()}, SecretKey: testSecretKey, RequestTimeout: 30 * time.Second})
	_, err = alone.Publish(ctx, "retry-elsewhere", body{N: 2})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 503 || ae.Code != client.CodeUnavailable || !client.NotApplied(err) {
		t.Fatalf("publish to the leaderless node alone: %v, want a not-applied 503 UNAVAILABLE", err)
	}
}

// TestClient_SinceHasMoreAndStaleReads: Since reports hasMore when the
// limit cut the answer short, and a client with StaleReads reads the same
// messages from the real server (stale=true is accepted; on a single node
// it answers what it holds).
func TestClient_SinceHasMoreAndStaleReads(t *testing.T) {
	ctx := testCtx(t, 30*time.Second)
	ch := "since:has-more"
	var ids []string
	for i := 1; i <= 3; i++ {
		res, err := newClient(t, []string{exampleAddr}).Publish(ctx, ch, body{N: i})
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		ids = append(ids, res.ID)
	}
	for _, stale := range []bool{false, true} {
		cl, err := client.New(client.Config{Addrs: []string{exampleAddr}, SecretKey: testSecretKey, StaleReads: stale})
		if err != nil {
			t.Fatal(err)
		}
		cut, err := cl.Since(ctx, ch, ids[0], 1)
		if err != nil || len(cut.Items) != 1 || cut.Items[0].ID != ids[1] || !cut.HasMore {
			t.Fatalf("stale=%v: since %s limit 1 = %+v, %v; want %s and hasMore", stale, ids[0], cut, err, ids[1])
		}
		rest, err := cl.Since(ctx, ch, ids[1], 10)
		if err != nil || len(rest.Items) != 1 || rest.Items[0].ID != ids[2] || rest.HasMore {
			t.Fatalf("stale=%v: since %s limit 10 = %+v, %v; want %s and no more", stale, ids[1], rest, err, ids[2])
		}
		page, err := cl.History(ctx, ch, client.HistoryOptions{PageSize: 10})
		if err != nil || len(page.Items) != 3 || page.Items[0].ID != ids[2] {
			t.Fatalf("stale=%v: history = %+v, %v", stale, page, err)
		}
	}
}
