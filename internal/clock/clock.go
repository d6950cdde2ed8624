// Package clock is the server's wall clock: time.Now plus an offset that
// only tests set (serve's --unsafe-clock-offset-file), so that a fault
// harness can make one node's clock jump, which Go programs ignore under
// faketime.
//
// The leader reads it to stamp messages and channel commands and to decide
// what has expired; every node reads it to hide expired messages from
// reads. Nothing else should call time.Now for those purposes. The two
// expiry decisions read it through a Guard, which holds back a jump
// forward.
package clock

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

var offset atomic.Int64

// Now returns the current time, shifted by the test offset (zero in
// production).
func Now() time.Time { return time.Now().Add(time.Duration(offset.Load())) }

// Offset returns the test offset in force.
func Offset() time.Duration { return time.Duration(offset.Load()) }

// SetOffset shifts Now by d. For tests only.
func SetOffset(d time.Duration) { offset.Store(int64(d)) }

// WatchOffsetFile sets the offset from the file at path (a Go duration
// such as "1h" or "-30s"; missing or empty means zero) every interval until
// ctx ends, logging each change. For tests only: it is how a harness makes
// one running node's clock jump.
func WatchOffsetFile(ctx context.Context, path string, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		d := time.Duration(0)
		if b, err := os.ReadFile(path); err == nil {
			if s := strings.TrimSpace(string(b)); s != "" {
				if v, err := time.ParseDuration(s); err == nil {
					d = v
				} else {
					logger.Warn("unsafe clock offset file holds no duration", "path", path)
				}
			}
		}
		if d != Offset() {
			logger.Warn("unsafe clock offset changed", "offset", d.String())
			SetOffset(d)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
