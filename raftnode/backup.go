package raftnode

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// A backup is a tar stream of two entries: backupInfoName, a JSON
// BackupInfo, then backupDataName, the Raft snapshot's data exactly as the
// FSM wrote it (itself the log store's checkpoint tar). Keeping Raft's own
// snapshot format means a restore is a snapshot install: the same code
// path a follower takes when it falls behind the leader's log.
const (
	backupInfoName = "pushflo-backup.json"
	backupDataName = "snapshot.tar"
	backupFormat   = 1
)

// Errors returned by Backup and RestoreBackup.
var (
	// ErrNotBackup is returned by RestoreBackup when the stream is not a
	// pushflo backup, or is one of a format this build cannot read.
	ErrNotBackup = errors.New("not a pushflo backup")
	// ErrHasState is returned by RestoreBackup when the Raft directory
	// already holds a log, a term or a snapshot: a restore only builds a new
	// node and never overwrites one.
	ErrHasState = errors.New("the raft directory already holds state")
)

// BackupInfo describes a backup: the Raft index and term its snapshot
// covers (every message committed at or below Index is in it), when and
// on which node it was taken, and the data's size in bytes.
type BackupInfo struct {
	Format    int       `json:"format"`
	NodeID    string    `json:"nodeId"`
	Index     uint64    `json:"index"`
	Term      uint64    `json:"term"`
	Size      int64     `json:"size"`
	CreatedAt time.Time `json:"createdAt"`
}

// Backup is an open backup: a Raft snapshot of the whole cluster's state
// held open for streaming. Close releases it.
type Backup struct {
	Info BackupInfo
	rc   io.ReadCloser
}

// OpenBackup opens a consistent backup of the whole cluster's state. It
// first runs a linearizable read barrier, so the backup holds every write
// acknowledged anywhere in the cluster before OpenBackup was called, then
// has Raft snapshot the log store (or reuses the newest snapshot when
// nothing was applied since). It works on any node, leader or follower,
// and writes go on while the backup streams: the snapshot is a Pebble
// checkpoint. Errors are those of ReadBarrier, or a failed snapshot.
func (n *Node) OpenBackup(ctx context.Context) (*Backup, error) {
	if err := n.ReadBarrier(ctx, Linearizable); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	meta, rc, err := n.openSnapshotForBackup()
	if err != nil {
		return nil, err
	}
	return &Backup{rc: rc, Info: BackupInfo{Format: backupFormat, NodeID: n.cfg.NodeID, Index: meta.Index, Term: meta.Term, Size: meta.Size, CreatedAt: time.Now().UTC()}}, nil
}

// Write writes the backup to w as a tar stream; call it once. The caller
// owns w's deadlines. A stream cut short is refused by RestoreBackup.
func (b *Backup) Write(w io.Writer) error {
	hdr, err := json.MarshalIndent(b.Info, "", "  ")
	if err != nil {
		return fmt.Errorf("backup: encode info: %w", err)
	}
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: backupInfoName, Mode: 0o600, Size: int64(len(hdr)), ModTime: b.Info.CreatedAt}); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	if _, err := tw.Write(hdr); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: backupDataName, Mode: 0o600, Size: b.Info.Size, ModTime: b.Info.CreatedAt}); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	if _, err := io.Copy(tw, b.rc); err != nil {
		return fmt.Errorf("backup: write snapshot: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	return nil
}

// Close releases the snapshot.
func (b *Backup) Close() error { return b.rc.Close() }

// openSnapshotForBackup takes a snapshot now, or opens the newest one when
// Raft has nothing new to snapshot (every applied entry is in it already).
func (n *Node) openSnapshotForBackup() (*raft.SnapshotMeta, io.ReadCloser, error) {
	fut := n.raft.Snapshot()
	err := fut.Error()
	if err == nil {
		meta, rc, err := fut.Open()
		if err != nil {
			return nil, nil, fmt.Errorf("backup: open snapshot: %w", err)
		}
		return meta, rc, nil
	}
	if !errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return nil, nil, fmt.Errorf("backup: snapshot: %w", err)
	}
	list, err := n.stores.snaps.List()
	if err != nil {
		return nil, nil, fmt.Errorf("backup: list snapshots: %w", err)
	}
	if len(list) == 0 {
		return nil, nil, fmt.Errorf("backup: raft has nothing to snapshot and no snapshot on disk")
	}
	meta, rc, err := n.stores.snaps.Open(list[0].ID)
	if err != nil {
		return nil, nil, fmt.Errorf("backup: open snapshot %s: %w", list[0].ID, err)
	}
	return meta, rc, nil
}

// RestoreConfig says where and as which node RestoreBackup builds a node.
type RestoreConfig struct {
	// Dir is the Raft directory to create (Config.Dir of the node that will
	// start on it); it must hold no Raft state.
	Dir string
	// NodeID and Addr are the restored node's ID and advertised Raft
	// address: it starts as the only voter of a new one-node cluster, to
	// which others then join.
	NodeID string
	Addr   string
	// LogStore is the Raft log format for the new directory; empty means
	// DefaultLogStore.
	LogStore string
}

