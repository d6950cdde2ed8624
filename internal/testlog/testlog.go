// Package testlog sends log/slog output to a test's own log, so a test's
// logs show only when it fails (or with -v). Tests of the server packages
// pass testlog.New(t, level) wherever a Config takes a Logger.
package testlog

import (
	"bytes"
	"log/slog"
	"testing"
)

// New returns a logger writing records at or above level to t.Log.
func New(t testing.TB, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(writer{t}, &slog.HandlerOptions{Level: level}))
}

type writer struct{ t testing.TB }

func (w writer) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
