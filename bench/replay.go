package main

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"
)

// replayBase is a channel holding a backlog after a marker message,
// shared by the replay runs of one target.
type replayBase struct {
	channel string
	marker  string
	// last is the newest message ID of the channel; backlog how many
	// acknowledged messages lie after the marker up to it.
	last        []byte
	backlog     int64
	seedSeconds float64
	seedPerSec  float64
	notes       []string
}

// replay resumes a subscriber from the marker of base (seeding the
// backlog first when base is nil) while a live publisher keeps
// publishing, and measures how fast the backlog arrives and when the
// subscriber reaches live messages. It checks that every backlog and live
// message arrives once, in order, and returns base advanced past the live
// messages for the next run.
func (r *runner) replay(ctx context.Context, t *target, transport, name string, base *replayBase) (Result, *replayBase) {
	nd := t.Nodes[0]
	backlog := r.opts.replay
	res := Result{Name: name, Kind: "replay", Title: fmt.Sprintf("resume %d messages back over %s, one node", backlog, transportName(transport)),
		Nodes: len(t.Nodes), Transport: transport, Params: map[string]any{"backlog": backlog, "livePublishesPerSec": 100, "payloadBytes": r.opts.payload}}
	rs := &ReplayStats{}
	res.Replay = rs
	p := newPoster([]*node{nd}, t.Keys.Secret, 64, r.opts.payload)
	defer p.close()
	if base == nil {
		var err error
		if base, err = r.seedReplay(ctx, t, p, backlog); err != nil {
			res.Error = err.Error()
			return res, nil
		}
	} else {
		res.Notes = append(res.Notes, fmt.Sprintf("the backlog is the previous replay's: %d seeded messages plus its live ones", backlog))
	}
	res.Notes = append(res.Notes, base.notes...)
	rs.Backlog, rs.SeedSeconds, rs.SeedPerSec = base.backlog, base.seedSeconds, base.seedPerSec
	channel, marker, lastSeed := base.channel, base.marker, base.last

	// Live publisher, running while the subscriber replays.
	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	var liveC counters
	var live pubStats
	var liveWG sync.WaitGroup
	liveWG.Add(1)
	go func() {
		defer liveWG.Done()
		live = p.paced(liveCtx, []string{channel}, 100, 60*time.Second, 4, &liveC)
	}()
	time.Sleep(100 * time.Millisecond) // a few live messages exist before the subscribe

	var c counters
	smp := r.prog.startSampler(name, &c)
	cpuA := takeCPU(t.pids())
	subAt := sinceEpoch()
	start := time.Now()
	next, closeConn, err := dialReplay(ctx, transport, nd.URL, t.Keys.Publish, channel, marker)
	if err != nil {
		res.Error = err.Error()
		stopLive()
		liveWG.Wait()
		smp.finish()
		return res, nil
	}
	defer closeConn()

	// Read until the backlog is in and a live message published after the
	// subscribe arrived, then stop the live publisher and collect the
	// rest of its messages.
	var last []byte
	deadline := time.AfterFunc(2*time.Minute, closeConn)
	defer deadline.Stop()
	liveSeen := int64(0)
	liveStopped := false
	for {
		id, frame, err := next()
		if err != nil {
			res.Error = fmt.Sprintf("read replay: %v", err)
			break
		}
		c.delivered.Add(1)
		if len(last) > 0 && bytes.Compare(id, last) <= 0 {
			rs.Disordered++
		}
		last = append(last[:0], id...)
		if bytes.Compare(id, lastSeed) <= 0 {
			if rs.Replayed == 0 {
				rs.FirstMessageMs = float64(time.Since(start).Microseconds()) / 1000
			}
			rs.Replayed++
			if bytes.Equal(id, lastSeed) {
				rs.Seconds = time.Since(start).Seconds()
			}
			continue
		}
		liveSeen++
		if bt, ok := fieldInt(frame, keyBT); ok && bt > subAt && rs.ReachedLiveSeconds == 0 {
			rs.ReachedLiveSeconds = time.Since(start).Seconds()
		}
		if rs.ReachedLiveSeconds > 0 && rs.Seconds > 0 && !liveStopped {
			liveStopped = true
			stopLive()
			liveWG.Wait()
			res.Seconds = time.Since(start).Seconds()
		}
		if liveStopped && liveSeen >= live.Acked {
			break
		}
	}
	cpuB := takeCPU(t.pids())
	res.Timeline = smp.finish()
	if !liveStopped {
		stopLive()
		liveWG.Wait()
	}
	rs.LiveAcked, rs.LiveReceived = live.Acked, liveSeen
	if rs.Seconds > 0 {
		rs.PerSec = float64(rs.Replayed) / rs.Seconds
	}
	res.CPU = cpuUse(cpuA, cpuB, t.pidsKnown())
	res.Expected = rs.Backlog + rs.LiveAcked
	res.Received = rs.Replayed + rs.LiveReceived
	res.Lost = max(0, rs.Backlog-rs.Replayed) + max(0, rs.LiveAcked-rs.LiveReceived)
	res.Disordered = rs.Disordered
	if err := t.checkAlive(); err != nil {
		res.Error = err.Error()
	}
	r.prog.logf("%s: %s", name, oneLine(&res))
	nb := *base
	nb.notes = nil
	if len(live.MaxID) > 0 && live.MaxID[0] > string(nb.last) {
		nb.last = []byte(live.MaxID[0])
	}
	nb.backlog += live.Acked
	return res, &nb
}

