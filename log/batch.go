package log

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Entry is one message to append.
type Entry struct {
	Channel   string
	EventType string
	ClientID  string
	// IdempotencyKey, when not empty, makes a second append with the same
	// key on the same channel return the first message instead of appending.
	IdempotencyKey string
	Content        []byte
}

// Result is the outcome of appending one Entry.
type Result struct {
	// Message is the stored message: the new one, or for a duplicate the
	// one first appended under the same idempotency key.
	Message Message
	// Duplicate is true when the idempotency key had been seen.
	Duplicate bool
}

// Batch collects the writes of one or more Raft entries and commits them
// atomically together with the applied index. Only one Batch may be open at
// a time; it is not safe for concurrent use.
type Batch struct {
	s        *Store
	b        *pebble.Batch
	applied  uint64
	clock    int64
	channels map[string]*Channel // copies of records changed in this batch
	idem     map[string]uint64   // idempotency keys added in this batch
	msgs     []Message
	expired  [][2][]byte // spans dropped by Expire, compacted after commit
	err      error
}

// NewBatch starts a batch. The caller must Commit or Discard it. On a
// closed or failed store the batch records nothing and Commit returns the
// reason.
func (s *Store) NewBatch() *Batch {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b := &Batch{
		s:        s,
		applied:  s.applied,
		clock:    s.clock,
		channels: make(map[string]*Channel),
	}
	if b.err = s.usableLocked(); b.err == nil {
		b.b = s.db.NewBatch()
	}
	return b
}

// channel returns the batch's working copy of a channel record, creating
// one when create is true. Returns nil if absent and not created.
func (b *Batch) channel(slug string, create bool, pos uint64, now int64) *Channel {
	if c := b.channels[slug]; c != nil {
		return c
	}
	b.s.mu.RLock()
	old := b.s.channels[slug]
	b.s.mu.RUnlock()
	if old == nil && !create {
		return nil
	}
	c := new(Channel)
	if old != nil {
		*c = *old
	} else {
		*c = Channel{Slug: slug, Name: slug, CreatedAt: now, UpdatedAt: now, CreatedPos: pos}
	}
	b.channels[slug] = c
	return c
}

// tick advances the batch's clock to t if later, and returns the clock:
// message times never go backwards, whatever the leaders' clocks do.
func (b *Batch) tick(t int64) int64 {
	if t > b.clock {
		b.clock = t
	}
	return b.clock
}

// Append appends the entries of the Raft entry at index, accepted by the
// leader at time now (Unix ms). Positions are Position(index, 1…len).
func (b *Batch) Append(index uint64, now int64, entries []Entry) []Result {
	if len(entries) > MaxEntriesPerIndex {
		panic(fmt.Sprintf("log: %d entries in one index; at most %d", len(entries), MaxEntriesPerIndex))
	}
	now = b.tick(now)
	b.setApplied(index)
	results := make([]Result, len(entries))
	var buf []byte
	for i := range entries {
		e := &entries[i]
		pos := Position(index, i+1)
		if e.IdempotencyKey != "" {
			if m, ok := b.lookupIdem(e.Channel, e.IdempotencyKey); ok {
				results[i] = Result{Message: m, Duplicate: true}
				continue
			}
		}
		m := Message{Channel: e.Channel, Position: pos, EventType: e.EventType, ClientID: e.ClientID, Content: e.Content, Time: now}
		buf = encodeMessage(buf[:0], &m)
		key := messageKey(e.Channel, pos)
		b.put(key, buf)
		if e.IdempotencyKey != "" {
			b.put(idemKey(e.Channel, e.IdempotencyKey), binary.BigEndian.AppendUint64(nil, pos))
			if b.idem == nil {
				b.idem = make(map[string]uint64)
			}
			b.idem[string(idemKey(e.Channel, e.IdempotencyKey))] = pos
		}
		c := b.channel(e.Channel, true, pos, now)
		c.MessageCount++
		c.Bytes += int64(len(key) + len(buf))
		c.LastPos = pos
		c.LastTime = now
		b.msgs = append(b.msgs, m)
		results[i] = Result{Message: m}
	}
	if len(b.msgs) > 0 {
		b.put(timeKey(now, Position(index, 0)), nil)
	}
	return results
}

