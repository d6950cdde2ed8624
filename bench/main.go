package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pushflo/pushflo/client/testproc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		var ue *usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a bad command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// options are the command-line flags.
type options struct {
	binary     string
	target     string
	serverPIDs string
	keys       Keys
	out        string
	smoke      bool
	scenarios  string
	quiet      bool
	keepData   bool

	// Baseline mode: baseline is the old binary, binary the new one.
	baseline      string
	rounds        int
	labels        string
	baselineFlags string
	binaryFlags   string
	// only, when set, selects scenarios by exact name instead of by the
	// --scenarios substrings (baseline mode runs one scenario at a time).
	only map[string]bool

	duration      time.Duration
	rate          int
	subscribers   int
	channels      int
	heavyChannels int
	crossRate     int
	thrDuration   time.Duration
	publishers    string
	connections   int
	replay        int
	payload       int
	frames        string
	idleDuration  time.Duration

	stalled             int
	stalledMessages     int
	stalledMessageBytes int
	stalledQueueBytes   int
	stalledWatch        time.Duration
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.binary, "binary", "", "pushflo binary to start (default: build ./cmd/pushflo into a temp dir)")
	fs.StringVar(&o.target, "target", "", "run against running nodes instead, e.g. http://127.0.0.1:8081,http://127.0.0.1:8082 (first = node 1); needs the keys")
	fs.StringVar(&o.serverPIDs, "server-pids", "", "with --target: the nodes' process IDs, in --target order, to read their CPU and memory")
	fs.StringVar(&o.keys.Publish, "publish-key", "pub_bench_0123456789", "publish key (pub_…)")
	fs.StringVar(&o.keys.Secret, "secret-key", "sec_bench_0123456789", "secret key (sec_…)")
	fs.StringVar(&o.keys.Mgmt, "mgmt-key", "mgmt_bench_0123456789", "management key (mgmt_…), to find the leader")
	fs.StringVar(&o.out, "out", "", "results directory; each run writes a timestamped folder in it (default <module>/bench/results)")
	fs.BoolVar(&o.smoke, "smoke", false, "a few-second run of every scenario with small counts (numbers are not meaningful)")
	fs.StringVar(&o.scenarios, "scenarios", "", "comma-separated substrings; run only scenarios whose name contains one (e.g. fanout,replay)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress line")
	fs.BoolVar(&o.keepData, "keep-data", false, "keep the started servers' data directories and logs")
	fs.StringVar(&o.baseline, "baseline", "", "baseline mode: the old pushflo binary, compared with --binary (the new one) scenario by scenario, alternating")
	fs.IntVar(&o.rounds, "rounds", 3, "baseline mode: rounds of each scenario per binary; figures are medians over rounds")
	fs.StringVar(&o.labels, "labels", "old,new", "baseline mode: names of the --baseline and --binary sides in the report")
	fs.StringVar(&o.baselineFlags, "baseline-flags", "", "baseline mode: extra server flags for the --baseline side, space-separated (e.g. \"--raft-rpcs-in-flight 2\")")
	fs.StringVar(&o.binaryFlags, "binary-flags", "", "extra server flags for the --binary side, space-separated")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "publishing time of each fan-out scenario")
	fs.IntVar(&o.rate, "rate", 1000, "publishes per second in the fan-out scenarios")
	fs.IntVar(&o.subscribers, "subscribers", 1000, "subscribers in the fan-out scenarios")
	fs.IntVar(&o.channels, "channels", 100, "channels in the fan-out scenarios")
	fs.IntVar(&o.heavyChannels, "heavy-channels", 10, "channels in the heavy fan-out scenario (fewer channels = more deliveries per publish)")
	fs.IntVar(&o.crossRate, "cross-rate", 500, "publishes per second in the cross-node scenario")
	fs.DurationVar(&o.thrDuration, "throughput-duration", 10*time.Second, "duration of each throughput run")
	fs.StringVar(&o.publishers, "publishers", "16,64", "concurrent publishers of the throughput runs, comma-separated")
	fs.IntVar(&o.connections, "connections", 10000, "idle WebSocket connections")
	fs.IntVar(&o.replay, "replay", 100000, "messages to replay")
	fs.IntVar(&o.stalled, "stalled", 1000, "subscribers that resume from the start of a large channel and never read (half WebSocket, half SSE)")
	fs.IntVar(&o.stalledMessages, "stalled-messages", 2000, "messages in the stalled subscribers' channel")
	fs.IntVar(&o.stalledMessageBytes, "stalled-message-bytes", 30000, "content bytes of each of those messages (at most 32768)")
	fs.IntVar(&o.stalledQueueBytes, "stalled-queue-bytes", 256<<10, "the server's --max-conn-queue-bytes in the stalled scenario (the bound is computed from it)")
	fs.DurationVar(&o.stalledWatch, "stalled-watch", 45*time.Second, "how long to watch the server's memory once the stalled subscribers start connecting")
	fs.DurationVar(&o.idleDuration, "idle-duration", 10*time.Second, "how long the idle scenario measures a cluster with no traffic")
	fs.StringVar(&o.frames, "frames", "lean", "WebSocket message frames the subscribers ask for: lean (flat fields only, as pushflo's SDKs ask) or full (also the nested message)")
	fs.IntVar(&o.payload, "payload", 64, "padding bytes in each message's content (the content is {\"bt\":<send time>,\"pad\":\"…\"})")
	if err := fs.Parse(args); err != nil {
		return nil, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, &usageError{fmt.Sprintf("unexpected arguments %q; usage: go run ./bench [--binary bin/pushflo | --target URL,…] [--smoke]", fs.Args())}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.smoke {
		def := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		def("duration", func() { o.duration = 2 * time.Second })
		def("rate", func() { o.rate = 200 })
		def("subscribers", func() { o.subscribers = 20 })
		def("channels", func() { o.channels = 5 })
		def("heavy-channels", func() { o.heavyChannels = 2 })
		def("cross-rate", func() { o.crossRate = 100 })
		def("throughput-duration", func() { o.thrDuration = time.Second })
		def("publishers", func() { o.publishers = "4" })
		def("connections", func() { o.connections = 200 })
		def("replay", func() { o.replay = 2000 })
		def("stalled", func() { o.stalled = 20 })
		def("idle-duration", func() { o.idleDuration = time.Second })
		def("stalled-messages", func() { o.stalledMessages = 100 })
		def("stalled-watch", func() { o.stalledWatch = 2 * time.Second })
	}
	var problems []string
	if o.target == "" && o.binary != "" {
		if _, err := os.Stat(o.binary); err != nil {
			problems = append(problems, fmt.Sprintf("--binary %q: %v (run make build)", o.binary, err))
		}
	}
	if o.baseline != "" {
		if _, err := os.Stat(o.baseline); err != nil {
			problems = append(problems, fmt.Sprintf("--baseline %q: %v (make bench-compare builds it)", o.baseline, err))
		}
		if o.target != "" {
			problems = append(problems, "--baseline starts its own servers; it cannot be combined with --target")
		}
		if o.rounds < 1 || o.rounds > 100 {
			problems = append(problems, fmt.Sprintf("--rounds %d must be between 1 and 100", o.rounds))
		}
		if l := strings.Split(o.labels, ","); len(l) != 2 || strings.TrimSpace(l[0]) == "" || strings.TrimSpace(l[1]) == "" || strings.TrimSpace(l[0]) == strings.TrimSpace(l[1]) {
			problems = append(problems, fmt.Sprintf("--labels %q must be two different names separated by a comma", o.labels))
		}
	} else {
		if set["rounds"] || set["labels"] || set["baseline-flags"] {
			problems = append(problems, "--rounds, --labels and --baseline-flags need --baseline")
		}
	}
	for _, k := range []struct{ flag, val, prefix string }{{"--publish-key", o.keys.Publish, "pub_"}, {"--secret-key", o.keys.Secret, "sec_"}, {"--mgmt-key", o.keys.Mgmt, "mgmt_"}} {
		if !strings.HasPrefix(k.val, k.prefix) || len(k.val) < len(k.prefix)+8 {
			problems = append(problems, fmt.Sprintf("%s %q must be %s followed by at least 8 characters", k.flag, k.val, k.prefix))
		}
	}
	if o.target != "" && (!set["publish-key"] || !set["secret-key"] || !set["mgmt-key"]) {
		problems = append(problems, "--target needs --publish-key, --secret-key and --mgmt-key")
	}
	if o.rate <= 0 || o.subscribers <= 0 || o.channels <= 0 || o.heavyChannels <= 0 || o.crossRate <= 0 || o.connections <= 0 || o.replay <= 0 ||
		o.stalled <= 0 || o.stalledMessages <= 0 || o.stalledQueueBytes <= 0 {
		problems = append(problems, "--rate, --subscribers, --channels, --heavy-channels, --cross-rate, --connections, --replay, --stalled, --stalled-messages and --stalled-queue-bytes must be positive")
	}
	if o.stalledMessageBytes < 64 || o.stalledMessageBytes > maxMessageBytes {
		problems = append(problems, fmt.Sprintf("--stalled-message-bytes %d must be between 64 and %d", o.stalledMessageBytes, maxMessageBytes))
	}
	if o.stalledWatch <= 0 || o.stalledWatch > 10*time.Minute {
		problems = append(problems, fmt.Sprintf("--stalled-watch %s must be between 0 and 10m", o.stalledWatch))
	}
	if o.duration <= 0 || o.duration > time.Hour || o.thrDuration <= 0 || o.thrDuration > time.Hour {
		problems = append(problems, fmt.Sprintf("--duration %s and --throughput-duration %s must be between 0 and 1h", o.duration, o.thrDuration))
	}
	switch o.frames {
	case "lean":
		wsFramesQuery = "&frames=lean"
	case "full":
		wsFramesQuery = ""
	default:
		problems = append(problems, fmt.Sprintf("--frames %q must be lean or full", o.frames))
	}
	if _, err := o.publisherCounts(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return nil, &usageError{strings.Join(problems, "; ")}
	}
	return o, nil
}

