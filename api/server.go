package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/pushflo/pushflo/internal/defaults"
	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/raftnode"
	"github.com/pushflo/pushflo/stream"
	"github.com/pushflo/pushflo/web"
	"github.com/valyala/fasthttp"
	"golang.org/x/time/rate"
)

// Node is what the frontend needs of the Raft node: writes, membership and
// readiness. *raftnode.Node implements it.
type Node interface {
	Publish(ctx context.Context, e log.Entry) (log.Result, error)
	ChannelCommand(ctx context.Context, op raftnode.ChannelOp, slug string, set log.Settings) (log.Channel, error)
	ReadBarrier(ctx context.Context, level raftnode.ReadLevel) error
	Ready(ctx context.Context) error
	Status(ctx context.Context) ([]raftnode.NodeStatus, error)
	AddMember(ctx context.Context, id, addr string, nonVoter bool) (role string, err error)
	RemoveMember(ctx context.Context, id string) error
	IsLeader() bool
	Leader() (id, addr string)
}

// Config configures a Server. Zero values mean the defaults.
type Config struct {
	// Keys are the deployment's API keys; required.
	Keys Keys

	// MaxBodyBytes is the largest request body read; larger ones are
	// refused before being read whole. Default 256 KiB.
	MaxBodyBytes int
	// MaxHeaderBytes is the largest request line plus headers read, and the
	// size of the read buffer a connection holds while a request is read;
	// default 4096. An idle keep-alive connection or WebSocket returns it
	// to a pool.
	MaxHeaderBytes int
	// PublishTimeout bounds a publish, leader election included; default 10s.
	PublishTimeout time.Duration

	// MaxConnsPerIP is the WebSocket and SSE connections one client
	// address may hold (IPv6: one /64, as the request rate limit counts
	// it), default 10000.
	// MaxFrameBytes is the largest client frame answered (larger ones get
	// PAYLOAD_TOO_LARGE and the connection stays up), default 16 KiB.
	// SubscribeRate is subscribes per second per connection, default 50,
	// with bursts of SubscribeBurst, default 100.
	MaxConnsPerIP  int
	MaxFrameBytes  int
	SubscribeRate  float64
	SubscribeBurst int
	// TokenTTL is the default connection-token lifetime; default 1h.
	TokenTTL time.Duration

	// RateAddr is the requests per second one client address may make
	// (IPv6: one /64), with bursts of RateAddrBurst; defaults 1000 and
	// 5000. Requests carrying the secret or management key count against
	// that key instead: RateKey per second, bursts of RateKeyBurst;
	// defaults 50000 and 100000, more than a node commits. /health and
	// /ready are not limited. Past a limit: 429 RATE_LIMITED, Retry-After.
	RateAddr      float64
	RateAddrBurst int
	RateKey       float64
	RateKeyBurst  int
	// RateAddrs is the most client addresses whose buckets are kept
	// (about 300 bytes each); past it the least recently seen is
	// forgotten. Default 65536.
	RateAddrs int
	// PublicURL is the URL clients reach this node at (http:// or
	// https://, host, optional path prefix); the token endpoint's
	// "endpoint" is its ws:// or wss:// form plus /ws. Request headers
	// (Host, X-Forwarded-Proto) never change it. Empty: http:// and the
	// listener's address, set by Serve.
	PublicURL string
	// AllowedOrigins are the browser origins whose pages may call the API
	// (CORS) and open WebSocket and SSE streams (Origin checked at the
	// handshake): "scheme://host[:port]", the host optionally "*.domain";
	// the server's own origin is always allowed. Empty or "*": any origin
	// (the default, as the hosted service).
	AllowedOrigins []string
	// TrustedProxies are the peers whose X-Forwarded-For is believed
	// (clientAddr); empty trusts none, so every request's address is its
	// TCP peer's.
	TrustedProxies []netip.Prefix

	// Version and Commit identify the running build; GET /health reports
	// them. Empty means unknown.
	Version, Commit string

	// Metrics is what GET /metrics serves; nil serves none. The binary
	// owns the registry and registers each package's Collectors in it.
	Metrics prometheus.Gatherer
	// MetricsPrivate makes GET /metrics need a key in the Authorization
	// header: MetricsKey when set, or the secret or management key (the
	// console sends the key it signed in with). A non-empty MetricsKey
	// implies it. Default false: /metrics is open, as the hosted service's
	// clients and a plain Prometheus scrape expect.
	MetricsPrivate bool
	MetricsKey     string

	// Logger receives logs; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the configuration a zero field falls back to.
// Keys stay empty; the caller must set them.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes:   256 << 10,
		MaxHeaderBytes: 4096,
		PublishTimeout: 10 * time.Second,
		MaxConnsPerIP:  10000,
		MaxFrameBytes:  16 << 10,
		SubscribeRate:  50,
		SubscribeBurst: 100,
		TokenTTL:       time.Hour,
		RateAddr:       1000,
		RateAddrBurst:  5000,
		RateKey:        50000,
		RateKeyBurst:   100000,
		RateAddrs:      65536,
		Logger:         slog.Default(),
	}
}

