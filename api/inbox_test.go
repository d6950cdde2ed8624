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
	t.Run("frames of MaxFrameBytes", func(t *testing.T) { inboxHolds(t, 16<<10, 200) })
	t.Run("oversized frames", func(t *testing.T) { inboxHolds(t, maxReadBytes, 20) })
}

// inboxHolds adds n frames of size bytes to an inbox whose handler is held
// busy until all are added, and fails if more than 2 MiB of them waited.
func inboxHolds(t *testing.T, size, n int) {
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
	frame := make([]byte, size)
	for range n {
		in.add(websocket.TextMessage, frame)
	}
	close(release)
	in.wg.Wait()
	if b := held.Load(); b > 2<<20 {
		t.Fatalf("the inbox held %d bytes of %d frames of %d bytes for a busy handler; want at most 2 MiB", b, n, size)
	}
}
