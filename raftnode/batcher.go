package raftnode

import (
	"context"
	"errors"
	"fmt"
)

// batchItem is something a batcher carries: it is answered exactly once on
// its buffered (capacity 1) answer channel.
type batchItem interface {
	answer() chan outcome
}

// batcher groups items sent on in into batches and hands each batch to
// flush on its own goroutine, with at most maxInflight flushes running.
// While all slots are busy, items queue up, so batches grow with load: group
// commit. flush must answer every item it is given; run answers every item
// it took or found queued but did not flush.
type batcher[T batchItem] struct {
	in       chan T
	max      int
	inflight chan struct{}
	flush    func([]T)
	// stopped is closed when run has returned: every flush has finished and
	// every item queued until then has been answered.
	stopped chan struct{}
}

func newBatcher[T batchItem](max, inflight int, flush func([]T)) *batcher[T] {
	return &batcher[T]{in: make(chan T, max), max: max, inflight: make(chan struct{}, inflight), flush: flush, stopped: make(chan struct{})}
}

// run batches until ctx ends, then waits for running flushes and answers
// what is still queued with ErrClosed (not applied).
func (b *batcher[T]) run(ctx context.Context) {
	var held []T // taken from in but not flushed
	defer func() {
		for i := 0; i < cap(b.inflight); i++ {
			b.inflight <- struct{}{}
		}
		for _, it := range held {
			it.answer() <- outcome{err: ErrClosed}
		}
		for {
			select {
			case it := <-b.in:
				it.answer() <- outcome{err: ErrClosed}
			default:
				close(b.stopped)
				return
			}
		}
	}()
	for {
		var first T
		select {
		case <-ctx.Done():
			return
		case first = <-b.in:
		}
		select {
		case <-ctx.Done():
			held = append(held, first)
			return
		case b.inflight <- struct{}{}:
			// The slot may have freed just as ctx ended; select picks at
			// random between ready cases, and a stopping batcher must not
			// flush (TestBatcher_AnswersEveryItemWhenStopped failed so
			// under load).
			if ctx.Err() != nil {
				<-b.inflight
				held = append(held, first)
				return
			}
		}
		batch := []T{first}
	drain:
		for len(batch) < b.max {
			select {
			case it := <-b.in:
				batch = append(batch, it)
			default:
				break drain
			}
		}
		go func() {
			defer func() { <-b.inflight }()
			b.flush(batch)
		}()
	}
}

// enqueue queues it for a batch. It returns ErrClosed when the batcher has
// stopped and ctx's error when ctx ends first; either way it was not queued.
func (b *batcher[T]) enqueue(ctx context.Context, it T) error {
	select {
	case <-b.stopped:
		return ErrClosed
	default:
	}
	select {
	case b.in <- it:
		return nil
	case <-b.stopped:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// submit queues it and waits for its answer. An item that could not be
// queued was not applied: ErrClosed when the batcher has stopped,
// ErrNoLeader when ctx ended first.
func (b *batcher[T]) submit(ctx context.Context, it T) outcome {
	if err := b.enqueue(ctx, it); err != nil {
		if errors.Is(err, ErrClosed) {
			return outcome{err: ErrClosed}
		}
		return outcome{err: ErrNoLeader}
	}
	return b.wait(ctx, it)
}

// wait returns the answer to a queued item. An item the batcher never saw
// before stopping (queued after its last drain) is answered ErrClosed: it
// was not applied. When ctx ends first the outcome is unknown.
func (b *batcher[T]) wait(ctx context.Context, it T) outcome {
	select {
	case o := <-it.answer():
		return o
	case <-b.stopped:
		select {
		case o := <-it.answer():
			return o
		default:
			return outcome{err: ErrClosed}
		}
	case <-ctx.Done():
		return outcome{err: fmt.Errorf("%w: %v", ErrUnknownOutcome, ctx.Err())}
	}
}
