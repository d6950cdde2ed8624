package raftnode

import (
	"context"
	"testing"
	"time"

	"github.com/pushflo/pushflo/internal/testwait"
)

type testItem struct{ done chan outcome }

func (i *testItem) answer() chan outcome { return i.done }

// TestBatcher_AnswersEveryItemWhenStopped stops a batcher while one batch
// is being flushed, one item waits for the flush slot and eight more are
// queued: when run returns, every item has an answer (the old run left the
// queued ones waiting for ever).
func TestBatcher_AnswersEveryItemWhenStopped(t *testing.T) {
	release := make(chan struct{})
	b := newBatcher(16, 1, func(items []*testItem) {
		<-release
		for _, it := range items {
			it.done <- outcome{}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		b.run(ctx)
	}()
	items := make([]*testItem, 10)
	for i := range items {
		items[i] = &testItem{done: make(chan outcome, 1)}
		b.in <- items[i]
		if i == 0 {
			testwait.For(t, "the first batch in flight", func() bool { return len(b.inflight) == 1 })
		}
	}
	testwait.For(t, "one item held and eight queued", func() bool { return len(b.in) == 8 })
	cancel()
	close(release)
	select {
	case <-stopped:
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	for i, it := range items {
		select {
		case o := <-it.done:
			if i > 0 && o.err != ErrClosed {
				t.Errorf("item %d, never flushed, answered %v; want ErrClosed", i, o.err)
			}
		default:
			t.Errorf("item %d was never answered", i)
		}
	}
}

// TestBatcher_NeverFlushesOnceStopped runs a batcher whose context has
// already ended, with an item queued and the flush slot free: select picks
// at random among ready cases, so without the ctx.Err check after taking
// the slot, run flushed the item in about one run in four (so
// TestBatcher_AnswersEveryItemWhenStopped failed only under load). 64 runs
// let such a flush through with a chance of (3/4)^64, about 1e-8.
func TestBatcher_NeverFlushesOnceStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for run := range 64 {
		flushed := 0
		b := newBatcher(16, 1, func(items []*testItem) {
			flushed += len(items)
			for _, it := range items {
				it.done <- outcome{}
			}
		})
		it := &testItem{done: make(chan outcome, 1)}
		b.in <- it
		b.run(ctx) // returns once every flush has finished
		if flushed != 0 {
			t.Fatalf("run %d: a stopped batcher flushed %d item(s)", run, flushed)
		}
		if o := <-it.done; o.err != ErrClosed {
			t.Fatalf("run %d: the queued item was answered %v; want ErrClosed", run, o.err)
		}
	}
}
