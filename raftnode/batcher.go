package raftnode

import "context"

// batcher groups items sent on in into batches and hands each batch to
// flush on its own goroutine, with at most maxInflight flushes running.
// While all slots are busy, items queue up, so batches grow with load: group
// commit. flush must answer every item.
type batcher[T any] struct {
	in       chan T
	max      int
	inflight chan struct{}
	flush    func([]T)
}

func newBatcher[T any](max, inflight int, flush func([]T)) *batcher[T] {
	return &batcher[T]{in: make(chan T, max), max: max, inflight: make(chan struct{}, inflight), flush: flush}
}

// run batches until ctx ends, then waits for running flushes.
func (b *batcher[T]) run(ctx context.Context) {
	defer func() {
		for i := 0; i < cap(b.inflight); i++ {
			b.inflight <- struct{}{}
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
			b.flushOne([]T{first})
			return
		case b.inflight <- struct{}{}:
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

func (b *batcher[T]) flushOne(batch []T) { b.flush(batch) }
