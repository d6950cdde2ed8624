package api

import "github.com/pushflo/pushflo/log"

// resumePoint reads a subscriber's resume ID (WebSocket lastMessageId, SSE
// Last-Event-ID). An empty ID, and one this node cannot have issued, give
// resume=false: the subscription starts live, and a WebSocket answers
// recovered:false. An ID not in this server's format (one an app kept from
// the hosted service, say) is such an ID, and so is one past everything
// this node has applied (from another deployment, or a wiped cluster):
// resuming after it would hide every message until the log caught up with
// it. A follower that lags behind an ID the leader issued treats it the
// same way; the messages in between then arrive live, and the client's
// own ID order drops the ones it had.
func (s *Server) resumePoint(id string) (after uint64, resume bool) {
	if id == "" {
		return 0, false
	}
	pos, err := log.ParseID(id)
	if err != nil || log.IndexOf(pos) > s.store.Applied() {
		return 0, false
	}
	return pos, true
}
