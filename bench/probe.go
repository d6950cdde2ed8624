package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
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
