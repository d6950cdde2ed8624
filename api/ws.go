package api

import (
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/stream"
	"github.com/valyala/fasthttp"
	"golang.org/x/time/rate"
)

// maxReadBytes is the hard limit on a client frame; frames above
// MaxFrameBytes but below this get an error frame and the connection stays.
const maxReadBytes = 1 << 20

const writeTimeout = 10 * time.Second

// writeBatchBytes bounds what a writer takes from the queue for one write
// (Frame.Size), so a writer never holds a copy of a whole queue.
const writeBatchBytes = 64 << 10

var wsBufferPool sync.Pool

type clientFrame struct {
	Type          string `json:"type"`
	Channel       string `json:"channel"`
	LastMessageID string `json:"lastMessageId"`
	MessageID     string `json:"messageId"`
	Token         string `json:"token"`
}

type refreshedFrame struct {
	Type      string `json:"type"`
	ExpiresAt int64  `json:"expiresAt"`
}

type unsubscribedFrame struct {
	Type    string `json:"type"`
	Channel string `json:"channel"`
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

// newUpgrader returns the server's WebSocket upgrader.
func (s *Server) newUpgrader() *websocket.FastHTTPUpgrader {
	return &websocket.FastHTTPUpgrader{
		ReadBufferSize:  256, // client frames are small; larger ones are read in pieces
		WriteBufferSize: 2048,
		WriteBufferPool: &wsBufferPool,
		CheckOrigin:     func(*fasthttp.RequestCtx) bool { return true }, // serveWS checks it (originAllowed)
		Error: func(ctx *fasthttp.RequestCtx, status int, reason error) {
			s.writeError(ctx, errorf(CodeValidation, "websocket handshake failed: %v", reason))
		},
	}
}

// serveWS: GET /ws?token=…[&frames=lean], the PushFlo WebSocket protocol
// (streamPrincipal says which credentials it takes where).
func (s *Server) serveWS(ctx *fasthttp.RequestCtx) {
	if !s.originAllowed(ctx) {
		s.writeError(ctx, errOriginRefused)
		return
	}
	format := wsFormat
	switch string(ctx.QueryArgs().Peek("frames")) {
	case "", "full":
	case "lean":
		format = wsLeanFormat
	default:
		s.writeError(ctx, errorf(CodeValidation, "the frames parameter must be \"full\" (the default: flat fields and the nested message) or \"lean\" (flat fields only)"))
		return
	}
	p, bad := s.streamPrincipal(ctx)
	clientID := string(ctx.QueryArgs().Peek("clientId"))
	ip := addrKey(s.clientAddr(ctx))
	// The server keeps hijacked connections (KeepHijackedConns), so the
	// upgrade callback can hand the socket to a goroutine of ours and
	// return at once: fasthttp then frees the request context and its
	// goroutine, which would otherwise stay with every idle connection.
	_ = s.upgrader.Upgrade(ctx, func(ws *websocket.Conn) {
		s.conns.Add(1)
		// Set up on fasthttp's goroutine; read on a fresh one, whose stack
		// then holds only the read loop for the connection's idle life.
		read := s.openWS(ws, p, bad, clientID, ip, format)
		go func() {
			defer s.conns.Done()
			defer ws.NetConn().Close()
			if read != nil {
				read()
			}
		}()
	})
}

// openWS sets a WebSocket up: authentication, limits, the connection and
// its writer, the "connected" frame. It returns the read loop, which owns
// the connection from then on and tears it down when the client goes, or
// nil when the connection was refused (bad says why when p is nil).
func (s *Server) openWS(ws *websocket.Conn, p *principal, bad *apiError, clientID string, ip netip.Prefix, format *stream.Format) (read func()) {
	refuse := func(code string, closeCode int, msg, reason string) {
		ws.WriteMessage(websocket.TextMessage, mustJSON(errorFrame{Type: "error", Code: code, Error: msg}))
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closeCode, reason), time.Now().Add(time.Second))
		s.metrics.errors.WithLabelValues(code).Inc()
	}
	if p == nil {
		refuse(bad.Code, closeUnauthorized, bad.Message, "unauthorized")
		return nil
	}
	if !s.ips.acquire(ip, s.cfg.MaxConnsPerIP) {
		refuse(CodeRateLimited, closeLimit, "too many connections from this address; at most "+strconv.Itoa(s.cfg.MaxConnsPerIP)+" are allowed", "too many connections")
		return nil
	}
	if p.clientID != "" {
		clientID = p.clientID
	}
	if clientID == "" || validClientID(clientID) != nil {
		clientID = newClientID()
	}
	w := &wsWriter{ws: ws, format: format}
	c := s.hub.Open("websocket", w.wake, pingFrame)
	wc := &wsConn{s: s, c: c, limiter: rate.NewLimiter(rate.Limit(s.cfg.SubscribeRate), s.cfg.SubscribeBurst)}
	wc.setPrincipal(p)
	in := &inbox{handle: wc.handleFrame, maxFrame: s.cfg.MaxFrameBytes,
		refuse: func() { wc.frameError("", CodeRateLimited, "too many frames waiting; slow down") }}

	ws.SetReadLimit(maxReadBytes)
	deadline := func() { ws.SetReadDeadline(time.Now().Add(s.hub.Config().PingInterval * 5 / 2)) }
	ws.SetPongHandler(func(string) error { deadline(); return nil })
	// Pongs and the closing handshake go through the writer too: the
	// library's own handlers would write concurrently with it.
	ws.SetPingHandler(func(data string) error {
		deadline()
		c.Push(stream.Frame{Data: appendWSFrame(nil, opPong, []byte(data))})
		return nil
	})
	ws.SetCloseHandler(func(code int, text string) error {
		c.Fail(stream.CloseReason{Kind: stream.ClosePeer, PeerCode: code})
		return nil
	})
	c.Push(wsControl(connectedFrame{Type: "connected", ClientID: clientID, Timestamp: time.Now().UnixMilli()}))

	return func() {
		defer s.ips.release(ip)
		// Stop frame handling, replays and the writer before the socket
		// is closed.
		defer w.stop(c)
		defer c.Finish()
		defer in.wg.Wait()
		if s.ctx.Err() != nil {
			return
		}
		for {
			deadline()
			mt, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			in.add(mt, data)
		}
	}
}