// lookupIdem finds the message first appended under an idempotency key, in
// this batch or the store. A key whose message has expired is forgotten.
func (b *Batch) lookupIdem(channel, key string) (Message, bool) {
	k := idemKey(channel, key)
	if pos, ok := b.idem[string(k)]; ok {
		for i := range b.msgs {
			if b.msgs[i].Position == pos {
				return b.msgs[i], true
			}
		}
	}
	b.s.mu.RLock()
	defer b.s.mu.RUnlock()
	if b.s.usableLocked() != nil {
		return Message{}, false // Commit reports it
	}
	v, closer, err := b.s.db.Get(k)
	if err != nil {
		if !errors.Is(err, pebble.ErrNotFound) && b.err == nil {
			b.err = fmt.Errorf("look up idempotency key: %w", err)
		}
		return Message{}, false
	}
	pos := binary.BigEndian.Uint64(v)
	closer.Close()
	m, err := b.s.getLocked(channel, pos)
	if err != nil {
		if !errors.Is(err, errNotFound) && b.err == nil {
			b.err = fmt.Errorf("look up idempotency key: %w", err)
		}
		return Message{}, false
	}
	return m, true
}

// CreateChannel creates a listed channel with the given settings, at the
// Raft entry index, time now. It fails with ErrChannelExists if listed.
func (b *Batch) CreateChannel(index uint64, now int64, slug string, set Settings) (Channel, error) {
	now = b.tick(now)
	b.setApplied(index)
	c := b.channel(slug, true, Position(index, 0), now)
	if c.Listed() && c.CreatedPos != Position(index, 0) {
		return Channel{}, fmt.Errorf("create channel %q: %w", slug, ErrChannelExists)
	}
	if !c.Explicit {
		c.CreatedAt = now
	}
	c.Explicit = true
	set.applyTo(c)
	c.UpdatedAt = now
	return *c, nil
}

// UpdateChannel changes a listed channel's settings.
func (b *Batch) UpdateChannel(index uint64, now int64, slug string, set Settings) (Channel, error) {
	now = b.tick(now)
	b.setApplied(index)
	c := b.channel(slug, false, 0, now)
	if c == nil || !c.Listed() {
		return Channel{}, fmt.Errorf("update channel %q: %w", slug, ErrChannelNotFound)
	}
	c.Explicit = true
	set.applyTo(c)
	c.UpdatedAt = now
	return *c, nil
}

// DeleteChannel deletes a listed channel and all its messages. The record
// stays behind, unlisted, remembering that everything up to its last
// position was dropped, so a resume from an old ID is told so.
func (b *Batch) DeleteChannel(index uint64, now int64, slug string) error {
	now = b.tick(now)
	b.setApplied(index)
	c := b.channel(slug, false, 0, now)
	if c == nil || !c.Listed() {
		return fmt.Errorf("delete channel %q: %w", slug, ErrChannelNotFound)
	}
	b.deleteRange(messagePrefix(slug), prefixEnd(messagePrefix(slug)))
	ip := idemKey(slug, "")
	b.deleteRange(ip, prefixEnd(ip))
	*c = Channel{Slug: slug, Name: slug, DroppedPos: c.LastPos, LastPos: c.LastPos, CreatedPos: c.CreatedPos, UpdatedAt: now}
	return nil
}

// Span describes a run of a channel's oldest messages to drop: the
// channel's DroppedPos when it was measured (From), the position of the
// last message in the run (Through), and how many messages and bytes the
// run holds. The leader measures it outside the FSM (Store.MeasureSpan),
// so applying it is a range delete and no scan.
type Span struct {
	Channel string
	From    uint64
	Through uint64
	Count   int64
	Bytes   int64
}

// Expire drops a span of the channel's oldest messages with one range
// delete and returns how many it dropped. It is a compare-and-set: when the
// channel's DroppedPos is no longer sp.From (another expiry or a delete came
// first), it drops nothing, and the next pass measures again. The caller
// (the FSM) records the applied index.
func (b *Batch) Expire(sp Span) int64 {
	c := b.channel(sp.Channel, false, 0, 0)
	if c == nil || c.DroppedPos != sp.From || sp.Through <= sp.From || sp.Count <= 0 {
		return 0
	}
	end := messageKey(sp.Channel, sp.Through+1)
	b.deleteRange(messagePrefix(sp.Channel), end)
	b.expired = append(b.expired, [2][]byte{messagePrefix(sp.Channel), end})
	b.dropIdemThrough(sp.Channel, sp.Through)
	c.MessageCount -= sp.Count
	c.Bytes -= sp.Bytes
	c.DroppedPos = sp.Through
	return sp.Count
}

