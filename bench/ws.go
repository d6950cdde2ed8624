package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/fasthttp/websocket"
)

// Frames are read straight off the wire rather than through the client
// SDK: at 100,000 deliveries a second on a 2-core machine shared with the
// server, decoding every frame into a struct and passing it through a Go
// channel would make the generator, not the server, the thing measured.
// A reader finds the few fields it needs by their byte prefix.
var (
	keyBT        = []byte(`"bt":`)
	keyMessageID = []byte(`"messageId":"`)
	prefixMsg    = []byte(`{"type":"message"`)
)

// messageID returns the messageId field of a message frame, and false
// when the frame has none.
func messageID(f []byte) ([]byte, bool) {
	i := bytes.Index(f, keyMessageID)
	if i < 0 {
		return nil, false
	}
	id := f[i+len(keyMessageID):]
	if j := bytes.IndexByte(id, '"'); j >= 0 {
		id = id[:j]
	}
	return id, true
}

// wsFramesQuery asks for lean message frames (flat fields only), as
// pushflo's SDKs do; --frames full sets it empty, for the shape the
// hosted SDK ≤ 1.0.4 reads. A server without the option ignores it.
var wsFramesQuery = "&frames=lean"

// wsConn is one subscriber WebSocket.
type wsConn struct {
	c   *websocket.Conn
	buf []byte
}

// dialWS opens /ws on base with the given token and waits for the
// server's "connected" frame.
func dialWS(ctx context.Context, base, token string, readBuf int) (*wsConn, error) {
	u := "ws" + strings.TrimPrefix(base, "http") + "/ws?token=" + url.QueryEscape(token) + wsFramesQuery
	d := websocket.Dialer{ReadBufferSize: readBuf, WriteBufferSize: 256, HandshakeTimeout: 15 * time.Second}
	c, resp, err := d.DialContext(ctx, u, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: status %d: %w", base, resp.StatusCode, err)
		}
		return nil, fmt.Errorf("dial %s: %w", base, err)
	}
	w := &wsConn{c: c, buf: make([]byte, 0, 512)}
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	f, err := w.next()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("read connected frame from %s: %w", base, err)
	}
	if !bytes.HasPrefix(f, []byte(`{"type":"connected"`)) {
		c.Close()
		return nil, fmt.Errorf("first frame from %s is %s; want connected", base, truncate(f, 200))
	}
	c.SetReadDeadline(time.Time{})
	return w, nil
}

// next reads one frame into the connection's buffer; the slice is valid
// until the next call.
func (w *wsConn) next() ([]byte, error) {
	_, r, err := w.c.NextReader()
	if err != nil {
		return nil, err
	}
	b := w.buf[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	w.buf = b
	return b, nil
}

// subscribe sends a subscribe frame (resuming after lastID when not empty)
// and waits for "subscribed". Frames of other kinds before it are
// returned to onEarly (a resume may not interleave, but be safe).
func (w *wsConn) subscribe(channel, lastID string, timeout time.Duration) error {
	f := map[string]string{"type": "subscribe", "channel": channel}
	if lastID != "" {
		f["lastMessageId"] = lastID
	}
	b, _ := json.Marshal(f)
	w.c.SetWriteDeadline(time.Now().Add(timeout))
	if err := w.c.WriteMessage(websocket.TextMessage, b); err != nil {
		return fmt.Errorf("send subscribe %s: %w", channel, err)
	}
	w.c.SetReadDeadline(time.Now().Add(timeout))
	defer w.c.SetReadDeadline(time.Time{})
	for {
		fr, err := w.next()
		if err != nil {
			return fmt.Errorf("wait for subscribed %s: %w", channel, err)
		}
		if bytes.HasPrefix(fr, []byte(`{"type":"subscribed"`)) {
			return nil
		}
		if bytes.HasPrefix(fr, []byte(`{"type":"error"`)) {
			return fmt.Errorf("subscribe %s: %s", channel, truncate(fr, 300))
		}
	}
}

func (w *wsConn) close() {
	w.c.SetWriteDeadline(time.Now().Add(time.Second))
	_ = w.c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	_ = w.c.Close()
}

// errServerFrame is an error frame from the server, such as a slow
// consumer disconnect.
var errServerFrame = errors.New("server sent an error frame")
