// Package compaction owns retention: how long each channel keeps messages
// (by age, and optionally by count and bytes), and the loop on the Raft
// leader that proposes expiry.
//
// The leader reads the store (package log) to find, per channel, the newest
// position to drop, and proposes an expiry command through raftnode; every
// replica applies the same command to the same log, so all of them drop
// exactly the same messages. Reads never wait for this loop: each node's
// stream hub hides messages older than the retention by itself (see
// Policy), so an expired message is not served even before it is dropped.
//
// # Clocks
//
// Expiry is measured against wall clocks: the leader's for what is
// dropped (the FSM applies the leader's decision and reads no clock), each
// node's own for what its reads hide. A clock that jumps forward would
// make either act early, on messages still within retention on every
// other clock: dropped everywhere if it is the leader's, hidden from that
// node's readers if it is any node's. Both therefore read the clock
// through a clock.Guard (internal/clock): the time they use may run ahead
// of the monotonic clock, since the last reading the guard accepted, by
// at most 5 s; past that it is held back and advances with real time only,
// for as long as the clock stays ahead, and a line "wall clock ran ahead
// of elapsed time" is logged (component compaction or stream) once per
// episode. The loop's reference is reset whenever the node stops leading
// and the hub's is taken when it starts, so a clock that is already wrong
// when a node starts or takes office is not caught; nor are the message
// times a leader with a jumped clock stamps (they outlive their retention
// by the jump). A clock that jumps back only delays expiry.
//
// The alternative, reads that hide only what the leader's committed
// expiry dropped, would make what a read shows a function of the
// replicated state alone, but would serve expired messages until the
// next pass commits, and indefinitely on a node cut off from the leader.
package compaction
