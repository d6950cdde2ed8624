package client

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestStaleReads_AsksForStale: with Config.StaleReads, History and Since
// send stale=true; without it they do not. The fake node only records the
// query; what the server does with stale=true is tested against the real
// server (TestClient_SinceHasMoreAndStaleReads).
func TestStaleReads_AsksForStale(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, stale := range []bool{false, true} {
		f := newFakeNode(t, http.StatusOK, "")
		c := newFakeClient(t, f)
		c.cfg.StaleReads = stale
		if _, err := c.History(ctx, "c", HistoryOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Since(ctx, "c", "", 10); err != nil {
			t.Fatal(err)
		}
		want := []string{"", ""}
		if stale {
			want = []string{"true", "true"}
		}
		f.mu.Lock()
		got := slices.Clone(f.stale)
		f.mu.Unlock()
		if !slices.Equal(got, want) {
			t.Errorf("StaleReads %v: History and Since sent stale=%q; want %q", stale, got, want)
		}
	}
}
