package compaction

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	mrand "math/rand/v2"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushflo/pushflo/log"
)

// BenchmarkExpire measures retention at scale on a real node: disk bytes
// per stored 1 KiB message, how long one expiry of N messages takes (the
// Raft command, then the space coming back), and publish latency on another
// channel before and while it runs. N is PUSHFLO_EXPIRE_N (default
// 1,000,000). Run it alone: go test -run XXX -bench Expire -benchtime 1x ./compaction
func BenchmarkExpire(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("PUSHFLO_EXPIRE_N")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		benchExpire(b, n)
	}
}

func benchExpire(b *testing.B, n int) {
	node, st := startBench(b)
	// Each message 1 KiB of its own random content, so compression and
	// block-level repetition cannot flatter the figure.
	newContent := func(rng *mrand.ChaCha8) []byte {
		raw := make([]byte, 756)
		rng.Read(raw)
		return []byte(`{"pad":"` + base64.StdEncoding.EncodeToString(raw) + `"}`)
	}

	// Seed N messages through Raft from 256 publishers (batched entries).
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 256; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var seed [32]byte
			rand.Read(seed[:])
			rng := mrand.NewChaCha8(seed)
			for next.Add(1) <= int64(n) {
				if _, err := node.Publish(context.Background(), log.Entry{Channel: "old", EventType: "e", Content: newContent(rng)}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	seedRate := float64(n) / time.Since(start).Seconds()
	if err := st.Flush(); err != nil {
		b.Fatal(err)
	}
	time.Sleep(2 * time.Second) // let Pebble settle its compactions
	sstBefore, allBefore := dirSize(st.Dir())

	// A steady publisher on another channel, 500/s, records latency.
	type sample struct {
		at  time.Time
		lat time.Duration
	}
	var mu sync.Mutex
	var samples []sample
	stop := make(chan struct{})
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			t0 := time.Now()
			if _, err := node.Publish(context.Background(), log.Entry{Channel: "live", EventType: "e", Content: []byte(`{"a":1}`)}); err == nil {
				mu.Lock()
				samples = append(samples, sample{t0, time.Since(t0)})
				mu.Unlock()
			}
		}
	}()
	time.Sleep(3 * time.Second)

	// Expire everything in "old" with one pass.
	c := newCompactor(Config{Node: node, Store: st, Policy: &Policy{Default: time.Hour, Rules: []Rule{{"old", time.Nanosecond}}}})
	expStart := time.Now()
	if err := c.Pass(context.Background(), time.Now()); err != nil {
		b.Fatal(err)
	}
	expCommitted := time.Since(expStart)
	for {
		sst, _ := dirSize(st.Dir())
		if sst < sstBefore/20 || time.Since(expStart) > 5*time.Minute {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	reclaimed := time.Since(expStart)
	expEnd := time.Now()
	time.Sleep(time.Second)
	close(stop)
	<-pubDone
	sstAfter, allAfter := dirSize(st.Dir())

	p99 := func(from, to time.Time) (float64, int) {
		var ls []time.Duration
		for _, s := range samples {
			if !s.at.Before(from) && s.at.Before(to) {
				ls = append(ls, s.lat)
			}
		}
		if len(ls) == 0 {
			return 0, 0
		}
		sort.Slice(ls, func(i, j int) bool { return ls[i] < ls[j] })
		return float64(ls[len(ls)*99/100].Microseconds()) / 1000, len(ls)
	}
	before, nb := p99(expStart.Add(-3*time.Second), expStart)
	during, nd := p99(expStart, expEnd)
	if ch, _ := st.Channel("old"); ch.MessageCount != 0 {
		b.Fatalf("old still holds %d messages", ch.MessageCount)
	}
	b.ReportMetric(seedRate, "seed-msgs/s")
	b.ReportMetric(float64(sstBefore)/float64(n), "sst-bytes/msg")
	b.ReportMetric(float64(allBefore)/float64(n), "dir-bytes/msg")
	b.ReportMetric(expCommitted.Seconds(), "expire-commit-s")
	b.ReportMetric(reclaimed.Seconds(), "reclaimed-s")
	b.ReportMetric(before, "p99-ms-before")
	b.ReportMetric(during, "p99-ms-during")
	b.Logf("%d messages of 1 KiB: sstables %d bytes (%.0f/msg), directory %d bytes; expiry committed in %s, space back in %s (sstables %d, directory %d bytes after); publish p99 %.2f ms before (%d samples), %.2f ms during (%d samples)",
		n, sstBefore, float64(sstBefore)/float64(n), allBefore, expCommitted.Round(time.Millisecond), reclaimed.Round(time.Millisecond), sstAfter, allAfter, before, nb, during, nd)
}
