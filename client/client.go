package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Config configures a Client. Zero values mean the documented default.
type Config struct {
	// Addrs are the base URLs of the nodes, such as "http://127.0.0.1:8080".
	// At least one is required. Calls start at the node that answered last
	// and move on in order.
	Addrs []string

	// SecretKey (sec_…) authorises Publish, History and Since.
	SecretKey string

	// PublishKey (pub_… or a connection token) authorises Subscribe.
	// When empty, Subscribe uses SecretKey.
	PublishKey string

	// MgmtKey (mgmt_…) authorises AddMember, RemoveMember and Backup. ClusterStatus
	// uses it when set, else SecretKey.
	MgmtKey string

	// HTTPClient carries REST calls, WebSocket handshakes and SSE streams.
	// Its Timeout must be zero (streams are long-lived); per-call limits come
	// from RequestTimeout. Default: a client with its own http.Transport.
	HTTPClient *http.Client

	// Logger receives reconnects and retries. Default: discard.
	Logger *slog.Logger

	// RequestTimeout bounds one REST attempt against one node, from dial to
	// the end of the body. Default 10s.
	RequestTimeout time.Duration

	// PingInterval is how often a WebSocket subscription sends
	// {"type":"ping"}. Default 5s.
	PingInterval time.Duration

	// IdleTimeout is how long a subscription waits for any frame (pong,
	// message, SSE comment) before it treats the connection as dead and
	// reconnects. Default 15s. For SSE it should exceed the server's
	// keep-alive comment interval.
	IdleTimeout time.Duration

	// MinBackoff and MaxBackoff bound the delay between reconnect attempts;
	// the delay doubles per failure up to MaxBackoff, with jitter, and resets
	// after a connection that delivered something. Defaults 100ms and 5s.
	MinBackoff time.Duration
	MaxBackoff time.Duration

	// StaleReads sends stale=true with History and Since [ext]: a node
	// answers from what it holds without first confirming with the leader
	// that it is up to date. Default false: reads see every write
	// acknowledged before them, on any node.
	StaleReads bool
}

// Client talks to a pushflo cluster. It is safe for concurrent use.
type Client struct {
	cfg    Config
	addrs  []*url.URL
	http   *http.Client
	logger *slog.Logger
	// next is the index of the address to try first.
	next atomic.Uint32
}

// New returns a Client for cfg. It does not touch the network.
func New(cfg Config) (*Client, error) {
	var problems []string
	if len(cfg.Addrs) == 0 {
		problems = append(problems, "Addrs is empty; at least one base URL is required")
	}
	var addrs []*url.URL
	for _, a := range cfg.Addrs {
		u, err := url.Parse(strings.TrimRight(a, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, fmt.Sprintf("Addrs entry %q is not an http(s) base URL such as http://127.0.0.1:8080", a))
			continue
		}
		addrs = append(addrs, u)
	}
	if cfg.HTTPClient != nil && cfg.HTTPClient.Timeout != 0 {
		problems = append(problems, fmt.Sprintf("HTTPClient.Timeout is %s; it must be zero (use RequestTimeout)", cfg.HTTPClient.Timeout))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("client config: %s", strings.Join(problems, "; "))
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(discardHandler{})
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 5 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 15 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	return &Client{
		cfg:    cfg,
		addrs:  addrs,
		http:   cfg.HTTPClient,
		logger: cfg.Logger.With("component", "client"),
	}, nil
}

// Addrs returns the base URLs the client was configured with.
func (c *Client) Addrs() []string {
	out := make([]string, len(c.addrs))
	for i, u := range c.addrs {
		out[i] = u.String()
	}
	return out
}

// APIError is a non-2xx answer from the server, decoded from the protocol's
// error body {"success":false,"error":…,"code":…}.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code is the protocol's error code, such as "VALIDATION_ERROR" or
	// "UNAVAILABLE"; when the body carries none it is derived from Status.
	Code string
	// Message is the server's human sentence.
	Message string
	// RetryAfter is the Retry-After header, zero when absent.
	RetryAfter time.Duration

	// coded is true when Code came from the server's body, not from Status.
	coded bool
}

// Codes of the two 503 answers. The server answers CodeUnavailable when the
// request was certainly not applied (no leader, shutting down): it is safe
// to send again, to any node. It answers CodeOutcomeUnknown when the write
// may have been applied (the leader was lost mid-way): sending it again may
// apply it twice, unless it carries an idempotency key.
const (
	CodeUnavailable    = "UNAVAILABLE"
	CodeOutcomeUnknown = "OUTCOME_UNKNOWN"
)

// notApplied reports whether the server said the request was not applied.
// A 503 without the code in its body (a proxy's, say) says nothing.
func (e *APIError) notApplied() bool {
	return e.coded && e.Code == CodeUnavailable
}

