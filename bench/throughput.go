package main

import (
	"context"
	"fmt"
	"time"
)

// throughputSpec describes a closed-loop publish run: Publishers
// concurrent keep-alive publishers through Via, each waiting for its 201
// before the next publish, for Duration.
type throughputSpec struct {
	Name, Title string
	Publishers  int
	Channels    int
	Duration    time.Duration
	Via         []*node
	ViaName     string
}

// throughput measures acknowledged publishes per second and publish
// latency (request sent → 201 read).
func (r *runner) throughput(ctx context.Context, t *target, spec throughputSpec) Result {
	res := Result{Name: spec.Name, Kind: "throughput", Title: spec.Title, Nodes: len(t.Nodes),
		Params: map[string]any{"publishers": spec.Publishers, "channels": spec.Channels,
			"durationSec": spec.Duration.Seconds(), "payloadBytes": r.opts.payload, "publishVia": spec.ViaName}}
	channels := make([]string, spec.Channels)
	for i := range channels {
		channels[i] = fmt.Sprintf("bench-%s-%s-%03d", r.runID, spec.Name, i)
	}
	p := newPoster(spec.Via, t.Keys.Secret, spec.Publishers, r.opts.payload)
	defer p.close()
	// Warm the keep-alive connections so the run does not time dials.
	var warm counters
	p.closedLoop(ctx, channels, spec.Publishers, time.Second, int64(spec.Publishers), &warm)

	var c counters
	serverPub := serverLatency(ctx, spec.Via, "pushflo_frontend_publish_duration_seconds")
	smp := r.prog.startSampler(spec.Name, &c)
	cpuA := takeCPU(t.pids())
	start := time.Now()
	st := p.closedLoop(ctx, channels, spec.Publishers, spec.Duration, 0, &c)
	elapsed := time.Since(start)
	cpuB := takeCPU(t.pids())
	res.Timeline = smp.finish()
	res.ServerPublish = serverPub()

	res.Seconds = elapsed.Seconds()
	res.Publish = &st
	res.PublishLatency = summarise(st.latency.merged())
	res.PublishesPerSec = float64(st.Acked) / elapsed.Seconds()
	res.CPU = cpuUse(cpuA, cpuB, t.pidsKnown())
	if st.Failed > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d publishes failed; first: %s", st.Failed, st.FirstError))
	}
	if err := t.checkAlive(); err != nil {
		res.Error = err.Error()
	}
	r.prog.logf("%s: %s", spec.Name, oneLine(&res))
	return res
}
