package jepsen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OpType is the role of a history entry: the start of an operation, one of
// its three endings, or an observation that has no start.
type OpType string

const (
	// Invoke starts an operation.
	Invoke OpType = "invoke"
	// OK ends an operation that certainly took effect (a 201 publish, a
	// completed read, an accepted subscription).
	OK OpType = "ok"
	// Fail ends an operation that certainly did not take effect.
	Fail OpType = "fail"
	// Info ends an operation whose outcome is unknown (a timeout after the
	// request was sent). An invoke with no ending counts as Info.
	Info OpType = "info"
	// Event is an observation within an open operation: a message or gap
	// received by a subscription, the end of a subscription, a nemesis step.
	Event OpType = "event"
	// Meta is the header line of a history file.
	Meta OpType = "meta"
)

// Func names what an operation does.
type Func string

const (
	// FPublish appends Value to Channel; its OK carries the message ID.
	FPublish Func = "publish"
	// FRead reads Channel from Node; its OK carries Messages, oldest
	// first. Without Mode it is a final read of the whole retained history
	// after the heal; with Mode it is one request made while the nemesis
	// runs (see ReadMode), and From and More bound what it covers.
	FRead Func = "read"
	// FSubscribe opens a subscription segment on Node for Channel over
	// Transport, resuming after From when set. The process's Recv and Gap
	// events until its next Subscribe or Unsubscribe belong to it.
	FSubscribe Func = "subscribe"
	// FRecv is a message (ID, Value) delivered to the open subscription.
	FRecv Func = "recv"
	// FGap is a gap record (Gap) delivered to the open subscription. A
	// since read during faults carries the answer's gap in Gap too.
	FGap Func = "gap"
	// FUnsubscribe ends the open subscription segment; Head says it was
	// held open to catch up with the channel's final head.
	FUnsubscribe Func = "unsubscribe"
	// FNemesis is a fault being injected or healed; Note says which.
	FNemesis Func = "nemesis"
)

// ReadMode is how a read made while the nemesis runs asks the server.
type ReadMode string

const (
	// ModeHistory is GET …/messages (page 1, newest first), a default
	// consistent read: it must hold every publish acknowledged before it
	// began.
	ModeHistory ReadMode = "history"
	// ModeSince is GET …/messages?since=From, a default consistent read of
	// what follows From.
	ModeSince ReadMode = "since"
	// ModeStale is ModeSince with stale=true: the node answers from what
	// it holds, which may lag, but must hold nothing uncommitted and keep
	// the channel's order.
	ModeStale ReadMode = "stale"
)

// Entry is one message of a read: its ID and the unique value the workload
// published in it.
type Entry struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// GapRecord is a gap a subscription was told about.
type GapRecord struct {
	After  string `json:"after"`
	Before string `json:"before"`
	Reason string `json:"reason,omitempty"`
}

// Op is one line of a history. Which fields are set depends on F and Type;
// see the Func constants.
type Op struct {
	// Index is the line's position in the history, from 0 (the header is
	// not counted).
	Index int `json:"index"`
	// Time is when the entry was recorded, measured from the history's
	// start on the recorder's monotonic clock.
	Time    Nanos  `json:"time"`
	Type    OpType `json:"type"`
	Process int    `json:"process"`
	F       Func   `json:"f"`

	Node      string     `json:"node,omitempty"`
	Channel   string     `json:"channel,omitempty"`
	Value     string     `json:"value,omitempty"`
	ID        string     `json:"id,omitempty"`
	Transport string     `json:"transport,omitempty"`
	From      string     `json:"from,omitempty"`
	Gap       *GapRecord `json:"gap,omitempty"`
	Messages  []Entry    `json:"messages,omitempty"`
	Error     string     `json:"error,omitempty"`
	Note      string     `json:"note,omitempty"`
	// Mode, on a read made while the nemesis runs, is its ReadMode; empty
	// on a final read.
	Mode ReadMode `json:"mode,omitempty"`
	// More, on a since read, says the server had more messages than it
	// returned (hasMore): the read covers only up to its last message. On
	// a history read it says the page was full: the read covers only back
	// to its oldest message.
	More bool `json:"more,omitempty"`
	// Stamp, on a publish's ok, is the server's time for the message
	// (Unix ms), which retention is measured from.
	Stamp int64 `json:"stamp,omitempty"`
	// Head, on an unsubscribe, is the channel's last ID read from every
	// node after the heal: the subscription was kept open until it had
	// received it (or its time ran out).
	Head string `json:"head,omitempty"`
	// Dropped, on an unsubscribe, counts messages the SDK discarded
	// because the server sent an ID at or below one already delivered.
	Dropped int `json:"dropped,omitempty"`
	// Reconnects, on an unsubscribe, counts the times the SDK reconnected
	// the subscription by itself (a dead or stalled link noticed by
	// heartbeat, a node gone), resuming from its last ID each time.
	Reconnects int `json:"reconnects,omitempty"`
}

// String renders op as its JSON line.
func (op Op) String() string {
	b, _ := json.Marshal(op)
	return string(b)
}

// Header is the first line of a history file: what is needed to reproduce
// and understand the run.
type Header struct {
	Seed  int64     `json:"seed"`
	Start time.Time `json:"start"`
	Nodes []string  `json:"nodes,omitempty"`
	Note  string    `json:"note,omitempty"`
}

