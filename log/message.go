package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// MaxEntriesPerIndex is the most messages one Raft entry may carry: the low
// 16 bits of a position number them from 1.
const MaxEntriesPerIndex = 1<<16 - 1

// Message is one stored message. Content is the raw JSON object the
// publisher sent; callers must not modify it.
type Message struct {
	Channel   string
	Position  uint64
	EventType string
	ClientID  string
	Content   []byte
	// Time is when the leader accepted the message, in Unix milliseconds.
	// It never decreases along the log.
	Time int64
}

// ID returns the message's ID: its position as 16 lowercase hex digits.
func (m *Message) ID() string { return FormatID(m.Position) }

// CreatedAt returns Time as a time.Time in UTC.
func (m *Message) CreatedAt() time.Time { return time.UnixMilli(m.Time).UTC() }

// Position returns the position of the offset-th message (1-based) of the
// Raft entry at index.
func Position(index uint64, offset int) uint64 { return index<<16 | uint64(offset) }

// IndexOf returns the Raft index that carried the message at pos.
func IndexOf(pos uint64) uint64 { return pos >> 16 }

// FormatID renders a position as a message ID.
func FormatID(pos uint64) string {
	var b [16]byte
	const hex = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b[i] = hex[pos&0xf]
		pos >>= 4
	}
	return string(b[:])
}

// ErrBadID is returned when a string is not a message ID.
var ErrBadID = errors.New("not a message ID")

// ParseID returns the position a message ID names.
func ParseID(id string) (uint64, error) {
	if len(id) != 16 {
		return 0, fmt.Errorf("%w: %q is %d characters; IDs are 16 hex digits", ErrBadID, truncate(id), len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return 0, fmt.Errorf("%w: %q holds %q; IDs are 16 lowercase hex digits", ErrBadID, truncate(id), c)
		}
	}
	pos, err := strconv.ParseUint(id, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrBadID, err)
	}
	return pos, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// encodeMessage renders the value of a message key: time, eventType,
// clientID, content. Channel and position live in the key.
func encodeMessage(dst []byte, m *Message) []byte {
	dst = binary.AppendUvarint(dst, uint64(m.Time))
	dst = binary.AppendUvarint(dst, uint64(len(m.EventType)))
	dst = append(dst, m.EventType...)
	dst = binary.AppendUvarint(dst, uint64(len(m.ClientID)))
	dst = append(dst, m.ClientID...)
	return append(dst, m.Content...)
}

var errCorrupt = errors.New("corrupt message record")

// decodeMessage fills m from a message value; m.Content is a copy.
func decodeMessage(v []byte, m *Message) error {
	t, ev, v, err := decodeMeta(v)
	if err != nil {
		return err
	}
	m.Time = t
	m.EventType = string(ev)
	var s string
	if s, v, err = readString(v); err != nil {
		return err
	}
	m.ClientID = s
	m.Content = append([]byte(nil), v...)
	return nil
}

func readString(v []byte) (string, []byte, error) {
	l, n := binary.Uvarint(v)
	if n <= 0 || uint64(len(v)-n) < l {
		return "", nil, errCorrupt
	}
	return string(v[n : n+int(l)]), v[n+int(l):], nil
}

// timeOf returns the time of a message value without decoding the rest.
func timeOf(v []byte) (int64, error) {
	t, n := binary.Uvarint(v)
	if n <= 0 {
		return 0, errCorrupt
	}
	return int64(t), nil
}

// decodeMeta returns a message value's time and event type, and the rest
// of the value, without copying anything: ev and rest alias v.
func decodeMeta(v []byte) (t int64, ev, rest []byte, err error) {
	u, n := binary.Uvarint(v)
	if n <= 0 {
		return 0, nil, nil, errCorrupt
	}
	v = v[n:]
	l, n := binary.Uvarint(v)
	if n <= 0 || uint64(len(v)-n) < l {
		return 0, nil, nil, errCorrupt
	}
	return int64(u), v[n : n+int(l)], v[n+int(l):], nil
}
