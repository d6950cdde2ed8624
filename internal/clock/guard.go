package clock

import (
	"sync"
	"time"
)

// Guard keeps a wall-clock jump forward from reaching what a node decides
// with its clock (what has expired, for the leader's compaction and for
// every node's reads): the time it gives may run ahead of the monotonic
// clock, since the last reading it accepted, by at most Tolerance. A
// reading within that bound is accepted and becomes the new reference, so
// ordinary progress, slewing and jumps back pass through; a reading past
// it is held at the bound, which advances with real time and no faster,
// until the wall clock comes back within it. A clock that stays ahead is
// held for as long as the reference lasts (the process, or a leadership
// for compaction, which Resets it): the guard errs toward keeping
// messages.
//
// What it cannot catch: a clock that is already wrong when the first
// reading is taken (a node started, or a leader elected, with its clock
// ahead); that would need a reference from the replicated state.
//
// It is safe for concurrent use.
type Guard struct {
	// Tolerance is how far ahead of elapsed time a reading may be and
	// still be accepted.
	Tolerance time.Duration

	mu sync.Mutex
	// refWall is the last accepted reading (no monotonic part); refMono
	// is when it was taken, on the monotonic clock; zero before the first.
	refWall, refMono time.Time
}

// Now returns the guarded time of Now and the monotonic clock, and whether
// it was held back. One reading serves as both: its monotonic part is the
// monotonic clock, and with the offset added (At drops the monotonic part)
// it is Now.
func (g *Guard) Now() (time.Time, bool) {
	mono := time.Now()
	return g.At(mono.Add(Offset()), mono)
}

// At returns the guarded time given a wall-clock reading (offset applied)
// and a monotonic one taken at the same moment, and whether it held the
// wall clock back.
func (g *Guard) At(wall, mono time.Time) (time.Time, bool) {
	wall = wall.Round(0)
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.refMono.IsZero() {
		elapsed := max(mono.Sub(g.refMono), 0)
		if limit := g.refWall.Add(elapsed + g.Tolerance); wall.After(limit) {
			return limit, true
		}
	}
	g.refWall, g.refMono = wall, mono
	return wall, false
}

// Reset forgets the reference: the next reading is accepted as it is.
func (g *Guard) Reset() {
	g.mu.Lock()
	g.refWall, g.refMono = time.Time{}, time.Time{}
	g.mu.Unlock()
}