// MeasureSpan counts the channel's messages after its DroppedPos up to and
// including through, and returns the span to expire them (Count 0 when
// there are none). It reads the committed store; the leader calls it.
func (s *Store) MeasureSpan(channel string, through uint64) (Span, error) {
	c, ok := s.Channel(channel)
	sp := Span{Channel: channel, From: c.DroppedPos}
	if !ok || through <= c.DroppedPos {
		return sp, nil
	}
	it, done, err := s.iter(channel)
	if err != nil {
		return sp, err
	}
	defer done()
	end := messageKey(channel, through+1)
	for it.SeekGE(messageKey(channel, c.DroppedPos+1)); it.Valid() && string(it.Key()) < string(end); it.Next() {
		sp.Count++
		sp.Bytes += int64(len(it.Key()) + len(it.Value()))
		sp.Through = positionOf(it.Key())
	}
	return sp, it.Error()
}

// dropIdemThrough deletes the channel's idempotency keys whose message is
// at or below a position: their window (the message's retention) is over.
func (b *Batch) dropIdemThrough(channel string, through uint64) {
	p := idemKey(channel, "")
	b.s.mu.RLock()
	defer b.s.mu.RUnlock()
	if err := b.s.usableLocked(); err != nil {
		b.err = err
		return
	}
	it, err := b.s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		b.err = err
		return
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if len(it.Value()) == 8 && binary.BigEndian.Uint64(it.Value()) <= through && b.err == nil {
			b.err = b.b.Delete(append([]byte(nil), it.Key()...), nil)
		}
	}
	if err := it.Error(); err != nil && b.err == nil {
		b.err = err
	}
}

// SetRecord stores value under name, replacing what was there (nil
// deletes it), and records index as applied. Records are small pieces of
// replicated state that belong to the layer above (raftnode keeps the
// members it will promote there): they travel in snapshots and are written
// atomically with the applied index, like everything else in the batch.
// Store.Record reads them once the batch is committed.
func (b *Batch) SetRecord(index uint64, name string, value []byte) {
	b.setApplied(index)
	if b.err != nil {
		return
	}
	if value == nil {
		b.err = b.b.Delete(recordKey(name), nil)
		return
	}
	b.put(recordKey(name), value) // Set copies key and value into the batch
}

// SetApplied records index as applied; for Raft entries that carry no
// command for the store (configuration changes, no-ops).
func (b *Batch) SetApplied(index uint64) { b.setApplied(index) }

func (b *Batch) setApplied(index uint64) {
	if index < b.applied {
		panic(fmt.Sprintf("log: applied index going backwards: %d after %d", index, b.applied))
	}
	b.applied = index
}

func (b *Batch) put(k, v []byte) {
	if b.err == nil {
		b.err = b.b.Set(k, v, nil)
	}
}

func (b *Batch) deleteRange(start, end []byte) {
	if b.err == nil {
		b.err = b.b.DeleteRange(start, end, nil)
	}
}

// Discard drops the batch without writing.
func (b *Batch) Discard() {
	if b.b != nil {
		b.b.Close()
	}
}

// Commit writes the batch, with the applied index and changed channel
// records, in one atomic Pebble write without fsync, then hands the new
// messages to the feed and wakes the tailers.
//
// An error means nothing of the batch is visible. When Pebble itself
// refused the write (a disk error), the store fails: every later call
// returns an error wrapping ErrFailed, and the caller (the Raft FSM) must
// stop rather than skip the entries, or replicas would diverge. Pebble may
// report a write error one or more commits late (commits do not wait for
// the WAL write); the store's durable state is then still a prefix of the
// Raft log, as after a crash.
func (b *Batch) Commit() error {
	defer b.Discard()
	if b.err != nil {
		return fmt.Errorf("commit batch: %w", b.err)
	}
	b.put(keyApplied, binary.BigEndian.AppendUint64(nil, b.applied))
	b.put(keyClock, binary.BigEndian.AppendUint64(nil, uint64(b.clock)))
	for slug, c := range b.channels {
		v, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("commit batch: channel %q: %w", slug, err)
		}
		b.put(channelKey(slug), v)
	}
	if b.err != nil {
		return fmt.Errorf("commit batch: %w", b.err)
	}
	s := b.s
	s.mu.Lock()
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("commit batch: %w", err)
	}
	if err := b.b.Commit(pebble.NoSync); err != nil {
		err = s.failLocked(fmt.Errorf("pebble write: %w", err))
		s.mu.Unlock()
		return fmt.Errorf("commit batch: %w", err)
	}
	s.applied = b.applied
	s.clock = b.clock
	for slug, c := range b.channels {
		s.channels[slug] = c
	}
	s.mu.Unlock()
	var head uint64
	if n := len(b.msgs); n > 0 {
		head = b.msgs[n-1].Position
	}
	s.feed.append(b.msgs, head)
	if len(b.expired) > 0 {
		s.reclaim(b.expired)
	}
	return nil
}