// wsConn is what the frame handlers know of a WebSocket: the server's
// settings, the stream connection and who opened it.
type wsConn struct {
	s *Server
	c *stream.Conn
	// p is who holds the connection; a refresh replaces it.
	p       atomic.Pointer[principal]
	limiter *rate.Limiter
}

// setPrincipal makes p the connection's credential: its grants decide
// every later read and its exp ends the connection (TOKEN_EXPIRED, close
// 4001). A subscription p does not grant is dropped with an error frame
// FORBIDDEN naming the channel, then "unsubscribed".
func (wc *wsConn) setPrincipal(p *principal) {
	wc.p.Store(p)
	wc.c.SetAccess(func(channel string, private bool) bool {
		return wc.p.Load().mayRead(channel, private)
	}, p.expires, func(_, channel string) {
		wc.frameError(channel, CodeForbidden, "channel is private now and this connection holds no grant for it; unsubscribed")
		wc.c.Push(wsControl(unsubscribedFrame{Type: "unsubscribed", Channel: channel}))
	})
}

// refresh replaces the connection's token with a new one before the old
// one expires: {"type":"refresh","token":"…"}. Only a connection token
// replaces a connection token (a key-holding connection does not expire).
func (wc *wsConn) refresh(token string) {
	p := wc.s.authenticate(token)
	if p == nil || !p.token {
		wc.frameError("", CodeUnauthorized, "refresh needs a valid, unexpired connection token")
		return
	}
	if !wc.p.Load().token {
		wc.frameError("", CodeValidation, "this connection was opened with a key, which does not expire; there is nothing to refresh")
		return
	}
	wc.setPrincipal(p)
	wc.c.Push(wsControl(refreshedFrame{Type: "refreshed", ExpiresAt: p.expires.UnixMilli()}))
}

// inbox hands a connection's client frames, in order, to a handler
// goroutine that exists only while there are frames to handle. The reader
// goroutine, which every idle connection keeps, then only reads: its stack
// stays small instead of growing with JSON decoding and subscribe work.
//
// What waits is bounded in bytes as well as in frames, since the client
// picks the size: at most maxInbox frames and maxInboxBytes of them (one
// frame is always taken), plus the batch being handled; a frame past
// maxFrame (MaxFrameBytes) waits as its size alone, for the handler to
// refuse.
type inbox struct {
	// handle answers one frame (data is nil when size is past maxFrame);
	// refuse answers a frame past the budget.
	handle   func(mt int, data []byte, size int)
	refuse   func()
	maxFrame int
	mu       sync.Mutex
	frames   []inFrame // guarded by mu
	bytes    int       // of frames' data; guarded by mu
	running  bool      // guarded by mu
	wg       sync.WaitGroup
}

