package log

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// errNotFound is returned by getLocked when no message has the position.
var errNotFound = errors.New("message not found")

// getLocked reads one message. Requires s.mu held.
func (s *Store) getLocked(channel string, pos uint64) (Message, error) {
	v, closer, err := s.db.Get(messageKey(channel, pos))
	if err != nil {
		if err == pebble.ErrNotFound {
			return Message{}, errNotFound
		}
		return Message{}, err
	}
	defer closer.Close()
	m := Message{Channel: channel, Position: pos}
	if err := decodeMessage(v, &m); err != nil {
		return Message{}, err
	}
	return m, nil
}

// iter read-locks the store and opens an iterator over one channel's
// messages; done closes the iterator and unlocks. On an error nothing is
// held.
func (s *Store) iter(channel string) (it *pebble.Iterator, done func(), err error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, nil, ErrClosed
	}
	p := messagePrefix(channel)
	it, err = s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		s.mu.RUnlock()
		return nil, nil, err
	}
	return it, func() {
		it.Close()
		s.mu.RUnlock()
	}, nil
}

// defaultReadLimit is how many messages Read and Since return when the
// caller's limit is not positive.
const defaultReadLimit = 1000

// lastPosition is the largest position a cursor can name.
const lastPosition = ^uint64(0)

// Read returns up to limit messages of the channel with positions after
// `after`, oldest first: one seek and a forward scan. limit <= 0 means 1000.
func (s *Store) Read(channel string, after uint64, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = defaultReadLimit
	}
	it, done, err := s.iter(channel)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", channel, err)
	}
	defer done()
	var out []Message
	if after == lastPosition {
		return nil, nil // nothing comes after the largest position
	}
	for it.SeekGE(messageKey(channel, after+1)); it.Valid() && len(out) < limit; it.Next() {
		m := Message{Channel: channel, Position: positionOf(it.Key())}
		if err := decodeMessage(it.Value(), &m); err != nil {
			return nil, fmt.Errorf("read %q at %s: %w", channel, FormatID(m.Position), err)
		}
		out = append(out, m)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("read %q: %w", channel, err)
	}
	return out, nil
}

// Gap describes messages a reader missed because they expired or were
// deleted: everything after After and before Before (0: none retained).
type Gap struct {
	Channel string
	After   uint64
	Before  uint64
}

// Catchup is the answer to Since.
type Catchup struct {
	// Messages are oldest first.
	Messages []Message
	// Complete is false when messages after the requested position were
	// dropped (by expiry, a cap or deletion) or hidden as expired before
	// they could be read.
	Complete bool
	// Gap is set when Complete is false.
	Gap *Gap
}

// Since returns up to limit messages of the channel with positions after
// `after`, oldest first, as a reader catching up may see them: messages
// older than cutoff (Unix ms; 0 hides nothing) have expired and are skipped
// even while compaction has not dropped them yet. Complete is false, and
// Gap names the span, when a message after `after` was dropped or skipped;
// Gap.Before is the first message returned, or 0 when none is. It is the
// one retention-aware read: history's Since, WebSocket and SSE replay all
// go through it. limit <= 0 means 1000. One seek; the expired messages
// skipped cost a key and a varint each.
func (s *Store) Since(channel string, after uint64, limit int, cutoff int64) (Catchup, error) {
	if limit <= 0 {
		limit = defaultReadLimit
	}
	it, done, err := s.iter(channel)
	if err != nil {
		return Catchup{}, fmt.Errorf("since %q: %w", channel, err)
	}
	defer done()
	hidden := false
	if after == lastPosition {
		// Nothing comes after the largest position (after+1 would wrap
		// to 0 and read the whole channel).
		return Catchup{Complete: true}, nil
	}
	it.SeekGE(messageKey(channel, after+1))
	for ; cutoff > 0 && it.Valid(); it.Next() {
		t, err := timeOf(it.Value())
		if err != nil {
			return Catchup{}, fmt.Errorf("since %q at %s: %w", channel, FormatID(positionOf(it.Key())), err)
		}
		if t >= cutoff {
			break // times never decrease along the log
		}
		hidden = true
	}
	var out Catchup
	for ; it.Valid() && len(out.Messages) < limit; it.Next() {
		m := Message{Channel: channel, Position: positionOf(it.Key())}
		if err := decodeMessage(it.Value(), &m); err != nil {
			return Catchup{}, fmt.Errorf("since %q at %s: %w", channel, FormatID(m.Position), err)
		}
		out.Messages = append(out.Messages, m)
	}
	if err := it.Error(); err != nil {
		return Catchup{}, fmt.Errorf("since %q: %w", channel, err)
	}
	var dropped uint64
	if c := s.channels[channel]; c != nil {
		dropped = c.DroppedPos
	}
	out.Complete = !hidden && after >= dropped
	if !out.Complete {
		out.Gap = &Gap{Channel: channel, After: after}
		if len(out.Messages) > 0 {
			out.Gap.Before = out.Messages[0].Position
		}
	}
	return out, nil
}

