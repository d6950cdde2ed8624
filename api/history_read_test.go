package api

import (
	"context"
	"testing"

	"github.com/pushflo/pushflo/raftnode"
)

// cutOffLeader is a leader that has lost its followers but not yet noticed:
// it still says it leads, and raftnode cannot confirm a read index.
type cutOffLeader struct{ *raftnode.Node }

func (cutOffLeader) IsLeader() bool { return true }

func (c cutOffLeader) ReadBarrier(ctx context.Context, level raftnode.ReadLevel) error {
	if level == raftnode.Stale {
		return c.Node.ReadBarrier(ctx, level)
	}
	return raftnode.ErrNoLeader
}

// TestHistory_LeaderConfirmsBeforeReading: history on a node that believes
// it leads but cannot confirm it must answer 503, not its own view; with
// stale=true it answers from its store. (raftnode's
// TestNode_ReadBarrier_CutOffLeader cuts a real leader off.)
func TestHistory_LeaderConfirmsBeforeReading(t *testing.T) {
	ts := startServerWrapped(t, nil, func(n *raftnode.Node) Node { return cutOffLeader{n} })
	ts.publish("orders", `{"n":1}`)
	for _, path := range []string{"/api/v1/channels/orders/messages?page=1", "/api/v1/channels/orders/messages?since=0"} {
		r := ts.do("GET", path, testKeys.Secret, nil)
		if r.status != 503 || r.header.Get("Retry-After") == "" {
			t.Errorf("GET %s on a leader that cannot confirm it leads: %d %s; want 503 with Retry-After", path, r.status, r.body)
		}
		r = ts.do("GET", path+"&stale=true", testKeys.Secret, nil)
		if r.status != 200 {
			t.Errorf("GET %s with stale=true: %d %s; want 200", path, r.status, r.body)
		}
	}
}
