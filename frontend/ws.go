package frontend

import (
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/pushflo/pushflo/log"
	"github.com/valyala/fasthttp"
	"golang.org/x/time/rate"
)

// maxReadBytes is the hard limit on a client frame; frames above
// MaxFrameBytes but below this get an error frame and the connection stays.
const maxReadBytes = 1 << 20

const writeTimeout = 10 * time.Second

var wsBufferPool sync.Pool

type clientFrame struct {
	Type          string `json:"type"`
	Channel       string `json:"channel"`
	LastMessageID string `json:"lastMessageId"`
	MessageID     string `json:"messageId"`
}

type connectedFrame struct {
	Type      string `json:"type"`
	ClientID  string `json:"clientId"`
	Timestamp int64  `json:"timestamp"`
}

type subscribedFrame struct {
	Type      string `json:"type"`
	Channel   string `json:"channel"`
	Recovered *bool  `json:"recovered,omitempty"`
}

type errorFrame struct {
	Type    string `json:"type"`
	Channel string `json:"channel,omitempty"`
	Code    string `json:"code"`
	Error   string `json:"error"`
}

type pongFrame struct {
	Type      string `json:"type"`
	Timestamp int64  `json:"timestamp"`
}

// serveWS: GET /ws?token=…, the PushFlo WebSocket protocol.
func (s *Server) serveWS(ctx *fasthttp.RequestCtx) {
	p := s.authenticate(string(ctx.QueryArgs().Peek("token")))
	clientID := string(ctx.QueryArgs().Peek("clientId"))
	ip := ctx.RemoteIP().String()
	up := websocket.FastHTTPUpgrader{
		ReadBufferSize:  1024,
		WriteBufferSize: 2048,
		WriteBufferPool: &wsBufferPool,
		CheckOrigin:     func(*fasthttp.RequestCtx) bool { return true },
		Error: func(ctx *fasthttp.RequestCtx, status int, reason error) {
			s.writeError(ctx, errorf(CodeValidation, "websocket handshake failed: %v", reason))
		},
	}
	_ = up.Upgrade(ctx, func(ws *websocket.Conn) { s.runWS(ws, p, clientID, ip) })
}

// runWS owns one WebSocket: it reads client frames on this goroutine;
// writes run on a writer goroutine started when frames are queued.
func (s *Server) runWS(ws *websocket.Conn, p *principal, clientID, ip string) {
	if p == nil {
		ws.WriteMessage(websocket.TextMessage, mustJSON(errorFrame{Type: "error", Code: CodeUnauthorized, Error: "missing or invalid token: connect with ?token=<publish key or connection token>"}))
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closeUnauthorized, "unauthorized"), time.Now().Add(time.Second))
		s.metrics.errors.WithLabelValues(CodeUnauthorized).Inc()
		return
	}
	if !s.ips.acquire(ip, s.cfg.MaxConnsPerIP) {
		ws.WriteMessage(websocket.TextMessage, mustJSON(errorFrame{Type: "error", Code: CodeRateLimited, Error: "too many connections from this address; at most " + strconv.Itoa(s.cfg.MaxConnsPerIP) + " are allowed"}))
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closeLimit, "too many connections"), time.Now().Add(time.Second))
		s.metrics.errors.WithLabelValues(CodeRateLimited).Inc()
		return
	}
	defer s.ips.release(ip)
	if p.clientID != "" {
		clientID = p.clientID
	}
	if clientID == "" || validClientID(clientID) != nil {
		clientID = newClientID()
	}
	c := newConn(s, "websocket", p, clientID, ip)
	w := &wsWriter{c: c, ws: ws}
	c.kick = w.kick
	c.ping = w.ping
	s.hub.addConn(c)
	defer s.hub.removeConn(c)
	// The socket belongs to fasthttp again once this handler returns: stop
	// replays, the writer and the pinger first.
	defer w.stop()
	defer c.finish()
	if s.ctx.Err() != nil {
		return
	}

	ws.SetReadLimit(maxReadBytes)
	deadline := func() { ws.SetReadDeadline(time.Now().Add(s.cfg.PingInterval * 5 / 2)) }
	ws.SetPongHandler(func(string) error { deadline(); return nil })
	c.push(controlFrame(connectedFrame{Type: "connected", ClientID: clientID, Timestamp: time.Now().UnixMilli()}))
	limiter := rate.NewLimiter(rate.Limit(s.cfg.SubscribeRate), s.cfg.SubscribeBurst)
	for {
		deadline()
		mt, data, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) || errors.Is(err, websocket.ErrReadLimit) {
				s.logger.Debug("websocket closed", "client", clientID, "err", err)
			}
			return
		}
		s.handleFrame(c, limiter, mt, data)
	}
}

