package raftnode

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	"github.com/pushflo/pushflo/log"
)

// Peer is one member of the initial cluster.
type Peer struct {
	ID   string
	Addr string
}

// ParsePeers parses "n1=10.0.0.1:7000,n2=10.0.0.2:7000".
func ParsePeers(s string) ([]Peer, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []Peer
	var errs []error
	for _, part := range strings.Split(s, ",") {
		id, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || id == "" || addr == "" {
			errs = append(errs, fmt.Errorf("peer %q is not id=host:port", part))
			continue
		}
		out = append(out, Peer{ID: id, Addr: addr})
	}
	return out, errors.Join(errs...)
}

// Config configures a Node. Zero values mean the defaults.
type Config struct {
	// NodeID names this node in the cluster; required.
	NodeID string
	// Dir holds raft.db (the stable store, and the log with LogStoreBoltDB),
	// wal/ (the log with LogStoreWAL) and snapshots/; required.
	Dir string
	// LogStore is the Raft log's format: LogStoreWAL or LogStoreBoltDB.
	// Empty means the one Dir already holds, or DefaultLogStore for a new
	// Dir; a Dir that holds the other one is refused.
	LogStore string
	// WALSegmentBytes is the size of raft-wal's preallocated segment files;
	// zero means raft-wal's default, 64 MiB. The log is truncated after a
	// snapshot only a whole sealed segment at a time, so up to a segment
	// more than TrailingLogs stays on disk.
	WALSegmentBytes int
	// UnsafeNoSync turns off fsync of the Raft log and stable store (with
	// either log store): a power loss (not a process crash) can then lose
	// acknowledged writes. For tests that must show they catch exactly
	// that; never in production. Default false.
	UnsafeNoSync bool
	// RaftAddr is the TCP address to listen on for Raft and forwarded
	// requests; default 127.0.0.1:7000.
	RaftAddr string
	// AdvertiseAddr is the Raft address other nodes dial; default RaftAddr.
	AdvertiseAddr string
	// RaftListener, when set, is a listener already bound for Raft (a
	// socket the service manager handed over, see docs/operations.md):
	// the node serves on it instead of listening on RaftAddr, and closes
	// it on Close. Its address is then the default AdvertiseAddr.
	RaftListener net.Listener
	// HTTPAddr is this node's client-facing HTTP address, reported in
	// cluster status.
	HTTPAddr string
	// Secret is the cluster secret both ends of every Raft connection must
	// know: the Raft link's CA is derived from it (see DESIGN.md, "Link
	// security"). Empty means a random secret, so no other node can
	// connect: allowed for a single node only.
	Secret string
	// TLSCertFile, TLSKeyFile and TLSCAFile, all three or none, give this
	// node's Raft link certificate and key and the CA its peers'
	// certificates must chain to (PEM files), instead of deriving them from
	// Secret.
	TLSCertFile, TLSKeyFile, TLSCAFile string
	// BootstrapPeers, when set on a node with no Raft state, bootstraps a
	// cluster of exactly these members (every initial member is given the
	// same list). When empty and Join is false, a node with no state
	// bootstraps a one-node cluster of itself.
	BootstrapPeers []Peer
	// Join means: do not bootstrap; wait to be added by a leader.
	Join bool
	// Store is the log the FSM applies to; required. The caller opens and
	// closes it (after Node.Close).
	Store *log.Store

	// MaxBatch is the most messages in one Raft entry; default 512.
	MaxBatch int
	// MaxInflight is the most Raft entries the batcher leaves uncommitted at
	// once; default 1: while one entry commits, the next batch gathers, so
	// batches grow with load (measured on a 3-node cluster: 1 beat 2 and 8).
	MaxInflight int
	// RPCsInFlight is how many AppendEntries the leader pipelines to each
	// follower; default 1 (no pipelining). hashicorp/raft v1.8.0 can leave
	// a pipelined replication to a follower blocked for ever after the
	// leader steps down on seeing a newer term (or after a follower
	// restarts): that follower then gets nothing, and Shutdown never
	// returns (raftnode/DESIGN.md). Values above 1 turn pipelining on.
	RPCsInFlight int
	// LeaderWait is how long a write waits for a leader to be known before
	// it fails with ErrNoLeader; default 5s.
	LeaderWait time.Duration
	// ApplyTimeout bounds how long a write waits to enter the Raft queue;
	// default 10s.
	ApplyTimeout time.Duration

	// HeartbeatTimeout and ElectionTimeout, defaults 500ms: how quickly a
	// dead leader is replaced. LeaderLeaseTimeout default 250ms.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	// CommitTimeout is how long a leader waits with nothing to send before
	// it tells followers the commit index; default 2ms, so followers apply
	// (and deliver) committed entries without waiting for a heartbeat.
	// hashicorp/raft has no push on commit: on an idle cluster a follower
	// learns of a commit between one and two CommitTimeouts late.
	CommitTimeout time.Duration
	// SnapshotThreshold is how many entries since the last snapshot trigger
	// a new one; default 8192. SnapshotInterval is how often that is
	// checked; default 30s. TrailingLogs is how many entries stay in the
	// Raft log after a snapshot; default 10240.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64

	// PromoteStable is how long a learner must stay caught up (answering
	// the leader, its log within PromoteMaxLag entries of the commit index)
	// before the leader promotes it to voter; default 3s.
	PromoteStable time.Duration
	// PromoteMaxLag is how many entries a member's Raft log may trail the
	// leader's commit index and still count as caught up; default 256.
	PromoteMaxLag uint64
	// PromoteWait is how long a request to make a non-voter a voter waits
	// for it to catch up before it is refused with ErrNotCaughtUp;
	// default 10s.
	PromoteWait time.Duration

	// OnFatal, when set, is called once when a write to the Raft log or
	// stable store fails (a failed write or fsync of raft.db), on Raft's
	// goroutine, before Raft learns of the error. It should not return: the
	// binary exits there (see DESIGN.md, "Disk errors"). Whether or not it
	// returns, the node then shuts Raft down and refuses every later write
	// and read, so it never acknowledges an entry after a failed fsync.
	OnFatal func(err error)

	// Logger receives logs; nil means slog.Default(). The node adds a
	// component attribute ("raftnode", "raft"); the caller adds the node's
	// ID when its logs need one.
	Logger *slog.Logger

	// wrapLogStore, when set (tests only), wraps the raft-boltdb log
	// store before the node's fail-stop wrapper: tests inject faults there.
	wrapLogStore func(raft.LogStore) raft.LogStore

	hooks testHooks // set only by this package's tests
}

