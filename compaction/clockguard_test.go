package compaction

import (
	"testing"
	"time"
)

func TestClockGuard_HoldsBackAJumpForward(t *testing.T) {
	g := clockGuard{tolerance: 5 * time.Second}
	mono := time.Now()
	wall := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if got, held := g.now(wall, mono); !got.Equal(wall) || held {
		t.Fatalf("first pass = %s (held %v), want the wall clock %s", got, held, wall)
	}
	// One second later the wall clock says an hour and one second.
	got, held := g.now(wall.Add(time.Hour+time.Second), mono.Add(time.Second))
	if want := wall.Add(6 * time.Second); !got.Equal(want) || !held {
		t.Fatalf("after a jump = %s (held %v), want %s", got, held, want)
	}
	// Ordinary progress passes through.
	got, held = g.now(got.Add(time.Second), mono.Add(2*time.Second))
	if want := wall.Add(7 * time.Second); !got.Equal(want) || held {
		t.Fatalf("next pass = %s (held %v), want %s", got, held, want)
	}
	// A new leadership starts from the wall clock again.
	g.reset()
	if got, held := g.now(wall.Add(time.Hour), mono.Add(3*time.Second)); !got.Equal(wall.Add(time.Hour)) || held {
		t.Fatalf("after reset = %s (held %v)", got, held)
	}
}
