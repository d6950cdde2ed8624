package raftnode

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	wal "github.com/hashicorp/raft-wal"
	walfs "github.com/hashicorp/raft-wal/fs"
	"github.com/hashicorp/raft-wal/segment"
	"github.com/hashicorp/raft-wal/types"
	"go.etcd.io/bbolt"
)

// Log store names, the values of Config.LogStore.
const (
	// LogStoreWAL keeps the Raft log in raft-wal's segment files under
	// Dir/wal: one fsync per append into preallocated files.
	LogStoreWAL = "wal"
	// LogStoreBoltDB keeps the Raft log in Dir/raft.db beside the stable
	// store: two fsyncs per append (data pages, then meta page).
	LogStoreBoltDB = "boltdb"
	// DefaultLogStore is the log store of a new data directory.
	DefaultLogStore = LogStoreWAL
)

const (
	boltFile = "raft.db"
	walDir   = "wal"
)

// raftStores are the Raft log and stable store of one node, as opened by
// openRaftStores. The stable store (term, vote) is raft-boltdb whatever
// the log store is.
type raftStores struct {
	kind   string // LogStoreWAL or LogStoreBoltDB
	log    raft.LogStore
	stable *raftboltdb.BoltStore
	wal    *wal.WAL // nil unless kind is LogStoreWAL
	snaps  raft.SnapshotStore
}

// snapshotsRetained is how many Raft snapshots the snapshot store keeps.
const snapshotsRetained = 2

// detectLogStore reports which log store dir already holds: LogStoreWAL if
// it has a wal directory, LogStoreBoltDB if it has only raft.db, "" if it
// holds neither (a new node).
func detectLogStore(dir string) (string, error) {
	for _, c := range []struct{ name, kind string }{{walDir, LogStoreWAL}, {boltFile, LogStoreBoltDB}} {
		_, err := os.Stat(filepath.Join(dir, c.name))
		switch {
		case err == nil:
			return c.kind, nil
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("detect raft log store: %w", err)
		}
	}
	return "", nil
}

// chooseLogStore picks the log store for dir: the one it already holds
// (refusing a different explicit choice, since nothing migrates a log), or
// want, or DefaultLogStore.
func chooseLogStore(dir, want string) (string, error) {
	if want != "" && want != LogStoreWAL && want != LogStoreBoltDB {
		return "", fmt.Errorf("raft log store %q is unknown; use %q or %q", want, LogStoreWAL, LogStoreBoltDB)
	}
	have, err := detectLogStore(dir)
	if err != nil {
		return "", err
	}
	switch {
	case have != "" && want != "" && want != have:
		return "", fmt.Errorf("raft log store %q was asked for, but %s already holds a %q Raft log and an existing data directory keeps its log store: "+
			"drop the option (or give %q), or start this node on an empty data directory and let it catch up from the cluster", want, dir, have, have)
	case have != "":
		return have, nil
	case want != "":
		return want, nil
	}
	return DefaultLogStore, nil
}

// openRaftStores opens the Raft log, stable store and snapshot store in
// dir. want is
// Config.LogStore; noSync turns off their fsyncs (unsafe, for tests that
// prove what fsync is for); segmentBytes is raft-wal's segment size (zero:
// its default).
func openRaftStores(dir, want string, noSync bool, segmentBytes int, hlog hclog.Logger) (*raftStores, error) {
	kind, err := chooseLogStore(dir, want)
	if err != nil {
		return nil, err
	}
	s := &raftStores{kind: kind}
	if kind == LogStoreWAL {
		// The wal directory is made before raft.db, so a directory that
		// holds raft.db and no wal directory is always a boltdb one.
		if err := os.MkdirAll(filepath.Join(dir, walDir), 0o700); err != nil {
			return nil, fmt.Errorf("create raft wal dir: %w", err)
		}
	}
	// The freelist is rebuilt on open instead of written on every commit:
	// less to write and fsync per Raft append (bbolt's own advice for
	// write-heavy use; etcd does the same).
	s.stable, err = raftboltdb.New(raftboltdb.Options{
		Path:        filepath.Join(dir, boltFile),
		BoltOptions: &bbolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bbolt.FreelistMapType},
		NoSync:      noSync,
	})
	if err != nil {
		return nil, fmt.Errorf("open raft stable store: %w", err)
	}
	s.log = s.stable
	if kind == LogStoreWAL {
		// raft-wal's option type is unexported: build the list by inference.
		opts := optionList(wal.WithLogger(hlog.Named("wal")))
		if segmentBytes > 0 {
			opts = append(opts, wal.WithSegmentSize(segmentBytes))
		}
		if noSync {
			d := filepath.Join(dir, walDir)
			opts = append(opts, wal.WithSegmentFiler(segment.NewFiler(d, noSyncVFS{walfs.New()})))
		}
		s.wal, err = wal.Open(filepath.Join(dir, walDir), opts...)
		if err != nil {
			s.stable.Close()
			return nil, fmt.Errorf("open raft wal: %w", err)
		}
		s.log = s.wal
	}
	s.snaps, err = raft.NewFileSnapshotStoreWithLogger(dir, snapshotsRetained, hlog)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open snapshot store: %w", err)
	}
	return s, nil
}

// hasState reports whether the stores hold a log, a term or a snapshot.
func (s *raftStores) hasState() (bool, error) {
	return raft.HasExistingState(s.log, s.stable, s.snaps)
}

func optionList[T any](o ...T) []T { return o }

// Close closes the log store, then the stable store.
func (s *raftStores) Close() error {
	var errs []error
	if s.wal != nil {
		if err := s.wal.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close raft wal: %w", err))
		}
	}
	if err := s.stable.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close raft stable store: %w", err))
	}
	return errors.Join(errs...)
}

// noSyncVFS is raft-wal's file system with every file's Sync turned into a
// no-op: raft-wal has no option of its own to skip fsync.
type noSyncVFS struct{ types.VFS }

func (v noSyncVFS) Create(dir, name string, size uint64) (types.WritableFile, error) {
	f, err := v.VFS.Create(dir, name, size)
	if err != nil {
		return nil, err
	}
	return noSyncFile{f}, nil
}

func (v noSyncVFS) OpenWriter(dir, name string) (types.WritableFile, error) {
	f, err := v.VFS.OpenWriter(dir, name)
	if err != nil {
		return nil, err
	}
	return noSyncFile{f}, nil
}

type noSyncFile struct{ types.WritableFile }

func (noSyncFile) Sync() error { return nil }
