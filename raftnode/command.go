package raftnode

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pushflo/pushflo/log"
)

// Command kinds: the first byte of every Raft entry's data.
const (
	kindPublish byte = 'P' // a batch of messages, binary-encoded
	kindChannel byte = 'C' // a channel create/update/delete, JSON
	kindExpire  byte = 'E' // retention: drop messages before cutoffs, JSON
	kindMember  byte = 'M' // a member becomes, or stops being, a learner, JSON
)

// publishCommand is a batch of messages accepted by the leader at Time.
type publishCommand struct {
	Time    int64 // Unix ms, read by the leader; the FSM never reads a clock
	Entries []log.Entry
}

func encodePublish(c *publishCommand) []byte {
	n := 16
	for i := range c.Entries {
		e := &c.Entries[i]
		n += len(e.Channel) + len(e.EventType) + len(e.ClientID) + len(e.IdempotencyKey) + len(e.Content) + 20
	}
	b := make([]byte, 0, n)
	b = append(b, kindPublish)
	b = binary.AppendUvarint(b, uint64(c.Time))
	b = binary.AppendUvarint(b, uint64(len(c.Entries)))
	for i := range c.Entries {
		e := &c.Entries[i]
		for _, s := range []string{e.Channel, e.EventType, e.ClientID, e.IdempotencyKey} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		b = binary.AppendUvarint(b, uint64(len(e.Content)))
		b = append(b, e.Content...)
	}
	return b
}

var errBadCommand = errors.New("malformed command")

func decodePublish(b []byte) (*publishCommand, error) {
	r := reader{b: b[1:]}
	c := &publishCommand{Time: int64(r.uvarint())}
	n := r.uvarint()
	if n > log.MaxEntriesPerIndex {
		return nil, fmt.Errorf("%w: %d entries", errBadCommand, n)
	}
	c.Entries = make([]log.Entry, n)
	for i := range c.Entries {
		e := &c.Entries[i]
		e.Channel = string(r.bytes())
		e.EventType = string(r.bytes())
		e.ClientID = string(r.bytes())
		e.IdempotencyKey = string(r.bytes())
		e.Content = r.bytes()
	}
	if r.err != nil {
		return nil, r.err
	}
	return c, nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadCommand
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	l := r.uvarint()
	if r.err != nil {
		return nil
	}
	if uint64(len(r.b)) < l {
		r.err = errBadCommand
		return nil
	}
	v := r.b[:l:l]
	r.b = r.b[l:]
	return v
}

// ChannelOp names a change to a channel record.
type ChannelOp string

// Channel operations.
const (
	OpCreate ChannelOp = "create"
	OpUpdate ChannelOp = "update"
	OpDelete ChannelOp = "delete"
)

// channelCommand changes one channel record.
type channelCommand struct {
	Op       ChannelOp
	Time     int64
	Slug     string
	Settings log.Settings
}

// expireCommand drops messages for retention. The leader measures each
// span (log.Store.MeasureSpan) outside the FSM; every replica applies the
// same spans, each a range delete.
type expireCommand struct {
	Time            int64
	Spans           []log.Span
	TimeIndexBefore int64
}

func encodeJSON(kind byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append([]byte{kind}, b...), nil
}
