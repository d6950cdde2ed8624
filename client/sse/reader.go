// Package sse reads a text/event-stream (Server-Sent Events) the way the
// WHATWG HTML standard's event-stream interpretation does: lines end in CR,
// LF or CRLF; "data" lines of one event are joined by LF; a blank line
// dispatches the event; lines starting with ':' are comments. It is the one
// SSE reader of the pushflo repository: the Go client, the command line,
// the load generator and the server's tests all read streams with it.
package sse

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// Event is one dispatched event.
type Event struct {
	// ID is the event's own "id" field, empty when it had none (see
	// Reader.LastEventID for the standard's sticky value).
	ID string
	// Type is the "event" field, empty when absent (a browser then calls
	// it "message").
	Type string
	// Data is the "data" lines joined by LF.
	Data string
	// Comment is the text after ':' of a comment line, for a Reader with
	// Comments set; such an Event has no other field set.
	Comment string
}

// DefaultMaxLineBytes bounds one line when NewReader is given 0.
const DefaultMaxLineBytes = 1 << 20

// Reader reads events from a stream. It is not safe for concurrent use.
type Reader struct {
	sc     *bufio.Scanner
	lastID string
	// The event being read: its fields so far, whether it has data, and
	// whether any field line was read since the last dispatch.
	cur     Event
	data    strings.Builder
	hasData bool
	pending bool

	// OnLine, if set, is called for every line read, comments included, so
	// a caller can tell a live stream from a stalled one.
	OnLine func()
	// Comments makes Next also return each comment line, as an Event with
	// only Comment set (a server's ": connected", say). A comment inside an
	// event does not disturb it.
	Comments bool
}

// NewReader returns a Reader of r whose lines may be at most maxLineBytes
// long (0: DefaultMaxLineBytes); a longer line ends Next with
// bufio.ErrTooLong.
func NewReader(r io.Reader, maxLineBytes int) *Reader {
	if maxLineBytes <= 0 {
		maxLineBytes = DefaultMaxLineBytes
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, maxLineBytes)), maxLineBytes)
	sc.Split(splitLines)
	return &Reader{sc: sc}
}

// LastEventID is the last "id" field seen, kept across events as the
// standard's last event ID buffer is (what a browser would send as
// Last-Event-ID on reconnect).
func (r *Reader) LastEventID() string { return r.lastID }

// Next returns the next event with data (or comment, with Comments set).
// It returns io.EOF when the stream ends cleanly between events,
// io.ErrUnexpectedEOF when it ends inside one, or the underlying reader's
// error.
func (r *Reader) Next() (Event, error) {
	for r.sc.Scan() {
		if r.OnLine != nil {
			r.OnLine()
		}
		line := r.sc.Text()
		if line == "" {
			if r.hasData {
				ev := r.cur
				ev.Data = r.data.String()
				r.reset()
				return ev, nil
			}
			// An event without data is not dispatched; its fields reset.
			r.reset()
			continue
		}
		if line[0] == ':' {
			if r.Comments {
				return Event{Comment: strings.TrimPrefix(line[1:], " ")}, nil
			}
			continue
		}
		field, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		r.pending = true
		switch field {
		case "data":
			if r.hasData {
				r.data.WriteByte('\n')
			}
			r.data.WriteString(value)
			r.hasData = true
		case "event":
			r.cur.Type = value
		case "id":
			if !strings.ContainsRune(value, 0) {
				r.cur.ID = value
				r.lastID = value
			}
		}
		// "retry" and unknown fields are ignored.
	}
	if err := r.sc.Err(); err != nil {
		return Event{}, err
	}
	if r.pending || r.hasData {
		return Event{}, io.ErrUnexpectedEOF
	}
	return Event{}, io.EOF
}

func (r *Reader) reset() {
	r.cur = Event{}
	r.data.Reset()
	r.hasData, r.pending = false, false
}

// splitLines is a bufio.SplitFunc for lines ended by CR, LF or CRLF.
func splitLines(data []byte, atEOF bool) (int, []byte, error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		// CR: swallow a following LF, which may not have arrived yet.
		if i+1 < len(data) {
			if data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
			return i + 1, data[:i], nil
		}
		if atEOF {
			return i + 1, data[:i], nil
		}
		return 0, nil, nil
	}
	if atEOF {
		// A final line without terminator is not a complete line; report it
		// so Next can see the stream ended mid-event.
		return len(data), data, nil
	}
	return 0, nil, nil
}
