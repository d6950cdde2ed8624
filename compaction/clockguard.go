package compaction

import "time"

// clockGuard keeps a leader's expiry from running ahead of real time when
// its wall clock jumps forward: between two passes of one leadership the
// time expiry is measured at may advance by at most the elapsed monotonic
// time plus tolerance. The first pass of a leadership takes the wall clock
// as it is (a node whose clock is already wrong when it takes office is
// not caught: that needs a reference from the replicated state).
//
// Found by the jepsen clock nemesis: a leader whose clock jumped an hour
// ahead with a 30-minute retention expired every message in the cluster.
type clockGuard struct {
	tolerance time.Duration
	// lastWall is the time the previous pass used (no monotonic reading);
	// lastMono is when it ran, on the monotonic clock; zero when the next
	// pass is the first of a leadership.
	lastWall, lastMono time.Time
}

// now returns the time to measure expiry at, given the wall clock (with
// any offset) and the monotonic clock, and whether it held the wall clock
// back.
func (g *clockGuard) now(wall, mono time.Time) (time.Time, bool) {
	wall = wall.Round(0)
	held := false
	if !g.lastMono.IsZero() {
		limit := g.lastWall.Add(mono.Sub(g.lastMono) + g.tolerance)
		if wall.After(limit) {
			wall, held = limit, true
		}
	}
	g.lastWall, g.lastMono = wall, mono
	return wall, held
}

// reset forgets the reference: the next pass starts a leadership.
func (g *clockGuard) reset() { g.lastWall, g.lastMono = time.Time{}, time.Time{} }