func (o *options) publisherCounts() ([]int, error) {
	var out []int
	for _, s := range strings.Split(o.publishers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 || n > 4096 {
			return nil, fmt.Errorf("--publishers %q: %q is not a count between 1 and 4096", o.publishers, s)
		}
		out = append(out, n)
	}
	return out, nil
}

// wants reports whether the scenario filter selects name.
func (o *options) wants(name string) bool {
	if o.only != nil {
		return o.only[name]
	}
	if o.scenarios == "" {
		return true
	}
	for _, s := range strings.Split(o.scenarios, ",") {
		if s = strings.TrimSpace(s); s != "" && strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// runner carries what every scenario needs.
type runner struct {
	opts  *options
	prog  *progress
	runID string
}

// run executes the suite and returns the directory it wrote.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (string, error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return "", err
	}
	started := time.Now()
	limit := raiseFileLimit()
	idb := make([]byte, 3)
	_, _ = rand.Read(idb)
	r := &runner{opts: o, runID: hex.EncodeToString(idb)}
	if f, ok := stderr.(*os.File); ok {
		r.prog = newProgress(f, o.quiet)
	} else {
		r.prog = &progress{out: stderr}
		if o.quiet {
			r.prog.out = io.Discard
		}
	}

	outRoot := o.out
	if outRoot == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		outRoot = filepath.Join(root, "bench", "results")
	}
	stamp := started.UTC().Format("20060102-150405")
	if o.baseline != "" {
		stamp += "-compare"
	}
	if o.smoke {
		stamp += "-smoke"
	}
	dir := filepath.Join(outRoot, stamp)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("results directory: %w", err)
	}

	rep := &Report{Started: started, Command: "go run ./bench " + strings.Join(args, " "), Smoke: o.smoke, Machine: machine(limit)}
	if o.target != "" {
		rep.Machine.Target = o.target
		rep.Results, err = r.runTarget(ctx, o)
	} else {
		bin := o.binary
		work, err := os.MkdirTemp("", "pushflo-bench-")
		if err != nil {
			return "", fmt.Errorf("work directory: %w", err)
		}
		if o.keepData {
			r.prog.logf("server data and logs: %s", work)
		} else {
			defer os.RemoveAll(work)
		}
		if bin == "" {
			r.prog.logf("building ./cmd/pushflo…")
			if bin, err = buildBinary(ctx, work); err != nil {
				return "", err
			}
		}
		bin, _ = filepath.Abs(bin)
		rep.Machine.Binary = bin
		if f, err := probeFsync(work, "start", 300); err == nil {
			rep.Fsync = append(rep.Fsync, f)
		}
		if o.baseline != "" {
			cmp, err := r.compare(ctx, bin, work)
			if err != nil {
				return "", err
			}
			if f, err := probeFsync(work, "end", 300); err == nil {
				rep.Fsync = append(rep.Fsync, f)
			}
			rep.Finished = time.Now()
			return dir, writeComparison(dir, rep, cmp, stdout)
		}
		rep.Results, err = r.runLocal(ctx, serverSpec{Binary: bin, Dir: work, Keys: o.keys, Extra: strings.Fields(o.binaryFlags)})
		if err != nil {
			return "", err
		}
		if f, err := probeFsync(work, "end", 300); err == nil {
			rep.Fsync = append(rep.Fsync, f)
		}
	}
	if err != nil {
		return "", err
	}
	rep.Finished = time.Now()
	rep.Targets = checkGoals(rep.Results)
	rep.Hosted = hostedRows(rep.Results)
	plots, perr := writePlots(dir, rep.Results)
	if err := writeReport(dir, rep, plots); err != nil {
		return dir, err
	}
	if perr != nil {
		return dir, fmt.Errorf("plots: %w", perr)
	}
	fmt.Fprintf(stdout, "\nreport: %s\n", filepath.Join(dir, "report.md"))
	for _, t := range rep.Targets {
		status := "not run"
		if t.Measured {
			status = "MET"
			if !t.Met {
				status = "MISSED (" + fmtNum(t.Got) + " " + t.Metric + ")"
			}
		}
		fmt.Fprintf(stdout, "  %-28s %-70s %s\n", t.Scenario, t.Goal, status)
	}
	if ctx.Err() != nil {
		return dir, ctx.Err()
	}
	return dir, nil
}

