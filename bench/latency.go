package main

import (
	"math"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds from 1 µs to 60 s with three
// significant figures: 1 µs resolution up to ~2 ms, 0.1% relative above.
const (
	histMinMicros = 1
	histMaxMicros = 60_000_000
	histSigFigs   = 3
)

func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMinMicros, histMaxMicros, histSigFigs)
}

// recorder is a latency histogram that many goroutines record into. It is
// split into shards, each under its own mutex, so readers of different
// connections rarely contend; a caller passes any stable shard hint (its
// connection index).
type recorder struct {
	shards []recorderShard
}

type recorderShard struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram // guarded by mu
	_  [40]byte                // keeps shards on separate cache lines
}

func newRecorder(shards int) *recorder {
	r := &recorder{shards: make([]recorderShard, shards)}
	for i := range r.shards {
		r.shards[i].h = newHist()
	}
	return r
}

// record adds one latency; values beyond 60 s are clamped to 60 s.
func (r *recorder) record(hint int, d time.Duration) {
	us := d.Microseconds()
	if us < histMinMicros {
		us = histMinMicros
	}
	if us > histMaxMicros {
		us = histMaxMicros
	}
	s := &r.shards[hint%len(r.shards)]
	s.mu.Lock()
	_ = s.h.RecordValue(us)
	s.mu.Unlock()
}

// merged returns one histogram holding every shard's values.
func (r *recorder) merged() *hdrhistogram.Histogram {
	out := newHist()
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		out.Merge(s.h)
		s.mu.Unlock()
	}
	return out
}

// Latency summarises a latency histogram in milliseconds.
type Latency struct {
	Count  int64   `json:"count"`
	MeanMs float64 `json:"meanMs"`
	P50Ms  float64 `json:"p50Ms"`
	P90Ms  float64 `json:"p90Ms"`
	P95Ms  float64 `json:"p95Ms"`
	P99Ms  float64 `json:"p99Ms"`
	P999Ms float64 `json:"p999Ms"`
	MaxMs  float64 `json:"maxMs"`
	// Curve is the percentile curve for plotting: latency (ms) at
	// increasing percentiles, HdrHistogram's "percentile distribution".
	Curve []CurvePoint `json:"curve,omitempty"`
}

// CurvePoint is one point of a percentile curve.
type CurvePoint struct {
	Percentile float64 `json:"p"`
	Ms         float64 `json:"ms"`
}

func micros(v int64) float64 { return math.Round(float64(v)) / 1000 }

// summarise returns the percentiles of h and its percentile curve.
func summarise(h *hdrhistogram.Histogram) *Latency {
	if h.TotalCount() == 0 {
		return &Latency{}
	}
	l := &Latency{
		Count:  h.TotalCount(),
		MeanMs: math.Round(h.Mean()) / 1000,
		P50Ms:  micros(h.ValueAtQuantile(50)),
		P90Ms:  micros(h.ValueAtQuantile(90)),
		P95Ms:  micros(h.ValueAtQuantile(95)),
		P99Ms:  micros(h.ValueAtQuantile(99)),
		P999Ms: micros(h.ValueAtQuantile(99.9)),
		MaxMs:  micros(h.Max()),
	}
	last := -1.0
	for _, b := range h.CumulativeDistributionWithTicks(5) {
		if b.Quantile == last || b.Quantile >= 100 {
			continue
		}
		last = b.Quantile
		l.Curve = append(l.Curve, CurvePoint{Percentile: b.Quantile, Ms: micros(b.ValueAt)})
	}
	l.Curve = append(l.Curve, CurvePoint{Percentile: 100, Ms: l.MaxMs})
	return l
}
