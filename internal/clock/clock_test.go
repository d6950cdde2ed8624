package clock

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWatchOffsetFile_FollowsTheFile(t *testing.T) {
	t.Cleanup(func() { SetOffset(0) })
	path := filepath.Join(t.TempDir(), "offset")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go WatchOffsetFile(ctx, path, 5*time.Millisecond, slog.New(slog.DiscardHandler))
	waitFor := func(want time.Duration) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for Offset() != want {
			if time.Now().After(deadline) {
				t.Fatalf("offset = %s, want %s", Offset(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := os.WriteFile(path, []byte("1h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(time.Hour)
	if d := Now().Sub(time.Now()); d < 59*time.Minute {
		t.Errorf("Now is %s ahead, want about an hour", d)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitFor(0)
}