// seedReplay publishes a marker and then backlog messages on a fresh
// channel, as fast as 64 closed-loop publishers get them acknowledged.
func (r *runner) seedReplay(ctx context.Context, t *target, p *poster, backlog int) (*replayBase, error) {
	nd := t.Nodes[0]
	b := &replayBase{channel: fmt.Sprintf("bench-%s-replay", r.runID)}
	var err error
	if b.marker, err = postMessage(ctx, nd.URL, t.Keys, b.channel, `{"marker":true}`); err != nil {
		return nil, fmt.Errorf("publish marker: %w", err)
	}
	var c counters
	r.prog.logf("replay: publishing a backlog of %d messages…", backlog)
	smp := r.prog.startSampler("replay (seeding)", &c)
	start := time.Now()
	seed := p.closedLoop(ctx, []string{b.channel}, 64, 3*time.Minute, int64(backlog), &c)
	b.seedSeconds = time.Since(start).Seconds()
	smp.finish()
	b.backlog = seed.Acked
	b.seedPerSec = float64(seed.Acked) / b.seedSeconds
	b.last = []byte(seed.MaxID[0])
	if seed.Failed > 0 {
		b.notes = append(b.notes, fmt.Sprintf("%d seed publishes failed (first: %s); the backlog is the %d acknowledged", seed.Failed, seed.FirstError, seed.Acked))
	}
	if seed.Acked == 0 {
		return nil, fmt.Errorf("no seed publish succeeded: %s", seed.FirstError)
	}
	return b, nil
}

func transportName(t string) string {
	if t == "sse" {
		return "SSE"
	}
	return "WebSocket"
}

// dialReplay subscribes to channel from marker over transport ("sse", or
// WebSocket otherwise) and returns a reader of the messages' IDs and frames,
// which fails on a gap or an error from the server, and the connection's
// close.
func dialReplay(ctx context.Context, transport, url, key, channel, marker string) (next func() (id, frame []byte, err error), closeConn func(), err error) {
	if transport == "sse" {
		s, err := dialSSE(ctx, newSSEClient(), url, key, channel, marker)
		if err != nil {
			return nil, nil, err
		}
		var ev sseEvent
		next = func() ([]byte, []byte, error) {
			for {
				if err := s.next(&ev); err != nil {
					return nil, nil, err
				}
				if len(ev.id) > 0 {
					return ev.id, ev.data, nil
				}
				if string(ev.event) == "gap" || string(ev.event) == "error" {
					return nil, nil, fmt.Errorf("sse %s event: %s", ev.event, truncate(ev.data, 200))
				}
			}
		}
		return next, s.close, nil
	}
	w, err := dialWS(ctx, url, key, 64<<10)
	if err != nil {
		return nil, nil, err
	}
	if err := w.subscribe(channel, marker, 30*time.Second); err != nil {
		w.close()
		return nil, nil, err
	}
	next = func() ([]byte, []byte, error) {
		for {
			f, err := w.next()
			if err != nil {
				return nil, nil, err
			}
			if bytes.HasPrefix(f, prefixMsg) {
				if id, ok := messageID(f); ok {
					return id, f, nil
				}
				continue
			}
			if bytes.HasPrefix(f, []byte(`{"type":"error"`)) || bytes.HasPrefix(f, []byte(`{"type":"gap"`)) {
				return nil, nil, fmt.Errorf("frame: %s", truncate(f, 200))
			}
		}
	}
	return next, w.close, nil
}
