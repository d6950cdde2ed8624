package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/pushflo/pushflo/api"
	"github.com/pushflo/pushflo/client"
	"github.com/pushflo/pushflo/compaction"
	"github.com/pushflo/pushflo/internal/certreload"
	"github.com/pushflo/pushflo/internal/clock"
	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/raftnode"
	"github.com/pushflo/pushflo/stream"
)

// serveFlags is serve's configuration as its flags set it. Package
// settings live in the packages' own Config, preset from their
// DefaultConfig, so each default is written once.
type serveFlags struct {
	httpAddr, dataDir, nodeID           string
	store                               log.Config
	raft                                raftnode.Config
	stream                              stream.Config
	api                                 api.Config
	retention                           time.Duration
	clusterSecret, bootstrapPeers, join string
	nonVoter                            bool
	retentionRules                      string
	logLevel, logFormat                 string
	debugAddr                           string
	tlsCert, tlsKey                     string
	configFile                          string
	printConfig                         bool
	unsafeClockOffsetFile               string
	trustedProxies                      string
	publicURL                           string
	metricsAddr                         string
	allowedOrigins                      string
}

// newServeFlags registers serve's flags. Every flag is also a key of the
// config file and a PUSHFLO_<FLAG> environment variable (config.go).
func newServeFlags() (*flag.FlagSet, *serveFlags) {
	f := &serveFlags{store: log.DefaultConfig(), raft: raftnode.DefaultConfig(), stream: stream.DefaultConfig(), api: api.DefaultConfig()}
	fs := newFlagSet("serve")
	fs.StringVar(&f.configFile, configFlag, "", "TOML file whose keys are these flags' names (deploy/pushflo.example.toml); flags and PUSHFLO_* variables override it")
	fs.BoolVar(&f.printConfig, printConfigFlag, false, "print the effective configuration as a config file, secrets redacted, and exit")
	fs.StringVar(&f.httpAddr, "http-addr", "127.0.0.1:8080", "address for REST, WebSocket and SSE")
	fs.StringVar(&f.raft.RaftAddr, "raft-addr", f.raft.RaftAddr, "address for Raft between nodes")
	fs.StringVar(&f.raft.AdvertiseAddr, "advertise-raft-addr", "", "Raft address other nodes dial (default: --raft-addr)")
	fs.StringVar(&f.dataDir, "data-dir", "./data", "directory for the log store, Raft log and generated keys; made private to the server's user at start (directories 0700, files 0600)")
	fs.StringVar(&f.nodeID, "node-id", "n1", "this node's unique ID in the cluster")
	fs.StringVar(&f.api.Keys.Publish, "publish-key", "", "publish key pub_… (default: generated on first start, kept in the data dir)")
	fs.StringVar(&f.api.Keys.Secret, "secret-key", "", "secret key sec_… (default: generated)")
	fs.StringVar(&f.api.Keys.Mgmt, "mgmt-key", "", "management key mgmt_… (default: generated)")
	fs.StringVar(&f.clusterSecret, "cluster-secret", "", "secret every node of the cluster shares; the Raft link's TLS certificates derive from it (default: kept in the data dir, generated on a first start that names no other node)")
	fs.StringVar(&f.bootstrapPeers, "bootstrap-peers", "", "initial members on first start, id=host:port,… (same list on every node)")
	fs.StringVar(&f.join, "join", "", "URL of a member's HTTP API to join through, e.g. http://10.0.0.1:8080")
	fs.BoolVar(&f.nonVoter, "nonvoter", false, "with --join: join as a non-voting member that only serves subscribers")
	fs.DurationVar(&f.retention, "retention", 24*time.Hour, "how long messages are kept unless a channel says otherwise")
	fs.StringVar(&f.retentionRules, "retention-rules", "", "retention by channel pattern, e.g. 'chat:*=72h,game:*=10m'")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "text", "text (key=value) or json (one JSON object per line)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate chain for serving REST, WebSocket and SSE over TLS (with --tls-key); reloaded when the file changes and on SIGHUP")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.Uint64Var(&f.raft.SnapshotThreshold, "snapshot-threshold", f.raft.SnapshotThreshold, "Raft entries between snapshots")
	fs.DurationVar(&f.raft.SnapshotInterval, "snapshot-interval", f.raft.SnapshotInterval, "how often Raft checks whether a snapshot is due")
	fs.DurationVar(&f.raft.CommitTimeout, "commit-timeout", f.raft.CommitTimeout, "how soon an idle leader tells followers what is committed (bounds cross-node delivery latency)")
	fs.Uint64Var(&f.raft.TrailingLogs, "trailing-logs", f.raft.TrailingLogs, "Raft entries kept after a snapshot, for followers to catch up without one")
	fs.IntVar(&f.stream.MaxSubscriptionsPerConn, "max-subscriptions-per-conn", f.stream.MaxSubscriptionsPerConn, "subscriptions one connection may hold")
	fs.IntVar(&f.api.MaxConnsPerIP, "max-conns-per-ip", f.api.MaxConnsPerIP, "WebSocket and SSE connections one client address may hold (IPv6: one /64)")
	fs.Float64Var(&f.api.RateAddr, "rate-limit-addr", f.api.RateAddr, "HTTP requests per second one client address may make (IPv6: one /64), WebSocket and SSE handshakes included, /health and /ready not; past it 429 RATE_LIMITED with Retry-After")
	fs.IntVar(&f.api.RateAddrBurst, "rate-limit-addr-burst", f.api.RateAddrBurst, "requests one client address may make at once before --rate-limit-addr applies")
	fs.Float64Var(&f.api.RateKey, "rate-limit-key", f.api.RateKey, "requests per second (publishes and other REST calls) the secret key, and apart from it the management key, may make, from any address; these requests do not count against their address")
	fs.IntVar(&f.api.RateKeyBurst, "rate-limit-key-burst", f.api.RateKeyBurst, "requests a key may make at once before --rate-limit-key applies")
	fs.IntVar(&f.api.RateAddrs, "rate-limit-addrs", f.api.RateAddrs, "client addresses whose rate-limit buckets are kept (about 300 bytes each); past it the least recently seen is forgotten")
	fs.StringVar(&f.publicURL, "public-url", "", "URL clients reach this node at, e.g. https://push.example.com (a path prefix is kept); the token endpoint's \"endpoint\" is built from it, never from request headers (default: http:// or, with --tls-cert, https:// and the --http-addr address, an unspecified host replaced by this machine's host name)")
	fs.StringVar(&f.allowedOrigins, "allowed-origins", "*", "browser origins whose pages may call the API (CORS) and open WebSocket and SSE streams, e.g. 'https://app.example.com,https://*.example.com'; the server's own origin always may; * allows any (the default, as the hosted service)")
	fs.StringVar(&f.trustedProxies, "trusted-proxies", "", "CIDR prefixes of reverse proxies and load balancers whose X-Forwarded-For is believed, e.g. '10.0.0.0/8,192.0.2.1'; the client is the right-most address that is not one of them; empty: the TCP peer is the client")
	fs.IntVar(&f.api.MaxHeaderBytes, "max-header-bytes", f.api.MaxHeaderBytes, "largest request line and headers read, in bytes (also the read buffer a connection holds while a request is read)")
	fs.IntVar(&f.stream.QueueFrames, "queue-frames", f.stream.QueueFrames, "frames queued per connection before it is cut off as a slow consumer")
	fs.IntVar(&f.stream.QueueBytes, "max-conn-queue-bytes", f.stream.QueueBytes, "bytes queued per connection (a message counts twice: stored and rendered) before it is cut off as a slow consumer; a resume is read from the log as the socket drains within half of it; default 256 KiB")
	fs.DurationVar(&f.stream.PingInterval, "ping-interval", f.stream.PingInterval, "how often idle connections are pinged")
	fs.IntVar(&f.raft.MaxBatch, "max-batch", f.raft.MaxBatch, "most messages in one Raft entry")
	fs.IntVar(&f.raft.MaxInflight, "max-inflight", f.raft.MaxInflight, "Raft entries the leader's batcher leaves uncommitted at once")
	fs.IntVar(&f.raft.RPCsInFlight, "raft-rpcs-in-flight", f.raft.RPCsInFlight, "AppendEntries pipelined to each follower (1: no pipelining, the default; hashicorp/raft v1.8.0 can stall a pipelined follower for ever)")
	fs.Int64Var(&f.store.FeedBytes, "feed-bytes", f.store.FeedBytes, "bytes of recently applied messages kept in memory for live delivery; subscribers further behind read from disk")
	fs.StringVar(&f.raft.TLSCertFile, "raft-tls-cert", "", "PEM certificate this node presents on the Raft link, instead of one derived from --cluster-secret (with --raft-tls-key and --raft-tls-ca)")
	fs.StringVar(&f.raft.TLSKeyFile, "raft-tls-key", "", "PEM private key of --raft-tls-cert")
	fs.StringVar(&f.raft.TLSCAFile, "raft-tls-ca", "", "PEM CA certificate(s) every peer's Raft link certificate must chain to")
	fs.StringVar(&f.raft.LogStore, "raft-log-store", "", "Raft log format for a new data dir: wal (one fsync per append) or boltdb (default: what the data dir already holds, else "+raftnode.DefaultLogStore+"; an existing data dir keeps its own)")
	fs.IntVar(&f.raft.WALSegmentBytes, "raft-wal-segment-bytes", 0, "size in bytes of each raft-wal segment file (0: raft-wal's default, 64 MiB); after a snapshot the log is trimmed a whole segment at a time")
	fs.BoolVar(&f.raft.UnsafeNoSync, "unsafe-raft-no-sync", false, "UNSAFE, for tests only: the Raft log skips fsync (raft-boltdb NoSync; raft-wal through a file system whose sync does nothing), so a power loss can lose acknowledged writes; the jepsen power-cut runs use it to prove they catch that")
	fs.StringVar(&f.unsafeClockOffsetFile, "unsafe-clock-offset-file", "", "UNSAFE, for tests only: a file holding a Go duration (\"1h\") added to this node's wall clock, re-read every 100ms, so a fault harness can make the clock jump; off when empty")
	fs.StringVar(&f.api.MetricsKey, "metrics-key", "", "key a Prometheus scrape sends as Authorization: Bearer for /metrics on --http-addr; when set, /metrics there needs it or the secret or management key (default: /metrics there is open)")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "also serve /metrics, with no key, on this address (keep it private, e.g. 127.0.0.1:9090); /metrics on --http-addr then needs a key (--metrics-key, secret or management); off when empty")
	fs.StringVar(&f.debugAddr, "debug-addr", "", "address for Go's pprof profiles (/debug/pprof/); off when empty; keep it private")
	return fs, f
}

