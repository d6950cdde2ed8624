package client

import (
	"encoding/json"
	"time"
)

// Message is one message of a channel, as history, SSE and (converted)
// WebSocket deliveries carry it.
type Message struct {
	// ID is the message ID: opaque, the same on every node and transport,
	// and byte-wise ordered in publish order within the channel.
	ID string `json:"id"`
	// Channel is the channel name.
	Channel string `json:"channel"`
	// EventType is the publisher's event type ("message" by default).
	EventType string `json:"eventType"`
	// ClientID is the publisher-supplied client ID, possibly empty.
	ClientID string `json:"clientId"`
	// Content is the JSON object that was published.
	Content json.RawMessage `json:"content"`
	// Timestamp is the server's publish time in Unix milliseconds.
	Timestamp int64 `json:"timestamp"`
	// CreatedAt is the same instant in ISO 8601; WebSocket deliveries leave
	// it empty.
	CreatedAt string `json:"createdAt,omitempty"`
}

// Time returns Timestamp as a time.Time.
func (m Message) Time() time.Time { return time.UnixMilli(m.Timestamp) }

// Gap says that messages of Channel after After and before Before were
// compacted away before the subscriber or reader could see them.
type Gap struct {
	Channel string `json:"channel"`
	// After is the ID the caller resumed from.
	After string `json:"after"`
	// Before is the first retained ID; delivery continues with it.
	Before string `json:"before"`
	// Reason is why the messages are gone, such as "retention".
	Reason string `json:"reason"`
}

// Pagination describes one page of a history listing.
type Pagination struct {
	Page       int `json:"page"`
	PageSize   int `json:"pageSize"`
	Total      int `json:"total"`
	TotalPages int `json:"totalPages"`
}