// Server is the HTTP, WebSocket and SSE frontend of one node.
type Server struct {
	cfg      Config
	logger   *slog.Logger
	node     Node
	store    *log.Store
	hub      *stream.Hub
	metrics  *metrics
	http     *fasthttp.Server
	upgrader *websocket.FastHTTPUpgrader
	ips      ipLimiter
	// wsEndpoint is what token responses name as "endpoint": PublicURL as
	// ws(s)://…/ws; nil until Serve when PublicURL is empty.
	wsEndpoint atomic.Pointer[string]
	// addrs and keyLimits are the request rate limits (ratelimit.go);
	// keyLimits holds the secret key's bucket, then the management key's.
	addrs     *addrLimiter
	keyLimits [2]*rate.Limiter
	// origins is the allowed-origin policy (origin.go), from Config.
	origins originPolicy

	ctx    context.Context
	cancel context.CancelFunc
	// conns tracks WebSocket connections, which fasthttp hands over on
	// upgrade and no longer tracks.
	conns sync.WaitGroup
}

// New builds a server over a node, its store and the hub that fans the
// store's messages out (started and closed by the caller). Serve listens.
func New(cfg Config, node Node, store *log.Store, hub *stream.Hub) (*Server, error) {
	defaults.Fill(&cfg, DefaultConfig())
	if err := cfg.Keys.Validate(); err != nil {
		return nil, fmt.Errorf("frontend config: %w", err)
	}
	s := &Server{cfg: cfg, logger: cfg.Logger.With("component", "api"), node: node, store: store, hub: hub}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.metrics = newMetrics()
	s.upgrader = s.newUpgrader()
	s.ips.m = make(map[netip.Prefix]int)
	if cfg.PublicURL != "" {
		s.wsEndpoint.Store(ptr(wsEndpoint(cfg.PublicURL)))
	}
	s.origins = newOriginPolicy(&cfg)
	s.addrs = newAddrLimiter(cfg.RateAddr, cfg.RateAddrBurst, cfg.RateAddrs)
	for i := range s.keyLimits {
		s.keyLimits[i] = rate.NewLimiter(rate.Limit(cfg.RateKey), cfg.RateKeyBurst)
	}
	s.http = &fasthttp.Server{
		Handler:               s.handle,
		Name:                  "pushflo",
		MaxRequestBodySize:    cfg.MaxBodyBytes,
		ReadBufferSize:        cfg.MaxHeaderBytes,
		ReadTimeout:           30 * time.Second,
		IdleTimeout:           120 * time.Second,
		NoDefaultServerHeader: false,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		KeepHijackedConns:     true,
		// Return a connection's read and write buffers to their pools
		// between requests: a WebSocket then reads the raw socket
		// through its own 256-byte buffer, instead of keeping the
		// MaxHeaderBytes read buffer for its whole life (4 KiB of about
		// 13 per idle WebSocket; TestWS_IdleConnDropsReadBuffer).
		ReduceMemoryUsage: true,
		ErrorHandler:      s.handleTransportError,
		Logger:            fasthttpLogger{s.logger},
	}
	return s, nil
}

// Serve serves HTTP on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.wsEndpoint.CompareAndSwap(nil, ptr(wsEndpoint("http://"+ln.Addr().String())))
	err := s.http.Serve(ln)
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, closes subscriber connections with a going-away
// frame (they resume elsewhere), and waits for handlers, bounded by ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	s.hub.CloseAll()
	err := s.http.ShutdownWithContext(ctx)
	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return err
}

// wsEndpoint turns a public http(s) URL into the WebSocket URL clients
// connect to.
func wsEndpoint(public string) string {
	public = strings.TrimSuffix(public, "/")
	if rest, ok := strings.CutPrefix(public, "https://"); ok {
		return "wss://" + rest + "/ws"
	}
	return "ws://" + strings.TrimPrefix(public, "http://") + "/ws"
}

