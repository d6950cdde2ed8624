package api

import (
	"encoding/binary"
	"encoding/json"
	"strconv"
	"time"

	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/stream"
)

// wsLeanMessageFrame is a delivery with the protocol's flat fields only,
// for clients that connect with ?frames=lean: the content once instead of
// twice.
type wsLeanMessageFrame struct {
	Type      string          `json:"type"`
	Channel   string          `json:"channel"`
	MessageID string          `json:"messageId"`
	EventType string          `json:"eventType"`
	ClientID  string          `json:"clientId"`
	Data      json.RawMessage `json:"data"`
	Timestamp int64           `json:"timestamp"`
}

// wsMessageFrame is a delivery in the full shape (the default). The flat
// fields are the protocol's; the nested Message repeats them in the shape
// the hosted service's own SDK up to 1.0.4 (@pushflodev/sdk,
// PushFloClient) reads — message.id, message.content — so that SDK works
// unmodified.
type wsMessageFrame struct {
	wsLeanMessageFrame
	Message messageJSON `json:"message"`
}

// wsFormat renders a message as a complete WebSocket text frame, header
// included, written as is to every connection: the full shape, flat
// fields and the nested message.
var wsFormat = stream.NewFormat(func(m *log.Message) []byte {
	b, _ := json.Marshal(wsMessageFrame{leanFrame(m), toJSON(m)})
	return appendWSFrame(nil, opText, b)
})

// wsLeanFormat renders the lean shape (?frames=lean) as a complete frame.
var wsLeanFormat = stream.NewFormat(func(m *log.Message) []byte {
	b, _ := json.Marshal(leanFrame(m))
	return appendWSFrame(nil, opText, b)
})

func leanFrame(m *log.Message) wsLeanMessageFrame {
	return wsLeanMessageFrame{Type: "message", Channel: m.Channel, MessageID: m.ID(),
		EventType: m.EventType, ClientID: m.ClientID, Data: validUTF8Content(m.Content), Timestamp: m.Time}
}

// sseFormat renders a message as an SSE event: id, event, data (the
// message as history shows it).
var sseFormat = stream.NewFormat(func(m *log.Message) []byte {
	data, _ := json.Marshal(toJSON(m))
	b := make([]byte, 0, len(data)+len(m.EventType)+48)
	b = append(b, "id: "...)
	b = append(b, m.ID()...)
	b = append(b, "\nevent: "...)
	b = append(b, m.EventType...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
})

// WebSocket opcodes (RFC 6455 5.2).
const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA
)

// appendWSFrame appends one final, unmasked (server to client) frame.
func appendWSFrame(dst []byte, op byte, payload []byte) []byte {
	n := len(payload)
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		dst = append(dst, byte(n))
	case n < 1<<16:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// wsControl is a control frame (connected, subscribed, error, pong…) as a
// complete WebSocket text frame, queued for one connection.
func wsControl(v any) stream.Frame {
	b, _ := json.Marshal(v)
	return stream.Frame{Data: appendWSFrame(nil, opText, b)}
}

// gapWS renders a gap announcement as a WebSocket "gap" frame's JSON.
func gapWS(g *log.Gap) []byte {
	b, _ := json.Marshal(struct {
		Type string `json:"type"`
		*gapJSON
	}{"gap", toGapJSON(g)})
	return b
}

// gapSSE renders a gap announcement as an SSE "event: gap".
func gapSSE(g *log.Gap) []byte {
	b, _ := json.Marshal(toGapJSON(g))
	return []byte("event: gap\ndata: " + string(b) + "\n\n")
}

func nowMs() string { return strconv.FormatInt(time.Now().UnixMilli(), 10) }