// DefaultConfig returns the configuration a zero field falls back to:
// the defaults the field comments name. NodeID, Dir and Store stay empty;
// the caller must set them.
func DefaultConfig() Config {
	return Config{
		RaftAddr:           "127.0.0.1:7000",
		MaxBatch:           512,
		MaxInflight:        1,
		RPCsInFlight:       1,
		LeaderWait:         5 * time.Second,
		ApplyTimeout:       10 * time.Second,
		HeartbeatTimeout:   500 * time.Millisecond,
		ElectionTimeout:    500 * time.Millisecond,
		LeaderLeaseTimeout: 250 * time.Millisecond,
		CommitTimeout:      2 * time.Millisecond,
		SnapshotThreshold:  8192,
		SnapshotInterval:   30 * time.Second,
		TrailingLogs:       10240,
		PromoteStable:      3 * time.Second,
		PromoteMaxLag:      256,
		PromoteWait:        10 * time.Second,
		Logger:             slog.Default(),
	}
}

// requiredMissing reports which of NodeID, Dir and Store are unset.
func (c *Config) requiredMissing() []error {
	var errs []error
	if c.NodeID == "" {
		errs = append(errs, errors.New("NodeID is empty; every node needs a unique ID"))
	}
	if c.Dir == "" {
		errs = append(errs, errors.New("Dir is empty"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("Store is nil"))
	}
	return errs
}

// Validate reports every problem with the configuration at once.
func (c *Config) Validate() error {
	errs := c.requiredMissing()
	if c.MaxBatch > log.MaxEntriesPerIndex {
		errs = append(errs, fmt.Errorf("MaxBatch is %d; at most %d", c.MaxBatch, log.MaxEntriesPerIndex))
	}
	if len(c.BootstrapPeers) > 0 {
		found := false
		seen := map[string]bool{}
		for _, p := range c.BootstrapPeers {
			if seen[p.ID] {
				errs = append(errs, fmt.Errorf("bootstrap peer %q is listed twice", p.ID))
			}
			seen[p.ID] = true
			found = found || p.ID == c.NodeID
		}
		if !found {
			errs = append(errs, fmt.Errorf("bootstrap peers do not include this node %q", c.NodeID))
		}
		if len(c.BootstrapPeers) > 1 && c.Secret == "" && c.TLSCAFile == "" {
			errs = append(errs, errors.New("a cluster of several nodes needs a cluster secret (or Raft link TLS files)"))
		}
	}
	if files := []string{c.TLSCertFile, c.TLSKeyFile, c.TLSCAFile}; slices.Contains(files, "") && slices.ContainsFunc(files, func(f string) bool { return f != "" }) {
		errs = append(errs, errors.New("Raft link TLS needs all three of the certificate, key and CA files, or none"))
	}
	return errors.Join(errs...)
}

// linkCreds returns the Raft link's credentials: from the TLS files when
// given, else derived from Secret (a random one when empty).
func (c *Config) linkCreds() (*linkCreds, error) {
	if c.TLSCAFile != "" {
		return fileCreds(c.TLSCertFile, c.TLSKeyFile, c.TLSCAFile)
	}
	secret := []byte(c.Secret)
	if len(secret) == 0 {
		secret = make([]byte, 32)
		rand.Read(secret)
	}
	return secretCreds(secret, c.NodeID)
}
