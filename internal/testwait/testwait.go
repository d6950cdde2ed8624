// Package testwait is the tests' deadline-bounded poll: wait for a
// condition instead of sleeping, and fail naming what did not happen.
// Tests of the server packages use it wherever they wait for something
// that happens on another goroutine (a leader elected, a frame queued).
package testwait

import (
	"testing"
	"time"
)

// Within is how long For polls: long, because a loaded machine is slow,
// never wrong.
const Within = 30 * time.Second

// For polls cond every few milliseconds until it holds, and fails the test
// naming what when it has not held within Within.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, Within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
