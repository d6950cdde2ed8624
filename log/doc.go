// Package log owns the Pebble-backed message store: a per-channel ordered log
// of messages, the channel records beside it, and the last Raft index applied
// to it.
//
// Data arrives only through a Batch, which the Raft FSM in package raftnode
// builds for each group of committed Raft entries; nothing else writes. Data
// leaves through reads (Read, History, Channel) used by the frontends, and
// through the feed (Feed, Head), which the frontend's tailer follows to fan
// newly applied messages out to subscribers.
//
// # Positions and message IDs
//
// Every message has a position: the Raft index of the entry that carried it,
// shifted left 16 bits, plus its 1-based offset inside that entry. Positions
// therefore grow with the Raft log, are the same on every replica, and are
// unique across channels. A message ID is the position as 16 lowercase hex
// digits, so IDs sort byte-wise in publish order and parse back to the
// position to seek to.
//
// # Key layout
//
// All keys start with one byte naming the keyspace:
//
//	'm' channel 0x00 position(8, big-endian)   -> message record
//	'c' channel                                 -> channel record (JSON)
//	'i' channel 0x00 idempotency key            -> position(8) of the first message
//	't' time(8, big-endian ms) position(8)      -> empty: one per applied entry
//	's' "applied"                               -> last applied Raft index (8)
//	's' "clock"                                 -> highest message time so far (8)
//
// Channel names never contain 0x00, so "messages of channel C after position
// P" is one SeekGE to 'm' C 0x00 P+1 and a forward scan that stops at the
// end of the prefix; history pages newest-first are a SeekLT and a backward
// scan. The time index maps a cutoff time to the first position at or after
// it with one seek, which is how retention finds what to delete.
//
// # Durability
//
// Batches commit without fsync: the Raft log (raft-boltdb, fsynced) is the
// durable record. The applied index is written in the same batch as the
// messages it applied, so after a crash the store holds a consistent prefix
// of the Raft log, and raftnode re-applies every entry after Applied(). Apply
// skips entries at or below Applied(), so nothing is applied twice. Before a
// Raft snapshot is taken the store is flushed and synced (Checkpoint), so the
// Raft log may safely be truncated up to the snapshot's index.
//
// A failed write or fsync of any file under the store is final: the store
// refuses every later call (ErrFailed) and Config.OnFatal runs, so that
// nothing is acknowledged after data may have been lost (DESIGN.md, "Disk
// errors").
package log
