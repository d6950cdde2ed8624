package stream

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestSubscription_ReplayThenLiveNoGapNoDuplicate resumes subscribers at
// random cursors while messages are being published, and checks each one
// receives exactly the channel's messages after its cursor, in order:
// nothing lost in the handoff from replaying the log to live delivery,
// nothing twice. Large messages make the replay slower than the
// publisher, so live messages overflow the subscription's pending budget
// and are read from the log instead.
func TestSubscription_ReplayThenLiveNoGapNoDuplicate(t *testing.T) {
	for _, tc := range []struct {
		name               string
		size, before, live int
		queueBytes, subs   int
	}{
		{name: "small messages", size: 64, before: 400, live: 600, subs: 24},
		// 16 KiB messages count 33 KiB each: the 1 MiB a replaying
		// subscription buffers holds 31, fewer than the publisher
		// applies while a replay reads; the 4 MiB queue budget keeps
		// a subscriber that lags on a loaded machine from being cut
		// off as slow.
		{name: "large messages past the pending budget", size: 16 << 10, before: 200, live: 200, queueBytes: 4 << 20, subs: 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{QueueBytes: tc.queueBytes})
			all := f.publish("c", tc.before, tc.size)
			f.publish("other", 10, tc.size)

			var mu sync.Mutex // guards all while the publisher appends
			pubDone := make(chan struct{})
			go func() {
				defer close(pubDone)
				for range tc.live {
					p := f.publish("c", 1, tc.size)
					f.publish("other", 1, 32)
					mu.Lock()
					all = append(all, p...)
					mu.Unlock()
				}
			}()

			type resumer struct {
				s     *sink
				after uint64
			}
			var rs []resumer
			rng := rand.New(rand.NewPCG(1, 2))
			for i := 0; i < tc.subs; i++ {
				mu.Lock()
				var after uint64 // 0: from the start
				if i > 0 {
					after = all[rng.IntN(len(all))]
				}
				mu.Unlock()
				s := f.open(true)
				if err := s.c.Subscribe("c", []string{"c"}, after, true, nil); err != nil {
					t.Fatal(err)
				}
				rs = append(rs, resumer{s, after})
				time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
			}
			// One subscription over two channels, as SSE makes: both
			// merged in position order.
			both := f.open(true)
			if err := both.c.Subscribe("", []string{"c", "other"}, 0, true, nil); err != nil {
				t.Fatal(err)
			}
			<-pubDone
			last := all[len(all)-1]
			for i, r := range rs {
				var want []uint64
				for _, p := range all {
					if p > r.after {
						want = append(want, p)
					}
				}
				deadline := time.Now().Add(30 * time.Second)
				for time.Now().Before(deadline) {
					got := r.s.got()
					if len(got) > 0 && got[len(got)-1] == last || len(got) > len(want) {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				if got := r.s.got(); !equal(got, want) {
					t.Fatalf("resumer %d (after %d of %d): %s", i, len(all)-len(want), len(all), firstDiff(got, want))
				}
				if r.s.closeReason() != nil {
					t.Fatalf("resumer %d was closed: %+v", i, r.s.closeReason())
				}
			}
			deadline := time.Now().Add(30 * time.Second)
			for len(both.got()) < len(all)+10+tc.live && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			got := both.got()
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] {
					t.Fatalf("two-channel subscription out of order or repeated at %d", i)
				}
			}
			if len(got) != len(all)+10+tc.live {
				t.Fatalf("two-channel subscription got %d messages, want %d", len(got), len(all)+10+tc.live)
			}
		})
	}
}
