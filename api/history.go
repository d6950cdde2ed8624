package api

import (
	"context"
	"strconv"

	"github.com/pushflo/pushflo/client"
	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/raftnode"
	"github.com/valyala/fasthttp"
)

// messageJSON is a message as history, since and SSE show it (and the
// nested "message" of a full WebSocket frame). Its wire shape is defined
// once, by the Go client's Message; the server always fills CreatedAt.
type messageJSON = client.Message

func toJSON(m *log.Message) messageJSON {
	return messageJSON{ID: m.ID(), Channel: m.Channel, EventType: m.EventType, ClientID: m.ClientID,
		Content: validUTF8Content(m.Content), Timestamp: m.Time, CreatedAt: isoTime(m.Time)}
}

type pagination struct {
	Page       int `json:"page"`
	PageSize   int `json:"pageSize"`
	Total      int `json:"total"`
	TotalPages int `json:"totalPages"`
}

func newPagination(page, size, total int) pagination {
	return pagination{Page: page, PageSize: size, Total: total, TotalPages: (total + size - 1) / size}
}

type historyResponse struct {
	Items      []messageJSON `json:"items"`
	Pagination pagination    `json:"pagination"`
}

type gapJSON struct {
	Channel string `json:"channel"`
	After   string `json:"after"`
	Before  string `json:"before"`
	Reason  string `json:"reason"`
}

func toGapJSON(g *log.Gap) *gapJSON {
	if g == nil {
		return nil
	}
	before := ""
	if g.Before != 0 {
		before = log.FormatID(g.Before)
	}
	return &gapJSON{Channel: g.Channel, After: log.FormatID(g.After), Before: before, Reason: "retention"}
}

type sinceResponse struct {
	Items    []messageJSON `json:"items"`
	Complete bool          `json:"complete"`
	Gap      *gapJSON      `json:"gap,omitempty"`
	// Next is the ID to pass as since for the following page.
	Next    string `json:"next,omitempty"`
	HasMore bool   `json:"hasMore"`
}

// intArg parses an optional integer query argument within [min, max].
func intArg(args *fasthttp.Args, name string, def, min, max int, problems *[]*apiError) int {
	v := args.Peek(name)
	if len(v) == 0 {
		return def
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < min || n > max {
		*problems = append(*problems, errorf(CodeValidation, "%s is %q; it must be a whole number from %d to %d", name, v, min, max))
		return def
	}
	return n
}

// handleHistory: GET /api/v1/channels/{channel}/messages.
func (s *Server) handleHistory(ctx *fasthttp.RequestCtx, channel string) {
	if _, err := s.requireRole(ctx, RoleSecret); err != nil {
		s.writeError(ctx, err)
		return
	}
	args := ctx.QueryArgs()
	var problems []*apiError
	if p := validChannel(channel); p != nil {
		problems = append(problems, p)
	}
	since := string(args.Peek("since"))
	if args.Has("since") {
		s.handleSince(ctx, channel, since, problems)
		return
	}
	q := log.HistoryQuery{
		Page:      intArg(args, "page", 1, 1, 1<<30, &problems),
		PageSize:  intArg(args, "pageSize", 25, 1, 100, &problems),
		EventType: string(args.Peek("eventType")),
		After:     int64(intArg(args, "after", 0, 0, 1<<62, &problems)),
		Before:    int64(intArg(args, "before", 0, 0, 1<<62, &problems)),
	}
	if bad := joinProblems(problems); bad != nil {
		s.writeError(ctx, bad)
		return
	}
	if !s.consistentRead(ctx) {
		return
	}
	q.Cutoff = s.hub.Cutoff(channel)
	page, err := s.store.History(channel, q)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	s.metrics.historyReads.Inc()
	out := historyResponse{Items: make([]messageJSON, len(page.Items)), Pagination: newPagination(q.Page, q.PageSize, page.Total)}
	for i := range page.Items {
		out.Items[i] = toJSON(&page.Items[i])
	}
	writeOK(ctx, fasthttp.StatusOK, out)
}

// consistentRead makes this node's store hold every write acknowledged
// before the request (raftnode decides how, on the leader too), unless the
// caller asked for a stale read. It answers the request itself when that
// fails.
func (s *Server) consistentRead(ctx *fasthttp.RequestCtx) bool {
	level := raftnode.Linearizable
	if string(ctx.QueryArgs().Peek("stale")) == "true" {
		level = raftnode.Stale
	}
	bctx, cancel := context.WithTimeout(s.ctx, s.cfg.PublishTimeout)
	defer cancel()
	if err := s.node.ReadBarrier(bctx, level); err != nil {
		s.writeError(ctx, &apiError{Code: CodeUnavailable, Message: "cannot confirm this node is up to date with the leader; retry, or add stale=true to read what this node holds", RetryAfter: 1})
		return false
	}
	return true
}

// handleSince: GET …/messages?since=<id>&limit=N, oldest first [ext].
func (s *Server) handleSince(ctx *fasthttp.RequestCtx, channel, since string, problems []*apiError) {
	limit := intArg(ctx.QueryArgs(), "limit", 100, 1, 1000, &problems)
	var after uint64
	if since != "" && since != "0" {
		var err error
		if after, err = log.ParseID(since); err != nil {
			problems = append(problems, errorf(CodeValidation, "since: %v", err))
		}
	}
	if bad := joinProblems(problems); bad != nil {
		s.writeError(ctx, bad)
		return
	}
	if !s.consistentRead(ctx) {
		return
	}
	cu, err := s.hub.Since(channel, after, limit+1)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	out := sinceResponse{Complete: cu.Complete, Gap: toGapJSON(cu.Gap), Items: []messageJSON{}}
	if len(cu.Messages) > limit {
		cu.Messages = cu.Messages[:limit]
		out.HasMore = true
	}
	for i := range cu.Messages {
		out.Items = append(out.Items, toJSON(&cu.Messages[i]))
	}
	if n := len(cu.Messages); n > 0 {
		out.Next = cu.Messages[n-1].ID()
	}
	s.metrics.historyReads.Inc()
	writeOK(ctx, fasthttp.StatusOK, out)
}
