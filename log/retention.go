package log

import (
	"context"
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"
)

// ThroughTime returns the highest position whose message was accepted
// before cutoff (Unix ms), across all channels: everything at or below it
// is older than the cutoff, because times never decrease along the log.
// It returns 0 when nothing is that old. One seek in the time index.
func (s *Store) ThroughTime(cutoff int64) (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrClosed
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixTime}, UpperBound: timeKey(cutoff, 0)})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if !it.Last() {
		return 0, it.Error()
	}
	k := it.Key()
	pos := binary.BigEndian.Uint64(k[9:17])
	return pos | MaxEntriesPerIndex, nil
}

// ThroughCap returns the position through which a channel's oldest
// messages must be dropped so that at most maxCount messages and maxBytes
// bytes remain (zero means no cap). It returns 0 when within the caps.
func (s *Store) ThroughCap(channel string, maxCount, maxBytes int64) (uint64, error) {
	c, ok := s.Channel(channel)
	if !ok {
		return 0, nil
	}
	dropN, dropB := int64(0), int64(0)
	if maxCount > 0 && c.MessageCount > maxCount {
		dropN = c.MessageCount - maxCount
	}
	if maxBytes > 0 && c.Bytes > maxBytes {
		dropB = c.Bytes - maxBytes
	}
	if dropN == 0 && dropB == 0 {
		return 0, nil
	}
	it, done, err := s.iter(channel)
	if err != nil {
		return 0, err
	}
	defer done()
	var n, b int64
	var through uint64
	for it.First(); it.Valid() && (n < dropN || b < dropB); it.Next() {
		n++
		b += int64(len(it.Key()) + len(it.Value()))
		through = positionOf(it.Key())
	}
	return through, it.Error()
}

// TrimTimeIndex drops time-index entries older than before (Unix ms); no
// channel's retention reaches back that far.
func (b *Batch) TrimTimeIndex(before int64) {
	if before > 0 {
		b.deleteRange([]byte{prefixTime}, timeKey(before, 0))
	}
}

// reclaim compacts the key spans of dropped messages so their disk space
// comes back now rather than whenever Pebble would get to them. It runs on
// its own goroutine after an expiry commits.
func (s *Store) reclaim(spans [][2][]byte) {
	s.reclaimWG.Add(1)
	go func() {
		defer s.reclaimWG.Done()
		for _, sp := range spans {
			s.mu.RLock()
			if s.closed {
				s.mu.RUnlock()
				return
			}
			db := s.db
			s.mu.RUnlock()
			if err := db.Compact(context.Background(), sp[0], sp[1], false); err != nil {
				s.logger.Warn("compact expired span", "err", err)
			}
		}
	}()
}
