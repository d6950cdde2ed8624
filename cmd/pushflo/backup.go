package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pushflo/pushflo/raftnode"
)

// runBackup downloads a consistent backup of the cluster from a running
// node (GET /api/v1/cluster/backup, mgmt key; the --server nodes in turn,
// through the Go client's Backup) into a file: it checks the whole stream
// as it arrives, syncs the file and only then renames it into place, so the
// named file is always a complete backup.
func runBackup(args []string) error {
	fs, c := newClientFlagSet("backup", "management key mgmt_… (default: ./data/secrets.json)")
	out := fs.String("o", "", "file to write the backup to (required); written in full or not at all")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return usageError{"usage: pushflo backup -o FILE [--server URL] [--key mgmt_…]"}
	}
	cl, ctx, stop, err := c.start(func(s secrets) string { return s.Keys.Mgmt })
	if err != nil {
		return err
	}
	defer stop()
	var info raftnode.BackupInfo
	err = cl.Backup(ctx, func(r io.Reader) (err error) {
		info, err = saveBackup(r, *out)
		return err
	})
	if err != nil {
		return fmt.Errorf("backup failed: %w", err)
	}
	fmt.Fprintf(os.Stderr, "backup of %s at Raft index %d (term %d), snapshot %d bytes, written to %s\n", info.NodeID, info.Index, info.Term, info.Size, *out)
	return nil
}

// saveBackup checks the backup stream r as it writes it to out, through
// writeFileDurable: out is replaced only by a complete, synced backup.
func saveBackup(r io.Reader, out string) (info raftnode.BackupInfo, err error) {
	err = writeFileDurable(out, 0o600, func(w io.Writer) error {
		if info, err = raftnode.VerifyBackup(io.TeeReader(r, w)); err != nil {
			return fmt.Errorf("the backup stream is not complete: %w", err)
		}
		return nil
	})
	if err != nil {
		return raftnode.BackupInfo{}, err
	}
	return info, nil
}

// runRestore builds a new node's data directory from a backup file: the
// node then starts with `pushflo serve --data-dir DIR` as the single voter
// of a new cluster holding the backup's channels and messages, and other
// nodes join it as usual.
func runRestore(args []string) error {
	fs := newFlagSet("restore")
	dataDir := fs.String("data-dir", "", "data directory to create for the restored node (required; must hold no Raft state)")
	nodeID := fs.String("node-id", "n1", "the restored node's ID")
	raftAddr := fs.String("raft-addr", "127.0.0.1:7000", "the restored node's advertised Raft address (what serve's --raft-advertise-addr or --raft-addr will be)")
	logStore := fs.String("raft-log-store", "", "Raft log format for the new directory: wal or boltdb (default wal)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dataDir == "" || fs.NArg() != 1 {
		return usageError{"usage: pushflo restore --data-dir DIR [--node-id ID] [--raft-addr HOST:PORT] BACKUP_FILE"}
	}
	restrictUmask()
	if err := restrictDataDir(*dataDir); err != nil {
		return err
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := raftnode.RestoreBackup(raftnode.RestoreConfig{
		Dir: filepath.Join(*dataDir, "raft"), NodeID: *nodeID, Addr: *raftAddr, LogStore: *logStore,
	}, f)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "restored the backup of %s taken %s (Raft index %d) into %s as node %s at %s\n"+
		"start it with: pushflo serve --data-dir %s --node-id %s --raft-addr %s\n"+
		"(API keys are not in a backup: give the old ones with --config or the environment, or copy the old secrets.json into %s)\n",
		info.NodeID, info.CreatedAt.Format("2006-01-02 15:04:05Z"), info.Index, *dataDir, *nodeID, *raftAddr, *dataDir, *nodeID, *raftAddr, *dataDir)
	return nil
}
