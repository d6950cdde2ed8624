package client

import (
	"encoding/json"
	"fmt"
)

// frame is any server → client WebSocket frame; fields unused by a type are
// left empty.
type frame struct {
	Type      string          `json:"type"`
	Channel   string          `json:"channel"`
	MessageID string          `json:"messageId"`
	EventType string          `json:"eventType"`
	ClientID  string          `json:"clientId"`
	Data      json.RawMessage `json:"data"`
	Timestamp int64           `json:"timestamp"`
	Code      string          `json:"code"`
	Error     string          `json:"error"`
	Recovered *bool           `json:"recovered"`
	// Gap fields, sent inline in a {"type":"gap",…} frame.
	After  string `json:"after"`
	Before string `json:"before"`
	Reason string `json:"reason"`
}

// decodeFrame parses one WebSocket text frame.
func decodeFrame(b []byte) (frame, error) {
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return frame{}, fmt.Errorf("decode frame %q: %w", truncate(b, 120), err)
	}
	if f.Type == "" {
		return frame{}, fmt.Errorf("decode frame %q: no type", truncate(b, 120))
	}
	if f.Type == "message" && f.MessageID == "" {
		return frame{}, fmt.Errorf("decode frame %q: message without messageId", truncate(b, 120))
	}
	return f, nil
}

// message converts a "message" frame to a Message.
func (f frame) message() Message {
	return Message{
		ID:        f.MessageID,
		Channel:   f.Channel,
		EventType: f.EventType,
		ClientID:  f.ClientID,
		Content:   f.Data,
		Timestamp: f.Timestamp,
	}
}

// gap converts a "gap" frame to a Gap.
func (f frame) gap() Gap {
	return Gap{Channel: f.Channel, After: f.After, Before: f.Before, Reason: f.Reason}
}

// subscribeFrame is the client's subscribe request; LastMessageID is the
// [ext] resume point.
type subscribeFrame struct {
	Type          string `json:"type"`
	Channel       string `json:"channel"`
	LastMessageID string `json:"lastMessageId,omitempty"`
}