// runServe runs a node until ctx ends, SIGINT or SIGTERM, or a listener
// fails. Whatever way it returns, it has first stopped everything it
// started, newest first (see stops): a failure half-way through start
// leaves no goroutine, listener or data dir lock behind.
func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs, f := newServeFlags()
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", fs.Args())}
	}
	if f.printConfig {
		return writeConfig(os.Stdout, fs, false)
	}

	// Logging first, so everything after can report.
	logger, err := newLogger(stderr, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	logger = logger.With("node", f.nodeID)

	// Everything started from here on registers how it stops.
	stop := &stops{logger: logger}
	defer stop.run()

	// Sockets a service manager bound for us (socket activation), used
	// instead of the addresses in the flags.
	inherited, err := inheritedListeners()
	if err != nil {
		return err
	}
	for name, ln := range inherited {
		stop.add(name+" socket", func() error { ln.Close(); return nil })
		switch name {
		case "http":
			f.httpAddr = ln.Addr().String()
		case "raft":
			f.raft.RaftAddr = ln.Addr().String()
		case "debug":
			f.debugAddr = ln.Addr().String()
		}
		logger.Info("serving on a socket passed by the service manager", "socket", name, "addr", ln.Addr().String())
	}

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
	if err := needSharedSecret(f, peers); err != nil {
		return err
	}
	sec, fresh, err := loadSecrets(f.dataDir, secrets{Keys: f.api.Keys, ClusterSecret: f.clusterSecret})
	if err != nil {
		return err
	}
	policy, err := parseRetentionRules(f.retentionRules, f.retention)
	if err != nil {
		return usageError{fmt.Sprintf("--retention-rules: %v", err)}
	}
	proxies, err := api.ParseTrustedProxies(f.trustedProxies)
	if err != nil {
		return usageError{fmt.Sprintf("--trusted-proxies: %v", err)}
	}
	origins, err := api.ParseAllowedOrigins(f.allowedOrigins)
	if err != nil {
		return usageError{fmt.Sprintf("--allowed-origins: %v", err)}
	}
	logger.Info("starting pushflo", "version", version, "go", runtime.Version(), "platform", runtime.GOOS+"/"+runtime.GOARCH,
		"http_addr", f.httpAddr, "raft_addr", f.raft.RaftAddr, "data_dir", f.dataDir, "peers", len(peers), "join", f.join, "retention", f.retention.String(),
		"tls", f.tlsCert != "", "commit", commit)

	if f.unsafeClockOffsetFile != "" {
		logger.Warn("--unsafe-clock-offset-file is set: this node's clock follows a test file; for tests only", "path", f.unsafeClockOffsetFile)
		stop.goroutine("clock offset watcher", func(ctx context.Context) {
			clock.WatchOffsetFile(ctx, f.unsafeClockOffsetFile, 100*time.Millisecond, logger)
		})
	}
	if f.raft.UnsafeNoSync {
		logger.Warn("--unsafe-raft-no-sync is on: the Raft log is not fsynced, so a power loss can lose acknowledged writes; for tests only")
	}

	// The TLS certificate, when clients are served over TLS.
	var certs *certreload.Reloader
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageError{"--tls-cert and --tls-key go together: give both or neither"}
	}
	if f.tlsCert != "" {
		if certs, err = certreload.New(f.tlsCert, f.tlsKey, logger); err != nil {
			return err
		}
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
	lc := f.store
	lc.Dir, lc.Logger, lc.OnFatal = filepath.Join(f.dataDir, "store"), logger, stopOn("the log store")
	store, err := log.Open(lc)
	if err != nil {
		return err
	}
	stop.add("log store", store.Close)

	// The Raft node, the store's only writer.
	rc := f.raft
	rc.NodeID, rc.Dir, rc.HTTPAddr, rc.Logger = f.nodeID, filepath.Join(f.dataDir, "raft"), f.httpAddr, logger
	rc.Secret, rc.BootstrapPeers, rc.Join, rc.Store = sec.ClusterSecret, peers, f.join != "", store
	rc.OnFatal, rc.RaftListener = stopOn("the Raft log"), inherited["raft"]
	node, err := raftnode.Open(rc)
	if err != nil {
		return err
	}
	stop.add("raft", node.Close)

	// Retention: the leader proposes expiry.
	reg := prometheus.NewRegistry()
	compactor := compaction.Start(compaction.Config{Node: node, Store: store, Policy: policy, Registerer: reg, Logger: logger})
	stop.add("compaction", func() error { compactor.Close(); return nil })

	// The stream: fan-out of applied messages to subscribers.
	sc := f.stream
	sc.Retention, sc.Logger = policy.Retention, logger
	hub, err := stream.New(sc, store)
	if err != nil {
		return err
	}
	hub.Start()
	stop.add("stream", func() error { hub.Close(); return nil })

	// The HTTP listener, before the API: the public URL defaults to its
	// address.
	ln := inherited["http"]
	if ln == nil {
		if ln, err = net.Listen("tcp", f.httpAddr); err != nil {
			return fmt.Errorf("listen on http address %s: %w", f.httpAddr, err)
		}
	}
	scheme := "http"
	if certs != nil {
		ln, scheme = tls.NewListener(ln, certs.TLSConfig()), "https"
	}

	// The API: REST, WebSocket and SSE.
	ac := f.api
	ac.Keys, ac.Logger, ac.Version, ac.Commit, ac.Metrics = sec.Keys, logger, version, commit, reg
	if ac.PublicURL, err = publicURL(f.publicURL, scheme, ln.Addr()); err != nil {
		ln.Close()
		return usageError{fmt.Sprintf("--public-url: %v", err)}
	}
	ac.TrustedProxies, ac.AllowedOrigins = proxies, origins
	ac.MetricsPrivate = f.metricsAddr != ""
	srv, err := api.New(ac, node, store, hub)
	if err != nil {
		return err
	}

	// Metrics: the binary owns the registry; each package brings its own.
	registerMetrics(reg, srv.Collectors(), hub.Collectors(), node.Collectors(), store.Collectors())
	serveErr := make(chan error, 1)
	served := make(chan struct{})
	go func() {
		defer close(served)
		serveErr <- srv.Serve(ln)
	}()
	// API connections close with a going-away frame: clients resume
	// elsewhere.
	stop.add("http server", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(ctx)
		ln.Close() // in case Serve had not yet taken it
		<-served
		return err
	})

	// Metrics, when asked for, on their own listener, with no key.
	if f.metricsAddr != "" {
		mln, err := net.Listen("tcp", f.metricsAddr)
		if err != nil {
			return fmt.Errorf("listen on metrics address %s: %w", f.metricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		stop.httpServer("metrics server", mln, mux)
		logger.Info("metrics listening", "addr", mln.Addr().String())
	}

	// Profiles, when asked for, on their own listener.
	if f.debugAddr != "" {
		dln := inherited["debug"]
		if dln == nil {
			if dln, err = net.Listen("tcp", f.debugAddr); err != nil {
				return fmt.Errorf("listen on debug address %s: %w", f.debugAddr, err)
			}
		}
		stop.httpServer("pprof server", dln, http.DefaultServeMux)
		logger.Info("pprof listening", "addr", dln.Addr().String())
	}

	// Join an existing cluster through one of its members.
	if f.join != "" {
		advertise := f.raft.AdvertiseAddr
		if advertise == "" {
			advertise = f.raft.RaftAddr
		}
		if err := joinCluster(ctx, f.join, sec.Keys.Mgmt, client.Member{ID: f.nodeID, RaftAddr: advertise, NonVoter: f.nonVoter}, logger, true); err != nil {
			return err
		}
	}

	listening := fmt.Sprintf("%s://%s", scheme, ln.Addr())
	if sec.Keys.Weak() {
		logger.Warn("API keys shorter than 16 characters after their prefix are easy to guess; use them for tests only")
	}
	keysFile := filepath.Join(f.dataDir, "secrets.json")
	if f.logFormat == "text" {
		// A person at a terminal gets the keys to paste, once: when they
		// were generated. Afterwards only where they are kept. A log
		// collector (json) never sees them.
		fmt.Fprintf(stderr, "\npushflo %s node %s serving on %s (raft %s)\n", version, f.nodeID, listening, f.raft.RaftAddr)
		if ac.PublicURL != listening {
			fmt.Fprintf(stderr, "  public URL: %s\n", ac.PublicURL)
		}
		printFreshKeys(stderr, "  ", fresh.Keys, keysFile)
		fmt.Fprintf(stderr, "  %s\n\n", keysWhere(f.api.Keys, keysFile))
	} else {
		logger.Info("serving", "url", listening, "public_url", ac.PublicURL, "raft_addr", f.raft.RaftAddr, "keys", keysWhere(f.api.Keys, keysFile), "keys_generated", fresh.Keys != (api.Keys{}))
	}

	// Run until ctx ends, a signal or a listener failure, then stop in
	// the reverse order of start: pprof, API (connections resume
	// elsewhere), stream, compaction, Raft, store. SIGHUP rereads the TLS
	// certificate.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if certs != nil {
					if err := certs.Reload(); err != nil {
						logger.Error("SIGHUP: certificate not reloaded", "err", err)
					}
				}
				continue
			}
			logger.Info("shutting down", "signal", sig.String())
		case <-ctx.Done():
			logger.Info("shutting down", "reason", context.Cause(ctx).Error())
		case err := <-serveErr:
			if err != nil {
				return fmt.Errorf("http server: %w", err)
			}
		}
		break
	}
	if err := stop.run(); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// publicURL is --public-url checked, or when it is empty the URL derived
