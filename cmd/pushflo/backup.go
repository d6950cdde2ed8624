package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/pushflo/pushflo/raftnode"
)

// runBackup downloads a consistent backup of the cluster from a running
// node (GET /api/v1/cluster/backup, mgmt key) into a file: it checks the
// whole stream as it arrives, syncs the file and only then renames it into
// place, so the named file is always a complete backup.
func runBackup(args []string) error {
	fs := newFlagSet("backup")
	var c clientFlags
	c.register(fs, "management key mgmt_… (default: ./data/secrets.json)")
	out := fs.String("o", "", "file to write the backup to (required); written in full or not at all")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return usageError{"usage: pushflo backup -o FILE [--server URL] [--key mgmt_…]"}
	}
	if err := c.resolveKey(func(s secrets) string { return s.Keys.Mgmt }); err != nil {
		return err
	}
	ctx, stop := commandContext()
	defer stop()
	var errs []error
	for _, base := range strings.Split(c.server, ",") {
		if base = strings.TrimSpace(base); base == "" {
			continue
		}
		info, err := downloadBackup(ctx, strings.TrimRight(base, "/"), c.key, *out)
		if err == nil {
			fmt.Fprintf(os.Stderr, "backup of %s at Raft index %d (term %d), snapshot %d bytes, written to %s\n", info.NodeID, info.Index, info.Term, info.Size, *out)
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", base, err))
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("backup failed: %w", errors.Join(errs...))
}

func downloadBackup(ctx context.Context, base, key, out string) (raftnode.BackupInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/cluster/backup", nil)
	if err != nil {
		return raftnode.BackupInfo{}, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return raftnode.BackupInfo{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var e struct{ Error, Code string }
		_ = json.Unmarshal(body, &e)
		return raftnode.BackupInfo{}, fmt.Errorf("%s %s: %s", resp.Status, e.Code, e.Error)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".partial-*")
	if err != nil {
		return raftnode.BackupInfo{}, fmt.Errorf("create backup file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	info, err := raftnode.VerifyBackup(io.TeeReader(resp.Body, tmp))
	if err != nil {
		return raftnode.BackupInfo{}, fmt.Errorf("the backup stream is not complete: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return raftnode.BackupInfo{}, fmt.Errorf("sync backup file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return raftnode.BackupInfo{}, fmt.Errorf("close backup file: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return raftnode.BackupInfo{}, fmt.Errorf("rename backup file: %w", err)
	}
	done = true
	if d, err := os.Open(filepath.Dir(out)); err == nil {
		d.Sync()
		d.Close()
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
