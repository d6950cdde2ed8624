package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/raftnode"
	"github.com/valyala/fasthttp"
)

// channelJSON is a channel as the channels API shows it.
type channelJSON struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Slug         string          `json:"slug"`
	Description  string          `json:"description"`
	IsPrivate    bool            `json:"isPrivate"`
	Metadata     json.RawMessage `json:"metadata"`
	MessageCount int64           `json:"messageCount"`
	CreatedAt    string          `json:"createdAt"`
	UpdatedAt    string          `json:"updatedAt"`
	// [ext] retention settings.
	RetentionSeconds int64 `json:"retentionSeconds"`
	MaxMessages      int64 `json:"maxMessages,omitempty"`
	MaxBytes         int64 `json:"maxBytes,omitempty"`
}

func (s *Server) toChannelJSON(c *log.Channel) channelJSON {
	md := c.Metadata
	if len(md) == 0 {
		md = json.RawMessage("null")
	}
	return channelJSON{
		ID: c.ID(), Name: c.Name, Slug: c.Slug, Description: c.Description, IsPrivate: c.IsPrivate,
		Metadata: md, MessageCount: c.MessageCount, CreatedAt: isoTime(c.CreatedAt), UpdatedAt: isoTime(c.UpdatedAt),
		RetentionSeconds: int64(s.hub.Retention(c) / time.Second), MaxMessages: c.MaxMessages, MaxBytes: c.MaxBytes,
	}
}

type channelRequest struct {
	Name             *string          `json:"name"`
	Slug             *string          `json:"slug"`
	Description      *string          `json:"description"`
	IsPrivate        *bool            `json:"isPrivate"`
	Metadata         *json.RawMessage `json:"metadata"`
	RetentionSeconds *int64           `json:"retentionSeconds"`
	MaxMessages      *int64           `json:"maxMessages"`
	MaxBytes         *int64           `json:"maxBytes"`
}

func parseChannelRequest(body []byte) (channelRequest, log.Settings, *apiError) {
	var req channelRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return req, log.Settings{}, errorf(CodeValidation, "request body is not valid JSON: %v", err)
	}
	var problems []*apiError
	set := log.Settings{Name: req.Name, Description: req.Description, IsPrivate: req.IsPrivate, Metadata: req.Metadata, MaxMessages: req.MaxMessages, MaxBytes: req.MaxBytes}
	if req.Name != nil && (len(*req.Name) == 0 || len(*req.Name) > 256) {
		problems = append(problems, errorf(CodeValidation, "name is %d characters; 1-256 are allowed", len(*req.Name)))
	}
	if req.Description != nil && len(*req.Description) > 4096 {
		problems = append(problems, errorf(CodeValidation, "description is %d characters; at most 4096 are allowed", len(*req.Description)))
	}
	if req.Metadata != nil && len(*req.Metadata) > 16<<10 {
		problems = append(problems, errorf(CodePayloadTooLarge, "metadata is %d bytes; at most %d are allowed", len(*req.Metadata), 16<<10))
	}
	if r := req.RetentionSeconds; r != nil {
		if *r < 0 || *r > 365*24*3600 {
			problems = append(problems, errorf(CodeValidation, "retentionSeconds is %d; it must be from 0 (the server default) to %d", *r, 365*24*3600))
		}
		d := time.Duration(*r) * time.Second
		set.Retention = &d
	}
	for name, v := range map[string]*int64{"maxMessages": req.MaxMessages, "maxBytes": req.MaxBytes} {
		if v != nil && *v < 0 {
			problems = append(problems, errorf(CodeValidation, "%s is %d; it must be 0 (no cap) or more", name, *v))
		}
	}
	return req, set, joinProblems(problems)
}

// channelCommand applies a channel command through Raft, within
// PublishTimeout, and answers the request: the channel with status, no
// body for StatusNoContent, or the error.
func (s *Server) channelCommand(ctx *fasthttp.RequestCtx, op raftnode.ChannelOp, slug string, set log.Settings, status int) {
	cctx, cancel := context.WithTimeout(s.ctx, s.cfg.PublishTimeout)
	defer cancel()
	c, err := s.node.ChannelCommand(cctx, op, slug, set)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if status == fasthttp.StatusNoContent {
		ctx.SetStatusCode(status)
		return
	}
	writeOK(ctx, status, s.toChannelJSON(&c))
}

