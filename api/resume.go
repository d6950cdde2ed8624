package api

import (
	"context"

	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/raftnode"
)

// resumePoint reads a subscriber's resume ID (WebSocket lastMessageId, SSE
// Last-Event-ID). An empty ID, and one that no node of this cluster has
// issued, give resume=false: the subscription starts live, and a WebSocket
// answers recovered:false. An ID not in this server's format (one an app
// kept from the hosted service, say) is such an ID.
//
// An ID in this server's format past everything this node has applied is
// either one this node has not caught up with yet (the client last read
// from a node further ahead) or one never issued (another deployment, a
// wiped cluster). Starting such a subscription live would deliver again
// every message between this node's head and the ID, which the client
// already has; so the node first catches up with the leader (a
// linearizable read barrier). An ID still ahead after that was never
// issued. When the barrier fails (no leader reachable), the ID stays the
// cursor: nothing is delivered twice, and messages after it arrive once
// this node has them.
func (s *Server) resumePoint(id string) (after uint64, resume bool) {
	if id == "" {
		return 0, false
	}
	pos, err := log.ParseID(id)
	if err != nil {
		return 0, false
	}
	if log.IndexOf(pos) <= s.store.Applied() {
		return pos, true
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.PublishTimeout)
	defer cancel()
	if err := s.node.ReadBarrier(ctx, raftnode.Linearizable); err != nil {
		return pos, true
	}
	if log.IndexOf(pos) > s.store.Applied() {
		return 0, false
	}
	return pos, true
}