// ping sends a WebSocket ping; the hub's pinger calls it for every
// connection each PingInterval. A client that answers nothing for two
// intervals hits the read deadline and is closed.
func (w *wsWriter) ping() {
	w.pingMu.Lock()
	defer w.pingMu.Unlock()
	if !w.dead {
		w.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second))
	}
}

func (s *Server) frameError(c *conn, channel, code, msg string) {
	s.metrics.errors.WithLabelValues(code).Inc()
	c.push(controlFrame(errorFrame{Type: "error", Channel: channel, Code: code, Error: msg}))
}

// handleFrame answers one client frame. Bad frames get an error frame; the
// connection stays up.
func (s *Server) handleFrame(c *conn, limiter *rate.Limiter, mt int, data []byte) {
	if mt != websocket.TextMessage {
		s.frameError(c, "", CodeValidation, "binary frames are not supported; send JSON text frames")
		return
	}
	if len(data) > s.cfg.MaxFrameBytes {
		s.frameError(c, "", CodePayloadTooLarge, "frame is "+strconv.Itoa(len(data))+" bytes; at most "+strconv.Itoa(s.cfg.MaxFrameBytes)+" are allowed")
		return
	}
	var f clientFrame
	if err := json.Unmarshal(data, &f); err != nil {
		s.frameError(c, "", CodeValidation, "frame is not valid JSON: "+err.Error())
		return
	}
	switch f.Type {
	case "subscribe":
		if !limiter.Allow() {
			s.frameError(c, f.Channel, CodeRateLimited, "too many subscribes; at most "+strconv.FormatFloat(s.cfg.SubscribeRate, 'f', -1, 64)+" per second are allowed")
			return
		}
		s.subscribe(c, f)
	case "unsubscribe":
		s.unsubscribe(c, f.Channel)
	case "ping":
		c.push(controlFrame(pongFrame{Type: "pong", Timestamp: time.Now().UnixMilli()}))
	case "ack":
		// Delivery is tracked by message ID on resume; acks need no answer.
	case "":
		s.frameError(c, "", CodeValidation, "frame has no \"type\"; expected subscribe, unsubscribe, ping or ack")
	default:
		s.frameError(c, "", CodeValidation, "unknown frame type \""+truncateString(f.Type, 64)+"\"; expected subscribe, unsubscribe, ping or ack")
	}
}

