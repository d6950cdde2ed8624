package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/fasthttp/websocket"
	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/raftnode"
	"github.com/pushflo/pushflo/stream"
	"github.com/valyala/fasthttp"
)

// Error codes, shared by REST bodies and WebSocket/SSE error frames.
const (
	CodeUnauthorized    = "UNAUTHORIZED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeValidation      = "VALIDATION_ERROR"
	CodePayloadTooLarge = "PAYLOAD_TOO_LARGE"
	CodeHeadersTooLarge = "HEADERS_TOO_LARGE"
	CodeConflict        = "CONFLICT"
	CodeRateLimited     = "RATE_LIMITED"
	// CodeUnavailable (503, Retry-After) means the request was NOT applied:
	// safe to retry, on this node or another.
	CodeUnavailable = "UNAVAILABLE"
	// CodeOutcomeUnknown (503, Retry-After) means a write may or may not
	// have been applied: retry only with the same Idempotency-Key.
	CodeOutcomeUnknown = "OUTCOME_UNKNOWN"
	CodeServerError    = "SERVER_ERROR"
	// CodeNoQuorum (409) refuses a membership change after which fewer
	// voters than a majority would answer the leader; nothing was applied.
	CodeNoQuorum = "NO_QUORUM"
	// CodeNotCaughtUp (409) refuses to make a non-voter a voter before it
	// has caught up with the leader; nothing was applied.
	CodeNotCaughtUp = "NOT_CAUGHT_UP"
	// CodeSlowConsumer is sent only in an error frame before close 4008.
	CodeSlowConsumer = "SLOW_CONSUMER"
	// CodeTokenExpired is sent in an error frame when the connection
	// token's exp passes (then close 4001), and to a subscribe or refresh
	// with an expired token.
	CodeTokenExpired = "TOKEN_EXPIRED"
)

// statusOf is the one mapping from code to HTTP status.
var statusOf = map[string]int{
	CodeUnauthorized:    fasthttp.StatusUnauthorized,
	CodeForbidden:       fasthttp.StatusForbidden,
	CodeNotFound:        fasthttp.StatusNotFound,
	CodeValidation:      fasthttp.StatusBadRequest,
	CodePayloadTooLarge: fasthttp.StatusRequestEntityTooLarge,
	CodeHeadersTooLarge: fasthttp.StatusRequestHeaderFieldsTooLarge,
	CodeConflict:        fasthttp.StatusConflict,
	CodeRateLimited:     fasthttp.StatusTooManyRequests,
	CodeUnavailable:     fasthttp.StatusServiceUnavailable,
	CodeOutcomeUnknown:  fasthttp.StatusServiceUnavailable,
	CodeServerError:     fasthttp.StatusInternalServerError,
	CodeNoQuorum:        fasthttp.StatusConflict,
	CodeNotCaughtUp:     fasthttp.StatusConflict,
}

// WebSocket close codes.
const (
	closeUnauthorized = 4001 // bad, missing or expired token
	closeForbidden    = 4003 // lost access to a channel (SSE only; WebSocket drops the subscription)
	closeSlowConsumer = 4008 // outgoing queue overflowed; resume from the last ID
	closeLimit        = 4029 // connection limit reached
	closeShutdown     = 1001 // server going away
	closeServerError  = 1011 // replay failed; reconnect to resume
)

// closeWire is the one mapping from why the stream ends a connection to
// what the client is sent: an error frame (nil for none) and the WebSocket
// close code and text. SSE sends the frame as "event: error".
func closeWire(r *stream.CloseReason) (frame []byte, code int, text string) {
	switch r.Kind {
	case stream.CloseSlowConsumer:
		return mustJSON(errorFrame{Type: "error", Code: CodeSlowConsumer, Error: "the subscriber fell too far behind and was disconnected; reconnect and resume from the last message ID"}),
			closeSlowConsumer, "slow consumer"
	case stream.CloseTokenExpired:
		return mustJSON(errorFrame{Type: "error", Code: CodeTokenExpired, Error: "the connection token expired; reconnect with a new token and resume from the last message ID"}),
			closeUnauthorized, "token expired"
	case stream.CloseForbidden:
		return mustJSON(errorFrame{Type: "error", Channel: r.Channel, Code: CodeForbidden, Error: "channel is private now and this connection holds no grant for it"}),
			closeForbidden, "forbidden"
	case stream.CloseReadFailed:
		return mustJSON(errorFrame{Type: "error", Code: CodeServerError, Error: "could not read the channel's history; reconnect to resume"}),
			closeServerError, "replay failed"
	case stream.ClosePeer:
		if r.PeerCode == 0 || r.PeerCode == websocket.CloseNoStatusReceived {
			return nil, websocket.CloseNormalClosure, ""
		}
		return nil, r.PeerCode, ""
	}
	return nil, closeShutdown, "server shutting down"
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// apiError is an error with a wire code and a sentence for the client.
type apiError struct {
	Code    string
	Message string
	// RetryAfter, in seconds, is sent as a Retry-After header when > 0.
	RetryAfter int
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// toAPIError maps domain errors to the wire. Anything unexpected becomes
// SERVER_ERROR; its detail goes to the log, not to the client.
func (s *Server) toAPIError(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, raftnode.ErrNoLeader):
		return &apiError{Code: CodeUnavailable, Message: "no leader is available right now; the write was not applied: retry shortly, on this node or another", RetryAfter: 1}
	case errors.Is(err, raftnode.ErrUnknownOutcome):
		return &apiError{Code: CodeOutcomeUnknown, Message: "the leader changed while writing; the write may or may not have been applied (retry with the same Idempotency-Key to be safe)", RetryAfter: 1}
	case errors.Is(err, raftnode.ErrClosed), errors.Is(err, log.ErrClosed):
		return &apiError{Code: CodeUnavailable, Message: "the server is shutting down", RetryAfter: 1}
	case errors.Is(err, log.ErrChannelNotFound):
		return errorf(CodeNotFound, "channel not found")
	case errors.Is(err, log.ErrChannelExists):
		return errorf(CodeConflict, "channel already exists")
	}
	s.logger.Error("request failed", "err", err)
	return errorf(CodeServerError, "internal server error")
}

// writeError answers a REST request with the error body.
func (s *Server) writeError(ctx *fasthttp.RequestCtx, err error) {
	ae := s.toAPIError(err)
	s.metrics.errors.WithLabelValues(ae.Code).Inc()
	status := statusOf[ae.Code]
	if ae.RetryAfter > 0 {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(ae.RetryAfter))
	}
	writeJSON(ctx, status, errorBody{Success: false, Error: ae.Message, Code: ae.Code})
}

type errorBody struct {
	Success bool   `json:"success"`
	Error   string `json:"error"`
	Code    string `json:"code"`
}
