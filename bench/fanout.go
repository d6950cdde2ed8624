package main

import (
	"context"
	"fmt"
	"time"
)

// fanoutSpec describes a fan-out run: Subscribers spread evenly over
// Channels, Rate publishes per second (round-robin over the channels) for
// Duration, every delivery timed from publish sent to message received.
type fanoutSpec struct {
	Name, Title string
	// Kind is "fanout" or "crossnode".
	Kind        string
	Transport   string // "ws" or "sse"
	Subscribers int
	Channels    int
	Rate        int
	Duration    time.Duration
	// PubNodes take the publishes (round-robin); SubNodes hold the
	// subscribers (round-robin). PubVia and SubOn describe them.
	PubNodes, SubNodes []*node
	PubVia, SubOn      string
}

// fanout runs one fan-out scenario against t.
func (r *runner) fanout(ctx context.Context, t *target, spec fanoutSpec) Result {
	res := Result{Name: spec.Name, Kind: spec.Kind, Title: spec.Title, Nodes: len(t.Nodes), Transport: spec.Transport,
		Params: map[string]any{
			"subscribers": spec.Subscribers, "channels": spec.Channels, "publishesPerSec": spec.Rate,
			"durationSec": spec.Duration.Seconds(), "payloadBytes": r.opts.payload,
			"publishVia": spec.PubVia, "subscribersOn": spec.SubOn,
		}}
	channels := make([]string, spec.Channels)
	for i := range channels {
		channels[i] = fmt.Sprintf("bench-%s-%s-%03d", r.runID, spec.Name, i)
	}
	rec := newRecorder(64)
	var c counters

	r.prog.logf("%s: connecting %d %s subscribers over %d channels…", spec.Name, spec.Subscribers, spec.Transport, spec.Channels)
	t0 := time.Now()
	subs, err := connectSubscribers(ctx, spec.Transport, spec.SubNodes, t.Keys.Publish, channels, spec.Subscribers, 32, rec, &c)
	if err != nil {
		res.Error = fmt.Sprintf("connect subscribers: %v", err)
		return res
	}
	res.ConnectSeconds = time.Since(t0).Seconds()

	// Enough concurrent requests that slow acknowledgements do not hold
	// the schedule back: 64, or more at high rates.
	workers := max(64, spec.Rate/20)
	p := newPoster(spec.PubNodes, t.Keys.Secret, workers, r.opts.payload)
	defer p.close()

	slowBefore := t.slowConsumers(ctx)
	serverPub := serverLatency(ctx, spec.PubNodes, "pushflo_frontend_publish_duration_seconds")
	smp := r.prog.startSampler(spec.Name, &c)
	cpuA := takeCPU(t.pids())
	start := time.Now()
	st := p.paced(ctx, channels, spec.Rate, spec.Duration, workers, &c)
	cpuB := takeCPU(t.pids())

	// Drain: wait for every acknowledged publish to reach every subscriber
	// of its channel, or for deliveries to stop arriving.
	var expected int64
	for ch, n := range subs.perChannel {
		expected += n * st.AckedByChannel[ch]
	}
	last, lastChange := c.delivered.Load(), time.Now()
	drainEnd := time.Now().Add(20 * time.Second)
	for ctx.Err() == nil && time.Now().Before(drainEnd) {
		got := c.delivered.Load()
		if got >= expected {
			break
		}
		if got != last {
			last, lastChange = got, time.Now()
		} else if time.Since(lastChange) > 3*time.Second {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	res.Timeline = smp.finish()
	subs.close()

	tl := subs.tally(st.AckedByChannel)
	res.SlowConsumers = t.slowConsumers(ctx) - slowBefore
	res.ServerPublish = serverPub()
	res.Seconds = elapsed.Seconds()
	res.Publish = &st
	res.PublishLatency = summarise(st.latency.merged())
	res.PublishesPerSec = float64(st.Acked) / spec.Duration.Seconds()
	res.Delivery = summarise(rec.merged())
	if subs.byNode != nil {
		res.DeliveryByNode = map[string]*Latency{}
		for i, nr := range subs.byNode {
			l := summarise(nr.merged())
			l.Curve = nil
			res.DeliveryByNode[spec.SubNodes[i].ID+" ("+t.role(spec.SubNodes[i])+")"] = l
		}
	}
	res.Expected, res.Received, res.Lost, res.Extra, res.Disordered = tl.Expected, tl.Received, tl.Lost, tl.Extra, tl.Disordered
	res.Cut, res.FirstCut = tl.Cut, tl.FirstCut
	res.DeliveriesPerSec = float64(tl.Received) / elapsed.Seconds()
	res.CPU = cpuUse(cpuA, cpuB, t.pidsKnown())
	switch want := int64(float64(spec.Rate) * spec.Duration.Seconds()); {
	case st.Acked < want*98/100:
		res.Notes = append(res.Notes, fmt.Sprintf("only %d of %d publishes were acknowledged in time (at worst %.0f ms behind schedule): the achieved rate is below the requested one", st.Acked, want, st.MaxLagMs))
	case st.MaxLagMs > 100:
		res.Notes = append(res.Notes, fmt.Sprintf("all publishes went out, but slow acknowledgements held the schedule back (at worst %.0f ms late, %d publishes more than 5 ms late), so part of the load arrived in bursts", st.MaxLagMs, st.LateCount))
	}
	if err := t.checkAlive(); err != nil {
		res.Error = err.Error()
	}
	r.prog.logf("%s: %s", spec.Name, oneLine(&res))
	return res
}
