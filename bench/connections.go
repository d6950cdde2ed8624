package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// connections opens n idle WebSocket connections to one node, each
// subscribed to one of 100 channels, and measures the server's resident
// memory per connection and the time to connect them all. It then
// publishes one message per channel to prove every connection is alive.
func (r *runner) connections(ctx context.Context, t *target, n int) Result {
	const nChannels = 100
	nd := t.Nodes[0]
	res := Result{Name: "connections-ws-1node", Kind: "connections", Title: fmt.Sprintf("%d idle WebSocket connections, one node", n),
		Nodes: len(t.Nodes), Transport: "ws", Params: map[string]any{"connections": n, "channels": nChannels, "parallelDials": 64}}
	cs := &ConnStats{Requested: n}
	res.Connections = cs
	if nd.PID <= 0 {
		res.Error = "the server's pid is unknown (with --target, pass --server-pids); cannot read its memory"
		return res
	}
	channels := make([]string, nChannels)
	for i := range channels {
		channels[i] = fmt.Sprintf("bench-%s-conns-%03d", r.runID, i)
	}
	// Touch every channel once so that the "before" figure holds their
	// state and the difference is the connections alone.
	for _, ch := range channels {
		if _, err := postMessage(ctx, nd.URL, t.Keys, ch, `{"warm":true}`); err != nil {
			res.Error = fmt.Sprintf("warm-up publish: %v", err)
			return res
		}
	}
	settle := 3 * time.Second
	if r.opts.smoke {
		settle = 300 * time.Millisecond
	}
	time.Sleep(settle)
	var err error
	if cs.RSSBeforeBytes, _, err = rssBytes(nd.PID); err != nil {
		res.Error = err.Error()
		return res
	}
	rtBefore, rtErr := scrapeRuntime(ctx, nd.URL)

	var c counters
	conns := make([]*wsConn, n)
	sinks := make([]*sink, n)
	var stopping atomic.Bool
	var readers sync.WaitGroup
	var failed failures
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	smp := r.prog.startSampler(res.Name, &c)
	cpuA := takeCPU(t.pids())
	start := time.Now()
	deadline := start.Add(3 * time.Minute)
	for i := 0; i < n && ctx.Err() == nil && time.Now().Before(deadline); i++ {
		if failed.count() > int64(n/10)+10 {
			break // the server refuses: stop hammering it
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			w, err := dialWS(ctx, nd.URL, t.Keys.Publish, 512)
			if err == nil {
				if err = w.subscribe(channels[i%nChannels], "", 30*time.Second); err != nil {
					w.close()
				}
			}
			if err != nil {
				failed.add(err)
				return
			}
			conns[i] = w
			sinks[i] = &sink{idx: i, channel: i % nChannels, c: &c, stopping: &stopping}
			c.published.Add(1) // the progress line shows connections here
			readers.Add(1)
			go func() {
				defer readers.Done()
				w.read(sinks[i])
			}()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpuB := takeCPU(t.pids())
	res.Timeline = smp.finish()
	cs.ConnectSeconds = elapsed.Seconds()
	cs.Failed = int(failed.count())
	cs.FirstError = failed.firstError()
	for _, w := range conns {
		if w != nil {
			cs.Connected++
		}
	}
	cs.ConnectsPerSec = float64(cs.Connected) / elapsed.Seconds()
	res.CPU = cpuUse(cpuA, cpuB, t.pidsKnown())
	res.Seconds = elapsed.Seconds()

	// Let the server settle (goroutines parked, buffers returned) before
	// reading its memory again.
	time.Sleep(settle)
	if cs.RSSAfterBytes, cs.HWMAfterBytes, err = rssBytes(nd.PID); err != nil {
		res.Error = err.Error()
	}
	if cs.Connected > 0 {
		n := float64(cs.Connected)
		cs.BytesPerConn = float64(cs.RSSAfterBytes-cs.RSSBeforeBytes) / n
		if rtAfter, err := scrapeRuntime(ctx, nd.URL); err == nil && rtErr == nil {
			cs.GoroutinesPerConn = (rtAfter.Goroutines - rtBefore.Goroutines) / n
			cs.StackBytesPerConn = (rtAfter.StackInuse - rtBefore.StackInuse) / n
			cs.HeapBytesPerConn = (rtAfter.HeapInuse - rtBefore.HeapInuse) / n
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	cs.ClientHeapBytes = ms.HeapInuse

	// Prove the connections are alive: one message per channel reaches
	// every subscriber of it.
	c.delivered.Store(0)
	for _, ch := range channels {
		if _, err := postMessage(ctx, nd.URL, t.Keys, ch, `{"check":true}`); err != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("check publish failed: %v", err))
		}
	}
	end := time.Now().Add(15 * time.Second)
	for c.delivered.Load() < int64(cs.Connected) && time.Now().Before(end) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	stopping.Store(true)
	for _, w := range conns {
		if w != nil {
			w.c.Close()
		}
	}
	waitTimeout(&readers, 10*time.Second)
	for _, s := range sinks {
		if s == nil {
			continue
		}
		if s.received > 0 {
			cs.Verified++
		}
		if s.closedBy != "" {
			res.Cut++
			if res.FirstCut == "" {
				res.FirstCut = s.closedBy
			}
		}
	}
	res.Lost = int64(cs.Requested - cs.Verified)
	if err := t.checkAlive(); err != nil {
		res.Error = err.Error()
	}
	r.prog.logf("%s: %s", res.Name, oneLine(&res))
	return res
}

// waitTimeout waits for wg, at most d.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
