package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// readsSpec describes a closed-loop history read run: Readers concurrent
// keep-alive readers through Via, each waiting for its answer before the
// next GET of one page, for Duration.
type readsSpec struct {
	Name, Title string
	Readers     int
	Duration    time.Duration
	Via         *node
	ViaName     string
	// Stale adds stale=true: the node answers from what it holds, without
	// the read barrier that confirms it is up to date with the leader.
	Stale bool
}

// reads measures history reads per second and read latency (request sent
// → 200 read) on a channel of 100 messages, 10 per page.
func (r *runner) reads(ctx context.Context, t *target, spec readsSpec) Result {
	res := Result{Name: spec.Name, Kind: "reads", Title: spec.Title, Nodes: len(t.Nodes),
		Params: map[string]any{"readers": spec.Readers, "durationSec": spec.Duration.Seconds(), "readVia": spec.ViaName, "stale": spec.Stale, "pageSize": 10}}
	channel := fmt.Sprintf("bench-%s-%s", r.runID, spec.Name)
	for i := 0; i < 100 && ctx.Err() == nil; i++ {
		if _, err := postMessage(ctx, t.Nodes[0].URL, t.Keys, channel, `{"n":1,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`); err != nil {
			res.Error = fmt.Sprintf("seed publish: %v", err)
			return res
		}
	}
	uri := spec.Via.URL + "/api/v1/channels/" + channel + "/messages?pageSize=10"
	if spec.Stale {
		uri += "&stale=true"
	}
	hcl := &fasthttp.HostClient{Addr: strings.TrimPrefix(spec.Via.URL, "http://"), MaxConns: spec.Readers,
		ReadTimeout: publishTimeout, WriteTimeout: publishTimeout, MaxConnWaitTimeout: publishTimeout}
	defer hcl.CloseIdleConnections()
	auth := "Bearer " + t.Keys.Secret
	rec := newRecorder(16)
	var ok atomic.Int64
	var failed failures
	loop := func(d time.Duration, record bool) {
		var wg sync.WaitGroup
		end := time.Now().Add(d)
		for w := range spec.Readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				for time.Now().Before(end) && ctx.Err() == nil {
					req.Reset()
					req.SetRequestURI(uri)
					req.Header.Set("Authorization", auth)
					t0 := time.Now()
					err := hcl.DoTimeout(req, resp, publishTimeout)
					took := time.Since(t0)
					if err == nil && resp.StatusCode() != fasthttp.StatusOK {
						err = fmt.Errorf("status %d: %s", resp.StatusCode(), truncate(resp.Body(), 200))
					}
					if !record {
						continue
					}
					if err != nil {
						failed.add(err)
						continue
					}
					ok.Add(1)
					rec.record(w, took)
				}
			}()
		}
		wg.Wait()
	}
	loop(time.Second, false) // warm the keep-alive connections
	var c counters
	smp := r.prog.startSampler(spec.Name, &c)
	cpuA := takeCPU(t.pids())
	start := time.Now()
	loop(spec.Duration, true)
	elapsed := time.Since(start)
	cpuB := takeCPU(t.pids())
	res.Timeline = smp.finish()
	res.Seconds = elapsed.Seconds()
	res.CPU = cpuUse(cpuA, cpuB, t.pidsKnown())
	res.ReadsPerSec = float64(ok.Load()) / elapsed.Seconds()
	res.ReadLatency = summarise(rec.merged())
	res.ReadsFailed = failed.count()
	if f := failed.count(); f > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d reads failed; first: %s", f, failed.firstError()))
	}
	if err := t.checkAlive(); err != nil {
		res.Error = err.Error()
	}
	r.prog.logf("%s: %s", spec.Name, oneLine(&res))
	return res
}

// idle measures what the servers spend with no traffic at all: Raft
// heartbeats, the commit timeout's idle appends, pingers and tickers.
func (r *runner) idle(ctx context.Context, t *target, name string, d time.Duration) Result {
	res := Result{Name: name, Kind: "idle", Title: fmt.Sprintf("%d nodes with no traffic for %s", len(t.Nodes), d), Nodes: len(t.Nodes),
		Params: map[string]any{"durationSec": d.Seconds()}}
	time.Sleep(min(d, 2*time.Second)) // let start-up work finish
	cpuA := takeCPU(t.pids())
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
	cpuB := takeCPU(t.pids())
	res.CPU = cpuUse(cpuA, cpuB, t.pidsKnown())
	res.Seconds = d.Seconds()
	if err := t.checkAlive(); err != nil {
		res.Error = err.Error()
	}
	r.prog.logf("%s: %s", name, oneLine(&res))
	return res
}
