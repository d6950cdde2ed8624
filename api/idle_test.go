package api

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pushflo/pushflo/internal/testwait"
	"github.com/pushflo/pushflo/stream"
)

// TestWS_IdleConnDropsReadBuffer: an idle WebSocket does not keep the
// request read buffer (MaxHeaderBytes) for its life. With a 64 KiB header
// budget, 200 idle WebSockets grew the heap by about 66 KiB each before
// (fasthttp's reader stayed under the hijacked connection); now by a few
// KiB, whatever MaxHeaderBytes is.
func TestWS_IdleConnDropsReadBuffer(t *testing.T) {
	const headerBytes = 64 << 10
	const conns = 200
	ts := startServer(t, func(c *Config, _ *stream.Config) { c.MaxHeaderBytes = headerBytes })
	host := strings.TrimPrefix(ts.url, "http://")
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET /ws?token=%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", testKeys.Publish, host)
		// Read the 101 answer and the "connected" frame, then stay idle.
		var got []byte
		buf := make([]byte, 256)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for !bytes.Contains(got, []byte(`"connected"`)) {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("handshake: %v after %q", err, got)
			}
			got = append(got, buf[:n]...)
		}
		if !bytes.HasPrefix(got, []byte("HTTP/1.1 101")) {
			t.Fatalf("handshake answer %q", got)
		}
		return c
	}
	dial() // warm pools and lazily built state
	before := heapInuse()
	for range conns {
		dial()
	}
	testwait.For(t, "every idle WebSocket registered with the hub", func() bool { return ts.hub.ConnCount() >= conns+1 })
	perConn := (int64(heapInuse()) - int64(before)) / conns
	t.Logf("heap per idle WebSocket (server and raw client) with MaxHeaderBytes %d: %d bytes", headerBytes, perConn)
	if perConn > 16<<10 {
		t.Fatalf("each idle WebSocket holds %d bytes of heap with MaxHeaderBytes %d; want well under it (the read buffer is returned after the upgrade)", perConn, headerBytes)
	}
}
