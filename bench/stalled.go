package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
)

// writeBatchBytes is how much a pushflo writer takes from a connection's
// queue for one write (api.writeBatchBytes); a stalled write holds it.
const writeBatchBytes = 64 << 10

// maxMessageBytes is the largest message content pushflo accepts (32 KiB).
const maxMessageBytes = 32 << 10

// stalledBound is the most a server may hold for n stalled resumers with
// a queue budget of queueBytes each, above what it held before they came:
// per connection the queue budget, one write batch held by the blocked
// write, and the largest message twice (stored and rendered, the frame
// that may overshoot the budget); and all of it twice over, because Go's
// collector lets the heap grow to twice the live data (GOGC=100) before it
// collects.
func stalledBound(n, queueBytes int) int64 {
	perConn := int64(queueBytes + writeBatchBytes + 2*maxMessageBytes)
	return 2 * int64(n) * perConn
}

// StalledStats is the stalled-resumers scenario's measurement.
type StalledStats struct {
	// Subscribers asked for; WebSocket and SSE halves; Connected is how
	// many subscribed (the rest failed to connect).
	Subscribers int `json:"subscribers"`
	WS          int `json:"ws"`
	SSE         int `json:"sse"`
	Connected   int `json:"connected"`
	// The channel they resume from its start: Messages of MessageBytes.
	Messages     int64 `json:"messages"`
	MessageBytes int   `json:"messageBytes"`
	// QueueBytes is the server's --max-conn-queue-bytes.
	QueueBytes int `json:"queueBytes"`
	// Server RSS before the subscribers connected, its peak while they
	// stalled (sampled every 100 ms over WatchSeconds) and at the end.
	RSSBeforeBytes   int64   `json:"rssBeforeBytes"`
	RSSPeakBytes     int64   `json:"rssPeakBytes"`
	RSSEndBytes      int64   `json:"rssEndBytes"`
	PeakAfterSeconds float64 `json:"peakAfterSeconds"`
	WatchSeconds     float64 `json:"watchSeconds"`
	// BoundBytes is RSSBeforeBytes plus stalledBound; Within reports
	// whether the peak stayed under it.
	BoundBytes int64 `json:"boundBytes"`
	Within     bool  `json:"within"`
	// KernelTCPPeakBytes is the peak of the machine's TCP buffer memory
	// (/proc/net/sockstat "TCP: … mem", pages) during the watch, minus
	// its value before: what the kernel held for the stalled sockets,
	// outside any process's RSS (other processes' sockets count too).
	KernelTCPPeakBytes int64 `json:"kernelTCPPeakBytes"`
	// RSSEverySecondMiB is the server's RSS once a second of the watch.
	RSSEverySecondMiB []float64 `json:"rssEverySecondMiB"`
	// GrowthPerConnBytes is (peak − before) / Connected.
	GrowthPerConnBytes float64 `json:"growthPerConnBytes"`
	// SlowConsumers is the rise of pushflo_frontend_slow_consumers_total:
	// stalled subscribers the server cut off during the watch.
	SlowConsumers float64 `json:"slowConsumers"`
	// PublishAfterMs is a publish's round trip after the watch, and
	// LiveAfter whether a fresh subscriber then received it: the server
	// kept serving.
	PublishAfterMs float64 `json:"publishAfterMs"`
	LiveAfter      bool    `json:"liveAfter"`
}