// History is a run's header and its operations in recording order.
type History struct {
	Header Header
	Ops    []Op
}

// Nanos is a duration since the start of a history. It is written as a JSON
// number of seconds with nine decimals ("12.000345678"), exact and readable.
type Nanos int64

// Duration returns n as a time.Duration.
func (n Nanos) Duration() time.Duration { return time.Duration(n) }

func (n Nanos) MarshalJSON() ([]byte, error) {
	sign := ""
	v := int64(n)
	if v < 0 {
		sign, v = "-", -v
	}
	return []byte(fmt.Sprintf("%s%d.%09d", sign, v/1e9, v%1e9)), nil
}

func (n *Nanos) UnmarshalJSON(b []byte) error {
	s := string(b)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 9 {
		frac = frac[:9]
	}
	frac += strings.Repeat("0", 9-len(frac))
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return fmt.Errorf("time %q is not seconds with up to nine decimals: %w", b, err)
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return fmt.Errorf("time %q is not seconds with up to nine decimals: %w", b, err)
	}
	v := w*1e9 + f
	if neg {
		v = -v
	}
	*n = Nanos(v)
	return nil
}

// headerLine is the JSON shape of the header line.
type headerLine struct {
	Type OpType `json:"type"`
	Header
}

// Recorder appends operations to a history, stamping each with an index
// and the time since the recorder started, and writes each as one JSON line
// the moment it is recorded, so a crashed run still leaves its history. It
// is safe for concurrent use.
type Recorder struct {
	start time.Time

	mu  sync.Mutex // guards the fields below
	w   *bufio.Writer
	h   History
	err error
}

// NewRecorder starts a history with header h (h.Start is set to now when
// zero) and writes it to w, which may be nil to keep the history in memory
// only.
func NewRecorder(w io.Writer, h Header) *Recorder {
	r := &Recorder{start: time.Now()}
	if h.Start.IsZero() {
		h.Start = r.start
	}
	r.h.Header = h
	if w != nil {
		r.w = bufio.NewWriter(w)
		r.writeLine(headerLine{Type: Meta, Header: h})
	}
	return r
}

// Record stamps op with the next index and the current time, appends it and
// returns the stamped op.
func (r *Recorder) Record(op Op) Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	op.Index = len(r.h.Ops)
	op.Time = Nanos(time.Since(r.start))
	r.h.Ops = append(r.h.Ops, op)
	if r.w != nil {
		r.writeLine(op)
		// Flush per line: a history is worth more than the syscalls.
		if err := r.w.Flush(); err != nil && r.err == nil {
			r.err = fmt.Errorf("write history: %w", err)
		}
	}
	return op
}

// writeLine requires r.mu held (or r not yet shared).
func (r *Recorder) writeLine(v any) {
	b, err := json.Marshal(v)
	if err == nil {
		b = append(b, '\n')
		_, err = r.w.Write(b)
	}
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("write history: %w", err)
	}
}

// History returns a copy of what has been recorded so far.
func (r *Recorder) History() History {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.h
	h.Ops = append([]Op(nil), r.h.Ops...)
	return h
}

// Err returns the first error writing the history, if any.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// WriteHistory writes h in the history file format: the header line, then
// one JSON object per operation.
func WriteHistory(w io.Writer, h History) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(headerLine{Type: Meta, Header: h.Header}); err != nil {
		return fmt.Errorf("write history header: %w", err)
	}
	for _, op := range h.Ops {
		if err := enc.Encode(op); err != nil {
			return fmt.Errorf("write history op %d: %w", op.Index, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

// ErrTruncated is returned by ReadHistory when the last line is cut short,
// as when the run crashed mid-write; the history before it is returned too.
var ErrTruncated = errors.New("history ends in a partial line")

// ReadHistory parses a history file. Blank lines are skipped; the header
// line is optional. Errors name the line number.
func ReadHistory(r io.Reader) (History, error) {
	var h History
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return h, fmt.Errorf("read history line %d: %w", n, err)
		}
		eof := err != nil
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) > 0 {
			var probe struct {
				Type OpType `json:"type"`
			}
			if jerr := json.Unmarshal(trimmed, &probe); jerr != nil {
				if eof && len(line) > 0 && line[len(line)-1] != '\n' {
					return h, fmt.Errorf("history line %d: %w", n, ErrTruncated)
				}
				return h, fmt.Errorf("history line %d: %w", n, jerr)
			}
			switch probe.Type {
			case Meta:
				var hl headerLine
				if jerr := json.Unmarshal(trimmed, &hl); jerr != nil {
					return h, fmt.Errorf("history line %d: header: %w", n, jerr)
				}
				h.Header = hl.Header
			case Invoke, OK, Fail, Info, Event:
				var op Op
				if jerr := json.Unmarshal(trimmed, &op); jerr != nil {
					return h, fmt.Errorf("history line %d: %w", n, jerr)
				}
				h.Ops = append(h.Ops, op)
			default:
				return h, fmt.Errorf("history line %d: type %q is not one of invoke, ok, fail, info, event, meta", n, probe.Type)
			}
		}
		if eof {
			return h, nil
		}
	}
}
