// Package testproc runs the real pushflo binary as child processes: build
// it once, start, stop, kill, pause and resume a process, capture its
// output in a log file, wait until it is ready, and ask a cluster of them
// which node leads. The end-to-end tests of cmd/pushflo, the bench, the
// jepsen harness and the Go client's own tests all start servers through
// it. It imports no server package (jepsen and bench speak only the public
// protocol), talks to the processes over HTTP only, and needs nothing
// beyond the standard library.
//
// It lives in the client module (github.com/pushflo/pushflo/client), not
// the server's, because the client must not depend on the server module
// while the server module already requires the client: this is the one
// place both can import. It is a harness for tests, not part of the
// client's API (package client does not import it), and it may change
// with any release.
//
// It builds on Unix systems only (process groups and stop/continue
// signals); on Windows the package is empty, so the client module still
// builds and vets there.
//
// # Ports: reserved for the harness's life, handed over as sockets
//
// Picking a free port by listening on :0, closing, and passing the number
// to the child is a race: between the close and the child's bind any
// other process (another test binary, an outgoing connection's ephemeral
// port) may take it, and the node fails to start. Instead a Port is a
// socket bound to its address with SO_REUSEPORT and never listening, held
// until Close. Each Start binds a second, listening socket to the same
// address (allowed only to sockets of the same user that also set
// SO_REUSEPORT, which a plain net.Listen never does) and hands it to the
// child by systemd's socket-activation protocol (sd_listen_fds(3)):
// LISTEN_FDS, LISTEN_FDNAMES ("http", "raft") and LISTEN_PID, with the
// sockets as file descriptors 3, 4, …; `pushflo serve` serves on them
// instead of binding its --http-addr and --raft-addr. The harness then
// closes its copy, so the child alone listens: while the process is down
// (killed, or between a stop and a restart) connections are refused as
// they would be in production, yet the port stays ours and the restarted
// process gets the same address, which its Raft peers and clients know.
//
// Socket activation was chosen over "listen on port 0 and report the
// address" because a cluster must know every node's Raft address before
// any node starts (--bootstrap-peers), and a restarted node must come back
// on the same addresses; both need the addresses fixed up front. It is
// also a real operator feature: deploy/pushflo.socket does the same under
// systemd (docs/operations.md, "Socket activation").
//
// LISTEN_PID must be the child's own process ID, which a parent using
// os/exec cannot know before the fork; the child is therefore started as
// `/bin/sh -c 'LISTEN_PID=$$ exec pushflo …'`, and exec keeps the ID.
//
// Jepsen runs nodes inside network namespaces on fixed addresses that no
// other process can bind, so it starts its processes without sockets and
// with its own start function (Proc.StartFunc); everything else is shared.
package testproc
