// Package jepsen tests a pushflo cluster the way Jepsen does: real server
// processes, a nemesis that injects faults, a workload that records every
// operation in a history file, and a checker that judges the history
// against the promises of the protocol.
//
// Data flows one way. The harness (Cluster, Node) builds the pushflo binary
// and runs three nodes as processes; a Nemesis partitions, kills, pauses and
// slows them (through network namespaces when the machine allows it, else
// through the fault-injecting TCP Proxy); a Workload drives publishers and
// subscribers through the Go SDK (package client) and writes each invoke,
// ok, fail, info and received message to a Recorder, one JSON line per
// operation, readable by a person and by ReadHistory. Check then runs six
// checks over the History: no acknowledged publish lost, no duplicate or
// phantom, one total order per channel on every node and subscription,
// real-time order (linearizable appends, cross-checked with porcupine),
// gap-free resume, and unknown outcomes applied at most once. The Report
// names each verdict with counts and, for a failure, the few history lines
// that show it.
//
// The package imports no server package: it knows the server only through
// its binary, its flags and the network protocol.
package jepsen
