package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// PublishResult is the data of a 201 answer to a publish.
type PublishResult struct {
	ID          string `json:"id"`
	ChannelSlug string `json:"channelSlug"`
	EventType   string `json:"eventType"`
	ClientID    string `json:"clientId"`
	// Delivered is how many subscribers the server handed the message to,
	// as far as the answering node knew.
	Delivered int `json:"delivered"`
	// CreatedAt is the server's ISO 8601 publish time.
	CreatedAt string `json:"createdAt"`
}

// CreatedTime parses CreatedAt; it returns the zero time if it cannot.
func (r PublishResult) CreatedTime() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, r.CreatedAt)
	return t
}

// PublishOption sets an optional field of a publish.
type PublishOption func(*publishOptions)

type publishOptions struct {
	eventType      string
	clientID       string
	idempotencyKey string
}

// WithEventType sets the message's eventType (the server's default is
// "message").
func WithEventType(t string) PublishOption { return func(o *publishOptions) { o.eventType = t } }

// WithClientID sets the message's clientId.
func WithClientID(id string) PublishOption { return func(o *publishOptions) { o.clientID = id } }

// WithIdempotencyKey sends the Idempotency-Key header: the server answers a
// repeat with the same key on the same channel with the first result instead
// of appending again. With a key, Publish also retries on other nodes after
// an unknown outcome (a timeout, 503 OUTCOME_UNKNOWN, another 5xx), which is
// then safe.
func WithIdempotencyKey(key string) PublishOption {
	return func(o *publishOptions) { o.idempotencyKey = key }
}

// Publish appends content (a JSON object: a map, a struct, or
// json.RawMessage) to channel and returns once a majority of the cluster
// has committed it. It tries each node at most once, in turn, while a node
// is unreachable or answers 503 UNAVAILABLE (not applied); after any other
// answer, or a send whose outcome is unknown, it stops, unless an
// idempotency key makes a repeat safe. It does not wait for Retry-After:
// when every node failed, the error's APIError carries it.
//
// A failure is a *RequestError, wrapping an *APIError when a node answered
// non-2xx. NotApplied(err) tells a definite failure from an unknown outcome.
func (c *Client) Publish(ctx context.Context, channel string, content any, opts ...PublishOption) (PublishResult, error) {
	if err := ValidateChannel(channel); err != nil {
		return PublishResult{}, &RequestError{Op: "publish", NotApplied: true, Err: err}
	}
	var o publishOptions
	for _, opt := range opts {
		opt(&o)
	}
	raw, err := toRaw(content)
	if err != nil {
		return PublishResult{}, &RequestError{Op: "publish", NotApplied: true, Err: fmt.Errorf("encode content: %w", err)}
	}
	body, err := json.Marshal(struct {
		Content   json.RawMessage `json:"content"`
		EventType string          `json:"eventType,omitempty"`
		ClientID  string          `json:"clientId,omitempty"`
	}{raw, o.eventType, o.clientID})
	if err != nil {
		return PublishResult{}, &RequestError{Op: "publish", NotApplied: true, Err: fmt.Errorf("encode request: %w", err)}
	}
	h := bearer(c.cfg.SecretKey)
	if o.idempotencyKey != "" {
		h.Set("Idempotency-Key", o.idempotencyKey)
	}
	env, err := c.call(ctx, "publish", http.MethodPost, channelPath(channel), nil, body, h, o.idempotencyKey != "")
	if err != nil {
		return PublishResult{}, err
	}
	var res PublishResult
	if err := json.Unmarshal(env.Data, &res); err != nil {
		// The server answered 2xx: the message is committed, only the body
		// is unreadable.
		return PublishResult{}, &RequestError{Op: "publish", Err: fmt.Errorf("decode publish result %q: %w", truncate(env.Data, 200), err)}
	}
	return res, nil
}

func toRaw(content any) (json.RawMessage, error) {
	switch v := content.(type) {
	case json.RawMessage:
		return v, nil
	case []byte:
		return json.RawMessage(v), nil
	}
	return json.Marshal(content)
}
