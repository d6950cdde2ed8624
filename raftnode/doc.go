// Package raftnode owns consensus: a hashicorp/raft node with raft-wal or
// raft-boltdb for its log and raft-boltdb for its stable store, the FSM that applies committed entries to
// the log store (package log), snapshots through Pebble checkpoints,
// forwarding of writes from followers to the leader, batching of
// proposals, and cluster membership.
//
// Writes arrive from the frontend (Publish, ChannelCommand) and from the
// compaction loop (Expire). On the leader they are batched (batcher.go) into
// Raft entries; on a follower they are batched and forwarded over an
// authenticated connection on the Raft port (forward.go) to the leader,
// which batches them again. Every committed entry goes to FSM.ApplyBatch on
// every node, which writes it to the log store: the store's only writer.
//
// A call returns once its entry is committed by a majority (each fsyncs
// its Raft log before acknowledging) and applied locally. Reads of the store
// go through ReadBarrier with a ReadLevel: Linearizable (the default, read
// index confirmed by a quorum, then wait until applied; the leader too) or
// Stale. See DESIGN.md for one publish traced through the code.
package raftnode