func (e *APIError) Error() string {
	return fmt.Sprintf("pushflo: %d %s: %s", e.Status, e.Code, e.Message)
}

// answerError builds the APIError of a non-2xx answer whose body (read up
// to some limit) is raw.
func answerError(resp *http.Response, raw []byte) *APIError {
	var env envelope
	decErr := json.Unmarshal(raw, &env)
	ae := &APIError{Status: resp.StatusCode, Code: env.Code, Message: env.Error, coded: env.Code != ""}
	if decErr != nil || ae.Message == "" {
		ae.Message = strings.TrimSpace(string(truncate(raw, 200)))
	}
	if ae.Message == "" {
		ae.Message = http.StatusText(resp.StatusCode)
	}
	if ae.Code == "" {
		ae.Code = codeForStatus(resp.StatusCode)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil {
			ae.RetryAfter = time.Duration(s) * time.Second
		}
	}
	return ae
}

// frameError builds the APIError of an error frame or event, which carries
// a code but no HTTP status: the status is the one REST answers with for
// that code.
func frameError(code, message string) *APIError {
	return &APIError{Status: statusForCode(code), Code: code, Message: message}
}

// RequestError is returned by REST calls that fail. It names the operation
// and the last node tried, and records whether the failure is definite.
type RequestError struct {
	// Op is the operation, such as "publish".
	Op string
	// Addr is the base URL of the last node tried, empty if none was.
	Addr string
	// Attempts is how many nodes were tried.
	Attempts int
	// NotApplied is true when no attempt can have taken effect on the server.
	NotApplied bool
	// Err is the last attempt's error, an *APIError for a non-2xx answer.
	Err error
}

func (e *RequestError) Error() string {
	outcome := "outcome unknown"
	if e.NotApplied {
		outcome = "not applied"
	}
	if e.Attempts == 0 {
		return fmt.Sprintf("%s (%s): %v", e.Op, outcome, e.Err)
	}
	return fmt.Sprintf("%s via %s after %d attempt(s) (%s): %v", e.Op, e.Addr, e.Attempts, outcome, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// NotApplied reports whether err, returned by Publish, means the message was
// certainly not appended: the request never reached a node in full, a node
// rejected it before proposing it (a 4xx answer), or said it did not apply
// it (503 UNAVAILABLE). It is false for nil and for unknown outcomes: a
// timeout or broken connection after the request was sent, 503
// OUTCOME_UNKNOWN, or another 5xx, any of which may hide a committed append.
func NotApplied(err error) bool {
	var re *RequestError
	if errors.As(err, &re) {
		return re.NotApplied
	}
	return false
}

// envelope is the protocol's success/error wrapper.
type envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   string          `json:"error"`
	Code    string          `json:"code"`
	// Pagination sits beside data on list endpoints.
	Pagination *Pagination `json:"pagination"`
}

// attempt is the result of one HTTP exchange with one node.
type attempt struct {
	env    envelope
	status int
	// sent is true once the whole request was written to the connection.
	sent bool
	err  error
}

// roundTrip sends one request to base and decodes the envelope. It never
// retries.
func (c *Client) roundTrip(ctx context.Context, base *url.URL, method, path string, query url.Values, body []byte, header http.Header) (a attempt) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	// The trace callbacks run on the transport's goroutines, possibly after
	// Do has returned, hence atomics. A request counts as possibly sent from
	// the moment it has a connection, unless its write then failed.
	var gotConn, wroteOK, wroteErr atomic.Bool
	trace := &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { gotConn.Store(true) },
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wroteOK.Store(true)
			} else {
				wroteErr.Store(true)
			}
		},
	}
	defer func() {
		if !a.sent {
			a.sent = gotConn.Load() && !(wroteErr.Load() && !wroteOK.Load())
		}
	}()
	ctx = httptrace.WithClientTrace(ctx, trace)
	// path is already escaped: appending it to the base's text keeps it
	// as it is on the wire, where setting URL.Path would escape it again.
	target := base.String() + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		a.err = fmt.Errorf("build request: %w", err)
		return a
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		a.err = err
		return a
	}
	defer resp.Body.Close()
	a.sent = true // an answer means the server had the request
	a.status = resp.StatusCode
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		a.err = fmt.Errorf("read body: %w", err)
		return a
	}
	if resp.StatusCode == http.StatusNoContent {
		return a
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		a.err = answerError(resp, raw)
		return a
	}
	if decErr := json.Unmarshal(raw, &a.env); decErr != nil {
		a.err = fmt.Errorf("decode %d body %q: %w", resp.StatusCode, truncate(raw, 200), decErr)
	}
	return a
}

// notSent reports whether the failed attempt a certainly did not reach the
// server in full: it never had a connection, or writing the request failed.
// A server cannot act on half a request.
func (a attempt) notSent() bool { return !a.sent }

