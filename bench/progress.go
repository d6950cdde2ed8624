package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// TimelinePoint is one second of a scenario's measured phase.
type TimelinePoint struct {
	// Second is the end of the interval, in seconds since the phase began.
	Second float64 `json:"t"`
	// Published is acknowledged publishes per second in the interval;
	// Delivered is messages received per second.
	Published float64 `json:"publishedPerSec"`
	Delivered float64 `json:"deliveredPerSec"`
}

// progress prints one status line (rewritten in place on a terminal,
// every few seconds otherwise) and records a per-second timeline.
type progress struct {
	out      io.Writer
	terminal bool
}

func newProgress(out *os.File, quiet bool) *progress {
	if quiet {
		return &progress{out: io.Discard}
	}
	st, err := out.Stat()
	return &progress{out: out, terminal: err == nil && st.Mode()&os.ModeCharDevice != 0}
}

// logf prints a line that stays.
func (p *progress) logf(format string, args ...any) {
	if p.terminal {
		fmt.Fprint(p.out, "\r\033[K")
	}
	fmt.Fprintf(p.out, format+"\n", args...)
}

// sampler runs while a scenario's measured phase runs.
type sampler struct {
	p     *progress
	name  string
	c     *counters
	start time.Time
	stop  chan struct{}
	done  chan struct{}

	mu       sync.Mutex
	timeline []TimelinePoint // guarded by mu
}

// startSampler starts sampling c every second and printing progress.
func (p *progress) startSampler(name string, c *counters) *sampler {
	s := &sampler{p: p, name: name, c: c, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *sampler) run() {
	defer close(s.done)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var lastPub, lastDel int64
	lastAt := s.start
	nextSecond := s.start.Add(time.Second)
	nextPrint := s.start
	for {
		select {
		case <-s.stop:
			return
		case now := <-tick.C:
			pub, del, fail := s.c.published.Load(), s.c.delivered.Load(), s.c.failed.Load()
			if !now.Before(nextSecond) {
				dt := now.Sub(lastAt).Seconds()
				s.mu.Lock()
				s.timeline = append(s.timeline, TimelinePoint{
					Second:    now.Sub(s.start).Seconds(),
					Published: float64(pub-lastPub) / dt,
					Delivered: float64(del-lastDel) / dt,
				})
				s.mu.Unlock()
				lastPub, lastDel, lastAt = pub, del, now
				nextSecond = nextSecond.Add(time.Second)
			}
			line := fmt.Sprintf("%-28s %6.1fs  published %9d  deliveries %10d  failed %d", s.name, now.Sub(s.start).Seconds(), pub, del, fail)
			if s.p.terminal {
				fmt.Fprint(s.p.out, "\r\033[K"+line)
			} else if !now.Before(nextPrint) {
				fmt.Fprintln(s.p.out, line)
				nextPrint = now.Add(5 * time.Second)
			}
		}
	}
}

// finish stops the sampler and returns the timeline.
func (s *sampler) finish() []TimelinePoint {
	close(s.stop)
	<-s.done
	if s.p.terminal {
		fmt.Fprint(s.p.out, "\r\033[K")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.timeline
}