// runLocal starts one node, a fresh node for the connections scenario and
// a three-node cluster in turn, and runs the suite against each.
func (r *runner) runLocal(ctx context.Context, spec serverSpec) ([]Result, error) {
	var results []Result
	o := r.opts
	singleNames, clusterNames := o.localScenarios()
	cs, ss := spec, spec
	cs.Extra = append(slices.Clone(spec.Extra), "--max-conns-per-ip", strconv.Itoa(o.connections+1000))
	ss.Extra = append(slices.Clone(spec.Extra), "--max-conns-per-ip", strconv.Itoa(o.stalled+1000), "--max-conn-queue-bytes", strconv.Itoa(o.stalledQueueBytes))
	for _, st := range []struct {
		want  bool
		what  string // "starting …" in the progress log
		spec  serverSpec
		name  string
		nodes int
		run   func(t *target) []Result
	}{
		{anyWanted(o, singleNames), "one node", spec, "single", 1, func(t *target) []Result { return r.singleNodeSuite(ctx, t, "1node") }},
		{o.wants("connections-ws-1node"), "a fresh node for the connections scenario", cs, "connections", 1,
			func(t *target) []Result { return []Result{r.connections(ctx, t, o.connections)} }},
		{o.wants("stalled-resume-1node"), "a fresh node for the stalled-resumers scenario", ss, "stalled", 1,
			func(t *target) []Result { return []Result{r.stalled(ctx, t, o.stalled)} }},
		{anyWanted(o, clusterNames), "a three-node cluster", spec, "cluster", 3, func(t *target) []Result { return r.clusterSuite(ctx, t, "3node") }},
	} {
		if !st.want || ctx.Err() != nil {
			continue
		}
		r.prog.logf("starting %s…", st.what)
		t, err := startServers(ctx, st.spec, st.name, st.nodes)
		if err != nil {
			return results, err
		}
		results = append(results, st.run(t)...)
		t.stop()
	}
	return results, nil
}