// apiError returns the attempt's answer error, or nil if no node answered.
func (a attempt) apiError() *APIError {
	var ae *APIError
	if errors.As(a.err, &ae) {
		return ae
	}
	return nil
}

// definite reports whether a failed attempt certainly left the server
// unchanged: nothing was sent, or the node refused the request (4xx), or
// it said so (503 UNAVAILABLE).
func (a attempt) definite() bool {
	if a.notSent() {
		return true
	}
	if ae := a.apiError(); ae != nil {
		return ae.Status >= 400 && ae.Status < 500 || ae.notApplied()
	}
	return false
}

// retryable reports whether another node may succeed where a failed: it
// was unreachable, broke off, or answered with a server-side 5xx. A 4xx
// would be refused by any node.
func (a attempt) retryable() bool {
	if ae := a.apiError(); ae != nil {
		return ae.Status >= 500
	}
	return a.err != nil
}

// call runs one REST operation with failover: each node at most once, in
// turn, while an attempt fails in a way another node may not. safe says the
// operation may be repeated after an unknown outcome (reads, publishes with
// an idempotency key); otherwise only attempts that certainly did nothing
// (not sent, or 503 UNAVAILABLE) are repeated elsewhere.
func (c *Client) call(ctx context.Context, op, method, path string, query url.Values, body []byte, header http.Header, safe bool) (envelope, error) {
	start := int(c.next.Load()) % len(c.addrs)
	notApplied := true
	var last attempt
	var lastAddr string
	n := 0
	for i := 0; i < len(c.addrs); i++ {
		if err := ctx.Err(); err != nil {
			if n == 0 {
				return envelope{}, &RequestError{Op: op, NotApplied: true, Err: err}
			}
			break
		}
		idx := (start + i) % len(c.addrs)
		base := c.addrs[idx]
		lastAddr = base.String()
		last = c.roundTrip(ctx, base, method, path, query, body, header)
		n++
		if last.err == nil {
			c.next.Store(uint32(idx))
			return last.env, nil
		}
		if !last.definite() {
			notApplied = false
		}
		if ctx.Err() != nil || !last.retryable() {
			break
		}
		if !safe && !last.definite() {
			break
		}
		c.logger.Debug("request failed, trying next node", "op", op, "addr", lastAddr, "err", last.err)
	}
	return envelope{}, &RequestError{Op: op, Addr: lastAddr, Attempts: n, NotApplied: notApplied, Err: last.err}
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "VALIDATION_ERROR"
	case http.StatusUnauthorized:
		return "UNAUTHORIZED"
	case http.StatusForbidden:
		return "FORBIDDEN"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "CONFLICT"
	case http.StatusRequestEntityTooLarge:
		return "PAYLOAD_TOO_LARGE"
	case http.StatusTooManyRequests:
		return "RATE_LIMITED"
	case http.StatusServiceUnavailable:
		return CodeUnavailable
	}
	return "SERVER_ERROR"
}

// statusForCode is the HTTP status REST answers with for a protocol error
// code; 0 for a code it does not know.
func statusForCode(code string) int {
	switch code {
	case "VALIDATION_ERROR":
		return http.StatusBadRequest
	case "UNAUTHORIZED":
		return http.StatusUnauthorized
	case "FORBIDDEN":
		return http.StatusForbidden
	case "NOT_FOUND":
		return http.StatusNotFound
	case "CONFLICT":
		return http.StatusConflict
	case "PAYLOAD_TOO_LARGE":
		return http.StatusRequestEntityTooLarge
	case "RATE_LIMITED":
		return http.StatusTooManyRequests
	case CodeUnavailable, CodeOutcomeUnknown:
		return http.StatusServiceUnavailable
	case "SERVER_ERROR":
		return http.StatusInternalServerError
	}
	return 0
}

// get is a read of path with key: the nodes are asked in turn, the next
// one after any failure but a 4xx answer (see call), and the answer's data
// is decoded into a T. op names the request in errors. On error the T is
// the zero value.
func get[T any](ctx context.Context, c *Client, op, path string, query url.Values, key string) (T, envelope, error) {
	var v T
	env, err := c.call(ctx, op, http.MethodGet, path, query, nil, bearer(key), true)
	if err != nil {
		return v, env, err
	}
	if err := json.Unmarshal(env.Data, &v); err != nil {
		var zero T
		return zero, env, fmt.Errorf("%s: decode %q: %w", op, truncate(env.Data, 200), err)
	}
	return v, env, nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func bearer(key string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+key)
	return h
}

// discardHandler drops every record (slog.DiscardHandler needs Go 1.24).
type discardHandler struct{}

func (discardHandler) Enabled(context.Context, slog.Level) bool  { return false }
func (discardHandler) Handle(context.Context, slog.Record) error { return nil }
func (d discardHandler) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discardHandler) WithGroup(string) slog.Handler           { return d }
