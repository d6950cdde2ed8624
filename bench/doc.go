// Command bench is pushflo's load generator and report writer: it measures
// fan-out latency over WebSocket and SSE, acknowledged publish throughput,
// idle-connection memory, replay speed and cross-node delivery, and writes a
// Markdown report, a JSON file and PNG plots under bench/results/.
//
// Data comes from servers it starts itself as child processes (one node,
// then a three-node cluster, from the binary given by --binary) or from a
// running deployment given by --target. It talks to them only over the
// network, the way a user would: REST publishes through fasthttp with
// keep-alive, WebSocket and SSE subscriptions spoken directly on the wire
// (see README.md for why not through the client SDK; only the unmeasured
// setup calls use it). It imports no server package. Server memory and CPU come from /proc of the server processes,
// the generator's own CPU from getrusage, so a report can say whether the
// generator or the server was the limit on a shared machine.
//
// Baseline mode (--baseline, baseline.go) runs two binaries alternately,
// scenario by scenario and round by round on fresh servers, and reports
// each figure's median per side and the ratio new ÷ old.
//
// Goroutines: each scenario owns its publishers (one per concurrent
// request), one reader per subscriber connection, a pacer for paced
// publishing and one sampler that records the timeline and prints the
// progress line; all of them end, bounded in time and count, before the
// scenario returns.
package main