// localScenarios names the scenarios runLocal can run, in its order: those
// on one node, then those on the three-node cluster. The connections and
// stalled-resume scenarios, each on a fresh node of its own, sit between
// them.
func (o *options) localScenarios() (single, cluster []string) {
	counts, _ := o.publisherCounts()
	// The order is the order singleNodeSuite runs them in.
	single = []string{"fanout-ws-1node", "fanout-sse-1node", "fanout-heavy-ws-1node"}
	for _, k := range counts {
		single = append(single, fmt.Sprintf("throughput-1node-%d", k))
	}
	single = append(single, "replay-ws-1node", "replay-sse-1node")
	cluster = []string{"fanout-ws-3node", "fanout-sse-3node"}
	for _, via := range []string{"leader", "follower"} {
		for _, k := range counts {
			cluster = append(cluster, fmt.Sprintf("throughput-3node-%s-%d", via, k))
		}
	}
	cluster = append(cluster, "crossnode-ws-3node")
	for _, via := range []string{"leader", "follower"} {
		for _, level := range []string{"consistent", "stale"} {
			cluster = append(cluster, fmt.Sprintf("reads-3node-%s-%s", via, level))
		}
	}
	cluster = append(cluster, "idle-3node")
	return single, cluster
}

func anyWanted(o *options, names []string) bool {
	for _, n := range names {
		if o.wants(n) {
			return true
		}
	}
	return false
}

