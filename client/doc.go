// Package client is the Go SDK for a pushflo server: it publishes messages,
// reads history and subscribes to channels over the public PushFlo v1
// protocol (REST, WebSocket and the SSE extension).
//
// A Client holds the base URLs of one or more nodes. REST calls go to one
// node and move on to the next one when a node is unreachable or unavailable;
// Publish reports, through NotApplied, whether a failed call certainly did not
// append anything or may have, so callers (and the jepsen checker) can tell a
// definite failure from an unknown outcome.
//
// A Subscription owns one goroutine that holds one connection at a time. It
// reads frames, hands messages to the caller through Events in channel order,
// and when the connection breaks, stalls (no pong or message within
// Config.IdleTimeout) or the node dies, it reconnects to the next address with
// exponential backoff and jitter, resuming after the last message ID it
// delivered. It never delivers an ID at or below one it has already
// delivered: IDs within a channel sort byte-wise in publish order. A gap
// record from the server (history compacted past the resume point) is
// delivered as an Event of kind EventGap. Close stops the goroutine and waits
// for it; cancelling the context given to Subscribe does the same.
//
// The package imports nothing from the server: it speaks only the wire
// protocol described in docs/protocol.md of the repository.
package client
