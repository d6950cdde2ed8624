package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pushflo/pushflo/client/sse"
)

// sseConn is one subscriber SSE stream, read with the client's SSE reader.
type sseConn struct {
	resp *http.Response
	r    *sse.Reader
}

// newSSEClient returns an HTTP client for many concurrent streams: one
// connection per stream, no overall timeout (streams are long-lived).
func newSSEClient() *http.Client {
	tr := &http.Transport{
		MaxIdleConnsPerHost: -1,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr}
}

// sseMaxLineBytes bounds one line: bench messages are small.
const sseMaxLineBytes = 64 << 10

// dialSSE opens /sse for channel on base, resuming after lastID when set,
// and waits for the server's ": connected" comment, sent once the stream
// is registered for live delivery.
func dialSSE(ctx context.Context, hc *http.Client, base, token, channel, lastID string) (*sseConn, error) {
	q := url.Values{"channel": {channel}, "token": {token}}
	if lastID != "" {
		q.Set("lastEventId", lastID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sse?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("open sse on %s: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		resp.Body.Close()
		return nil, fmt.Errorf("open sse on %s: status %d: %s", base, resp.StatusCode, b)
	}
	s := &sseConn{resp: resp, r: sse.NewReader(resp.Body, sseMaxLineBytes)}
	s.r.Comments = true
	deadline := time.AfterFunc(15*time.Second, func() { resp.Body.Close() })
	defer deadline.Stop()
	for {
		ev, err := s.r.Next()
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("wait for sse connected on %s: %w", base, err)
		}
		if strings.HasPrefix(ev.Comment, "connected") {
			s.r.Comments = false
			return s, nil
		}
	}
}

// sseEvent is one parsed event; slices are reused by the next read.
type sseEvent struct {
	id, event, data []byte
}

// next reads one event (comments skipped).
func (s *sseConn) next(ev *sseEvent) error {
	e, err := s.r.Next()
	if err != nil {
		return err
	}
	ev.id = append(ev.id[:0], e.ID...)
	ev.event = append(ev.event[:0], e.Type...)
	ev.data = append(ev.data[:0], e.Data...)
	return nil
}

func (s *sseConn) close() { s.resp.Body.Close() }
