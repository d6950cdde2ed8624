package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/pushflo/pushflo/api"
	"github.com/pushflo/pushflo/client"
	"github.com/pushflo/pushflo/internal/clock"
	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/raftnode"
	"github.com/pushflo/pushflo/stream"
)

type serveFlags struct {
	httpAddr, raftAddr, advertise, dataDir, nodeID string
	keys                                           api.Keys
	clusterSecret, bootstrapPeers, join            string
	nonVoter                                       bool
	retention                                      time.Duration
	retentionRules                                 string
	logLevel                                       string
	snapshotThreshold, trailingLogs                uint64
	snapshotInterval, commitTimeout                time.Duration
	maxSubs, maxConnsPerIP, queueFrames            int
	maxHeaderBytes                                 int
	pingInterval                                   time.Duration
	debugAddr                                      string
	maxBatch, maxInflight                          int
	rpcsInFlight                                   int
	feedBytes                                      int64
	raftLogStore                                   string
	raftTLSCert, raftTLSKey, raftTLSCA             string
	unsafeRaftNoSync                               bool
	unsafeClockOffsetFile                          string
}

func runServe(args []string) error {
	var f serveFlags
	fs := newFlagSet("serve")
	fs.StringVar(&f.httpAddr, "http-addr", "127.0.0.1:8080", "address for REST, WebSocket and SSE")
	fs.StringVar(&f.raftAddr, "raft-addr", "127.0.0.1:7000", "address for Raft between nodes")
	fs.StringVar(&f.advertise, "advertise-raft-addr", "", "Raft address other nodes dial (default: --raft-addr)")
	fs.StringVar(&f.dataDir, "data-dir", "./data", "directory for the log store, Raft log and generated keys; made private to the server's user at start (directories 0700, files 0600)")
	fs.StringVar(&f.nodeID, "node-id", "n1", "this node's unique ID in the cluster")
	fs.StringVar(&f.keys.Publish, "publish-key", "", "publish key pub_… (default: generated on first start, kept in the data dir)")
	fs.StringVar(&f.keys.Secret, "secret-key", "", "secret key sec_… (default: generated)")
	fs.StringVar(&f.keys.Mgmt, "mgmt-key", "", "management key mgmt_… (default: generated)")
	fs.StringVar(&f.clusterSecret, "cluster-secret", "", "secret every node of the cluster shares; the Raft link's TLS certificates derive from it (default: kept in the data dir, generated on a first start that names no other node)")
	fs.StringVar(&f.bootstrapPeers, "bootstrap-peers", "", "initial members on first start, id=host:port,… (same list on every node)")
	fs.StringVar(&f.join, "join", "", "URL of a member's HTTP API to join through, e.g. http://10.0.0.1:8080")
	fs.BoolVar(&f.nonVoter, "nonvoter", false, "with --join: join as a non-voting member that only serves subscribers")
	fs.DurationVar(&f.retention, "retention", 24*time.Hour, "how long messages are kept unless a channel says otherwise")
	fs.StringVar(&f.retentionRules, "retention-rules", "", "retention by channel pattern, e.g. 'chat:*=72h,game:*=10m'")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.Uint64Var(&f.snapshotThreshold, "snapshot-threshold", 8192, "Raft entries between snapshots")
	fs.DurationVar(&f.snapshotInterval, "snapshot-interval", 30*time.Second, "how often Raft checks whether a snapshot is due")
	fs.DurationVar(&f.commitTimeout, "commit-timeout", 2*time.Millisecond, "how soon an idle leader tells followers what is committed (bounds cross-node delivery latency)")
	fs.Uint64Var(&f.trailingLogs, "trailing-logs", 10240, "Raft entries kept after a snapshot, for followers to catch up without one")
	fs.IntVar(&f.maxSubs, "max-subscriptions-per-conn", 100, "subscriptions one connection may hold")
	fs.IntVar(&f.maxConnsPerIP, "max-conns-per-ip", 10000, "WebSocket and SSE connections one address may hold")
	fs.IntVar(&f.maxHeaderBytes, "max-header-bytes", 4096, "largest request headers read; also the read buffer each idle WebSocket keeps (2048 saves memory if clients send no big cookies)")
	fs.IntVar(&f.queueFrames, "queue-frames", 4096, "frames queued per connection before it is cut off as a slow consumer")
	fs.DurationVar(&f.pingInterval, "ping-interval", 25*time.Second, "how often idle connections are pinged")
	fs.IntVar(&f.maxBatch, "max-batch", 512, "most messages in one Raft entry")
	fs.IntVar(&f.maxInflight, "max-inflight", 1, "Raft entries the leader's batcher leaves uncommitted at once")
	fs.IntVar(&f.rpcsInFlight, "raft-rpcs-in-flight", 0, "AppendEntries pipelined to each follower (0: raft's default)")
	fs.Int64Var(&f.feedBytes, "feed-bytes", log.DefaultFeedBytes, "bytes of recently applied messages kept in memory for live delivery; subscribers further behind read from disk")
	fs.StringVar(&f.raftTLSCert, "raft-tls-cert", "", "PEM certificate this node presents on the Raft link, instead of one derived from --cluster-secret (with --raft-tls-key and --raft-tls-ca)")
	fs.StringVar(&f.raftTLSKey, "raft-tls-key", "", "PEM private key of --raft-tls-cert")
	fs.StringVar(&f.raftTLSCA, "raft-tls-ca", "", "PEM CA certificate(s) every peer's Raft link certificate must chain to")
	fs.StringVar(&f.raftLogStore, "raft-log-store", "", "Raft log format for a new data dir: wal (one fsync per append) or boltdb (default: what the data dir already holds, else "+raftnode.DefaultLogStore+"; an existing data dir keeps its own)")
	fs.BoolVar(&f.unsafeRaftNoSync, "unsafe-raft-no-sync", false, "UNSAFE, for tests only: the Raft log skips fsync (raft-boltdb NoSync; raft-wal through a file system whose sync does nothing), so a power loss can lose acknowledged writes; the jepsen power-cut runs use it to prove they catch that")
	fs.StringVar(&f.unsafeClockOffsetFile, "unsafe-clock-offset-file", "", "UNSAFE, for tests only: a file holding a Go duration (\"1h\") added to this node's wall clock, re-read every 100ms, so a fault harness can make the clock jump; off when empty")
	fs.StringVar(&f.debugAddr, "debug-addr", "", "address for Go's pprof profiles (/debug/pprof/); off when empty; keep it private")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", fs.Args())}
	}

	// Logging first, so everything after can report.
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return usageError{fmt.Sprintf("--log-level %q: %v", f.logLevel, err)}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("node", f.nodeID)

	// The data dir and everything created in it are private to this user.
	restrictUmask()
	if err := restrictDataDir(f.dataDir); err != nil {
		return err
	}

	// Keys and cluster secret: flags, else the data dir, else generated;
	// but a node meant to meet others refuses a secret of its own making.
	peers, err := raftnode.ParsePeers(f.bootstrapPeers)
	if err != nil {
		return usageError{fmt.Sprintf("--bootstrap-peers: %v", err)}
	}
	if err := needSharedSecret(&f, peers); err != nil {
		return err
	}
	sec, generated, err := loadSecrets(f.dataDir, secrets{Keys: f.keys, ClusterSecret: f.clusterSecret})
	if err != nil {
		return err
	}
	policy, err := parseRetentionRules(f.retentionRules, f.retention)
	if err != nil {
		return usageError{fmt.Sprintf("--retention-rules: %v", err)}
	}
	logger.Info("starting pushflo", "version", version, "go", runtime.Version(), "platform", runtime.GOOS+"/"+runtime.GOARCH,
		"http_addr", f.httpAddr, "raft_addr", f.raftAddr, "data_dir", f.dataDir, "peers", len(peers), "join", f.join, "retention", f.retention)

	if f.unsafeClockOffsetFile != "" {
		logger.Warn("--unsafe-clock-offset-file is set: this node's clock follows a test file; for tests only", "path", f.unsafeClockOffsetFile)
		clockCtx, stopClock := context.WithCancel(context.Background())
		defer stopClock()
		go clock.WatchOffsetFile(clockCtx, f.unsafeClockOffsetFile, 100*time.Millisecond, logger)
	}
	if f.unsafeRaftNoSync {
		logger.Warn("--unsafe-raft-no-sync is on: the Raft log is not fsynced, so a power loss can lose acknowledged writes; for tests only")
	}

	// The log store.
	// A failed write or fsync under the store or the Raft log stops the
	// process at once, before anything else can be acknowledged
	// (log/DESIGN.md and raftnode/DESIGN.md, "Disk errors").
	stopOn := func(what string) func(error) {
		return func(err error) {
			logger.Error("stopping with exit status 1: "+what+" hit a disk error; restart once the disk is healthy", "err", err)
			os.Exit(1)
		}
	}
	store, err := log.Open(log.Config{Dir: filepath.Join(f.dataDir, "store"), FeedBytes: f.feedBytes, Logger: logger, OnFatal: stopOn("the log store")})
	if err != nil {
		return err
	}
	defer store.Close()

	// The Raft node, the store's only writer.
	node, err := raftnode.Open(raftnode.Config{
		NodeID: f.nodeID, Dir: filepath.Join(f.dataDir, "raft"), RaftAddr: f.raftAddr, AdvertiseAddr: f.advertise,
		HTTPAddr: f.httpAddr, Secret: sec.ClusterSecret, BootstrapPeers: peers, Join: f.join != "", Store: store,
		SnapshotThreshold: f.snapshotThreshold, SnapshotInterval: f.snapshotInterval, CommitTimeout: f.commitTimeout,
		MaxBatch: f.maxBatch, MaxInflight: f.maxInflight, RPCsInFlight: f.rpcsInFlight, TrailingLogs: f.trailingLogs, Logger: logger,
		TLSCertFile: f.raftTLSCert, TLSKeyFile: f.raftTLSKey, TLSCAFile: f.raftTLSCA, LogStore: f.raftLogStore, UnsafeNoSync: f.unsafeRaftNoSync, OnFatal: stopOn("the Raft log"),
	})
	if err != nil {
		return err
	}
	defer node.Close()

	// The stream: fan-out of applied messages to subscribers.
	hub, err := stream.New(stream.Config{
		QueueFrames: f.queueFrames, MaxSubscriptionsPerConn: f.maxSubs, PingInterval: f.pingInterval,
		Retention: policy.Retention, Logger: logger,
	}, store)
	if err != nil {
		return err
	}
	hub.Start()
	defer hub.Close()

	// The API: REST, WebSocket and SSE.
	srv, err := api.New(api.Config{
		Keys: sec.Keys, MaxConnsPerIP: f.maxConnsPerIP, MaxHeaderBytes: f.maxHeaderBytes, Logger: logger,
	}, node, store, hub)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on http address %s: %w", f.httpAddr, err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	// Profiles, when asked for, on their own listener.
	if f.debugAddr != "" {
		dln, err := net.Listen("tcp", f.debugAddr)
		if err != nil {
			return fmt.Errorf("listen on debug address %s: %w", f.debugAddr, err)
		}
		go http.Serve(dln, http.DefaultServeMux)
		logger.Info("pprof listening", "addr", dln.Addr().String())
	}

	// Retention: the leader proposes expiry.
	stopCompaction := startCompaction(node, store, policy, srv, logger)
	defer stopCompaction()

	// Join an existing cluster through one of its members.
	if f.join != "" {
		advertise := f.advertise
		if advertise == "" {
			advertise = f.raftAddr
		}
		if err := joinCluster(context.Background(), f.join, sec.Keys.Mgmt, client.Member{ID: f.nodeID, RaftAddr: advertise, NonVoter: f.nonVoter}, logger); err != nil {
			return err
		}
	}

	fmt.Fprintf(os.Stderr, "\npushflo %s node %s serving on http://%s (raft %s)\n", version, f.nodeID, ln.Addr(), f.raftAddr)
	fmt.Fprintf(os.Stderr, "  publish key: %s\n  secret key:  %s\n  mgmt key:    %s\n", sec.Keys.Publish, sec.Keys.Secret, sec.Keys.Mgmt)
	if generated {
		fmt.Fprintf(os.Stderr, "  (keys generated and saved in %s)\n", filepath.Join(f.dataDir, "secrets.json"))
	}
	if sec.Keys.Weak() {
		logger.Warn("API keys shorter than 16 characters after their prefix are easy to guess; use them for tests only")
	}
	fmt.Fprintln(os.Stderr)

	// Run until a signal or a listener failure, then shut down in order:
	// API and stream (connections resume elsewhere), compaction, Raft, store.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	select {
	case sig := <-sigs:
		logger.Info("shutting down", "signal", sig.String())
	case err := <-serveErr:
		if err != nil {
			return fmt.Errorf("http server: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("http shutdown", "err", err)
	}
	hub.Close()
	stopCompaction()
	if err := node.Close(); err != nil {
		logger.Warn("raft shutdown", "err", err)
	}
	if err := store.Close(); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// needSharedSecret refuses to start a node that is meant to meet other
// nodes (--bootstrap-peers names another, or --join) with no cluster
// secret given or kept in its data dir: it would generate one of its own,
// and it and its peers would refuse each other's Raft connections.
func needSharedSecret(f *serveFlags, peers []raftnode.Peer) error {
	if f.clusterSecret != "" || f.raftTLSCA != "" {
		return nil
	}
	var others []string
	for _, p := range peers {
		if p.ID != f.nodeID {
			others = append(others, p.ID)
		}
	}
	if len(others) == 0 && f.join == "" {
		return nil
	}
	if saved, err := readSecrets(f.dataDir); err == nil && saved.ClusterSecret != "" {
		return nil
	}
	why := "--join asks to join a cluster"
	if len(others) > 0 {
		why = fmt.Sprintf("--bootstrap-peers lists other nodes (%s)", strings.Join(others, ", "))
	}
	return usageError{why + " but no --cluster-secret is given: this node would generate a secret of its own, and it and the other nodes would refuse each other. " +
		"Give every node the same --cluster-secret (for example the output of `openssl rand -hex 24`), or Raft link certificates with --raft-tls-cert, --raft-tls-key and --raft-tls-ca"}
}