// from the listener: scheme by TLS, the bound address, and for an
// unspecified host (0.0.0.0, ::) the machine's host name.
func publicURL(given, scheme string, addr net.Addr) (string, error) {
	if given != "" {
		u, err := url.Parse(given)
		switch {
		case err != nil:
			return "", fmt.Errorf("%q is not a URL: %w", given, err)
		case u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			return "", fmt.Errorf("%q must be http:// or https:// with a host and no query, fragment or user, e.g. https://push.example.com", given)
		}
		return strings.TrimSuffix(u.String(), "/"), nil
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "", fmt.Errorf("listener address %s: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if host, err = os.Hostname(); err != nil || host == "" {
			host = "localhost"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}

// keysWhere says where the API keys come from, never what they are: the
// flags, environment or config file (given) and the data dir's file.
func keysWhere(given api.Keys, keysFile string) string {
	switch {
	case given.Publish != "" && given.Secret != "" && given.Mgmt != "":
		return "API keys: from the flags, environment or config file"
	case given == (api.Keys{}):
		return "API keys: kept in " + keysFile
	}
	return "API keys: from the flags, environment or config file, the others kept in " + keysFile
}

// needSharedSecret refuses to start a node that is meant to meet other
// nodes (--bootstrap-peers names another, or --join) with no cluster
// secret given or kept in its data dir: it would generate one of its own,
// and it and its peers would refuse each other's Raft connections.
func needSharedSecret(f *serveFlags, peers []raftnode.Peer) error {
	if f.clusterSecret != "" || f.raft.TLSCAFile != "" {
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
