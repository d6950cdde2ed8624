package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/valyala/fasthttp"
)

// handleHealth: GET /health, 200 while the process serves.
func (s *Server) handleHealth(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, fasthttp.StatusOK, map[string]string{"status": "ok"})
}

// handleReady: GET /ready, 200 only while the node knows a leader and has
// applied what the leader had committed.
func (s *Server) handleReady(ctx *fasthttp.RequestCtx) {
	rctx, cancel := context.WithTimeout(s.ctx, 3*time.Second)
	defer cancel()
	if err := s.node.Ready(rctx); err != nil {
		writeJSON(ctx, fasthttp.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
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

// handleJoin: POST /api/v1/cluster/members [ext], adds a member.
func (s *Server) handleJoin(ctx *fasthttp.RequestCtx) {
	if _, err := s.requireRole(ctx, RoleMgmt); err != nil {
		s.writeError(ctx, err)
		return
	}
	var req memberRequest
	if err := json.Unmarshal(ctx.PostBody(), &req); err != nil || req.NodeID == "" || req.RaftAddr == "" {
		s.writeError(ctx, errorf(CodeValidation, "send {\"nodeId\":\"n4\",\"raftAddr\":\"host:port\",\"nonvoter\":false}"))
		return
	}
	mctx, cancel := context.WithTimeout(s.ctx, 15*time.Second)
	defer cancel()
	if err := s.node.AddMember(mctx, req.NodeID, req.RaftAddr, req.NonVoter); err != nil {
		s.writeError(ctx, errorf(CodeUnavailable, "add member: %v", err))
		return
	}
	writeOK(ctx, fasthttp.StatusOK, req)
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
		s.writeError(ctx, errorf(CodeUnavailable, "remove member: %v", err))
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}