// runTarget runs the suite against --target: the single-node scenarios
// on a one-node target, the cluster scenarios as well on a larger one.
func (r *runner) runTarget(ctx context.Context, o *options) ([]Result, error) {
	t := &target{Keys: o.keys}
	var pids []int
	if o.serverPIDs != "" {
		for _, s := range strings.Split(o.serverPIDs, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return nil, &usageError{fmt.Sprintf("--server-pids %q: %q is not a pid", o.serverPIDs, s)}
			}
			pids = append(pids, n)
		}
	}
	for i, u := range strings.Split(o.target, ",") {
		u = strings.TrimRight(strings.TrimSpace(u), "/")
		if !strings.HasPrefix(u, "http://") {
			return nil, &usageError{fmt.Sprintf("--target entry %q is not an http:// base URL", u)}
		}
		n := &node{ID: fmt.Sprintf("n%d", i+1), URL: u}
		if i < len(pids) {
			n.PID = pids[i]
		}
		t.Nodes = append(t.Nodes, n)
	}
	if err := t.waitReady(ctx); err != nil {
		return nil, err
	}
	suffix := fmt.Sprintf("%dnode", len(t.Nodes))
	results := r.singleNodeSuite(ctx, t, suffix)
	if o.wants("connections") && ctx.Err() == nil {
		results = append(results, r.connections(ctx, t, o.connections))
	}
	if o.wants("stalled-resume") && ctx.Err() == nil {
		results = append(results, r.stalled(ctx, t, o.stalled))
	}
	if len(t.Nodes) > 1 {
		results = append(results, r.clusterSuite(ctx, t, suffix)...)
	}
	return results, nil
}

// singleNodeSuite: fan-out over WebSocket and SSE, heavy fan-out,
// throughput and replay, all against the target's first node.
func (r *runner) singleNodeSuite(ctx context.Context, t *target, suffix string) []Result {
	o := r.opts
	var out []Result
	n1 := t.Nodes[:1]
	for _, f := range []fanoutSpec{
		{Name: "fanout-ws-" + suffix, Transport: "ws", Channels: o.channels},
		{Name: "fanout-sse-" + suffix, Transport: "sse", Channels: o.channels},
		{Name: "fanout-heavy-ws-" + suffix, Transport: "ws", Channels: o.heavyChannels},
	} {
		if !o.wants(f.Name) || ctx.Err() != nil {
			continue
		}
		f.Kind, f.Subscribers, f.Rate, f.Duration = "fanout", o.subscribers, o.rate, o.duration
		f.PubNodes, f.SubNodes, f.PubVia, f.SubOn = n1, n1, "n1", "n1"
		f.Title = fmt.Sprintf("%d %s subscribers over %d channels, %d publishes/s, one node", f.Subscribers, transportName(f.Transport), f.Channels, f.Rate)
		out = append(out, r.fanout(ctx, t, f))
	}
	counts, _ := o.publisherCounts()
	for _, k := range counts {
		name := fmt.Sprintf("throughput-%s-%d", suffix, k)
		if !o.wants(name) || ctx.Err() != nil {
			continue
		}
		out = append(out, r.throughput(ctx, t, throughputSpec{Name: name, Title: fmt.Sprintf("%d publishers, one node", k),
			Publishers: k, Channels: 100, Duration: o.thrDuration, Via: n1, ViaName: "n1"}))
	}
	var base *replayBase
	for _, tr := range []string{"ws", "sse"} {
		name := "replay-" + tr + "-" + suffix
		if !o.wants(name) || ctx.Err() != nil {
			continue
		}
		res, b := r.replay(ctx, t, tr, name, base)
		base = b
		out = append(out, res)
	}
	return out
}

