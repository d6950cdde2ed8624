package clock

import (
	"testing"
	"time"
)

func TestGuard_HoldsBackAJumpForward(t *testing.T) {
	g := Guard{Tolerance: 5 * time.Second}
	mono := time.Now()
	wall := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if got, held := g.At(wall, mono); !got.Equal(wall) || held {
		t.Fatalf("first reading = %s (held %v), want the wall clock %s", got, held, wall)
	}
	// One second later the wall clock says an hour and one second.
	got, held := g.At(wall.Add(time.Hour+time.Second), mono.Add(time.Second))
	if want := wall.Add(6 * time.Second); !got.Equal(want) || !held {
		t.Fatalf("after a jump = %s (held %v), want %s", got, held, want)
	}
	// Ordinary progress passes through and becomes the reference.
	got, held = g.At(wall.Add(2*time.Second), mono.Add(2*time.Second))
	if want := wall.Add(2 * time.Second); !got.Equal(want) || held {
		t.Fatalf("clock back = %s (held %v), want %s", got, held, want)
	}
	// A jump back passes through.
	got, held = g.At(wall.Add(-time.Minute), mono.Add(3*time.Second))
	if want := wall.Add(-time.Minute); !got.Equal(want) || held {
		t.Fatalf("jump back = %s (held %v), want %s", got, held, want)
	}
	// Reset starts from the wall clock again.
	g.Reset()
	if got, held := g.At(wall.Add(time.Hour), mono.Add(4*time.Second)); !got.Equal(wall.Add(time.Hour)) || held {
		t.Fatalf("after reset = %s (held %v)", got, held)
	}
}

// TestGuard_StaysHeldWhileTheClockStaysAhead: a clock that stays an hour
// ahead is held to elapsed time plus the tolerance however often it is
// read. The first guard (compaction's, per leadership) let each held pass
// advance by the tolerance again, so at one pass a second a one-hour jump
// went through after 12 minutes, and reads many times a second would have
// let it through at once.
func TestGuard_StaysHeldWhileTheClockStaysAhead(t *testing.T) {
	g := Guard{Tolerance: 5 * time.Second}
	mono := time.Now()
	wall := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	g.At(wall, mono)
	for i := 1; i <= 2000; i++ { // 2,000 readings 1 s apart: 33 minutes
		el := time.Duration(i) * time.Second
		got, held := g.At(wall.Add(time.Hour+el), mono.Add(el))
		if want := wall.Add(el + 5*time.Second); !got.Equal(want) || !held {
			t.Fatalf("reading %d = %s (held %v), want %s: the jump leaked through", i, got, held, want)
		}
	}
	// Many readings within one millisecond do not add up either.
	base := 2000 * time.Second
	for i := 0; i < 1000; i++ {
		got, _ := g.At(wall.Add(time.Hour+base), mono.Add(base+time.Duration(i)*time.Microsecond))
		if limit := wall.Add(base + time.Millisecond + 5*time.Second); got.After(limit) {
			t.Fatalf("reading %d = %s, past %s", i, got, limit)
		}
	}
}

// TestGuard_NowHoldsBackAnOffsetJump: Now reads the clock with its offset,
// so an offset set after the first reading is held back to the tolerance.
func TestGuard_NowHoldsBackAnOffsetJump(t *testing.T) {
	t.Cleanup(func() { SetOffset(0) })
	g := Guard{Tolerance: 5 * time.Second}
	if _, held := g.Now(); held {
		t.Fatal("the first reading was held back")
	}
	SetOffset(time.Hour)
	got, held := g.Now()
	if !held || got.After(time.Now().Add(time.Minute)) {
		t.Fatalf("with the clock an hour ahead Now = %s (held %v); want it held near %s", got, held, time.Now())
	}
	if got.Before(time.Now().Add(-time.Minute)) {
		t.Fatalf("Now = %s, well behind the real clock %s", got, time.Now())
	}
	SetOffset(0)
	if _, held := g.Now(); held {
		t.Fatal("held back once the offset was gone")
	}
}
