package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/pushflo/pushflo/client/sse"
)

// maxSSELine bounds one line of the stream (a 32 KiB message escapes to at
// most a few times that).
const maxSSELine = 1 << 20

// runSSE holds one SSE stream from base until it fails. It reports whether
// it delivered any message.
func (s *Subscription) runSSE(ctx context.Context, base *url.URL) (delivered bool, err error) {
	c := s.c
	last := s.LastID()
	q := url.Values{"channel": {s.channel}}
	if last != "" {
		q.Set("lastEventId", last)
	}
	u := *base
	u.Path = base.Path + "/sse"
	u.RawQuery = q.Encode()

	connCtx, stop := context.WithCancel(ctx)
	defer stop()
	// The idle timer ends the stream when nothing, not even a comment,
	// arrives for IdleTimeout; it is paused while a delivery waits on the
	// caller.
	idle := time.AfterFunc(c.cfg.IdleTimeout, stop)
	defer idle.Stop()

	req, err := http.NewRequestWithContext(connCtx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, fmt.Errorf("build sse request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.key()) // never in the URL (see runWS)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return false, fmt.Errorf("open sse: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return false, answerError(resp, raw)
	}
	addr := base.String()
	idle.Reset(c.cfg.IdleTimeout)
	if err := s.connected(connCtx, addr, nil); err != nil {
		return false, err
	}
	p := sse.NewReader(resp.Body, maxSSELine)
	p.OnLine = func() { idle.Reset(c.cfg.IdleTimeout) }
	for {
		ev, err := p.Next()
		if err != nil {
			if connCtx.Err() != nil && ctx.Err() == nil {
				return delivered, fmt.Errorf("no data from %s within %s: %w", addr, c.cfg.IdleTimeout, err)
			}
			return delivered, fmt.Errorf("read sse from %s: %w", addr, err)
		}
		idle.Stop()
		switch ev.Type {
		case "gap":
			var g Gap
			if err := json.Unmarshal([]byte(ev.Data), &g); err != nil {
				c.logger.Warn("ignoring bad gap event", "addr", addr, "err", err)
				break
			}
			if g.Channel != "" && g.Channel != s.channel {
				break
			}
			g.Channel = s.channel
			if err := s.emit(connCtx, Event{Kind: EventGap, Gap: g}); err != nil {
				return delivered, err
			}
		case "error":
			var env envelope
			_ = json.Unmarshal([]byte(ev.Data), &env)
			ae := frameError(env.Code, env.Error)
			if isFatal(ae) {
				return delivered, ae
			}
			return delivered, fmt.Errorf("server error event: %w", ae)
		default:
			m, err := decodeSSEMessage(ev)
			if err != nil {
				c.logger.Warn("ignoring bad sse event", "addr", addr, "err", err)
				break
			}
			if m.Channel != "" && m.Channel != s.channel {
				break
			}
			ok, err := s.deliverMessage(connCtx, m)
			if err != nil {
				return delivered, err
			}
			delivered = delivered || ok
		}
		idle.Reset(c.cfg.IdleTimeout)
	}
}

// decodeSSEMessage turns a message event into a Message; the event's id
// fills in an ID the data lacks.
func decodeSSEMessage(ev sse.Event) (Message, error) {
	var m Message
	if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
		return Message{}, fmt.Errorf("decode sse data %q: %w", truncate([]byte(ev.Data), 120), err)
	}
	if m.ID == "" {
		m.ID = ev.ID
	}
	if m.ID == "" {
		return Message{}, fmt.Errorf("sse event %q has no id", truncate([]byte(ev.Data), 120))
	}
	if m.EventType == "" {
		m.EventType = ev.Type
	}
	return m, nil
}