// clusterSuite: fan-out with subscribers on every node, throughput via
// the leader and via a follower, and cross-node delivery.
func (r *runner) clusterSuite(ctx context.Context, t *target, suffix string) []Result {
	o := r.opts
	var out []Result
	leader, followers, err := t.roles(ctx)
	if err != nil {
		return []Result{{Name: "cluster-" + suffix, Kind: "cluster", Title: "cluster", Nodes: len(t.Nodes), Error: err.Error()}}
	}
	r.prog.logf("cluster: leader %s, followers %v", leader.ID, nodeIDs(followers))
	for _, f := range []fanoutSpec{
		{Name: "fanout-ws-" + suffix, Transport: "ws"},
		{Name: "fanout-sse-" + suffix, Transport: "sse"},
	} {
		if !o.wants(f.Name) || ctx.Err() != nil {
			continue
		}
		f.Kind, f.Subscribers, f.Channels, f.Rate, f.Duration = "fanout", o.subscribers, o.channels, o.rate, o.duration
		f.PubNodes, f.SubNodes, f.PubVia, f.SubOn = []*node{leader}, t.Nodes, "leader", "all nodes"
		f.Title = fmt.Sprintf("%d %s subscribers over %d channels on %d nodes, %d publishes/s via the leader", f.Subscribers, transportName(f.Transport), f.Channels, len(t.Nodes), f.Rate)
		out = append(out, r.fanout(ctx, t, f))
	}
	counts, _ := o.publisherCounts()
	for _, via := range []struct {
		name  string
		nodes []*node
	}{{"leader", []*node{leader}}, {"follower", followers[:1]}} {
		for _, k := range counts {
			name := fmt.Sprintf("throughput-%s-%s-%d", suffix, via.name, k)
			if !o.wants(name) || ctx.Err() != nil {
				continue
			}
			out = append(out, r.throughput(ctx, t, throughputSpec{Name: name, Title: fmt.Sprintf("%d publishers via the %s (%s), %d nodes", k, via.name, via.nodes[0].ID, len(t.Nodes)),
				Publishers: k, Channels: 100, Duration: o.thrDuration, Via: via.nodes, ViaName: via.name + " " + via.nodes[0].ID}))
		}
	}
	name := "crossnode-ws-" + suffix
	if o.wants(name) && ctx.Err() == nil {
		first, last := t.Nodes[0], t.Nodes[len(t.Nodes)-1]
		role := "follower"
		if first == leader {
			role = "leader"
		}
		subs := max(1, o.subscribers/10)
		chans := max(1, o.channels/10)
		f := fanoutSpec{Name: name, Kind: "crossnode", Transport: "ws", Subscribers: subs, Channels: chans, Rate: o.crossRate, Duration: o.duration * 2 / 3,
			PubNodes: []*node{first}, SubNodes: []*node{last}, PubVia: first.ID + " (" + role + ")", SubOn: last.ID,
			Title: fmt.Sprintf("publish on %s (%s), %d WebSocket subscribers over %d channels on %s, %d publishes/s", first.ID, role, subs, chans, last.ID, o.crossRate)}
		out = append(out, r.fanout(ctx, t, f))
	}
	for _, via := range []struct {
		name string
		n    *node
	}{{"leader", leader}, {"follower", followers[0]}} {
		for _, stale := range []bool{false, true} {
			level := "consistent"
			if stale {
				level = "stale"
			}
			name := fmt.Sprintf("reads-%s-%s-%s", suffix, via.name, level)
			if !o.wants(name) || ctx.Err() != nil {
				continue
			}
			out = append(out, r.reads(ctx, t, readsSpec{Name: name, Title: fmt.Sprintf("%d readers of history pages via the %s (%s), %s, %d nodes", 16, via.name, via.n.ID, level, len(t.Nodes)),
				Readers: 16, Duration: o.thrDuration, Via: via.n, ViaName: via.name + " " + via.n.ID, Stale: stale}))
		}
	}
	if name := "idle-" + suffix; o.wants(name) && ctx.Err() == nil {
		out = append(out, r.idle(ctx, t, name, o.idleDuration))
	}
	return out
}

func nodeIDs(ns []*node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

// machine describes this computer.
func machine(fileLimit uint64) Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), FileLimit: fileLimit}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if f := strings.Fields(line); len(f) == 3 {
			if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
				m.MemTotal = fmt.Sprintf("%.0f GiB", kb/(1<<20))
			}
		}
	}
	return m
}

// moduleRoot finds the server module's directory above the working
// directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root, err := testproc.ModuleDir(dir)
	if err != nil {
		return "", fmt.Errorf("%w; pass --out", err)
	}
	return root, nil
}

// buildBinary builds ./cmd/pushflo of this module into dir.
func buildBinary(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	return testproc.Build(ctx, root, dir)
}
