package raftnode

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/hashicorp/raft"
	"github.com/pushflo/pushflo/log"
)

// fsm applies committed Raft entries to the log store. Raft calls it from a
// single goroutine; it reads no clock and no randomness, so every replica
// ends with the same store.
type fsm struct {
	store  *log.Store
	logger *slog.Logger
	// learners mirrors the store's learners record (membership.go).
	learners learners
}

var _ raft.BatchingFSM = (*fsm)(nil)

// channelResult is what a channel command's future returns.
type channelResult struct {
	Channel log.Channel
	Err     error
}

// Apply applies one entry.
func (f *fsm) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch applies a run of committed entries in one store batch, so one
// Pebble write carries many Raft entries. Entries at or below the store's
// applied index were applied before a restart and are skipped.
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	applied := f.store.Applied()
	b := f.store.NewBatch()
	for i, l := range logs {
		if l.Index <= applied {
			continue
		}
		if l.Type != raft.LogCommand || len(l.Data) == 0 {
			b.SetApplied(l.Index)
			continue
		}
		out[i] = f.apply(b, l)
	}
	f.commit(b)
	return out
}

func (f *fsm) commit(b *log.Batch) {
	if err := b.Commit(); err != nil {
		// The store can no longer follow the log; continuing would let
		// replicas diverge.
		panic(fmt.Sprintf("raftnode: commit applied entries: %v", err))
	}
}

func (f *fsm) apply(b *log.Batch, l *raft.Log) any {
	switch l.Data[0] {
	case kindPublish:
		c, err := decodePublish(l.Data)
		if err != nil {
			f.logger.Error("skipping malformed publish entry", "index", l.Index, "err", err)
			b.SetApplied(l.Index)
			return err
		}
		return b.Append(l.Index, c.Time, c.Entries)
	case kindChannel:
		return applyJSON(b, l, func(c *channelCommand) any {
			var r channelResult
			switch c.Op {
			case OpCreate:
				r.Channel, r.Err = b.CreateChannel(l.Index, c.Time, c.Slug, c.Settings)
			case OpUpdate:
				r.Channel, r.Err = b.UpdateChannel(l.Index, c.Time, c.Slug, c.Settings)
			case OpDelete:
				r.Err = b.DeleteChannel(l.Index, c.Time, c.Slug)
			default:
				b.SetApplied(l.Index)
				r.Err = fmt.Errorf("unknown channel op %q", c.Op)
			}
			return r
		})
	case kindMember:
		return applyJSON(b, l, func(c *memberCommand) any {
			ids, _ := json.Marshal(f.learners.set(c.ID, c.Learner))
			b.SetRecord(l.Index, learnersRecord, ids)
			return nil
		})
	case kindExpire:
		return applyJSON(b, l, func(c *expireCommand) any {
			b.SetApplied(l.Index)
			n := int64(0)
			for _, sp := range c.Spans {
				n += b.Expire(sp)
			}
			b.TrimTimeIndex(c.TimeIndexBefore)
			return n
		})
	default:
		f.logger.Error("skipping entry of unknown kind", "index", l.Index, "kind", l.Data[0])
		b.SetApplied(l.Index)
		return fmt.Errorf("unknown command kind %q", l.Data[0])
	}
}

// applyJSON decodes the JSON command of l into a C and applies it with
// apply. A command that does not decode is skipped: its index is marked
// applied and the decoding error is the entry's result.
func applyJSON[C any](b *log.Batch, l *raft.Log, apply func(*C) any) any {
	var c C
	if err := json.Unmarshal(l.Data[1:], &c); err != nil {
		b.SetApplied(l.Index)
		return err
	}
	return apply(&c)
}

// Snapshot checkpoints the store. Raft calls it on the FSM goroutine, so no
// batch is in flight; the checkpoint is hard links, so it is quick.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	sn, err := f.store.Snapshot()
	if err != nil {
		return nil, err
	}
	return &fsmSnapshot{sn: sn}, nil
}

// Restore replaces the store with a snapshot, unless the store already holds
// it (the usual case on restart, when the local store is ahead).
func (f *fsm) Restore(r io.ReadCloser) error {
	defer r.Close()
	if err := f.store.Restore(r); err != nil {
		return err
	}
	return f.loadLearners()
}

type fsmSnapshot struct{ sn *log.Snapshot }

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.sn.WriteTo(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { s.sn.Release() }
