// Package frontend owns the client-facing side of a node: the REST API,
// WebSocket and SSE subscribers, authentication, validation, limits,
// metrics, and the fan-out of applied messages to connections.
//
// Writes (publishes, channel changes, membership) go to the Raft node
// through the small Node interface declared here; the node forwards them to
// the leader when needed. Reads (history, since, replay) come straight from
// this node's log store, after a read barrier unless the caller asks for a
// stale read. Live messages come from the store's feed.
//
// # Goroutines
//
//   - fasthttp's workers run REST handlers; each returns when its reply is
//     written.
//   - The tailer (hub.tail), one per server, follows the store's feed in
//     position order and hands each message to the subscriptions of its
//     channel. It never blocks on a connection: a connection whose queue is
//     full is closed as a slow consumer (code SLOW_CONSUMER, close 4008).
//   - Each WebSocket has a reader (the upgrade handler, runWS), a pinger,
//     and a writer that exists only while frames are queued (wsWriter).
//   - Each SSE stream has one goroutine, fasthttp's body-stream writer
//     (runSSE), which is also its writer and keep-alive.
//   - Each subscription that starts or resumes runs a replay goroutine
//     (subscription.replay) that reads the log from its cursor, then flushes
//     what the tailer buffered meanwhile and switches the subscription to
//     live. Replays are owned by their connection and stopped with it.
//
// # Locks
//
// hub.mu guards the channel → subscriptions map; conn.mu guards a
// connection's queue and subscriptions; subscription.mu guards its cursor
// and pending buffer. Order when nested: subscription.mu, then conn.mu
// (deliver → push). hub.mu is never held while taking the others: the
// tailer copies the subscription set, then releases hub.mu before
// delivering.
//
// # Errors
//
// errors.go holds the one mapping from domain errors to wire codes and
// HTTP statuses, and the WebSocket close codes.
package frontend
