package stream

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/pushflo/pushflo/internal/testwait"
)

// TestHub_FansOutLiveInOrder: each connection receives exactly the live
// messages of the channels it subscribed to, in position order; an
// unsubscribed or finished connection receives no more and leaves the
// hub's counts.
func TestHub_FansOutLiveInOrder(t *testing.T) {
	f := newFixture(t, Config{})
	s1, s2, s3 := f.open(true), f.open(true), f.open(true)
	for _, sub := range []struct {
		s  *sink
		ch string
	}{{s1, "a"}, {s2, "a"}, {s3, "b"}} {
		if err := sub.s.c.Subscribe(sub.ch, []string{sub.ch}, 0, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s1.c.Subscribe("a", []string{"a"}, 0, false, nil); err != ErrSubscribed {
		t.Fatalf("second subscription under one key: %v, want ErrSubscribed", err)
	}
	if n, m := f.hub.SubscriberCount("a"), f.hub.ChannelCount(); n != 2 || m != 2 {
		t.Fatalf("SubscriberCount(a) %d, ChannelCount %d; want 2 and 2", n, m)
	}
	var a, b []uint64
	for range 50 {
		a = append(a, f.publish("a", 1, 40)...)
		b = append(b, f.publish("b", 1, 40)...)
	}
	testwait.For(t, "50 messages on each connection", func() bool {
		return len(s1.got()) >= 50 && len(s2.got()) >= 50 && len(s3.got()) >= 50
	})
	for name, c := range map[string]struct {
		s    *sink
		want []uint64
	}{"s1": {s1, a}, "s2": {s2, a}, "s3": {s3, b}} {
		if got := c.s.got(); !equal(got, c.want) {
			t.Errorf("%s: %s", name, firstDiff(got, c.want))
		}
	}

	if !s2.c.Unsubscribe("a") || s2.c.Unsubscribe("a") {
		t.Fatal("Unsubscribe should report true once, then false")
	}
	s3.finish()
	if n, c := f.hub.SubscriberCount("a"), f.hub.ConnCount(); n != 1 || c != 2 {
		t.Fatalf("after unsubscribe and finish: SubscriberCount(a) %d, ConnCount %d; want 1 and 2", n, c)
	}
	a = append(a, f.publish("a", 10, 40)...)
	f.publish("b", 10, 40)
	testwait.For(t, "s1 gets the 10 more", func() bool { return len(s1.got()) == 60 })
	// The tailer queues a message for every subscriber before the next:
	// once s1 has the last, s2 would have had its copy queued too.
	s2.c.Push(Frame{Data: []byte("marker")})
	testwait.For(t, "s2's queue drained", func() bool { return f.hub.QueuedBytes() == 0 })
	if got := s2.got(); len(got) != 50 {
		t.Fatalf("s2 received %d messages after unsubscribing at 50", len(got))
	}
	if got := s1.got(); !equal(got, a) {
		t.Fatalf("s1: %s", firstDiff(got, a))
	}
}

// TestConn_QueueBudget: Push queues while the queue holds fewer than
// QueueFrames frames and the bytes stay within QueueBytes (a frame alone
// may exceed it), then fails the connection as a slow consumer, once.
func TestConn_QueueBudget(t *testing.T) {
	for _, tc := range []struct {
		name          string
		frames, bytes int
		size          int // payload of each frame; Size adds frameOverhead
		fits          int
	}{
		{name: "bytes", frames: 1000, bytes: 8192, size: 1000, fits: 6}, // 6 × 1256 = 7536; a 7th makes 8792
		{name: "bytes exactly", frames: 1000, bytes: 5024, size: 1000, fits: 4},
		{name: "frames", frames: 3, bytes: 1 << 20, size: 10, fits: 3},
		{name: "one frame larger than the budget", frames: 1000, bytes: 512, size: 4096, fits: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{QueueFrames: tc.frames, QueueBytes: tc.bytes})
			s := f.open(false)
			frame := Frame{Data: make([]byte, tc.size)}
			n := 0
			for s.c.Push(frame) {
				n++
				if n > tc.fits {
					break
				}
			}
			if n != tc.fits {
				t.Fatalf("%d frames of %d bytes queued; want %d (budget %d frames, %d bytes)", n, frame.Size(), tc.fits, tc.frames, tc.bytes)
			}
			if q := f.hub.QueuedBytes(); q != n*frame.Size() || (n > 1 && q > tc.bytes) {
				t.Fatalf("QueuedBytes %d after %d frames of %d", q, n, frame.Size())
			}
			if got := testutil.ToFloat64(f.hub.metrics.slowConsumers); got != 1 {
				t.Fatalf("slow consumers counted %v, want 1", got)
			}
			if s.c.Push(frame) {
				t.Fatal("a frame was queued on a connection cut off as slow")
			}
			if got := testutil.ToFloat64(f.hub.metrics.slowConsumers); got != 1 {
				t.Fatalf("slow consumers counted %v after another push, want still 1", got)
			}
			// The writer gets what was queued and the close reason.
			s.drainStalled()
			if r := s.closeReason(); r == nil || r.Kind != CloseSlowConsumer {
				t.Fatalf("close reason %+v, want CloseSlowConsumer", r)
			}
		})
	}
}