type inFrame struct {
	mt   int
	data []byte
	size int
}

// maxInbox is how many client frames may wait, and maxInboxBytes how many
// bytes of them; more are refused with an error frame (a client this far
// ahead is flooding).
const (
	maxInbox      = 256
	maxInboxBytes = 1 << 20
)

func (in *inbox) add(mt int, data []byte) {
	f := inFrame{mt: mt, data: data, size: len(data)}
	if f.size > in.maxFrame {
		f.data = nil // refused by its size; the bytes need not wait
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.frames) >= maxInbox || len(in.frames) > 0 && in.bytes+len(f.data) > maxInboxBytes {
		in.refuse()
		return
	}
	in.frames = append(in.frames, f)
	in.bytes += len(f.data)
	if !in.running {
		in.running = true
		in.wg.Add(1)
		go in.run()
	}
}

func (in *inbox) run() {
	defer in.wg.Done()
	for {
		in.mu.Lock()
		fs := in.frames
		in.frames, in.bytes = nil, 0
		if len(fs) == 0 {
			in.running = false
			in.mu.Unlock()
			return
		}
		in.mu.Unlock()
		for _, f := range fs {
			in.handle(f.mt, f.data, f.size)
		}
	}
}

func (wc *wsConn) frameError(channel, code, msg string) {
	wc.s.metrics.errors.WithLabelValues(code).Inc()
	wc.c.Push(wsControl(errorFrame{Type: "error", Channel: channel, Code: code, Error: msg}))
}

// handleFrame answers one client frame of size bytes (data is nil when
// that is past MaxFrameBytes). Bad frames get an error frame; the
// connection stays up.
func (wc *wsConn) handleFrame(mt int, data []byte, size int) {
	s := wc.s
	if mt != websocket.TextMessage {
		wc.frameError("", CodeValidation, "binary frames are not supported; send JSON text frames")
		return
	}
	if size > s.cfg.MaxFrameBytes {
		wc.frameError("", CodePayloadTooLarge, "frame is "+strconv.Itoa(size)+" bytes; at most "+strconv.Itoa(s.cfg.MaxFrameBytes)+" are allowed")
		return
	}
	var f clientFrame
	if err := json.Unmarshal(data, &f); err != nil {
		wc.frameError("", CodeValidation, "frame is not valid JSON: "+err.Error())
		return
	}
	switch f.Type {
	case "subscribe":
		if !wc.limiter.Allow() {
			wc.frameError(f.Channel, CodeRateLimited, "too many subscribes; at most "+strconv.FormatFloat(s.cfg.SubscribeRate, 'f', -1, 64)+" per second are allowed")
			return
		}
		wc.subscribe(f)
	case "unsubscribe":
		wc.unsubscribe(f.Channel)
	case "refresh":
		wc.refresh(f.Token)
	case "ping":
		wc.c.Push(wsControl(pongFrame{Type: "pong", Timestamp: time.Now().UnixMilli()}))
	case "ack":
		// Delivery is tracked by message ID on resume; acks need no answer.
	case "":
		wc.frameError("", CodeValidation, "frame has no \"type\"; expected subscribe, unsubscribe, refresh, ping or ack")
	default:
		wc.frameError("", CodeValidation, "unknown frame type \""+truncateString(f.Type, 64)+"\"; expected subscribe, unsubscribe, refresh, ping or ack")
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
func (wc *wsConn) subscribe(f clientFrame) {
	s, c := wc.s, wc.c
	if p := validChannel(f.Channel); p != nil {
		wc.frameError(f.Channel, p.Code, p.Message)
		return
	}
	p := wc.p.Load()
	if p.expired(time.Now()) {
		wc.frameError(f.Channel, CodeTokenExpired, "the connection token expired; reconnect or refresh with a new token")
		c.Fail(stream.CloseReason{Kind: stream.CloseTokenExpired})
		return
	}
	ch, _ := s.store.Channel(f.Channel)
	if !p.mayRead(f.Channel, ch.IsPrivate) {
		wc.frameError(f.Channel, CodeForbidden, "channel is private; connect with a token that grants it")
		return
	}
	asked := f.LastMessageID != ""
	after, resume := s.resumePoint(f.LastMessageID)
	err := c.Subscribe(f.Channel, []string{f.Channel}, after, resume, func(cus []log.Catchup) {
		sf := subscribedFrame{Type: "subscribed", Channel: f.Channel}
		if asked {
			// An ID this node does not know resumes nothing: live only.
			rec := resume && cus[0].Complete
			sf.Recovered = &rec
		}
		c.PushWait(wsControl(sf))
	})
	switch {
	case errors.Is(err, stream.ErrSubscribed) && asked:
		wc.frameError(f.Channel, CodeConflict, "already subscribed to this channel; unsubscribe first to resume from another ID")
	case errors.Is(err, stream.ErrSubscribed):
		c.Push(wsControl(subscribedFrame{Type: "subscribed", Channel: f.Channel}))
	case errors.Is(err, stream.ErrTooManySubscriptions):
		wc.frameError(f.Channel, CodeRateLimited, "too many subscriptions on this connection; at most "+strconv.Itoa(s.hub.Config().MaxSubscriptionsPerConn)+" are allowed")
	}
}

func (wc *wsConn) unsubscribe(channel string) {
	wc.c.Unsubscribe(channel)
	wc.c.Push(wsControl(unsubscribedFrame{Type: "unsubscribed", Channel: channel}))
}

// wsWriter drains a connection's queue to its socket. It runs only while
// there is something to write, so an idle connection holds no writer
// goroutine. Every frame of the connection goes through it — messages,
// control frames, pings, pongs, the close — so it writes a whole batch
// with one write call, bypassing the websocket library's per-frame path.
type wsWriter struct {
	ws *websocket.Conn
	// format renders deliveries: wsFormat or wsLeanFormat.
	format *stream.Format
	// wg tracks the writer goroutine.
	wg sync.WaitGroup
}

// pingFrame is a WebSocket ping with no payload; the hub queues it every
// PingInterval. A client that answers nothing for 2.5 intervals hits the
// read deadline and is closed.
var pingFrame = []byte{0x80 | opPing, 0}

// writeBufs holds batch buffers between bursts, so idle connections keep
// none of their own.
var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8192); return &b }}

