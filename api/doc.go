// Package api is the thin fasthttp adapter of a node: the REST API, the
// WebSocket and SSE transports of the stream, authentication, validation,
// limits, the API's metrics, and the one mapping from errors to the wire
// (errors.go).
//
// Writes (publishes, channel changes, membership) go to the Raft node
// through the small Node interface declared here; the node forwards them to
// the leader when needed. History reads come from this node's log store
// after a read barrier (unless the caller asks for a stale read), hiding
// what has expired (the cutoff comes from the hub's retention policy).
// Subscriptions are the stream package's: api authenticates and
// authorises them, then hands them to a stream.Conn and writes what the
// hub queues on it.
//
// # Goroutines
//
//   - fasthttp's workers run REST handlers; each returns when its reply is
//     written.
//   - Each WebSocket has a reader (the goroutine openWS's read loop runs
//     on), a frame handler that exists only while client frames wait
//     (inbox.run), and a writer that exists only while frames are queued
//     (wsWriter.drain). The hub's pinger queues its pings.
//   - Each SSE stream has one goroutine, fasthttp's body-stream writer
//     (runSSE), which is also its writer and keep-alive.
//   - The tailer, the pinger and each subscription's replay goroutine
//     belong to the stream package (see its doc).
package api