// stalled publishes a large channel, then opens n subscribers (half
// WebSocket, half SSE) that resume from its start and never read, with
// small socket receive buffers so the kernel absorbs little, and watches
// the server's resident memory (issue 11 item 5).
func (r *runner) stalled(ctx context.Context, t *target, n int) Result {
	o := r.opts
	nd := t.Nodes[0]
	res := Result{Name: "stalled-resume-1node", Kind: "stalled", Title: fmt.Sprintf("%d subscribers resume from the start of %d × %d B messages and never read, one node", n, o.stalledMessages, o.stalledMessageBytes),
		Nodes: len(t.Nodes), Transport: "ws+sse", Params: map[string]any{"subscribers": n, "messages": o.stalledMessages, "messageBytes": o.stalledMessageBytes,
			"queueBytes": o.stalledQueueBytes, "watchSec": o.stalledWatch.Seconds()}}
	st := &StalledStats{Subscribers: n, WS: n - n/2, SSE: n / 2, MessageBytes: o.stalledMessageBytes, QueueBytes: o.stalledQueueBytes}
	res.Stalled = st
	if nd.PID <= 0 {
		res.Error = "the server's pid is unknown (with --target, pass --server-pids); cannot read its memory"
		return res
	}
	channel := fmt.Sprintf("bench-%s-stalled", r.runID)
	marker, err := postMessage(ctx, nd.URL, t.Keys, channel, `{"marker":true}`)
	if err != nil {
		res.Error = fmt.Sprintf("publish marker: %v", err)
		return res
	}
	// The content is {"bt":…,"pad":"…"}: about 40 bytes besides the pad.
	p := newPoster([]*node{nd}, t.Keys.Secret, 16, max(0, o.stalledMessageBytes-40))
	var seedC counters
	r.prog.logf("%s: publishing %d messages of %d bytes…", res.Name, o.stalledMessages, o.stalledMessageBytes)
	seed := p.closedLoop(ctx, []string{channel}, 16, 3*time.Minute, int64(o.stalledMessages), &seedC)
	p.close()
	st.Messages = seed.Acked
	if seed.Failed > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d seed publishes failed (first: %s)", seed.Failed, seed.FirstError))
	}
	if seed.Acked == 0 {
		res.Error = "no seed publish succeeded: " + seed.FirstError
		return res
	}
	settle := 3 * time.Second
	if o.smoke {
		settle = 300 * time.Millisecond
	}
	time.Sleep(settle)
	if st.RSSBeforeBytes, _, err = rssBytes(nd.PID); err != nil {
		res.Error = err.Error()
		return res
	}
	slowBefore := t.slowConsumers(ctx)

	// Watch the server's RSS from the first dial on.
	var peak, peakAt, tcpPeak atomic.Int64
	tcpBefore := kernelTCPBytes()
	watchStart := time.Now()
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			rss, _, err := rssBytes(nd.PID)
			if err == nil && rss > peak.Load() {
				peak.Store(rss)
				peakAt.Store(int64(time.Since(watchStart)))
			}
			if k := kernelTCPBytes(); k > tcpPeak.Load() {
				tcpPeak.Store(k)
			}
			if err == nil && i%10 == 0 {
				st.RSSEverySecondMiB = append(st.RSSEverySecondMiB, float64(rss*10>>20)/10)
			}
			select {
			case <-stopWatch:
				return
			case <-tick.C:
			}
		}
	}()

	var c counters
	smp := r.prog.startSampler(res.Name, &c)
	cpuA := takeCPU(t.pids())
	var mu sync.Mutex
	var open []func()
	var failed failures
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := 0; i < n && ctx.Err() == nil; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var closer func()
			var err error
			if i%2 == 0 {
				closer, err = stalledWS(ctx, nd.URL, t.Keys.Publish, channel, marker)
			} else {
				closer, err = stalledSSE(nd.URL, t.Keys.Publish, channel, marker)
			}
			if err != nil {
				failed.add(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			open = append(open, closer)
			c.published.Add(1) // the progress line shows connections here
		}()
	}
	wg.Wait()
	st.Connected = len(open)
	if failed.count() > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d subscribers failed to connect; first: %s", failed.count(), failed.firstError()))
	}
	if rest := o.stalledWatch - time.Since(watchStart); rest > 0 {
		select {
		case <-time.After(rest):
		case <-ctx.Done():
		}
	}
	close(stopWatch)
	<-watched
	st.WatchSeconds = time.Since(watchStart).Seconds()
	cpuB := takeCPU(t.pids())
	res.Timeline = smp.finish()
	res.CPU = cpuUse(cpuA, cpuB, t.pidsKnown())
	res.Seconds = st.WatchSeconds
	st.RSSPeakBytes, st.PeakAfterSeconds = peak.Load(), time.Duration(peakAt.Load()).Seconds()
	st.RSSEndBytes, _, _ = rssBytes(nd.PID)
	st.KernelTCPPeakBytes = max(0, tcpPeak.Load()-tcpBefore)
	st.SlowConsumers = t.slowConsumers(ctx) - slowBefore
	st.BoundBytes = st.RSSBeforeBytes + stalledBound(n, o.stalledQueueBytes)
	st.Within = st.RSSPeakBytes <= st.BoundBytes
	if st.Connected > 0 {
		st.GrowthPerConnBytes = float64(st.RSSPeakBytes-st.RSSBeforeBytes) / float64(st.Connected)
	}

	// Still serving: a fresh subscriber gets a message published now,
	// while the stalled ones are still connected.
	liveCh := channel + "-live"
	w, err := dialWS(ctx, nd.URL, t.Keys.Publish, 4096)
	if err == nil {
		err = w.subscribe(liveCh, "", 15*time.Second)
		if err != nil {
			w.close()
		}
	}
	if err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("after the watch, a fresh subscriber could not subscribe: %v", err))
	} else {
		t0 := time.Now()
		if _, err := postMessage(ctx, nd.URL, t.Keys, liveCh, `{"after":true}`); err != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("after the watch, a publish failed: %v", err))
		} else {
			st.PublishAfterMs = float64(time.Since(t0).Microseconds()) / 1000
			w.c.SetReadDeadline(time.Now().Add(15 * time.Second))
			for {
				f, err := w.next()
				if err != nil {
					res.Notes = append(res.Notes, fmt.Sprintf("after the watch, the fresh subscriber got nothing: %v", err))
					break
				}
				if strings.HasPrefix(string(f), string(prefixMsg)) {
					st.LiveAfter = true
					break
				}
			}
		}
		w.close()
	}
	for _, cl := range open {
		cl()
	}
	res.Expected, res.Received = 1, 0
	if st.LiveAfter {
		res.Received = 1
	} else {
		res.Lost = 1
	}
	if err := t.checkAlive(); err != nil {
		res.Error = err.Error()
	}
	r.prog.logf("%s: %s", res.Name, oneLine(&res))
	return res
}