// wake starts the writer; the stream calls it, with the connection's lock
// held, when frames wait and no writer runs.
func (w *wsWriter) wake(c *stream.Conn) {
	w.wg.Add(1)
	go w.drain(c)
}

// stop waits for the writer to end; no writer starts after. Called after
// Finish, so a running writer sends the close reason and stops.
func (w *wsWriter) stop(c *stream.Conn) {
	c.StopWriter()
	w.wg.Wait()
}

func (w *wsWriter) drain(c *stream.Conn) {
	defer w.wg.Done()
	bp := writeBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 1<<20 {
			*bp = (*bp)[:0]
			writeBufs.Put(bp)
		}
	}()
	nc := w.ws.NetConn()
	var batch []stream.Frame
	defer func() { clear(batch) }()
	for {
		frames, closing, ok := c.Next(batch, writeBatchBytes)
		batch = frames
		if !ok {
			return
		}
		buf := (*bp)[:0]
		timeout := writeTimeout
		if closing == nil {
			for i := range frames {
				f := &frames[i]
				switch {
				case f.Delivery != nil:
					buf = append(buf, f.Delivery.Render(w.format)...)
				case f.Gap != nil:
					buf = appendWSFrame(buf, opText, gapWS(f.Gap))
				default:
					buf = append(buf, f.Data...)
				}
			}
		} else {
			// A closing connection sends only its reason, then the close.
			frame, code, text := closeWire(closing)
			if frame != nil {
				buf = appendWSFrame(buf, opText, frame)
			}
			buf = appendWSFrame(buf, opClose, websocket.FormatCloseMessage(code, text))
			timeout = time.Second
		}
		*bp = buf
		nc.SetWriteDeadline(time.Now().Add(timeout))
		_, err := nc.Write(buf)
		if err == nil && closing == nil {
			c.Written(frames)
			continue
		}
		// Written the close, or failed: the socket is done; the reader
		// sees it closed and ends the connection. A write that timed out
		// is a client that stopped reading: a slow consumer.
		var ne net.Error
		if closing == nil && errors.As(err, &ne) && ne.Timeout() {
			c.CutOffSlow()
		}
		c.StopWriter()
		nc.Close()
		return
	}
}
