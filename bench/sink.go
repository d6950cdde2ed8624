package main

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// sink counts and times what one subscriber receives. Only its reader
// goroutine writes it; others read it after the reader has ended.
type sink struct {
	idx     int
	channel int
	rec     *recorder
	// byNode, when set, also records this subscriber's latencies into
	// the histogram of the node it is connected to.
	byNode *recorder
	c      *counters

	received   int64
	disordered int64 // IDs at or below the previous one: duplicates or reordering
	last       []byte
	// closedBy is the error frame, or the read error that ended the
	// reader before it was told to stop; empty on a clean run.
	closedBy string
	// stopping is set by subscribers.close before it closes connections.
	stopping *atomic.Bool
}

// ended records why a reader ended, unless bench closed it.
func (s *sink) ended(err error) {
	if s.closedBy == "" && !s.stopping.Load() {
		s.closedBy = err.Error()
	}
}

// message handles one delivery: its ID and the frame holding "bt".
func (s *sink) message(id []byte, frame []byte, now int64) {
	s.received++
	s.c.delivered.Add(1)
	if len(s.last) > 0 && bytes.Compare(id, s.last) <= 0 {
		s.disordered++
	}
	s.last = append(s.last[:0], id...)
	if bt, ok := fieldInt(frame, keyBT); ok && s.rec != nil {
		s.rec.record(s.idx, time.Duration(now-bt))
		if s.byNode != nil {
			s.byNode.record(s.idx, time.Duration(now-bt))
		}
	}
}

// subscriberConn is a connected subscriber of either transport.
type subscriberConn interface {
	// read delivers messages to s until the connection ends.
	read(s *sink)
	close()
}

func (w *wsConn) read(s *sink) {
	for {
		f, err := w.next()
		now := sinceEpoch()
		if err != nil {
			s.ended(err)
			return
		}
		if !bytes.HasPrefix(f, prefixMsg) {
			if bytes.HasPrefix(f, []byte(`{"type":"error"`)) && s.closedBy == "" {
				s.closedBy = "error frame: " + truncate(f, 200)
			}
			continue
		}
		if id, ok := messageID(f); ok {
			s.message(id, f, now)
		}
	}
}

func (c *sseConn) read(s *sink) {
	var ev sseEvent
	for {
		if err := c.next(&ev); err != nil {
			s.ended(err)
			return
		}
		now := sinceEpoch()
		if string(ev.event) == "error" {
			if s.closedBy == "" {
				s.closedBy = "error event: " + truncate(ev.data, 200)
			}
			continue
		}
		if len(ev.id) == 0 {
			continue
		}
		s.message(ev.id, ev.data, now)
	}
}

// subscribers is a set of connected subscribers and their readers.
type subscribers struct {
	conns []subscriberConn
	sinks []*sink
	wg    sync.WaitGroup
	// perChannel counts subscribers per channel index.
	perChannel []int64
	// byNode holds delivery latencies per node, in the order of the
	// nodes given to connectSubscribers.
	byNode   []*recorder
	stopping atomic.Bool
}

// connectSubscribers opens n subscribers over transport ("ws" or "sse"),
// subscriber i on channel i mod len(channels) through nodes[i mod
// len(nodes)], dialling parallel at a time, and starts their readers.
func connectSubscribers(ctx context.Context, transport string, nodes []*node, token string, channels []string, n, parallel int, rec *recorder, c *counters) (*subscribers, error) {
	subs := &subscribers{conns: make([]subscriberConn, n), sinks: make([]*sink, n), perChannel: make([]int64, len(channels))}
	if len(nodes) > 1 && rec != nil {
		for range nodes {
			subs.byNode = append(subs.byNode, newRecorder(16))
		}
	}
	var hc *http.Client
	if transport == "sse" {
		hc = newSSEClient()
	}
	sem := make(chan struct{}, parallel)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ch := i % len(channels)
			base := nodes[i%len(nodes)].URL
			var conn subscriberConn
			var err error
			if transport == "sse" {
				conn, err = dialSSE(ctx, hc, base, token, channels[ch], "")
			} else {
				var w *wsConn
				w, err = dialWS(ctx, base, token, 4096)
				if err == nil {
					if err = w.subscribe(channels[ch], "", 15*time.Second); err != nil {
						w.close()
					} else {
						conn = w
					}
				}
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			subs.conns[i] = conn
			subs.sinks[i] = &sink{idx: i, channel: ch, rec: rec, c: c, stopping: &subs.stopping}
			if subs.byNode != nil {
				subs.sinks[i].byNode = subs.byNode[i%len(nodes)]
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		subs.close()
		return nil, firstErr
	}
	for i, conn := range subs.conns {
		subs.perChannel[subs.sinks[i].channel]++
		subs.wg.Add(1)
		go func() {
			defer subs.wg.Done()
			conn.read(subs.sinks[i])
		}()
	}
	return subs, nil
}

// close closes every connection and waits (at most 10 s) for the readers.
func (s *subscribers) close() {
	s.stopping.Store(true)
	for _, c := range s.conns {
		if c != nil {
			c.close()
		}
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}

// tally is what the subscribers received against what they should have.
type tally struct {
	Expected, Received, Lost, Extra, Disordered, Cut int64
	FirstCut                                         string
}

// tally compares receipts with acknowledged publishes per channel: each
// subscriber of channel c expects acked[c] messages. Call after close.
func (s *subscribers) tally(acked []int64) tally {
	var t tally
	for _, k := range s.sinks {
		want := acked[k.channel]
		t.Expected += want
		t.Received += k.received
		if k.received < want {
			t.Lost += want - k.received
		} else {
			t.Extra += k.received - want
		}
		t.Disordered += k.disordered
		if k.closedBy != "" {
			t.Cut++
			if t.FirstCut == "" {
				t.FirstCut = k.closedBy
			}
		}
	}
	return t
}
