package stream

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushflo/pushflo/log"
)

// maxFormats is how many Formats a process may register.
const maxFormats = 4

// Format is one transport's rendering of a message (a WebSocket frame, an
// SSE event). Each delivery is rendered at most once per Format, and the
// bytes are shared by every connection that receives it.
type Format struct {
	slot   int
	render func(m *log.Message) []byte
}

var nFormats atomic.Int32

// NewFormat registers a rendering. Call it once per transport, at package
// initialisation: at most four may exist.
func NewFormat(render func(m *log.Message) []byte) *Format {
	n := int(nFormats.Add(1)) - 1
	if n >= maxFormats {
		panic(fmt.Sprintf("stream: %d formats registered; at most %d may be", n+1, maxFormats))
	}
	return &Format{slot: n, render: render}
}

// Delivery is one message on its way to subscribers.
type Delivery struct {
	Message log.Message
	// Picked is when the tailer picked the message up; zero for replay.
	Picked time.Time

	rendered [maxFormats]struct {
		once sync.Once
		b    []byte
	}
}

// Render returns the message in a Format, rendering it on first use. The
// bytes must not be modified.
func (d *Delivery) Render(f *Format) []byte {
	r := &d.rendered[f.slot]
	r.once.Do(func() { r.b = f.render(&d.Message) })
	return r.b
}
