package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/raftnode"
)

// runRecover: `pushflo recover` rewrites a stopped node's Raft
// configuration after its cluster lost its quorum for good (see
// docs/operations.md, "Recovering a cluster that lost its quorum").
func runRecover(args []string, out io.Writer) error {
	fs := newFlagSet("recover")
	dataDir := fs.String("data-dir", "./data", "the stopped node's data directory")
	nodeID := fs.String("node-id", "n1", "the node's --node-id")
	peersFlag := fs.String("peers", "", "the new cluster, id=host:port,… (all voters, this node among them; default: this node alone, at the Raft address its configuration lists)")
	dryRun := fs.Bool("dry-run", false, "only print how far this node's Raft log reaches and the members it knows; change nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{"usage: pushflo recover --data-dir DIR --node-id ID [--peers id=host:port,…] [--dry-run]"}
	}
	peers, err := raftnode.ParsePeers(*peersFlag)
	if err != nil {
		return usageError{fmt.Sprintf("--peers: %v", err)}
	}
	raftDir := filepath.Join(*dataDir, "raft")
	if _, err := os.Stat(raftDir); err != nil {
		return fmt.Errorf("%s has no Raft state (%s): give the node's --data-dir", *dataDir, raftDir)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := log.Open(log.Config{Dir: filepath.Join(*dataDir, "store"), Logger: logger})
	if err != nil {
		return fmt.Errorf("open the log store: %w (is the node still running? stop it first)", err)
	}
	defer store.Close()
	cfg := raftnode.Config{NodeID: *nodeID, Dir: raftDir, Store: store, Logger: logger}

	st, err := raftnode.ReadLocalState(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "node %s: Raft log ends at index %d, term %d; the store has applied index %d\n", *nodeID, st.LastIndex, st.LastTerm, store.Applied())
	fmt.Fprintf(out, "members it knows: %s (voters: %s)\n", peerList(st.Members), strings.Join(st.Voters, ", "))
	if len(peers) == 0 {
		for _, m := range st.Members {
			if m.ID == *nodeID {
				peers = []raftnode.Peer{m}
			}
		}
		if len(peers) == 0 {
			return fmt.Errorf("node %q is not in the configuration this data directory holds (%s): check --node-id, or give --peers", *nodeID, peerList(st.Members))
		}
	}
	if *dryRun {
		fmt.Fprintf(out, "dry run: would make the cluster %s\n", peerList(peers))
		return nil
	}
	if err := raftnode.Recover(cfg, peers); err != nil {
		return err
	}
	if err := store.Flush(); err != nil {
		return fmt.Errorf("flush the log store: %w", err)
	}
	fmt.Fprintf(out, "recovered: node %s now starts in a cluster of %s, holding its log through index %d.\n", *nodeID, peerList(peers), st.LastIndex)
	fmt.Fprintln(out, "Start it with its usual flags; add new nodes with --join once it leads.")
	return nil
}

func peerList(ps []raftnode.Peer) string {
	if len(ps) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(p.ID + "=" + p.Addr)
	}
	return b.String()
}
