package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// sseConn is one subscriber SSE stream, read line by line off the wire.
type sseConn struct {
	resp *http.Response
	r    *bufio.Reader
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
	s := &sseConn{resp: resp, r: bufio.NewReaderSize(resp.Body, 4096)}
	deadline := time.AfterFunc(15*time.Second, func() { resp.Body.Close() })
	defer deadline.Stop()
	for {
		line, err := s.r.ReadSlice('\n')
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("wait for sse connected on %s: %w", base, err)
		}
		if bytes.HasPrefix(line, []byte(": connected")) {
			return s, nil
		}
	}
}

// sseEvent is one parsed event; slices are valid until the next read.
type sseEvent struct {
	id, event, data []byte
}

// next reads one event (comments skipped). Lines longer than the buffer
// are an error: bench messages are small.
func (s *sseConn) next(ev *sseEvent) error {
	ev.id, ev.event, ev.data = ev.id[:0], ev.event[:0], ev.data[:0]
	for {
		line, err := s.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			if len(ev.data) > 0 || len(ev.event) > 0 {
				return nil
			}
		case line[0] == ':':
		case bytes.HasPrefix(line, []byte("id: ")):
			ev.id = append(ev.id, line[4:]...)
		case bytes.HasPrefix(line, []byte("event: ")):
			ev.event = append(ev.event, line[7:]...)
		case bytes.HasPrefix(line, []byte("data: ")):
			ev.data = append(ev.data, line[6:]...)
		}
	}
}

func (s *sseConn) close() { s.resp.Body.Close() }