// TestHub_SlowConsumerCutOff: a subscriber that never reads is cut off once
// its queue passes the byte budget, holding no more than the budget, while
// a subscriber on the same channel that reads receives every message: the
// tailer never waits for the slow one.
func TestHub_SlowConsumerCutOff(t *testing.T) {
	const budget = 64 << 10
	f := newFixture(t, Config{QueueBytes: budget})
	slow, fast := f.open(false), f.open(true)
	for _, s := range []*sink{slow, fast} {
		if err := s.c.Subscribe("c", []string{"c"}, 0, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	// In lockstep with the reader, so only the stalled one falls behind.
	var want []uint64
	for i := range 200 {
		want = append(want, f.publish("c", 1, 1024)...)
		testwait.For(t, "the reader gets the message", func() bool { return len(fast.got()) == i+1 })
	}
	if got := fast.got(); !equal(got, want) {
		t.Fatalf("reader: %s", firstDiff(got, want))
	}
	if q := f.hub.QueuedBytes(); q > budget {
		t.Fatalf("the stalled connection holds %d bytes, over its %d budget", q, budget)
	}
	slow.drainStalled()
	if r := slow.closeReason(); r == nil || r.Kind != CloseSlowConsumer {
		t.Fatalf("stalled subscriber's close reason %+v, want CloseSlowConsumer", r)
	}
	if n := len(slow.got()); n == 0 || n >= 200 {
		t.Fatalf("stalled subscriber had %d messages queued; want some, fewer than 200", n)
	}
	if got := testutil.ToFloat64(f.hub.metrics.slowConsumers); got != 1 {
		t.Fatalf("slow consumers counted %v, want 1", got)
	}
}

// TestConn_PushWaitPaces: a replay's PushWait waits while the queue is half
// full, resumes when the writer takes frames, and gives up with
// ErrConnClosed when the connection ends.
func TestConn_PushWaitPaces(t *testing.T) {
	f := newFixture(t, Config{QueueFrames: 4})
	s := f.open(false)
	for range 2 {
		if err := s.c.PushWait(Frame{Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- s.c.PushWait(Frame{Data: []byte("third")}) }()
	select {
	case err := <-done:
		t.Fatalf("PushWait returned %v with the queue half full", err)
	case <-time.After(50 * time.Millisecond):
	}
	if frames, _, ok := s.c.Next(nil, 0); !ok || len(frames) != 2 {
		t.Fatalf("Next took %d frames, want 2", len(frames))
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("PushWait still waiting after the writer took the queue")
	}
	s.c.PushWait(Frame{Data: []byte("4")})
	go func() { done <- s.c.PushWait(Frame{Data: []byte("5")}) }()
	go func() { done <- s.c.PushWait(Frame{Data: []byte("6")}) }()
	s.c.Finish()
	for range 2 {
		select {
		case err := <-done:
			if err != ErrConnClosed && err != nil {
				t.Fatalf("PushWait after Finish: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("PushWait still waiting after Finish")
		}
	}
	if err := s.c.PushWait(Frame{Data: []byte("7")}); err != ErrConnClosed {
		t.Fatalf("PushWait on a finished connection: %v, want ErrConnClosed", err)
	}
}