func ptr[T any](v T) *T { return &v }

// handle routes a request.
func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	if s.logger.Enabled(context.Background(), slog.LevelDebug) {
		defer s.logRequest(ctx, time.Now())
	}
	s.cors(ctx)
	path := string(ctx.Path())
	if !s.limitRequest(ctx, path) {
		return
	}
	if ctx.IsOptions() {
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	switch {
	case path == "/ws":
		s.serveWS(ctx)
	case path == "/sse":
		s.serveSSE(ctx)
	case path == "/health":
		s.only(ctx, "GET", s.handleHealth)
	case path == "/ready":
		s.only(ctx, "GET", s.handleReady)
	case path == "/metrics":
		s.only(ctx, "GET", s.handleMetrics)
	case path == "/" || path == web.SDKPath || path == web.ConsolePath || strings.HasPrefix(path, web.ConsolePath+"/"):
		s.only(ctx, "GET", func(c *fasthttp.RequestCtx) { s.handleWeb(c, path) })
	case strings.HasPrefix(path, "/api/v1/"):
		s.routeAPI(ctx, apiSegments(ctx, path))
	default:
		s.writeError(ctx, errorf(CodeNotFound, "no route %s %s", ctx.Method(), path))
	}
}

// apiSegments splits the request's path below /api/v1/ into segments,
// percent-decoding each on its own: an escaped slash stays inside its
// segment (a channel name it makes invalid) and an empty segment stays
// empty, where the decoded, normalised path would have moved or dropped
// them. A segment that is not valid percent-encoding is kept as sent; the
// '%' in it fails validation.
func apiSegments(ctx *fasthttp.RequestCtx, decoded string) []string {
	raw, ok := strings.CutPrefix(string(ctx.Request.URI().PathOriginal()), "/api/v1/")
	if !ok {
		raw = strings.TrimPrefix(decoded, "/api/v1/")
	}
	parts := strings.Split(strings.TrimSuffix(raw, "/"), "/")
	for i, p := range parts {
		if d, err := url.PathUnescape(p); err == nil {
			parts[i] = d
		}
	}
	return parts
}

func (s *Server) routeAPI(ctx *fasthttp.RequestCtx, parts []string) {
	switch {
	case len(parts) == 1 && parts[0] == "channels":
		s.methods(ctx, map[string]fasthttp.RequestHandler{"GET": s.handleListChannels, "POST": s.handleCreateChannel})
	case len(parts) == 2 && parts[0] == "channels":
		slug := parts[1]
		s.methods(ctx, map[string]fasthttp.RequestHandler{
			"GET":    func(c *fasthttp.RequestCtx) { s.handleGetChannel(c, slug) },
			"PATCH":  func(c *fasthttp.RequestCtx) { s.handleUpdateChannel(c, slug) },
			"PUT":    func(c *fasthttp.RequestCtx) { s.handleUpdateChannel(c, slug) },
			"DELETE": func(c *fasthttp.RequestCtx) { s.handleDeleteChannel(c, slug) },
		})
	case len(parts) == 3 && parts[0] == "channels" && parts[2] == "messages":
		slug := parts[1]
		s.methods(ctx, map[string]fasthttp.RequestHandler{
			"POST": func(c *fasthttp.RequestCtx) { s.handlePublish(c, slug) },
			"GET":  func(c *fasthttp.RequestCtx) { s.handleHistory(c, slug) },
		})
	case len(parts) == 2 && parts[0] == "auth" && parts[1] == "token":
		s.only(ctx, "POST", s.handleToken)
	case len(parts) == 1 && parts[0] == "cluster":
		s.only(ctx, "GET", s.handleClusterStatus)
	case len(parts) == 2 && parts[0] == "cluster" && parts[1] == "members":
		s.only(ctx, "POST", s.handleJoin)
	case len(parts) == 2 && parts[0] == "cluster" && parts[1] == "backup":
		s.only(ctx, "GET", s.handleBackup)
	case len(parts) == 3 && parts[0] == "cluster" && parts[1] == "members":
		id := parts[2]
		s.only(ctx, "DELETE", func(c *fasthttp.RequestCtx) { s.handleRemove(c, id) })
	default:
		s.writeError(ctx, errorf(CodeNotFound, "no route %s below /api/v1/ with %d path segments; see the protocol for the routes", ctx.Method(), len(parts)))
	}
}