func truncateString(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// subscribe starts a subscription: live only, or resuming after
// lastMessageId with a replay from the log.
func (s *Server) subscribe(c *conn, f clientFrame) {
	if p := validChannel(f.Channel); p != nil {
		s.frameError(c, f.Channel, p.Code, p.Message)
		return
	}
	ch, _ := s.store.Channel(f.Channel)
	if !c.p.mayRead(f.Channel, ch.IsPrivate) {
		s.frameError(c, f.Channel, CodeForbidden, "channel is private; connect with a token that grants it")
		return
	}
	var after uint64
	resume := f.LastMessageID != ""
	if resume {
		var err error
		if after, err = log.ParseID(f.LastMessageID); err != nil {
			s.frameError(c, f.Channel, CodeValidation, "lastMessageId: "+err.Error())
			return
		}
	}
	c.mu.Lock()
	if _, dup := c.subs[f.Channel]; dup {
		c.mu.Unlock()
		if resume {
			s.frameError(c, f.Channel, CodeConflict, "already subscribed to this channel; unsubscribe first to resume from another ID")
			return
		}
		c.push(controlFrame(subscribedFrame{Type: "subscribed", Channel: f.Channel}))
		return
	}
	if len(c.subs) >= s.cfg.MaxSubscriptionsPerConn {
		c.mu.Unlock()
		s.frameError(c, f.Channel, CodeRateLimited, "too many subscriptions on this connection; at most "+strconv.Itoa(s.cfg.MaxSubscriptionsPerConn)+" are allowed")
		return
	}
	sub := newSubscription(c, []string{f.Channel}, after)
	sub.replaying = true
	c.subs[f.Channel] = sub
	c.mu.Unlock()

	s.hub.add(sub)
	if !resume {
		// Live from now: start after the newest message, read after
		// registering so nothing applied from here on is missed.
		latest, _ := s.store.Channel(f.Channel)
		sub.mu.Lock()
		sub.last = latest.LastPos
		sub.mu.Unlock()
	}
	c.replays.Add(1)
	go func() {
		defer c.replays.Done()
		sub.replay(func(cus []log.Catchup) {
			sf := subscribedFrame{Type: "subscribed", Channel: f.Channel}
			if resume {
				rec := cus[0].Complete
				sf.Recovered = &rec
			}
			c.pushWait(controlFrame(sf))
		})
	}()
}

func (s *Server) unsubscribe(c *conn, channel string) {
	c.mu.Lock()
	sub := c.subs[channel]
	delete(c.subs, channel)
	c.mu.Unlock()
	if sub != nil {
		s.hub.remove(sub)
	}
	c.push(controlFrame(struct {
		Type    string `json:"type"`
		Channel string `json:"channel"`
	}{"unsubscribed", channel}))
}

// wsWriter drains a connection's queue to its WebSocket. It runs only
// while there is something to write, so an idle connection holds no
// writer goroutine.
type wsWriter struct {
	c       *conn
	ws      *websocket.Conn
	running bool // guarded by c.mu
	closed  bool // guarded by c.mu
	// wg tracks the writer goroutine.
	wg sync.WaitGroup
	// pingMu serialises pings with the end of the connection: once dead,
	// the socket is fasthttp's again and must not be touched.
	pingMu sync.Mutex
	dead   bool
}

// kick starts the writer if it is not running. Requires c.mu held.
func (w *wsWriter) kick() {
	if !w.running && !w.closed {
		w.running = true
		w.wg.Add(1)
		go w.drain()
	}
}

// stop waits for the writer to end and disables pings; no writer starts
// after. Called after conn.finish, so a running writer sends the close
// reason and stops.
func (w *wsWriter) stop() {
	w.c.mu.Lock()
	if !w.running {
		w.closed = true
	}
	w.c.mu.Unlock()
	w.wg.Wait()
	w.pingMu.Lock()
	w.dead = true
	w.pingMu.Unlock()
}

func (w *wsWriter) drain() {
	defer w.wg.Done()
	for {
		frames, closing := w.c.take()
		if len(frames) == 0 && closing == nil {
			w.c.mu.Lock()
			if len(w.c.queue) == 0 && w.c.closing == nil {
				w.running = false
				w.c.mu.Unlock()
				return
			}
			w.c.mu.Unlock()
			continue
		}
		if closing != nil {
			frames = nil // a closing connection sends only its reason
		}
		for i := range frames {
			if err := w.write(&frames[i]); err != nil {
				w.shut(&closeReason{code: 1011})
				return
			}
		}
		if closing != nil {
			w.shut(closing)
			return
		}
	}
}

func (w *wsWriter) write(f *frame) error {
	w.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if f.d != nil {
		if err := w.ws.WritePreparedMessage(f.d.wsFrame()); err != nil {
			return err
		}
		m := w.c.s.metrics
		m.deliveries.Inc()
		if !f.d.picked.IsZero() {
			m.deliverySecs.Observe(time.Since(f.d.picked).Seconds())
		}
		return nil
	}
	if f.ws == nil {
		return nil
	}
	return w.ws.WriteMessage(websocket.TextMessage, f.ws)
}

// shut sends the close reason and closes the socket; the reader then ends.
func (w *wsWriter) shut(r *closeReason) {
	w.c.mu.Lock()
	w.closed = true
	w.c.mu.Unlock()
	deadline := time.Now().Add(time.Second)
	w.ws.SetWriteDeadline(deadline)
	if r.frame != nil {
		w.ws.WriteMessage(websocket.TextMessage, r.frame)
	}
	w.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(r.code, r.text), deadline)
	w.ws.NetConn().Close()
}
