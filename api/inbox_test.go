package api

import (
	"sync/atomic"
	"testing"

	"github.com/fasthttp/websocket"
)

// TestInbox_BudgetInBytes: the frames a WebSocket's inbox holds while its
// handler is busy are bounded in bytes, not only in number, since the
// client picks their size: 200 frames of 16 KiB (MaxFrameBytes) queue at
// most 2 MiB, and frames past MaxFrameBytes (up to 1 MiB each, read whole)
// are kept only as their size.
func TestInbox_BudgetInBytes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		frames int
	}{
		{"frames of MaxFrameBytes", 16 << 10, 200},
		{"oversized frames", maxReadBytes, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			var held atomic.Int64
			in := &inbox{
				handle: func(_ int, data []byte, _ int) {
					<-release
					held.Add(int64(len(data)))
				},
				refuse:   func() {},
				maxFrame: 16 << 10,
			}
			frame := make([]byte, tc.size)
			for range tc.frames {
				in.add(websocket.TextMessage, frame)
			}
			close(release)
			in.wg.Wait()
			if n := held.Load(); n > 2<<20 {
				t.Fatalf("the inbox held %d bytes of %d frames of %d bytes for a busy handler; want at most 2 MiB", n, tc.frames, tc.size)
			}
		})
	}
}
