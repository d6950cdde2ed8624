package raftnode

import (
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
	"github.com/pushflo/pushflo/internal/defaults"
)

// LocalState is what a stopped node's Raft directory holds, read without
// starting Raft: how far its log reaches and the latest configuration it
// knows.
type LocalState struct {
	// LastIndex and LastTerm are those of the last entry in the log (or
	// the newest snapshot when the log is empty).
	LastIndex, LastTerm uint64
	// Members is the latest configuration in the log or snapshot, which
	// may not have been committed.
	Members []Peer
	// Voters lists the IDs of the voting Members.
	Voters []string
}

// ReadLocalState reads the Raft state in cfg.Dir of a stopped node,
// changing nothing (neither the Raft state nor the store). cfg needs
// NodeID, Dir and Store (the node's log store, open).
func ReadLocalState(cfg Config) (LocalState, error) {
	var st LocalState
	err := withOfflineRaft(cfg, func(rc *raft.Config, f *fsm, stores *raftStores, trans raft.Transport) error {
		// GetConfiguration runs raft's start-up, which would restore the
		// newest snapshot into a store that is behind it: read its
		// configuration from the snapshot's metadata only.
		rc.NoSnapshotRestoreOnStart = true
		conf, err := raft.GetConfiguration(rc, f, stores.log, stores.stable, stores.snaps, trans)
		if err != nil {
			return fmt.Errorf("read configuration: %w", err)
		}
		st.LastIndex, st.LastTerm, err = lastEntry(stores.log, stores.snaps)
		if err != nil {
			return err
		}
		for _, s := range conf.Servers {
			st.Members = append(st.Members, Peer{ID: string(s.ID), Addr: string(s.Address)})
			if s.Suffrage == raft.Voter {
				st.Voters = append(st.Voters, string(s.ID))
			}
		}
		return nil
	})
	return st, err
}

// lastEntry returns the index and term of the last log entry, or of the
// newest snapshot when the log holds none past it.
func lastEntry(logs raft.LogStore, snaps raft.SnapshotStore) (index, term uint64, err error) {
	metas, err := snaps.List()
	if err != nil {
		return 0, 0, fmt.Errorf("list snapshots: %w", err)
	}
	if len(metas) > 0 {
		index, term = metas[0].Index, metas[0].Term
	}
	last, err := logs.LastIndex()
	if err != nil {
		return 0, 0, fmt.Errorf("read last log index: %w", err)
	}
	if last > index {
		var l raft.Log
		if err := logs.GetLog(last, &l); err != nil {
			return 0, 0, fmt.Errorf("read log entry %d: %w", last, err)
		}
		index, term = l.Index, l.Term
	}
	return index, term, nil
}

// Recover rewrites the Raft state of a stopped node whose cluster lost its
// quorum for good, so that it starts as a member of a cluster of exactly
// peers, all voters (hashicorp/raft's RecoverCluster). Every entry in the
// node's Raft log is applied to cfg.Store, committed or not (this node's
// log becomes the cluster's history), a snapshot is taken with the new
// configuration, and the log is emptied. Give every surviving node the
// same peers, or recover one survivor alone and let the others join it
// afresh. cfg needs NodeID, Dir and Store; the node must not be running.
func Recover(cfg Config, peers []Peer) error {
	if len(peers) == 0 {
		return errors.New("recover: no peers given; name at least this node")
	}
	var conf raft.Configuration
	seen := map[string]bool{}
	var errs []error
	for _, p := range peers {
		if seen[p.ID] {
			errs = append(errs, fmt.Errorf("peer %q is listed twice", p.ID))
		}
		seen[p.ID] = true
		conf.Servers = append(conf.Servers, raft.Server{ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Addr), Suffrage: raft.Voter})
	}
	if !seen[cfg.NodeID] {
		errs = append(errs, fmt.Errorf("the peers do not include this node %q", cfg.NodeID))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	return withOfflineRaft(cfg, func(rc *raft.Config, f *fsm, stores *raftStores, trans raft.Transport) error {
		if err := raft.RecoverCluster(rc, f, stores.log, stores.stable, stores.snaps, trans, conf); err != nil {
			return fmt.Errorf("recover: %w", err)
		}
		return nil
	})
}

// withOfflineRaft opens the Raft stores of a stopped node and hands them
// to fn with a Raft configuration and an FSM over cfg.Store, then closes
// them.
func withOfflineRaft(cfg Config, fn func(*raft.Config, *fsm, *raftStores, raft.Transport) error) error {
	defaults.Fill(&cfg, DefaultConfig())
	if err := errors.Join(cfg.requiredMissing()...); err != nil {
		return fmt.Errorf("raftnode config: %w", err)
	}
	if have, err := detectLogStore(cfg.Dir); err != nil {
		return err
	} else if have == "" {
		return fmt.Errorf("%s holds no Raft log: is it the node's Raft directory (the data directory's raft/)?", cfg.Dir)
	}
	hlog := newHCLogger(cfg.Logger)
	stores, err := openRaftStores(cfg.Dir, "", false, cfg.WALSegmentBytes, hlog)
	if err != nil {
		return fmt.Errorf("%w (is the node still running? stop it first)", err)
	}
	defer stores.Close()
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.Logger = hlog
	f := &fsm{store: cfg.Store, logger: cfg.Logger.With("component", "raftnode")}
	if err := f.loadLearners(); err != nil {
		return err
	}
	_, trans := raft.NewInmemTransport(raft.ServerAddress(cfg.RaftAddr))
	defer trans.Close()
	return fn(rc, f, stores, trans)
}
