package api

import (
	"bytes"
	"context"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/pushflo/pushflo/client"
	"github.com/pushflo/pushflo/log"
	"github.com/valyala/fasthttp"
)

type publishRequest struct {
	Content   json.RawMessage `json:"content"`
	EventType *string         `json:"eventType"`
	ClientID  *string         `json:"clientId"`
}

// publishResponse is the data of a 201 answer to a publish. Its wire shape
// is defined once, by the Go client's PublishResult.
type publishResponse = client.PublishResult

// isoTime renders Unix ms as the protocol's ISO 8601 with milliseconds.
func isoTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// parsePublish validates a publish body and reports every problem at once.
func parsePublish(channel string, body []byte, idemKey string) (log.Entry, *apiError) {
	var problems []*apiError
	if p := validChannel(channel); p != nil {
		problems = append(problems, p)
	}
	if len(idemKey) > MaxIdempotencyKeyLen {
		problems = append(problems, errorf(CodeValidation, "Idempotency-Key is %d characters; at most %d are allowed", len(idemKey), MaxIdempotencyKeyLen))
	}
	if !utf8.Valid(body) {
		// JSON text must be UTF-8 (RFC 8259); browsers close a WebSocket
		// on invalid UTF-8, so such content could never be delivered.
		problems = append(problems, errorf(CodeValidation, "request body is not valid UTF-8 (byte %d); JSON text must be UTF-8", firstInvalidUTF8(body)+1))
		return log.Entry{}, joinProblems(problems)
	}
	var req publishRequest
	if err := json.Unmarshal(body, &req); err != nil {
		problems = append(problems, errorf(CodeValidation, "request body is not valid JSON: %v", err))
		return log.Entry{}, joinProblems(problems)
	}
	e := log.Entry{Channel: channel, EventType: DefaultEventType, IdempotencyKey: idemKey}
	content := bytes.TrimSpace(req.Content)
	switch {
	case len(content) == 0 || bytes.Equal(content, []byte("null")):
		problems = append(problems, errorf(CodeValidation, "content is missing; send a JSON object as \"content\""))
	case content[0] != '{':
		problems = append(problems, errorf(CodeValidation, "content must be a JSON object, not %s", jsonKind(content[0])))
	default:
		var buf bytes.Buffer
		if err := json.Compact(&buf, content); err != nil {
			problems = append(problems, errorf(CodeValidation, "content is not valid JSON: %v", err))
		} else if buf.Len() > MaxMessageBytes {
			problems = append(problems, errorf(CodePayloadTooLarge, "content is %d bytes encoded; at most %d are allowed", buf.Len(), MaxMessageBytes))
		} else {
			e.Content = buf.Bytes()
		}
	}
	if req.EventType != nil {
		if p := validEventType(*req.EventType); p != nil {
			problems = append(problems, p)
		}
		e.EventType = *req.EventType
	}
	if req.ClientID != nil {
		if p := validClientID(*req.ClientID); p != nil {
			problems = append(problems, p)
		}
		e.ClientID = *req.ClientID
	}
	return e, joinProblems(problems)
}

// firstInvalidUTF8 is the offset of the first byte of b that does not
// start a valid UTF-8 sequence, or -1.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// validUTF8Content returns content as stored when it is valid UTF-8, and
// otherwise a copy with each invalid sequence replaced by U+FFFD. Publishes
// are checked, but a message stored before the check existed must not
// poison a stream: JSON structure is ASCII, so invalid bytes can only sit
// inside strings, and the replacement keeps the JSON valid.
func validUTF8Content(content []byte) json.RawMessage {
	if utf8.Valid(content) {
		return content
	}
	return bytes.ToValidUTF8(content, []byte("\uFFFD"))
}

func jsonKind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// handlePublish: POST /api/v1/channels/{channel}/messages.
func (s *Server) handlePublish(ctx *fasthttp.RequestCtx, channel string) {
	start := time.Now()
	if _, err := s.requireRole(ctx, RoleSecret); err != nil {
		s.writeError(ctx, err)
		return
	}
	e, bad := parsePublish(channel, ctx.PostBody(), string(ctx.Request.Header.Peek("Idempotency-Key")))
	if bad != nil {
		s.writeError(ctx, bad)
		return
	}
	pctx, cancel := context.WithTimeout(s.ctx, s.cfg.PublishTimeout)
	defer cancel()
	res, err := s.node.Publish(pctx, e)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	m := res.Message
	s.metrics.publishes.Inc()
	s.metrics.publishSeconds.Observe(time.Since(start).Seconds())
	writeOK(ctx, fasthttp.StatusCreated, publishResponse{
		ID: m.ID(), ChannelSlug: m.Channel, EventType: m.EventType, ClientID: m.ClientID,
		Delivered: s.hub.SubscriberCount(m.Channel), CreatedAt: isoTime(m.Time),
	})
}
