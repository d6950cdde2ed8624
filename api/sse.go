package api

import (
	"bufio"
	"net"
	"time"

	"github.com/pushflo/pushflo/stream"
	"github.com/valyala/fasthttp"
)

// serveSSE: GET /sse?channel=a&channel=b&token=… [ext]. One subscription
// over all the stream's channels, so the browser's Last-Event-ID resumes
// every channel at once.
func (s *Server) serveSSE(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() {
		s.writeError(ctx, errorf(CodeValidation, "method %s is not allowed here; use GET", ctx.Method()))
		return
	}
	args := ctx.QueryArgs()
	if !s.originAllowed(ctx) {
		s.writeError(ctx, errOriginRefused)
		return
	}
	p, bad := s.streamPrincipal(ctx)
	if bad != nil {
		s.writeError(ctx, bad)
		return
	}
	var channels []string
	var problems []*apiError
	seen := map[string]bool{}
	// One channel per parameter: ',' is a valid character of a name.
	for _, v := range args.PeekMulti("channel") {
		ch := string(v)
		if seen[ch] {
			continue
		}
		seen[ch] = true
		if bad := validChannel(ch); bad != nil {
			problems = append(problems, bad)
			continue
		}
		if c, _ := s.store.Channel(ch); !p.mayRead(ch, c.IsPrivate) {
			problems = append(problems, errorf(CodeForbidden, "channel %q is private; connect with a token that grants it", ch))
		}
		channels = append(channels, ch)
	}
	if len(channels) == 0 && len(problems) == 0 {
		problems = append(problems, errorf(CodeValidation, "name at least one channel: /sse?channel=orders:user-123"))
	}
	if len(channels) > s.hub.Config().MaxSubscriptionsPerConn {
		problems = append(problems, errorf(CodeRateLimited, "%d channels on one stream; at most %d are allowed", len(channels), s.hub.Config().MaxSubscriptionsPerConn))
	}
	last := string(ctx.Request.Header.Peek("Last-Event-ID"))
	if last == "" {
		last = string(args.Peek("lastEventId"))
	}
	after, resume := s.resumePoint(last)
	if bad := joinProblems(problems); bad != nil {
		s.writeError(ctx, bad)
		return
	}
	ip := addrKey(s.clientAddr(ctx))
	if !s.ips.acquire(ip, s.cfg.MaxConnsPerIP) {
		s.writeError(ctx, errorf(CodeRateLimited, "too many connections from this address; at most %d are allowed", s.cfg.MaxConnsPerIP))
		return
	}
	clientID := p.clientID
	if clientID == "" {
		clientID = newClientID()
	}
	ctx.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	nc := ctx.Conn()
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer s.ips.release(ip)
		s.runSSE(&sseWriter{Writer: w, nc: nc}, p, clientID, channels, after, resume)
	})
}

// runSSE writes the stream until the client goes away or the server stops.
// It is the connection's writer; the replay runs on its own goroutine.
// sseWriter is an SSE stream's buffered writer whose every write has the
// WebSocket writer's deadline (arm): a client that stops reading fails the
// write, and the stream ends, instead of holding its frames forever.
type sseWriter struct {
	*bufio.Writer
	nc net.Conn
}

// arm gives the writes of the next batch writeTimeout to complete.
func (w *sseWriter) arm() { w.nc.SetWriteDeadline(time.Now().Add(writeTimeout)) }

// flushClose writes the closing event within a second.
func (w *sseWriter) flushClose() {
	w.nc.SetWriteDeadline(time.Now().Add(time.Second))
	w.Writer.Flush()
}

func (s *Server) runSSE(w *sseWriter, p *principal, clientID string, channels []string, after uint64, resume bool) {
	wake := make(chan struct{}, 1)
	c := s.hub.Open("sse", func(*stream.Conn) {
		select {
		case wake <- struct{}{}:
		default:
		}
	}, nil)
	defer c.Finish()
	// Access holds for the stream's life: a channel made private ends it
	// (event: error FORBIDDEN), and so does the token's exp (TOKEN_EXPIRED).
	c.SetAccess(p.mayRead, p.expires, nil)

	// Subscribe before telling the client it is connected, so a live-only
	// stream misses nothing published after the client sees that. Frames
	// the replay queues meanwhile wait for this goroutine.
	if err := c.Subscribe("", channels, after, resume, nil); err != nil {
		return // a new connection holds no subscription yet
	}
	defer w.nc.SetWriteDeadline(time.Time{})
	w.arm()
	w.WriteString("retry: 1000\n")
	w.WriteString(": connected " + clientID + "\n\n")
	if w.Flush() != nil {
		return
	}
	ping := time.NewTicker(s.hub.Config().PingInterval)
	defer ping.Stop()
	var batch []stream.Frame
	defer func() { clear(batch) }()
	for {
		select {
		case <-wake:
		case <-ping.C:
			w.arm()
			if _, err := w.WriteString(": keep-alive " + nowMs() + "\n\n"); err != nil || w.Flush() != nil {
				return
			}
			continue
		case <-s.ctx.Done():
			return
		}
		for {
			frames, closing, ok := c.Next(batch, writeBatchBytes)
			batch = frames
			if !ok {
				break
			}
			w.arm()
			if closing != nil {
				if frame, _, _ := closeWire(closing); frame != nil {
					w.WriteString("event: error\ndata: ")
					w.Write(frame)
					w.WriteString("\n\n")
					w.flushClose()
				}
				return
			}
			for i := range frames {
				f := &frames[i]
				switch {
				case f.Delivery != nil:
					w.Write(f.Delivery.Render(sseFormat))
				case f.Gap != nil:
					w.Write(gapSSE(f.Gap))
				}
			}
			if err := w.Flush(); err != nil {
				return
			}
			c.Written(frames)
		}
	}
}