// kernelTCPBytes reads the machine's TCP buffer memory from
// /proc/net/sockstat (0 if unreadable).
func kernelTCPBytes() int64 {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "TCP:") {
			continue
		}
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "mem" {
				n, _ := strconv.ParseInt(f[i+1], 10, 64)
				return n * int64(os.Getpagesize())
			}
		}
	}
	return 0
}

// smallBufferDial dials TCP with a 4 KiB receive buffer, so that a reader
// that never reads lets the kernel hold little of what is sent to it.
func smallBufferDial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 15 * time.Second}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	_ = c.(*net.TCPConn).SetReadBuffer(4096)
	return c, nil
}

// stalledWS connects a WebSocket, resumes channel after lastID and then
// reads nothing more; it returns the function that closes it. It asks for
// no frame shape (not --frames): the server queues full frames, the larger
// ones, for the stalled subscribers.
func stalledWS(ctx context.Context, base, token, channel, lastID string) (func(), error) {
	u := "ws" + strings.TrimPrefix(base, "http") + "/ws?token=" + url.QueryEscape(token)
	d := websocket.Dialer{NetDialContext: smallBufferDial, ReadBufferSize: 512, WriteBufferSize: 512, HandshakeTimeout: 15 * time.Second}
	c, _, err := d.DialContext(ctx, u, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", base, err)
	}
	b := fmt.Appendf(nil, `{"type":"subscribe","channel":%q,"lastMessageId":%q}`, channel, lastID)
	c.SetWriteDeadline(time.Now().Add(15 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
		c.Close()
		return nil, fmt.Errorf("send subscribe: %w", err)
	}
	return func() { c.Close() }, nil
}

// stalledSSE opens an SSE stream resuming channel after lastID on a raw
// socket and never reads it; it returns the function that closes it.
func stalledSSE(base, token, channel, lastID string) (func(), error) {
	host := strings.TrimPrefix(base, "http://")
	c, err := smallBufferDial(context.Background(), "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", base, err)
	}
	q := url.Values{"channel": {channel}, "token": {token}, "lastEventId": {lastID}}
	c.SetWriteDeadline(time.Now().Add(15 * time.Second))
	if _, err := fmt.Fprintf(c, "GET /sse?%s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", q.Encode(), host); err != nil {
		c.Close()
		return nil, fmt.Errorf("send SSE request: %w", err)
	}
	return func() { c.Close() }, nil
}
