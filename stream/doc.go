// Package stream owns the fan-out of applied messages to subscriber
// connections, independent of any transport: the hub, each connection's
// bounded outgoing queue, subscriptions, rendering a message once for all
// its receivers, and the handoff from replaying the log to live delivery.
//
// Messages come from the log through the small Log interface declared here
// (the head, the feed of recently applied messages, and the one
// retention-aware read, Since); *log.Store implements it. They leave as
// Frames that a transport (package api: WebSocket and SSE) takes from each
// connection's queue and writes to its socket. The package knows nothing of
// fasthttp, Raft or the wire format: a transport registers a Format to have
// a message rendered once and shared by all its connections, and maps a
// CloseReason to its own close frame.
//
// # Goroutines
//
//   - The tailer (Hub.tail), one per hub, started by Start and stopped by
//     Close, follows the log's feed in position order and hands each
//     message to the subscriptions of its channel. It never blocks on a
//     connection: a connection whose queue is full is failed as a slow
//     consumer (CloseSlowConsumer).
//   - The pinger (Hub.pingAll), one per hub, queues each connection's ping
//     frame (if it has one) every PingInterval.
//   - The access checker (Hub.checkAllAccess), one per hub, runs every
//     AccessInterval and revokes subscriptions their connection may no
//     longer read (Conn.SetAccess); a connection's expiry timer fails it
//     with CloseTokenExpired.
//   - Each subscription that starts or resumes runs a replay goroutine
//     (subscription.replay), owned by its connection (Conn.replays): it
//     reads the log from the cursor, then flushes what the tailer buffered
//     meanwhile and switches the subscription to live. Finish stops and
//     waits for them.
//   - The transport owns the writer: Conn calls its wake hook (with the
//     connection's lock held) when frames are queued and no writer is
//     running; the writer calls Next until it reports the queue empty.
//     The transport also owns the reader, which calls Subscribe,
//     Unsubscribe, Push and finally Finish.
//
// # Access
//
// A transport gives each connection its Access (Conn.SetAccess). It is
// asked by the tailer for every live message, by a replay after every page
// it reads and before flushing what the tailer buffered, and by the access
// checker: always after the messages were read, so a message applied after
// a channel became private is never delivered without a grant. A refused
// subscription is revoked: removed, then the transport's hook runs (or the
// connection fails with CloseForbidden).
//
// # Queue budget
//
// A connection's queue is bounded in frames (Config.QueueFrames) and keeps
// a running count of the bytes it holds (Frame.Size, Conn.queuedBytes), so
// a byte budget is one more comparison in Conn.push and Conn.PushWait.
// Live frames never wait (overflow fails the connection); replay waits
// while the queue is half full, so replay is paced by the socket.
//
// # Locks
//
// Hub.mu guards the channel → subscriptions map and the connection set;
// Conn.mu guards a connection's queue, writer state and subscriptions;
// subscription.mu guards its cursor and pending buffer. Order when nested:
// subscription.mu, then Conn.mu (deliver → push). Hub.mu is never held
// while taking the others: the tailer copies the subscription set, then
// releases Hub.mu before delivering.
package stream
