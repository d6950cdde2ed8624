//go:build linux

package jepsen

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/pushflo/pushflo/jepsen/faultfs"
)

// fsOwner names the mounts of this process in /proc/mounts:
// pfj-fs-PID-nI.
var staleFSMount = regexp.MustCompile(`^pfj-fs-([0-9]+)-n[0-9]+$`)

// mountFaultFS mounts a faultfs over the node's data directory, backed by
// a sibling directory "backing".
func mountFaultFS(n *Node, logger *slog.Logger) (diskFS, error) {
	backing := filepath.Join(filepath.Dir(n.DataDir), "backing")
	for _, d := range []string{backing, n.DataDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("faultfs for %s: %w", n.ID, err)
		}
	}
	fs, err := faultfs.Mount(backing, n.DataDir, fmt.Sprintf("pfj-fs-%d-%s", os.Getpid(), n.ID))
	if err != nil {
		return nil, fmt.Errorf("faultfs for %s: %w", n.ID, err)
	}
	logger.Info("faultfs mounted", "node", n.ID, "mountpoint", n.DataDir, "backing", backing)
	return fs, nil
}

// cleanStaleFaultFS lazily unmounts faultfs mounts whose owner process is
// gone (their FUSE server died with it, so every access fails).
func cleanStaleFaultFS(logger *slog.Logger) {
	f, err := os.Open("/proc/mounts")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		m := staleFSMount.FindStringSubmatch(fields[0])
		if m == nil {
			continue
		}
		if pid, _ := strconv.Atoi(m[1]); pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat("/proc/" + m[1]); err == nil {
			continue
		}
		logger.Info("faultfs: unmounting a stale mount", "mountpoint", fields[1])
		_ = syscall.Unmount(fields[1], syscall.MNT_DETACH)
	}
}

// diskSupported says whether faultfs can be mounted here.
func diskSupported() error {
	return faultfs.Supported()
}
