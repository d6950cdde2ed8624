package raftnode

import (
	"bytes"
	"context"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger adapts hashicorp/raft's logger to slog: each line raft writes
// becomes one slog record at the level hclog printed, with component=raft
// added to the caller's logger (not to raftnode's, which has its own
// component).
func newHCLogger(l *slog.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:            "raft",
		Level:           hclog.Info,
		Output:          &slogWriter{l: l.With("component", "raft")},
		DisableTime:     true,
		IncludeLocation: false,
	})
}

type slogWriter struct{ l *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	line := string(bytes.TrimSpace(p))
	level := slog.LevelInfo
	switch {
	case strings.HasPrefix(line, "[ERROR]"):
		level = slog.LevelError
	case strings.HasPrefix(line, "[WARN]"):
		level = slog.LevelWarn
	case strings.HasPrefix(line, "[DEBUG]"), strings.HasPrefix(line, "[TRACE]"):
		level = slog.LevelDebug
	}
	if i := strings.Index(line, "] "); i >= 0 && i < 8 {
		line = line[i+2:]
	}
	line = strings.TrimPrefix(strings.TrimSpace(line), "raft: ")
	if level > slog.LevelDebug && strings.Contains(line, ErrUnauthenticated.Error()) {
		// Raft retries a peer that refuses this node's credentials, and
		// logs each try; the stream layer has said why, once (rejectlog.go).
		level = slog.LevelDebug
	}
	w.l.Log(context.Background(), level, line)
	return len(p), nil
}
