// Package testwait is the tests' deadline-bounded poll: wait for a
// condition instead of sleeping, and fail naming what did not happen.
// Tests of the server packages use it wherever they wait for something
// that happens on another goroutine or process (a leader elected, a frame
// queued, a container healthy).
package testwait

import (
	"testing"
	"time"
)

// DefaultWithin is how long For polls: long, because a loaded machine is
// slow, never wrong.
const DefaultWithin = 30 * time.Second

// maxPause caps the pause between two polls.
const maxPause = 50 * time.Millisecond

// For polls cond until it holds, and fails the test naming what when it has
// not held within DefaultWithin.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, what, DefaultWithin, cond)
}

// Within polls cond until it holds, and fails the test naming what when it
// has not held within d. The pause between polls starts at a millisecond
// and doubles up to 50 ms, so a quick condition is seen at once and a slow
// one (a process starting) is not polled in a busy loop.
func Within(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(pause)
		pause = min(2*pause, maxPause)
	}
}