// handleListChannels: GET /api/v1/channels.
func (s *Server) handleListChannels(ctx *fasthttp.RequestCtx) {
	if _, err := s.requireRole(ctx, RoleSecret); err != nil {
		s.writeError(ctx, err)
		return
	}
	var problems []*apiError
	page := intArg(ctx.QueryArgs(), "page", 1, 1, 1<<30, &problems)
	size := intArg(ctx.QueryArgs(), "pageSize", 25, 1, 100, &problems)
	if bad := joinProblems(problems); bad != nil {
		s.writeError(ctx, bad)
		return
	}
	if !s.consistentRead(ctx) {
		return
	}
	all := s.store.Channels()
	items := []channelJSON{}
	for i := (page - 1) * size; i < len(all) && i < page*size; i++ {
		items = append(items, s.toChannelJSON(&all[i]))
	}
	writeJSON(ctx, fasthttp.StatusOK, struct {
		Success    bool          `json:"success"`
		Data       []channelJSON `json:"data"`
		Pagination pagination    `json:"pagination"`
	}{true, items, newPagination(page, size, len(all))})
}

// handleCreateChannel: POST /api/v1/channels.
func (s *Server) handleCreateChannel(ctx *fasthttp.RequestCtx) {
	if _, err := s.requireRole(ctx, RoleSecret); err != nil {
		s.writeError(ctx, err)
		return
	}
	req, set, bad := parseChannelRequest(ctx.PostBody())
	if bad != nil {
		s.writeError(ctx, bad)
		return
	}
	slug := ""
	if req.Slug != nil {
		slug = *req.Slug
	} else if req.Name != nil {
		slug = *req.Name
	}
	if p := validChannel(slug); p != nil {
		p.Message = "slug: " + p.Message
		s.writeError(ctx, p)
		return
	}
	s.channelCommand(ctx, raftnode.OpCreate, slug, set, fasthttp.StatusCreated)
}

// channelRequest authorises a request on one channel (a secret or mgmt
// key) and checks its name; it answers the request itself and returns
// false when either fails.
func (s *Server) channelRequest(ctx *fasthttp.RequestCtx, slug string) bool {
	if _, err := s.requireRole(ctx, RoleSecret); err != nil {
		s.writeError(ctx, err)
		return false
	}
	if p := validChannel(slug); p != nil {
		s.writeError(ctx, p)
		return false
	}
	return true
}

// handleGetChannel: GET /api/v1/channels/{slug}.
func (s *Server) handleGetChannel(ctx *fasthttp.RequestCtx, slug string) {
	if !s.channelRequest(ctx, slug) {
		return
	}
	if !s.consistentRead(ctx) {
		return
	}
	c, ok := s.store.Channel(slug)
	if !ok || !c.Listed() {
		s.writeError(ctx, errorf(CodeNotFound, "channel %q not found", slug))
		return
	}
	writeOK(ctx, fasthttp.StatusOK, s.toChannelJSON(&c))
}

// handleUpdateChannel: PATCH /api/v1/channels/{slug}.
func (s *Server) handleUpdateChannel(ctx *fasthttp.RequestCtx, slug string) {
	if !s.channelRequest(ctx, slug) {
		return
	}
	req, set, bad := parseChannelRequest(ctx.PostBody())
	if bad == nil && req.Slug != nil && *req.Slug != slug {
		bad = errorf(CodeValidation, "slug cannot be changed; create a new channel instead")
	}
	if bad != nil {
		s.writeError(ctx, bad)
		return
	}
	s.channelCommand(ctx, raftnode.OpUpdate, slug, set, fasthttp.StatusOK)
}

// handleDeleteChannel: DELETE /api/v1/channels/{slug}.
func (s *Server) handleDeleteChannel(ctx *fasthttp.RequestCtx, slug string) {
	if !s.channelRequest(ctx, slug) {
		return
	}
	s.channelCommand(ctx, raftnode.OpDelete, slug, log.Settings{}, fasthttp.StatusNoContent)
}
