package api

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// TestStream_StalledResumersBoundedMemory: subscribers that resume from the
// start of a channel of large messages and then read nothing hold about
// their queue budget each, not the channel (issue 11 item 5). Half are
// WebSocket, half SSE; their sockets have small receive buffers so the
// kernel absorbs little.
func TestStream_StalledResumersBoundedMemory(t *testing.T) {
	ts := startServer(t, nil)
	const msgs, size, conns = 600, 30_000, 16
	content := `{"pad":"` + strings.Repeat("x", size) + `"}`
	ts.publishConcurrently("big", msgs, func(int) string { return content })
	base := heapInuse()
	dial := func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(4096)
		}
		return c, err
	}
	first := "0000000000000000"
	for i := 0; i < conns/2; i++ {
		d := &websocket.Dialer{NetDial: dial, HandshakeTimeout: 10 * time.Second}
		c := ts.dialWSWith(d, testKeys.Publish)
		c.expect("connected")
		c.send(map[string]any{"type": "subscribe", "channel": "big", "lastMessageId": first})
		// and never read again
	}
	host := strings.TrimPrefix(ts.url, "http://")
	for i := 0; i < conns/2; i++ {
		c, err := dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET /sse?channel=big&token=%s&lastEventId=%s HTTP/1.1\r\nHost: x\r\n\r\n", testKeys.Publish, first)
	}
	// Watch the heap while the replays fill what they may.
	var peak uint64
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if h := heapInuse(); h > peak {
			peak = h
		}
	}
	grown := int64(peak) - int64(base)
	budget := int64(ts.hub.Config().QueueBytes)
	// Per connection (1.5 MiB): its queue, a replay page, a write batch and its
	// rendering; plus a fixed part (Pebble's block cache, the race
	// detector's bookkeeping).
	bound := int64(conns*(3<<19) + 24<<20)
	t.Logf("heap %d MiB before, peak %d MiB with %d stalled resumers of %d × %d B (grown %d KiB; bound %d KiB)", base>>20, peak>>20, conns, msgs, size, grown>>10, bound>>10)
	if grown > bound {
		t.Fatalf("heap grew %d KiB with %d stalled subscribers; bound %d KiB", grown>>10, conns, bound>>10)
	}
	if q := ts.hub.QueuedBytes(); q > conns*int(budget) {
		t.Fatalf("%d bytes queued on %d connections; budget %d each", q, conns, budget)
	}
	// The server still serves.
	ts.publish("other", `{"ok":1}`)
}
