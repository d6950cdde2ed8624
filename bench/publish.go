package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// epoch is the generator's clock origin. Publishes carry the monotonic
// nanoseconds since epoch at which they were sent (content field "bt"), so
// a subscriber in this process computes publish-sent → received latency
// without trusting wall clocks.
var epoch = time.Now()

func sinceEpoch() int64 { return int64(time.Since(epoch)) }

// publishTimeout bounds one publish request.
const publishTimeout = 10 * time.Second

// poster publishes over REST with fasthttp: keep-alive connections, no
// per-request allocation of headers or bodies, so the generator spends its
// CPU on the server's answers rather than on its own HTTP stack.
type poster struct {
	hosts []*fasthttp.HostClient
	auth  string
	pad   string
}

// newPoster returns a poster for the given nodes; maxConns bounds the
// keep-alive connections per node (one per concurrent publisher).
func newPoster(nodes []*node, secret string, maxConns, payloadBytes int) *poster {
	p := &poster{auth: "Bearer " + secret, pad: strings.Repeat("x", max(0, payloadBytes))}
	for _, n := range nodes {
		p.hosts = append(p.hosts, &fasthttp.HostClient{
			Addr:                strings.TrimPrefix(n.URL, "http://"),
			MaxConns:            maxConns,
			MaxIdleConnDuration: time.Minute,
			ReadTimeout:         publishTimeout,
			WriteTimeout:        publishTimeout,
			MaxConnWaitTimeout:  publishTimeout,
		})
	}
	return p
}

func (p *poster) close() {
	for _, h := range p.hosts {
		h.CloseIdleConnections()
	}
}

// errNoID is returned when a 201 answer carries no message ID.
var errNoID = errors.New("publish answer has no data.id")

// statusError is a non-201 answer to a publish.
type statusError struct {
	Status int
	Body   string
}

func (e *statusError) Error() string { return fmt.Sprintf("publish: status %d: %s", e.Status, e.Body) }

// publish sends one message to channel through host h, stamped with the
// send time, and returns its ID once the server acknowledged it (201: a
// majority committed it). buf is scratch space reused across calls.
func (p *poster) publish(h int, channel string, buf *[]byte) (string, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	hc := p.hosts[h]
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetHost(hc.Addr)
	req.Header.Set("Authorization", p.auth)
	req.Header.SetContentType("application/json")
	b := (*buf)[:0]
	b = append(b, "/api/v1/channels/"...)
	b = append(b, channel...)
	b = append(b, "/messages"...)
	req.SetRequestURIBytes(b)
	b = b[:0]
	b = append(b, `{"content":{"bt":`...)
	b = strconv.AppendInt(b, sinceEpoch(), 10)
	b = append(b, `,"pad":"`...)
	b = append(b, p.pad...)
	b = append(b, `"},"eventType":"bench"}`...)
	req.SetBodyRaw(b)
	*buf = b
	if err := hc.DoTimeout(req, resp, publishTimeout); err != nil {
		return "", fmt.Errorf("publish to %s: %w", hc.Addr, err)
	}
	body := resp.Body()
	if resp.StatusCode() != fasthttp.StatusCreated {
		return "", &statusError{Status: resp.StatusCode(), Body: truncate(body, 200)}
	}
	id := fieldString(body, `"id":"`)
	if id == "" {
		return "", errNoID
	}
	return id, nil
}

// fieldString returns the JSON string value after key (which includes the
// opening quote of the value) in b, or "" when absent.
func fieldString(b []byte, key string) string {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return ""
	}
	rest := b[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// fieldInt returns the integer value after key (such as `"bt":`) in b.
func fieldInt(b []byte, key []byte) (int64, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, false
	}
	var v int64
	n := 0
	for _, c := range b[i+len(key):] {
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + int64(c-'0')
		n++
	}
	return v, n > 0
}

// counters are the live totals a scenario's sampler reads for the progress
// line and the timeline.
type counters struct {
	published atomic.Int64 // acknowledged publishes
	failed    atomic.Int64 // publishes that got no 201
	delivered atomic.Int64 // messages received by subscribers
}

