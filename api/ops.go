package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pushflo/pushflo/raftnode"
	"github.com/valyala/fasthttp"
)

// handleHealth: GET /health, 200 while the process serves, with the
// build's version and commit.
func (s *Server) handleHealth(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version, "commit": s.cfg.Commit})
}

// handleReady: GET /ready, 200 only while the node knows a leader and has
// applied what the leader had committed.
func (s *Server) handleReady(ctx *fasthttp.RequestCtx) {
	rctx, cancel := context.WithTimeout(s.ctx, 3*time.Second)
	defer cancel()
	if err := s.node.Ready(rctx); err != nil {
		// The reason is ours, never the error's text.
		reason := "not caught up with the leader yet"
		switch {
		case errors.Is(err, raftnode.ErrNoLeader):
			reason = "no leader is known"
		case errors.Is(err, raftnode.ErrClosed):
			reason = "shutting down"
		case errors.Is(err, raftnode.ErrDiskFailed):
			reason = "stopped after a disk error; see the server log"
		}
		s.logger.Debug("not ready", "err", err)
		writeJSON(ctx, fasthttp.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
		return
	}
	leader, _ := s.node.Leader()
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"status": "ready", "leader": leader, "applied": s.store.Applied()})
}

// handleClusterStatus: GET /api/v1/cluster [ext], members, leader, applied
// index and lag of each.
func (s *Server) handleClusterStatus(ctx *fasthttp.RequestCtx) {
	if _, err := s.requireRole(ctx, RoleSecret); err != nil {
		s.writeError(ctx, err)
		return
	}
	sctx, cancel := context.WithTimeout(s.ctx, 3*time.Second)
	defer cancel()
	members, err := s.node.Status(sctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	leader, _ := s.node.Leader()
	writeOK(ctx, fasthttp.StatusOK, map[string]any{"leader": leader, "members": members})
}

type memberRequest struct {
	NodeID   string `json:"nodeId"`
	RaftAddr string `json:"raftAddr"`
	NonVoter bool   `json:"nonvoter"`
}

// memberReply answers a join: the member and its role after the change.
type memberReply struct {
	memberRequest
	Role string `json:"role"`
}

// Limits on a member's name and Raft address.
const (
	maxNodeIDLen   = 64
	maxRaftAddrLen = 255
)

// validNodeID reports whether id is 1-64 characters of a-z A-Z 0-9 . _ -.
func validNodeID(id string) bool {
	if id == "" || len(id) > maxNodeIDLen {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validate reports every problem with a join request, in our words.
func (r *memberRequest) validate() *apiError {
	var probs []string
	if !validNodeID(r.NodeID) {
		probs = append(probs, fmt.Sprintf("nodeId must be 1-%d characters of a-z A-Z 0-9 . _ - (got %d bytes)", maxNodeIDLen, len(r.NodeID)))
	}
	if host, port, err := net.SplitHostPort(r.RaftAddr); err != nil || host == "" || port == "" || len(r.RaftAddr) > maxRaftAddrLen || !utf8.ValidString(r.RaftAddr) {
		probs = append(probs, fmt.Sprintf("raftAddr must be host:port, at most %d bytes (got %d bytes)", maxRaftAddrLen, len(r.RaftAddr)))
	}
	if len(probs) == 0 {
		return nil
	}
	return errorf(CodeValidation, "%s; send {\"nodeId\":\"n4\",\"raftAddr\":\"host:port\",\"nonvoter\":false}", strings.Join(probs, "; "))
}

// handleJoin: POST /api/v1/cluster/members [ext], adds a member. A new
// member joins as a learner (promoted to voter by the leader once caught
// up), or with nonvoter as a non-voter for good; a non-voter sent again
// without nonvoter is promoted now if caught up.
func (s *Server) handleJoin(ctx *fasthttp.RequestCtx) {
	if _, err := s.requireRole(ctx, RoleMgmt); err != nil {
		s.writeError(ctx, err)
		return
	}
	var req memberRequest
	if err := json.Unmarshal(ctx.PostBody(), &req); err != nil {
		s.writeError(ctx, errorf(CodeValidation, "the body is not a JSON object; send {\"nodeId\":\"n4\",\"raftAddr\":\"host:port\",\"nonvoter\":false}"))
		return
	}
	if ae := req.validate(); ae != nil {
		s.writeError(ctx, ae)
		return
	}
	mctx, cancel := context.WithTimeout(s.ctx, 15*time.Second)
	defer cancel()
	role, err := s.node.AddMember(mctx, req.NodeID, req.RaftAddr, req.NonVoter)
	if err != nil {
		s.writeError(ctx, s.memberError("add", err))
		return
	}
	writeOK(ctx, fasthttp.StatusOK, memberReply{memberRequest: req, Role: role})
}

// handleRemove: DELETE /api/v1/cluster/members/{id} [ext].
func (s *Server) handleRemove(ctx *fasthttp.RequestCtx, id string) {
	if _, err := s.requireRole(ctx, RoleMgmt); err != nil {
		s.writeError(ctx, err)
		return
	}
	mctx, cancel := context.WithTimeout(s.ctx, 15*time.Second)
	defer cancel()
	if err := s.node.RemoveMember(mctx, id); err != nil {
		s.writeError(ctx, s.memberError("remove", err))
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// memberError maps a failed membership change to the wire without its
// text: a node that is not the leader or knows none did not apply it;
// anything else (leadership lost mid-change, a timeout) may have, so the
// operator is told to look before retrying, and the detail is logged.
func (s *Server) memberError(op string, err error) *apiError {
	var refused *raftnode.MembershipError
	switch {
	case errors.As(err, &refused) && errors.Is(err, raftnode.ErrNoQuorum):
		return errorf(CodeNoQuorum, "%s; nothing was changed", refused.Reason)
	case errors.As(err, &refused) && errors.Is(err, raftnode.ErrNotCaughtUp):
		return errorf(CodeNotCaughtUp, "%s; nothing was changed", refused.Reason)
	case errors.As(err, &refused) && errors.Is(err, raftnode.ErrMemberConflict):
		return errorf(CodeConflict, "%s; nothing was changed", refused.Reason)
	case errors.Is(err, raftnode.ErrNotLeaderForAdmin):
		return &apiError{Code: CodeUnavailable, Message: "this node is not the leader; the change was not applied: send it to the leader (GET /api/v1/cluster names it)", RetryAfter: 1}
	case errors.Is(err, raftnode.ErrNoLeader), errors.Is(err, raftnode.ErrClosed), errors.Is(err, raftnode.ErrUnknownOutcome):
		return s.toAPIError(err)
	}
	s.logger.Warn("membership change failed", "op", op, "err", err)
	return &apiError{Code: CodeOutcomeUnknown, Message: "the membership change failed and may or may not have been applied; check GET /api/v1/cluster before retrying (the server log has the detail)", RetryAfter: 1}
}