func (s *Server) only(ctx *fasthttp.RequestCtx, method string, h fasthttp.RequestHandler) {
	s.methods(ctx, map[string]fasthttp.RequestHandler{method: h})
}

func (s *Server) methods(ctx *fasthttp.RequestCtx, hs map[string]fasthttp.RequestHandler) {
	m := string(ctx.Method())
	if h, ok := hs[m]; ok {
		h(ctx)
		return
	}
	if h, ok := hs["GET"]; ok && m == "HEAD" {
		h(ctx)
		return
	}
	allowed := make([]string, 0, len(hs))
	for k := range hs {
		allowed = append(allowed, k)
	}
	ctx.Response.Header.Set("Allow", strings.Join(allowed, ", "))
	writeJSON(ctx, fasthttp.StatusMethodNotAllowed, errorBody{Error: fmt.Sprintf("method %s is not allowed here; use %s", m, strings.Join(allowed, " or ")), Code: CodeValidation})
	s.metrics.errors.WithLabelValues(CodeValidation).Inc()
}

// cors lets browsers call the API from the allowed origins (any, by
// default): credentials are API keys in headers, never cookies. With an
// allow-list, an allowed Origin is echoed (with Vary: Origin) and any other
// gets no Access-Control-Allow-Origin, so its page cannot read the answer.
func (s *Server) cors(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	switch {
	case s.origins.any:
		h.Set("Access-Control-Allow-Origin", "*")
	default:
		h.Set("Vary", "Origin")
		if o := ctx.Request.Header.Peek("Origin"); len(o) > 0 && s.originAllowed(ctx) {
			h.SetBytesV("Access-Control-Allow-Origin", o)
		}
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, PUT, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, Last-Event-ID")
	h.Set("Access-Control-Max-Age", "600")
}

// handleTransportError answers requests fasthttp could not read, in the
// API's error shape, and closes the connection. The reply is built from our
// words only: fasthttp's read errors quote its read buffer, which holds the
// request's headers (its key among them) and, when requests are pipelined,
// the next request, so err's text is neither sent nor logged.
func (s *Server) handleTransportError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		s.writeError(ctx, errorf(CodePayloadTooLarge, "request body is larger than %d bytes; messages are at most %d bytes", s.cfg.MaxBodyBytes, MaxMessageBytes))
	case errors.As(err, &small):
		s.writeError(ctx, errorf(CodeHeadersTooLarge, "request line and headers are larger than %d bytes", s.cfg.MaxHeaderBytes))
	default:
		s.writeError(ctx, errorf(CodeValidation, "the request could not be parsed"))
	}
	ctx.SetConnectionClose()
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = fasthttp.StatusInternalServerError
		b = []byte(`{"success":false,"error":"internal server error","code":"SERVER_ERROR"}`)
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

type okBody struct {
	Success bool `json:"success"`
	Data    any  `json:"data"`
}

func writeOK(ctx *fasthttp.RequestCtx, status int, data any) {
	writeJSON(ctx, status, okBody{Success: true, Data: data})
}

type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) { f.l.Debug(fmt.Sprintf(format, args...)) }

// ipLimiter counts open streaming connections per client, keyed as the
// request rate limit keys it (addrKey: an IPv4 address, an IPv6 /64).
type ipLimiter struct {
	mu sync.Mutex
	m  map[netip.Prefix]int
}

func (l *ipLimiter) acquire(ip netip.Prefix, max int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m[ip] >= max {
		return false
	}
	l.m[ip]++
	return true
}

func (l *ipLimiter) release(ip netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m[ip]--; l.m[ip] <= 0 {
		delete(l.m, ip)
	}
}

// logRequest logs one request at debug level: method, path (at most 128
// bytes), status, time and client address (clientAddr), and the proxy's
// when it came through a trusted one. Never the query string or
// headers, which carry keys and tokens (?token=, Authorization), nor the
// body. For WebSocket and SSE the time is until the stream was handed over.
func (s *Server) logRequest(ctx *fasthttp.RequestCtx, start time.Time) {
	path := ctx.Path()
	if len(path) > 128 {
		path = path[:128]
	}
	attrs := []any{"method", string(ctx.Method()), "path", string(path), "status", ctx.Response.StatusCode(),
		"duration", time.Since(start).String(), "remote", s.clientAddr(ctx).String()}
	if peer := peerAddr(ctx.RemoteAddr()); len(s.cfg.TrustedProxies) > 0 && s.trusted(peer) {
		attrs = append(attrs, "proxy", peer.String())
	}
	s.logger.Debug("request", attrs...)
}
