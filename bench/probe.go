package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// FsyncProbe is the disk's fdatasync latency, measured by appending 4 KiB
// and syncing, n times, in the servers' work directory. It puts the
// latency figures in context: every acknowledged publish waits for at
// least one such sync (two on a cluster, leader and a follower).
type FsyncProbe struct {
	When  string  `json:"when"`
	Count int     `json:"count"`
	P50Ms float64 `json:"p50Ms"`
	P99Ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
}

func probeFsync(dir, when string, n int) (FsyncProbe, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return FsyncProbe{}, fmt.Errorf("fsync probe: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := newHist()
	buf := make([]byte, 4096)
	for range n {
		if _, err := f.Write(buf); err != nil {
			return FsyncProbe{}, fmt.Errorf("fsync probe: %w", err)
		}
		t0 := time.Now()
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return FsyncProbe{}, fmt.Errorf("fsync probe: %w", err)
		}
		_ = h.RecordValue(max(1, time.Since(t0).Microseconds()))
	}
	return FsyncProbe{When: when, Count: n, P50Ms: micros(h.ValueAtQuantile(50)), P99Ms: micros(h.ValueAtQuantile(99)), MaxMs: micros(h.Max())}, nil
}

// goRuntime is what a node's /metrics says about its Go runtime.
type goRuntime struct {
	Goroutines, HeapInuse, StackInuse float64
}

// scrapeRuntime reads go_goroutines and the heap and stack figures from
// GET /metrics, the public Prometheus endpoint.
func scrapeRuntime(ctx context.Context, base string) (goRuntime, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return goRuntime{}, err
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return goRuntime{}, fmt.Errorf("scrape %s/metrics: %w", base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return goRuntime{}, fmt.Errorf("scrape %s/metrics: %w", base, err)
	}
	var g goRuntime
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_goroutines":
			g.Goroutines = v
		case "go_memstats_heap_inuse_bytes":
			g.HeapInuse = v
		case "go_memstats_stack_inuse_bytes":
			g.StackInuse = v
		}
	}
	return g, nil
}

// scrapeCounter returns the sum of a counter's samples from /metrics.
func scrapeCounter(ctx context.Context, base, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape %s/metrics: %w", base, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	var sum float64
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum, nil
}

// bucketHist is a Prometheus histogram's cumulative bucket counts by upper
// bound (seconds), +Inf included.
type bucketHist map[float64]float64

// scrapeHistogram reads the buckets of histogram name from base's
// /metrics, summed over label sets.
func scrapeHistogram(ctx context.Context, base, name string) (bucketHist, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s/metrics: %w", base, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	h := bucketHist{}
	prefix := name + "_bucket{"
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		i := strings.Index(line, `le="`)
		if i < 0 {
			continue
		}
		rest := line[i+4:]
		j := strings.IndexByte(rest, '"')
		if j < 0 {
			continue
		}
		le, err := strconv.ParseFloat(rest[:j], 64) // "+Inf" parses as +Inf
		if err != nil {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			continue
		}
		h[le] += v
	}
	return h, nil
}

// ServerLatency is a server-reported latency distribution, from its
// Prometheus histogram: each percentile is the upper bound of the bucket
// that holds it (buckets double: 0.1, 0.2, 0.4, … ms), so read "≤".
type ServerLatency struct {
	Metric  string  `json:"metric"`
	Count   float64 `json:"count"`
	P50LeMs float64 `json:"p50LeMs"`
	P99LeMs float64 `json:"p99LeMs"`
}

// serverLatency scrapes histogram name on nodes now; the returned func
// scrapes again and summarises what was observed in between.
func serverLatency(ctx context.Context, nodes []*node, name string) func() *ServerLatency {
	sum := func() bucketHist {
		total := bucketHist{}
		for _, n := range nodes {
			h, err := scrapeHistogram(ctx, n.URL, name)
			if err != nil {
				return nil
			}
			for k, v := range h {
				total[k] += v
			}
		}
		return total
	}
	before := sum()
	return func() *ServerLatency {
		after := sum()
		if before == nil || after == nil {
			return nil
		}
		var les []float64
		for le := range after {
			les = append(les, le)
		}
		sort.Float64s(les)
		count := after[math.Inf(1)] - before[math.Inf(1)]
		if count <= 0 {
			return nil
		}
		at := func(q float64) float64 {
			for _, le := range les {
				if after[le]-before[le] >= q*count {
					return le * 1000
				}
			}
			return math.Inf(1)
		}
		return &ServerLatency{Metric: name, Count: count, P50LeMs: at(0.5), P99LeMs: at(0.99)}
	}
}
