package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// sseEvent is one dispatched Server-Sent Event.
type sseEvent struct {
	ID    string
	Event string
	Data  string
}

// sseParser reads events from a text/event-stream body following the
// WHATWG rules: lines end in CR, LF or CRLF; "data" lines accumulate joined
// by LF; a blank line dispatches; lines starting with ':' are comments.
type sseParser struct {
	sc *bufio.Scanner
	// onLine, if set, is called for every line read, comments included, so
	// a caller can tell a live stream from a stalled one.
	onLine func()
}

// maxSSELine bounds one line of the stream (a 32 KiB message escapes to at
// most a few times that).
const maxSSELine = 1 << 20

func newSSEParser(r io.Reader, onLine func()) *sseParser {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxSSELine)
	sc.Split(splitSSELines)
	return &sseParser{sc: sc, onLine: onLine}
}

// Next returns the next event, or io.EOF when the stream ends cleanly
// between events, or io.ErrUnexpectedEOF when it ends inside one.
func (p *sseParser) Next() (sseEvent, error) {
	var ev sseEvent
	var data strings.Builder
	hasData, pending := false, false
	for p.sc.Scan() {
		if p.onLine != nil {
			p.onLine()
		}
		line := p.sc.Text()
		if line == "" {
			if hasData {
				ev.Data = data.String()
				return ev, nil
			}
			// An event without data is not dispatched; its fields reset.
			ev, pending = sseEvent{}, false
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		pending = true
		switch field {
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.WriteString(value)
			hasData = true
		case "event":
			ev.Event = value
		case "id":
			if !strings.ContainsRune(value, 0) {
				ev.ID = value
			}
		}
		// "retry" and unknown fields are ignored.
	}
	if err := p.sc.Err(); err != nil {
		return sseEvent{}, err
	}
	if pending || hasData {
		return sseEvent{}, io.ErrUnexpectedEOF
	}
	return sseEvent{}, io.EOF
}

// splitSSELines is a bufio.SplitFunc for lines ended by CR, LF or CRLF.
func splitSSELines(data []byte, atEOF bool) (int, []byte, error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		// CR: swallow a following LF, which may not have arrived yet.
		if i+1 < len(data) {
			if data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
			return i + 1, data[:i], nil
		}
		if atEOF {
			return i + 1, data[:i], nil
		}
		return 0, nil, nil
	}
	if atEOF {
		// A final line without terminator is not a complete line; report it
		// so Next can see the stream ended mid-event.
		return len(data), data, nil
	}
	return 0, nil, nil
}

// runSSE holds one SSE stream from base until it fails. It reports whether
// it delivered any message.
func (s *Subscription) runSSE(ctx context.Context, base *url.URL) (delivered bool, err error) {
	c := s.c
	last := s.LastID()
	q := url.Values{"channel": {s.channel}, "token": {s.key()}}
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
	p := newSSEParser(resp.Body, func() { idle.Reset(c.cfg.IdleTimeout) })
	for {
		ev, err := p.Next()
		if err != nil {
			if connCtx.Err() != nil && ctx.Err() == nil {
				return delivered, fmt.Errorf("no data from %s within %s: %w", addr, c.cfg.IdleTimeout, err)
			}
			return delivered, fmt.Errorf("read sse from %s: %w", addr, err)
		}
		idle.Stop()
		switch ev.Event {
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
func decodeSSEMessage(ev sseEvent) (Message, error) {
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
		m.EventType = ev.Event
	}
	return m, nil
}
