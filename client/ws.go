package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// wsReadLimitBytes bounds one incoming frame: a 32 KiB message plus its
// envelope, with room to spare.
const wsReadLimitBytes = 4 << 20

// closeUnauthorized is the close code the server uses for a bad token.
const closeUnauthorized = 4001

var pingFrame = []byte(`{"type":"ping"}`)

// runWS holds one WebSocket connection to base until it fails. It reports
// whether it delivered any message.
func (s *Subscription) runWS(ctx context.Context, base *url.URL) (delivered bool, err error) {
	c := s.c
	u := *base
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	u.Path = base.Path + "/ws"
	// The client reads only the flat fields of a message frame: ask for
	// frames without the nested copy (servers that predate the option
	// ignore it and send both).
	u.RawQuery = "frames=lean"
	// The key goes in a header, never the URL: the server refuses secret
	// and management keys in ?token= (URLs end up in logs).
	hdr := http.Header{"Authorization": {"Bearer " + s.key()}}

	dialCtx, cancelDial := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	conn, resp, err := websocket.Dial(dialCtx, u.String(), &websocket.DialOptions{HTTPClient: c.http, HTTPHeader: hdr})
	cancelDial()
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 {
			var raw []byte
			if resp.Body != nil {
				raw, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
				resp.Body.Close()
			}
			return false, answerError(resp, raw)
		}
		return false, fmt.Errorf("dial websocket: %w", err)
	}
	conn.SetReadLimit(wsReadLimitBytes)

	connCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stop()
		conn.CloseNow()
		wg.Wait()
	}()

	write := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(connCtx, c.cfg.IdleTimeout)
		defer cancel()
		return conn.Write(wctx, websocket.MessageText, b)
	}
	last := s.LastID()
	if err := write(subscribeFrame{Type: "subscribe", Channel: s.channel, LastMessageID: last}); err != nil {
		return false, fmt.Errorf("send subscribe: %w", err)
	}

	// The pinger makes the server answer at least every PingInterval, so a
	// read that waits IdleTimeout without a frame means a dead path.
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(s.pingInterval())
		defer t.Stop()
		for {
			select {
			case <-connCtx.Done():
				return
			case <-t.C:
				wctx, cancel := context.WithTimeout(connCtx, c.cfg.IdleTimeout)
				err := conn.Write(wctx, websocket.MessageText, pingFrame)
				cancel()
				if err != nil {
					stop()
					return
				}
			}
		}
	}()

	addr := base.String()
	for {
		rctx, cancel := context.WithTimeout(connCtx, c.cfg.IdleTimeout)
		typ, b, err := conn.Read(rctx)
		idle := rctx.Err() == context.DeadlineExceeded
		cancel()
		if err != nil {
			if websocket.CloseStatus(err) == closeUnauthorized {
				return delivered, frameError("UNAUTHORIZED", "websocket closed with code 4001")
			}
			if idle && ctx.Err() == nil {
				return delivered, fmt.Errorf("no frame from %s within %s: %w", addr, c.cfg.IdleTimeout, err)
			}
			if errors.Is(err, io.EOF) {
				return delivered, fmt.Errorf("websocket closed by %s: %w", addr, err)
			}
			return delivered, fmt.Errorf("read websocket: %w", err)
		}
		if typ != websocket.MessageText {
			continue
		}
		f, err := decodeFrame(b)
		if err != nil {
			c.logger.Warn("ignoring bad frame", "addr", addr, "err", err)
			continue
		}
		switch f.Type {
		case "subscribed":
			if f.Channel == s.channel {
				if err := s.connected(connCtx, addr, f.Recovered); err != nil {
					return delivered, err
				}
			}
		case "message":
			if f.Channel != s.channel {
				continue
			}
			ok, err := s.deliverMessage(connCtx, f.message())
			if err != nil {
				return delivered, err
			}
			delivered = delivered || ok
		case "gap":
			if f.Channel != "" && f.Channel != s.channel {
				continue
			}
			g := f.gap()
			g.Channel = s.channel
			if err := s.emit(connCtx, Event{Kind: EventGap, Gap: g}); err != nil {
				return delivered, err
			}
		case "error":
			ae := frameError(f.Code, f.Error)
			if f.Channel == s.channel || f.Code == "UNAUTHORIZED" {
				if isFatal(ae) {
					return delivered, ae
				}
				return delivered, fmt.Errorf("server error frame: %w", ae)
			}
			c.logger.Warn("error frame", "addr", addr, "code", f.Code, "error", f.Error)
		case "unsubscribed":
			if f.Channel == s.channel {
				return delivered, fmt.Errorf("server unsubscribed channel %q", s.channel)
			}
		}
		// connected, pong and unknown frames only prove the path is alive.
	}
}

func (s *Subscription) pingInterval() time.Duration {
	p := s.c.cfg.PingInterval
	if idle := s.c.cfg.IdleTimeout; p >= idle {
		p = idle / 3
	}
	return max(p, time.Millisecond)
}
