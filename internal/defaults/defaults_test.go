package defaults

import (
	"log/slog"
	"testing"
	"time"
)

type config struct {
	Name     string
	Count    int
	Lag      uint64
	Rate     float64
	Wait     time.Duration
	Logger   *slog.Logger
	Optional int // zero in the defaults: never filled
	hidden   int
}

func TestFill(t *testing.T) {
	logger := slog.Default()
	d := config{Name: "n", Count: 3, Lag: 7, Rate: 1.5, Wait: time.Second, Logger: logger, hidden: 9}
	for _, tc := range []struct {
		name string
		in   config
		want config
	}{
		{"zero takes every default", config{}, config{Name: "n", Count: 3, Lag: 7, Rate: 1.5, Wait: time.Second, Logger: logger}},
		{"negative numbers take the default", config{Count: -1, Rate: -2, Wait: -time.Second, Optional: -4},
			config{Name: "n", Count: 3, Lag: 7, Rate: 1.5, Wait: time.Second, Logger: logger, Optional: -4}},
		{"set fields stay", config{Name: "x", Count: 1, Lag: 2, Rate: 0.5, Wait: time.Minute, Optional: 5, hidden: 1},
			config{Name: "x", Count: 1, Lag: 2, Rate: 0.5, Wait: time.Minute, Logger: logger, Optional: 5, hidden: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in
			Fill(&got, d)
			if got != tc.want {
				t.Fatalf("Fill(%+v) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

// TestFill_TrueBoolDefaultPanics: a bool that defaults to true would turn
// every explicit false back into true, so Fill refuses such a default.
func TestFill_TrueBoolDefaultPanics(t *testing.T) {
	type withBool struct{ On bool }
	defer func() {
		if recover() == nil {
			t.Fatal("Fill accepted a bool defaulting to true")
		}
	}()
	var c withBool
	Fill(&c, withBool{On: true})
}
