package log

import (
	"encoding/json"
	"time"
)

// Channel is the record kept for each channel: its settings, set through the
// channels API, and its counters, kept up to date by every append and
// expiry. A channel comes into being on its first publish or when created
// through the API.
type Channel struct {
	// Slug is the channel's name as used in paths and frames.
	Slug string `json:"slug"`
	// Name is the display name; it defaults to Slug.
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	IsPrivate   bool            `json:"isPrivate,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
	// Explicit is true once the channel was created or changed through the
	// channels API; such channels stay listed when their messages expire.
	Explicit bool `json:"explicit,omitempty"`
	// Retention overrides the server's default retention; zero means the
	// default.
	Retention time.Duration `json:"retention,omitempty"`
	// MaxMessages and MaxBytes cap what is kept; zero means no cap.
	MaxMessages int64 `json:"maxMessages,omitempty"`
	MaxBytes    int64 `json:"maxBytes,omitempty"`
	// CreatedAt and UpdatedAt are Unix milliseconds.
	CreatedAt int64 `json:"createdAt"`
	UpdatedAt int64 `json:"updatedAt"`
	// CreatedPos is the position at which the channel was created; it makes
	// the channel's ID.
	CreatedPos uint64 `json:"createdPos"`

	// MessageCount and Bytes count the retained messages.
	MessageCount int64 `json:"messageCount"`
	Bytes        int64 `json:"bytes"`
	// DroppedPos is the position of the newest message that expired or was
	// deleted (0 if none): a reader resuming after a position below it has
	// missed messages. LastPos is the position of the newest message ever
	// appended (0 if none).
	DroppedPos uint64 `json:"droppedPos,omitempty"`
	LastPos    uint64 `json:"lastPos"`
	// LastTime is the time of the newest message, Unix milliseconds.
	LastTime int64 `json:"lastTime"`
}

// ID returns the channel's stable identifier.
func (c *Channel) ID() string { return "ch_" + FormatID(c.CreatedPos) }

// Settings are the fields of a channel that the channels API sets. A nil
// field is left as it is.
type Settings struct {
	Name        *string
	Description *string
	IsPrivate   *bool
	Metadata    *json.RawMessage
	Retention   *time.Duration
	MaxMessages *int64
	MaxBytes    *int64
}

func (s *Settings) applyTo(c *Channel) {
	setIfGiven(&c.Name, s.Name)
	setIfGiven(&c.Description, s.Description)
	setIfGiven(&c.IsPrivate, s.IsPrivate)
	if s.Metadata != nil {
		c.Metadata = append(json.RawMessage(nil), (*s.Metadata)...)
	}
	setIfGiven(&c.Retention, s.Retention)
	setIfGiven(&c.MaxMessages, s.MaxMessages)
	setIfGiven(&c.MaxBytes, s.MaxBytes)
}

// setIfGiven sets *field to *v, unless v is nil (a setting left as it is).
func setIfGiven[T any](field, v *T) {
	if v != nil {
		*field = *v
	}
}