// RestoreBackup builds, from a backup stream, a Raft directory that a node
// started with Config.Dir = cfg.Dir (and no bootstrap: the directory has
// state) opens as the single voter of a new cluster, holding exactly the
// backup's messages and channels. It writes the backup's data as the
// newest Raft snapshot, at the backup's index and term, with a
// configuration naming only cfg.NodeID at cfg.Addr, and sets the current
// term to the backup's, so the new cluster's log continues after the
// backup's index. On start, Raft restores the log store from that
// snapshot. It returns ErrHasState if cfg.Dir already holds Raft state and
// ErrNotBackup if r is not a backup.
func RestoreBackup(cfg RestoreConfig, r io.Reader) (BackupInfo, error) {
	if cfg.NodeID == "" || cfg.Addr == "" || cfg.Dir == "" {
		return BackupInfo{}, errors.New("restore: the node ID, Raft address and directory are required")
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return BackupInfo{}, fmt.Errorf("restore: create raft dir: %w", err)
	}
	hlog := hclog.NewNullLogger()
	stores, err := openRaftStores(cfg.Dir, cfg.LogStore, false, 0, hlog)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("restore: %w", err)
	}
	defer stores.Close()
	has, err := stores.hasState()
	if err != nil {
		return BackupInfo{}, fmt.Errorf("restore: read raft state: %w", err)
	}
	if has {
		return BackupInfo{}, fmt.Errorf("restore into %s: %w", cfg.Dir, ErrHasState)
	}

	tr := tar.NewReader(r)
	info, size, err := readBackupHeader(tr)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("restore: %w", err)
	}
	conf := raft.Configuration{Servers: []raft.Server{{ID: raft.ServerID(cfg.NodeID), Address: raft.ServerAddress(cfg.Addr), Suffrage: raft.Voter}}}
	// The file store encodes the configuration's addresses through a
	// transport; an in-memory one encodes them as the address strings, as
	// the network transport the node runs with does.
	_, enc := raft.NewInmemTransport("")
	sink, err := stores.snaps.Create(raft.SnapshotVersionMax, info.Index, info.Term, conf, info.Index, enc)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("restore: create snapshot: %w", err)
	}
	n, err := io.Copy(sink, tr)
	if err == nil && n != size {
		err = fmt.Errorf("the backup's snapshot is %d bytes, its header says %d: the file is cut short", n, size)
	}
	if err != nil {
		_ = sink.Cancel()
		return BackupInfo{}, fmt.Errorf("restore: write snapshot: %w", err)
	}
	if err := sink.Close(); err != nil {
		return BackupInfo{}, fmt.Errorf("restore: write snapshot: %w", err)
	}
	// Raft's own key for the current term: a leader of the new cluster must
	// not append at a term below the snapshot's.
	if err := stores.stable.SetUint64([]byte("CurrentTerm"), info.Term); err != nil {
		return BackupInfo{}, fmt.Errorf("restore: set term: %w", err)
	}
	return info, nil
}

// readBackupHeader reads a backup's info entry and positions tr at the
// start of its snapshot data, whose size it returns.
func readBackupHeader(tr *tar.Reader) (BackupInfo, int64, error) {
	h, err := tr.Next()
	if err != nil || h.Name != backupInfoName || h.Size > 1<<20 {
		return BackupInfo{}, 0, fmt.Errorf("%w: it does not start with %s", ErrNotBackup, backupInfoName)
	}
	var info BackupInfo
	if err := json.NewDecoder(io.LimitReader(tr, h.Size)).Decode(&info); err != nil {
		return BackupInfo{}, 0, fmt.Errorf("%w: %s does not parse: %w", ErrNotBackup, backupInfoName, err)
	}
	if info.Format != backupFormat || info.Index == 0 || info.Term == 0 {
		return BackupInfo{}, 0, fmt.Errorf("%w: format %d, index %d, term %d (this build reads format %d)", ErrNotBackup, info.Format, info.Index, info.Term, backupFormat)
	}
	h, err = tr.Next()
	if err != nil || h.Name != backupDataName {
		return BackupInfo{}, 0, fmt.Errorf("%w: %s is missing after %s", ErrNotBackup, backupDataName, backupInfoName)
	}
	if h.Size != info.Size {
		return BackupInfo{}, 0, fmt.Errorf("%w: %s is %d bytes, %s says %d", ErrNotBackup, backupDataName, h.Size, backupInfoName, info.Size)
	}
	return info, h.Size, nil
}

// VerifyBackup reads a whole backup stream and checks that it is complete:
// the info entry, every byte of the snapshot, and the end of the archive.
// `pushflo backup` runs it over what it downloads, so a stream the server
// cut short is reported instead of kept.
func VerifyBackup(r io.Reader) (BackupInfo, error) {
	tr := tar.NewReader(r)
	info, size, err := readBackupHeader(tr)
	if err != nil {
		return BackupInfo{}, err
	}
	n, err := io.Copy(io.Discard, tr)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("read the backup's snapshot: %w", err)
	}
	if n != size {
		return BackupInfo{}, fmt.Errorf("%w: the snapshot is %d bytes, its header says %d: cut short", ErrNotBackup, n, size)
	}
	if _, err := tr.Next(); err != io.EOF {
		return BackupInfo{}, fmt.Errorf("%w: no end-of-archive after the snapshot (%v)", ErrNotBackup, err)
	}
	return info, nil
}
