// Package compaction owns retention: how long each channel keeps messages
// (by age, and optionally by count and bytes), and the loop on the Raft
// leader that proposes expiry.
//
// The leader reads the store (package log) to find, per channel, the newest
// position to drop, and proposes an expiry command through raftnode; every
// replica applies the same command to the same log, so all of them drop
// exactly the same messages. Reads never wait for this loop: the frontend
// hides messages older than the retention by itself (see Policy), so an
// expired message is not served even before it is dropped.
package compaction
