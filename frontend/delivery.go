package frontend

import (
	"encoding/binary"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/pushflo/pushflo/log"
)

// delivery is one message on its way to subscribers. Its frames are
// rendered once, on first use, and shared by every connection.
type delivery struct {
	msg log.Message
	// picked is when the tailer picked the message up (zero for replay).
	picked time.Time

	wsOnce  sync.Once
	ws      []byte // a complete WebSocket text frame
	sseOnce sync.Once
	sse     []byte
}

// wsMessageFrame is a delivery. The flat fields are protocol.md's; the
// nested Message repeats them in the shape the hosted service's own SDK
// (@pushflodev/sdk, PushFloClient) reads — message.id, message.content —
// so that SDK works unmodified.
type wsMessageFrame struct {
	Type      string          `json:"type"`
	Channel   string          `json:"channel"`
	MessageID string          `json:"messageId"`
	EventType string          `json:"eventType"`
	ClientID  string          `json:"clientId"`
	Data      json.RawMessage `json:"data"`
	Timestamp int64           `json:"timestamp"`
	Message   messageJSON     `json:"message"`
}

// wsFrame returns the WebSocket frame of the message, header included,
// built once and written as is to every connection.
func (d *delivery) wsFrame() []byte {
	d.wsOnce.Do(func() {
		b, _ := json.Marshal(wsMessageFrame{Type: "message", Channel: d.msg.Channel, MessageID: d.msg.ID(),
			EventType: d.msg.EventType, ClientID: d.msg.ClientID, Data: d.msg.Content, Timestamp: d.msg.Time,
			Message: toJSON(&d.msg)})
		d.ws = appendWSFrame(nil, opText, b)
	})
	return d.ws
}

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

// sseFrame returns the SSE event: id, event, data (the message JSON).
func (d *delivery) sseFrame() []byte {
	d.sseOnce.Do(func() {
		data, _ := json.Marshal(toJSON(&d.msg))
		b := make([]byte, 0, len(data)+len(d.msg.EventType)+48)
		b = append(b, "id: "...)
		b = append(b, d.msg.ID()...)
		b = append(b, "\nevent: "...)
		b = append(b, d.msg.EventType...)
		b = append(b, "\ndata: "...)
		b = append(b, data...)
		d.sse = append(b, "\n\n"...)
	})
	return d.sse
}

// frame is one item of a connection's outgoing queue: a shared message
// delivery, or a control frame of this connection alone.
type frame struct {
	d *delivery
	// ws and sse are a control frame as JSON (WebSocket) and as an SSE
	// event; one of them may be empty when the frame has no form there.
	ws  []byte
	sse []byte
	// wsRaw is a complete WebSocket frame written as is (ping, pong).
	wsRaw []byte
}

func controlFrame(v any) frame {
	b, _ := json.Marshal(v)
	return frame{ws: b}
}

// gapFrame announces messages dropped by retention: a "gap" frame on
// WebSocket, an "event: gap" on SSE.
func gapFrame(g *gapJSON) frame {
	b, _ := json.Marshal(g)
	ws, _ := json.Marshal(struct {
		Type string `json:"type"`
		*gapJSON
	}{"gap", g})
	return frame{ws: ws, sse: []byte("event: gap\ndata: " + string(b) + "\n\n")}
}

func nowMs() string { return strconv.FormatInt(time.Now().UnixMilli(), 10) }
