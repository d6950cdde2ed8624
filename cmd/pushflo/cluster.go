package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pushflo/pushflo/api"
	"github.com/pushflo/pushflo/client"
)

// runCluster: `pushflo cluster --nodes 3` starts a local cluster;
// `pushflo cluster status|join|remove` manage one.
func runCluster(args []string) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "status":
			return clusterStatus(args[1:])
		case "join":
			return clusterJoin(args[1:])
		case "remove":
			return clusterRemove(args[1:])
		}
		return usageError{fmt.Sprintf("unknown cluster command %q: use status, join or remove", args[0])}
	}
	return clusterLocal(args)
}

// clusterLocal starts N nodes on 127.0.0.1 as child processes sharing keys
// and a cluster secret, and stops them all on Ctrl-C.
func clusterLocal(args []string) error {
	fs := newFlagSet("cluster")
	n := fs.Int("nodes", 3, "number of nodes")
	dir := fs.String("data-dir", "./data-cluster", "parent directory of the nodes' data dirs")
	httpBase := fs.Int("http-port", 8081, "HTTP port of the first node; the others follow")
	raftBase := fs.Int("raft-port", 7001, "Raft port of the first node; the others follow")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n < 1 || *n > 9 {
		return usageError{fmt.Sprintf("--nodes is %d; 1 to 9 are allowed", *n)}
	}
	sec, fresh, err := loadSecrets(*dir, secrets{})
	if err != nil {
		return err
	}
	keysFile := filepath.Join(*dir, "secrets.json")
	if fresh.Keys != (api.Keys{}) {
		printFreshKeys(os.Stderr, "", fresh.Keys, keysFile)
	} else {
		fmt.Fprintf(os.Stderr, "API keys: kept in %s\n", keysFile)
	}
	var peers []string
	for i := 1; i <= *n; i++ {
		peers = append(peers, fmt.Sprintf("n%d=127.0.0.1:%d", i, *raftBase+i-1))
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var cmds []*exec.Cmd
	for i := 1; i <= *n; i++ {
		cmd := exec.Command(self, "serve",
			"--node-id", fmt.Sprintf("n%d", i),
			"--http-addr", fmt.Sprintf("127.0.0.1:%d", *httpBase+i-1),
			"--raft-addr", fmt.Sprintf("127.0.0.1:%d", *raftBase+i-1),
			"--data-dir", filepath.Join(*dir, fmt.Sprintf("n%d", i)),
			"--bootstrap-peers", strings.Join(peers, ","),
		)
		// Secrets in the environment, not the command line ps shows.
		cmd.Env = append(os.Environ(), envName("cluster-secret")+"="+sec.ClusterSecret, envName("publish-key")+"="+sec.Keys.Publish,
			envName("secret-key")+"="+sec.Keys.Secret, envName("mgmt-key")+"="+sec.Keys.Mgmt)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Start(); err != nil {
			stopAll(cmds)
			return fmt.Errorf("start node n%d: %w", i, err)
		}
		cmds = append(cmds, cmd)
	}
	time.Sleep(time.Second)
	fmt.Printf("\nlocal cluster of %d nodes:\n", *n)
	for i := 1; i <= *n; i++ {
		fmt.Printf("  n%d  http://127.0.0.1:%d  (raft 127.0.0.1:%d)\n", i, *httpBase+i-1, *raftBase+i-1)
	}
	fmt.Printf("  publish key %s\n  secret key  %s\n  mgmt key    %s\nCtrl-C stops all nodes.\n\n", sec.Keys.Publish, sec.Keys.Secret, sec.Keys.Mgmt)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	exited := make(chan int, len(cmds))
	for i, c := range cmds {
		go func() { c.Wait(); exited <- i }()
	}
	select {
	case <-sigs:
	case i := <-exited:
		fmt.Fprintf(os.Stderr, "node n%d exited; stopping the others\n", i+1)
	}
	stopAll(cmds)
	return nil
}

func stopAll(cmds []*exec.Cmd) {
	var wg sync.WaitGroup
	for _, c := range cmds {
		if c.Process == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { c.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				c.Process.Kill()
			}
		}()
	}
	wg.Wait()
}

// clusterCommand parses the flags of a cluster subcommand that has only
// --server and --key (keyHelp), checks it was given nargs arguments (else
// usage is the error; nargs < 0 takes any), and builds its client.
func clusterCommand(name, keyHelp string, args []string, nargs int, usage string) (*flag.FlagSet, *client.Client, error) {
	fs, c := newClientFlagSet(name, keyHelp)
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, err
	}
	if nargs >= 0 && fs.NArg() != nargs {
		return nil, nil, usageError{usage}
	}
	cl, err := clusterClient(c.server, c.key)
	return fs, cl, err
}

func clusterStatus(args []string) error {
	_, cl, err := clusterCommand("cluster status", "secret or management key (default: ./data/secrets.json)", args, -1, "")
	if err != nil {
		return err
	}
	ctx, stop := commandContext()
	defer stop()
	st, err := cl.ClusterStatus(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "leader: %s\n\nID\tSTATE\tROLE\tRAFT\tHTTP\tAPPLIED\tLAG\n", st.Leader)
	for _, m := range st.Members {
		role := m.Role
		if role == "" {
			role = strings.ToLower(m.Suffrage) // a node of an older version answered
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", m.ID, m.State, role, m.RaftAddr, m.HTTPAddr, m.Applied, m.Lag, m.Error)
	}
	return tw.Flush()
}

func clusterJoin(args []string) error {
	fs := newFlagSet("cluster join")
	leader := fs.String("leader", "", "HTTP URL of a member, e.g. http://10.0.0.1:8080")
	id := fs.String("node-id", "", "ID of the node to add")
	raftAddr := fs.String("raft-addr", "", "Raft address of the node to add")
	nonVoter := fs.Bool("nonvoter", false, "add as a member that never votes; without it the node joins as a learner and becomes a voter once caught up (a non-voter named again without it is made a voter)")
	key := fs.String("key", "", "management key (default: ./data/secrets.json)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *leader == "" || *id == "" || *raftAddr == "" {
		return usageError{"usage: pushflo cluster join --leader http://HOST:PORT --node-id ID --raft-addr HOST:PORT [--nonvoter]"}
	}
	ctx, stop := commandContext()
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := joinCluster(ctx, *leader, *key, client.Member{ID: *id, RaftAddr: *raftAddr, NonVoter: *nonVoter}, logger, false); err != nil {
		return err
	}
	if *nonVoter {
		fmt.Printf("added %s (%s) as a non-voter\n", *id, *raftAddr)
	} else {
		fmt.Printf("added %s (%s): it votes once it has caught up (pushflo cluster status shows its role)\n", *id, *raftAddr)
	}
	return nil
}

func clusterRemove(args []string) error {
	fs, cl, err := clusterCommand("cluster remove", "management key (default: ./data/secrets.json)", args, 1, "usage: pushflo cluster remove NODE_ID [--server URL]")
	if err != nil {
		return err
	}
	ctx, stop := commandContext()
	defer stop()
	if err := cl.RemoveMember(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Printf("removed %s\n", fs.Arg(0))
	return nil
}
