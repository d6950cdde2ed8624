// Package jepsen tests a pushflo cluster the way Jepsen does: real server
// processes, a nemesis that injects faults, a workload that records every
// operation in a history file, and a checker that judges the history
// against the promises of the protocol.
//
// Data flows one way. The harness (Cluster, Node) builds the pushflo binary
// and runs three nodes and a spare as processes, each in its own network
// namespace when the machine allows it (NetworkNetns: nftables cuts,
// one-way drops and loss) or behind a fault-injecting Raft Proxy on
// loopback (NetworkProxy), each data directory on faultfs (package
// jepsen/faultfs: a FUSE filesystem that loses unsynced writes on a power
// cut and fails fsyncs or writes on demand) where root and /dev/fuse
// allow. A Nemesis partitions, kills, pauses, slows, power-cuts, breaks
// disks, changes membership and makes the leader's clock jump, alone or
// two at a time; a Workload drives publishers and subscribers through the
// Go SDK (package client) and readers that send history, since and stale
// reads to each node while the faults run, holds the subscribers open
// after the heal until they reach each channel's final head, and writes
// each invoke, ok, fail, info and received message to a Recorder, one JSON
// line per operation, readable by a person and by ReadHistory. Check then
// runs seven checks over the History: no acknowledged publish lost, no
// duplicate or phantom, one total order per channel on every node and
// subscription, real-time order (linearizable appends, cross-checked with
// porcupine), gap-free resume (with a short retention: gaps that name only
// expired messages), unknown outcomes applied at most once, and reads
// during faults that are fresh and consistent. The Report names each
// verdict with counts and, for a failure, the few history lines that show
// it.
//
// The package imports no server package: it knows the server only through
// its binary, its flags and the network protocol.
package jepsen