// HistoryQuery selects a page of a channel's history.
type HistoryQuery struct {
	// Page is 1-based; PageSize is the number of items per page.
	Page, PageSize int
	// EventType, when set, keeps only messages of that event type.
	EventType string
	// After and Before, when not zero, keep only messages with Time strictly
	// after or before them (Unix ms).
	After, Before int64
	// Cutoff, when not zero, hides messages older than it (Unix ms): they
	// have expired even if compaction has not dropped them yet. Unlike the
	// filters above it keeps a page's cost O(page): Total comes from the
	// channel record, less the expired messages not yet dropped.
	Cutoff int64
}

// HistoryPage is one page of history, newest first, and the number of
// messages matching the query in all pages.
type HistoryPage struct {
	Items []Message
	Total int
}

// History returns a page of the channel's messages, newest first. Without
// EventType, After or Before it reads only the page (and the expired
// messages Cutoff hides); with them it scans the channel to count Total,
// decoding only the messages on the page.
func (s *Store) History(channel string, q HistoryQuery) (HistoryPage, error) {
	if q.Page < 1 {
		q.Page = 1
	}
	if q.PageSize < 1 {
		q.PageSize = 25
	}
	skip := (q.Page - 1) * q.PageSize
	it, done, err := s.iter(channel)
	if err != nil {
		return HistoryPage{}, fmt.Errorf("history %q: %w", channel, err)
	}
	defer done()
	var page HistoryPage
	filtered := q.EventType != "" || q.After != 0 || q.Before != 0
	if !filtered {
		if c := s.channels[channel]; c != nil {
			page.Total = int(c.MessageCount)
		}
		if q.Cutoff > 0 {
			expired, err := countOlder(it, q.Cutoff)
			if err != nil {
				return HistoryPage{}, fmt.Errorf("history %q: %w", channel, err)
			}
			page.Total = max(0, page.Total-expired)
		}
	}
	n := 0
	for it.Last(); it.Valid(); it.Prev() {
		if !filtered && n >= skip+q.PageSize {
			break
		}
		v := it.Value()
		t, ev, _, err := decodeMeta(v)
		if err != nil {
			return HistoryPage{}, fmt.Errorf("history %q at %s: %w", channel, FormatID(positionOf(it.Key())), err)
		}
		if t < q.Cutoff || q.After != 0 && t <= q.After {
			break // times never decrease along the log
		}
		if q.Before != 0 && t >= q.Before {
			continue
		}
		if q.EventType != "" && string(ev) != q.EventType {
			continue
		}
		if n >= skip && n < skip+q.PageSize {
			m := Message{Channel: channel, Position: positionOf(it.Key())}
			if err := decodeMessage(v, &m); err != nil {
				return HistoryPage{}, fmt.Errorf("history %q at %s: %w", channel, FormatID(m.Position), err)
			}
			page.Items = append(page.Items, m)
		}
		n++
	}
	if err := it.Error(); err != nil {
		return HistoryPage{}, fmt.Errorf("history %q: %w", channel, err)
	}
	if filtered {
		page.Total = n
	}
	return page, nil
}

// countOlder counts the channel's messages older than cutoff, oldest
// first: the expired ones compaction has not dropped yet.
func countOlder(it *pebble.Iterator, cutoff int64) (int, error) {
	n := 0
	for it.First(); it.Valid(); it.Next() {
		t, err := timeOf(it.Value())
		if err != nil {
			return 0, err
		}
		if t >= cutoff {
			break
		}
		n++
	}
	return n, it.Error()
}
