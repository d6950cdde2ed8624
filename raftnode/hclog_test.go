package raftnode

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/pushflo/pushflo/internal/testwait"
)

// attrCheck is a slog handler that records every log line on which some
// attribute key appears more than once, counting the attributes added with
// With.
type attrCheck struct {
	attrs []slog.Attr
	mu    *sync.Mutex
	bad   *[]string // lines with a repeated key; guarded by mu
	lines *int      // guarded by mu
}

func (h attrCheck) Enabled(context.Context, slog.Level) bool { return true }
func (h attrCheck) WithGroup(string) slog.Handler            { return h }
func (h attrCheck) WithAttrs(as []slog.Attr) slog.Handler {
	h.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return h
}

func (h attrCheck) Handle(_ context.Context, r slog.Record) error {
	seen := map[string]int{}
	for _, a := range h.attrs {
		seen[a.Key]++
	}
	r.Attrs(func(a slog.Attr) bool { seen[a.Key]++; return true })
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.lines++
	for k, n := range seen {
		if n > 1 {
			*h.bad = append(*h.bad, r.Message+": "+k+" repeated")
		}
	}
	return nil
}

// TestNode_LogsEachAttributeOnce starts a node whose logger already
// carries node=n1 (as the binary's does) and checks that no line, raft's
// own included, repeats an attribute (the old code logged
// "node=n1 component=raftnode node=n1 component=raft").
func TestNode_LogsEachAttributeOnce(t *testing.T) {
	var bad []string
	var lines int
	h := attrCheck{mu: &sync.Mutex{}, bad: &bad, lines: &lines}
	n := startNode(t, "n1", t.TempDir(), func(c *Config) { c.Logger = slog.New(h).With("node", "n1") })
	testwait.For(t, "leadership", n.IsLeader)
	if _, err := n.Publish(context.Background(), entry("c", 1)); err != nil {
		t.Fatal(err)
	}
	n.stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	if lines == 0 {
		t.Fatal("the node logged nothing")
	}
	for _, b := range bad {
		t.Error(b)
	}
}