// pubStats is what a publishing phase did.
type pubStats struct {
	Attempted int64 `json:"attempted"`
	Acked     int64 `json:"acked"`
	Failed    int64 `json:"failed"`
	// FirstError is the first failure, for the report.
	FirstError string `json:"firstError,omitempty"`
	// AckedByChannel counts acknowledged publishes per channel index.
	AckedByChannel []int64 `json:"-"`
	// MaxID is the greatest acknowledged message ID per channel index.
	MaxID []string `json:"-"`
	// MaxLagMs is how far behind its schedule the paced publisher fell at
	// worst; LateCount how many publishes left more than 5 ms late.
	MaxLagMs  float64 `json:"maxLagMs,omitempty"`
	LateCount int64   `json:"lateCount,omitempty"`
	// Latency of acknowledged publishes, request sent → 201 read.
	latency *recorder
}

type pubState struct {
	mu    sync.Mutex
	stats pubStats
}

func newPubState(channels int) *pubState {
	return &pubState{stats: pubStats{AckedByChannel: make([]int64, channels), MaxID: make([]string, channels), latency: newRecorder(16)}}
}

func (s *pubState) done(worker, ch int, id string, err error, took time.Duration, c *counters) {
	s.mu.Lock()
	s.stats.Attempted++
	if err != nil {
		s.stats.Failed++
		if s.stats.FirstError == "" {
			s.stats.FirstError = err.Error()
		}
	} else {
		s.stats.Acked++
		s.stats.AckedByChannel[ch]++
		if id > s.stats.MaxID[ch] {
			s.stats.MaxID[ch] = id
		}
	}
	s.mu.Unlock()
	if err != nil {
		c.failed.Add(1)
		return
	}
	s.stats.latency.record(worker, took)
	c.published.Add(1)
}

// paced publishes rate messages per second for dur (at most rate×dur),
// round-robin over channels and over the poster's hosts, from up to
// workers concurrent requests. It stops early when ctx ends.
func (p *poster) paced(ctx context.Context, channels []string, rate int, dur time.Duration, workers int, c *counters) pubStats {
	st := newPubState(len(channels))
	total := int(float64(rate) * dur.Seconds())
	type job struct {
		seq int
		due time.Duration
	}
	jobs := make(chan job, workers)
	var maxLag atomic.Int64
	var late atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 256)
			for j := range jobs {
				if lag := time.Since(start) - j.due; lag > 0 {
					if lag > 5*time.Millisecond {
						late.Add(1)
					}
					for {
						m := maxLag.Load()
						if int64(lag) <= m || maxLag.CompareAndSwap(m, int64(lag)) {
							break
						}
					}
				}
				ch := j.seq % len(channels)
				t0 := time.Now()
				id, err := p.publish(j.seq%len(p.hosts), channels[ch], &buf)
				st.done(w, ch, id, err, time.Since(t0), c)
			}
		}()
	}
	interval := time.Second / time.Duration(rate)
	for seq := 0; seq < total && ctx.Err() == nil; seq++ {
		due := time.Duration(seq) * interval
		if wait := due - time.Since(start); wait > 0 {
			time.Sleep(wait)
		}
		jobs <- job{seq: seq, due: due}
	}
	close(jobs)
	wg.Wait()
	st.stats.MaxLagMs = float64(maxLag.Load()) / 1e6
	st.stats.LateCount = late.Load()
	return st.stats
}

// closedLoop runs workers publishers that each publish, wait for the
// answer and publish again, until dur has passed or limit messages were
// sent (limit 0: no count limit). Publisher i uses host i mod hosts and
// channel i mod channels in turn.
func (p *poster) closedLoop(ctx context.Context, channels []string, workers int, dur time.Duration, limit int64, c *counters) pubStats {
	st := newPubState(len(channels))
	deadline := time.Now().Add(dur)
	var issued atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 256)
			for i := 0; ctx.Err() == nil && time.Now().Before(deadline); i++ {
				if limit > 0 && issued.Add(1) > limit {
					return
				}
				ch := (w + i*workers) % len(channels)
				t0 := time.Now()
				id, err := p.publish(w%len(p.hosts), channels[ch], &buf)
				st.done(w, ch, id, err, time.Since(t0), c)
				if err != nil {
					// A failing server must not turn the loop into a
					// busy spin.
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	return st.stats
}
