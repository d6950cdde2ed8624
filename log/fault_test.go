package log

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// faults is an errorfs injector whose rule a test sets and clears: every
// operation the rule matches fails with the rule's errno, as a disk would.
type faults struct {
	mu    sync.Mutex
	rule  func(op errorfs.Op) bool
	errno syscall.Errno
	hits  int
}

func (f *faults) String() string { return "test faults" }

func (f *faults) MaybeError(op errorfs.Op) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rule == nil || !f.rule(op) {
		return nil
	}
	f.hits++
	return &os.PathError{Op: "injected", Path: op.Path, Err: f.errno}
}

// set makes every operation matching rule fail with errno; nil heals.
func (f *faults) set(errno syscall.Errno, rule func(op errorfs.Op) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rule, f.errno, f.hits = rule, errno, 0
}

func (f *faults) hitCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

// once wraps a rule so it matches only its first operation.
func once(rule func(op errorfs.Op) bool) func(op errorfs.Op) bool {
	done := false
	return func(op errorfs.Op) bool {
		if done || !rule(op) {
			return false
		}
		done = true
		return true
	}
}

func newFaultFS() (*faults, vfs.FS) {
	f := &faults{}
	return f, errorfs.Wrap(vfs.NewMem(), f)
}

// snapshotBytes returns a snapshot of a store holding entries 1…n, two
// messages each, on channel ch.
func snapshotBytes(t *testing.T, ch string, n int) []byte {
	t.Helper()
	src := openTest(t, Config{Dir: "/src", FS: vfs.NewMem()})
	for i := 1; i <= n; i++ {
		appendN(t, src, uint64(i), int64(i), ch, 2)
	}
	return snapshotOf(t, src)
}

// checkHolds checks the store holds exactly what appendN wrote at entries
// 1…n on channel ch, and nothing on other.
func checkHolds(t *testing.T, s *Store, ch string, n int, other string) {
	t.Helper()
	if s.Applied() != uint64(n) {
		t.Fatalf("applied = %d, want %d", s.Applied(), n)
	}
	msgs, err := s.Read(ch, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2*n {
		t.Fatalf("%s holds %d messages, want %d", ch, len(msgs), 2*n)
	}
	if c, ok := s.Channel(other); ok {
		t.Fatalf("channel %s present: %+v", other, c)
	}
}

// checkFailed checks that every call on a failed store returns an error
// wrapping ErrFailed (or at least an error), and that none panics.
func checkFailed(t *testing.T, s *Store) {
	t.Helper()
	if _, err := s.Read("old", 0, 0); err == nil {
		t.Fatal("Read on a failed store succeeded")
	}
	if _, err := s.Since("old", 0, 10, 0); err == nil {
		t.Fatal("Since on a failed store succeeded")
	}
	if _, err := s.History("old", HistoryQuery{}); err == nil {
		t.Fatal("History on a failed store succeeded")
	}
	if _, err := s.ThroughTime(1 << 40); err == nil {
		t.Fatal("ThroughTime on a failed store succeeded")
	}
	b := s.NewBatch()
	b.Append(100, 100, []Entry{{Channel: "old", IdempotencyKey: "k", Content: []byte(`{}`)}})
	b.Expire(Span{Channel: "old", From: 0, Through: Position(1, 2), Count: 2, Bytes: 10})
	b.TrimTimeIndex(50)
	if err := b.Commit(); !errors.Is(err, ErrFailed) {
		t.Fatalf("commit on a failed store = %v, want ErrFailed", err)
	}
	s.NewBatch().Discard()
	if _, err := s.Snapshot(); !errors.Is(err, ErrFailed) {
		t.Fatalf("snapshot on a failed store = %v, want ErrFailed", err)
	}
	if err := s.Restore(bytes.NewReader(snapshotBytes(t, "x", 1))); err == nil {
		t.Fatal("restore on a failed store succeeded")
	}
	if err := s.Flush(); !errors.Is(err, ErrFailed) {
		t.Fatalf("flush on a failed store = %v, want ErrFailed", err)
	}
	s.DiskBytes()
	if err := s.Close(); !errors.Is(err, ErrFailed) {
		t.Fatalf("close of a failed store = %v, want ErrFailed", err)
	}
}

// TestStore_RestoreDiskErrors fails each step of a snapshot restore with a
// disk error. The store must end restored, back on its old data (usable), or
// failed (every call an error, none a panic), and after the disk heals Open
// must find one whole copy. Before, a failed rename or reopen left a closed
// Pebble marked open: the next read panicked.
func TestStore_RestoreDiskErrors(t *testing.T) {
	const dir = "/data/store"
	isOp := func(kind errorfs.OpKind, path string) func(errorfs.Op) bool {
		return func(op errorfs.Op) bool { return op.Kind == kind && op.Path == path }
	}
	cases := []struct {
		name   string
		errno  syscall.Errno
		rule   func(errorfs.Op) bool
		failed bool   // the store ends failed rather than on its old data
		reopen string // what Open finds after the disk heals: "old" or "new"
	}{
		{"extracting runs out of space", syscall.ENOSPC, func(op errorfs.Op) bool {
			return op.Kind == errorfs.OpFileWrite && strings.HasPrefix(op.Path, dir+".restore/")
		}, false, "old"},
		{"moving the old data aside fails", syscall.EIO, isOp(errorfs.OpRename, dir), false, "old"},
		{"moving the snapshot into place fails", syscall.EIO, isOp(errorfs.OpRename, dir+".restore"), false, "old"},
		{"moving the snapshot in and the old data back fail", syscall.EIO, func(op errorfs.Op) bool {
			return op.Kind == errorfs.OpRename && (op.Path == dir+".restore" || op.Path == dir+".old")
		}, true, "old"},
		{"syncing the parent directory fails", syscall.EIO, once(isOp(errorfs.OpOpenDir, "/data")), false, "old"},
		{"opening the restored data fails", syscall.EIO, once(isOp(errorfs.OpLock, dir+"/LOCK")), false, "old"},
		{"opening the restored and the old data fail", syscall.EIO, isOp(errorfs.OpLock, dir+"/LOCK"), true, "old"},
	}
	snap := snapshotBytes(t, "new", 30)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, fs := newFaultFS()
			if err := fs.MkdirAll("/data", 0o700); err != nil {
				t.Fatal(err)
			}
			cfg := Config{Dir: dir, FS: fs, Logger: testLogger(t)}
			s, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 5; i++ {
				appendN(t, s, uint64(i), int64(i), "old", 2)
			}
			f.set(tc.errno, tc.rule)
			err = s.Restore(bytes.NewReader(snap))
			if f.hitCount() == 0 {
				t.Fatal("the fault was never injected: the test proves nothing")
			}
			if err == nil {
				t.Fatal("restore succeeded despite the disk error")
			}
			t.Logf("restore: %v", err)
			if tc.failed {
				if !errors.Is(err, ErrFailed) {
					t.Fatalf("restore error = %v, want ErrFailed", err)
				}
				checkFailed(t, s)
			} else {
				if errors.Is(err, ErrFailed) {
					t.Fatalf("store failed (%v); want it back on its old data", err)
				}
				f.set(0, nil)
				checkHolds(t, s, "old", 5, "new")
				appendN(t, s, 6, 6, "old", 2) // still writable
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			f.set(0, nil)
			s2, err := Open(cfg)
			if err != nil {
				t.Fatalf("open after the disk healed: %v", err)
			}
			defer s2.Close()
			want := 5
			if !tc.failed {
				want = 6
			}
			switch tc.reopen {
			case "old":
				checkHolds(t, s2, "old", want, "new")
			case "new":
				checkHolds(t, s2, "new", 30, "old")
			}
			// And the restore now succeeds.
			if err := s2.Restore(bytes.NewReader(snap)); err != nil {
				t.Fatal(err)
			}
			checkHolds(t, s2, "new", 30, "old")
		})
	}
}

// TestStore_WriteErrorStopsStore makes the disk refuse writes to Pebble's
// WAL (ENOSPC) while entries are appended. Commits do not wait for the WAL
// (the Raft log is the durable record), so Pebble meets the error later,
// when it writes the WAL out; it would then panic. The store must report
// the error to Config.OnFatal before Pebble acts on it (the binary
// exits there; this test's hook blocks, as an exited process would), fail
// every later call, and after a restart on a healthy disk hold a consistent
// prefix of what was appended: what raftnode re-applies from.
func TestStore_WriteErrorStopsStore(t *testing.T) {
	f := &faults{}
	mem := vfs.NewCrashableMem()
	stopped := make(chan error, 1)
	cfg := Config{Dir: "/s", FS: errorfs.Wrap(mem, f), Logger: testLogger(t), OnFatal: func(err error) {
		stopped <- err
		select {} // the process exits here
	}}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	content := []byte(`{"pad":"` + strings.Repeat("x", 4000) + `"}`)
	commit := func(i int) error {
		b := s.NewBatch()
		b.Append(uint64(i), int64(i), []Entry{{Channel: "c", Content: content}})
		return b.Commit()
	}
	for i := 1; i <= 10; i++ {
		if err := commit(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil { // entries 1–10 are on disk
		t.Fatal(err)
	}
	f.set(syscall.ENOSPC, func(op errorfs.Op) bool {
		return (op.Kind == errorfs.OpFileWrite || op.Kind == errorfs.OpFileWriteAt) && filepath.Ext(op.Path) == ".log"
	})
	var lastOK atomic.Int64
	lastOK.Store(10)
	go func() {
		for i := 11; i <= 5000; i++ {
			if err := commit(i); err != nil {
				if !errors.Is(err, ErrFailed) {
					t.Errorf("commit %d = %v, want ErrFailed", i, err)
				}
				return
			}
			lastOK.Store(int64(i))
		}
	}()
	select {
	case err := <-stopped:
		if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("OnFatal got %v, want ErrFailed wrapping ENOSPC", err)
		}
		t.Logf("stopped after %d commits: %v", lastOK.Load(), err)
	case <-time.After(time.Minute):
		t.Fatalf("no disk error reported after %d commits of 4 KiB with every WAL write failing", lastOK.Load())
	}
	select {
	case <-s.Failed():
	default:
		t.Fatal("Failed() not closed after the disk error")
	}
	if err := s.Err(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Err() = %v, want ErrFailed", err)
	}

	// Restart on a healthy disk: only what was synced survives.
	s2 := openTest(t, Config{Dir: "/s", FS: mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})})
	applied := s2.Applied()
	if applied < 10 || applied > uint64(lastOK.Load()) {
		t.Fatalf("applied after restart = %d; want between 10 (flushed before the fault) and %d (last commit reported)", applied, lastOK.Load())
	}
	msgs, err := s2.Read("c", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(msgs)) != applied || IndexOf(msgs[len(msgs)-1].Position) != applied {
		t.Fatalf("restarted store holds %d messages, applied %d: not a consistent prefix", len(msgs), applied)
	}
	// Raft re-applies from applied+1.
	b := s2.NewBatch()
	b.Append(applied+1, int64(applied+1), []Entry{{Channel: "c", Content: content}})
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestStore_SnapshotAfterSyncError fails the fsync of Pebble's WAL while a
// snapshot flushes it. A retried fsync can report success for data the
// failed one lost, so the store must stop there (OnFatal; the binary
// exits) and refuse every later snapshot: Raft truncates its log only
// after a snapshot succeeds, so nothing it has not durably stored can be
// dropped from the Raft log.
func TestStore_SnapshotAfterSyncError(t *testing.T) {
	f := &faults{}
	stopped := make(chan error, 1)
	s, err := Open(Config{Dir: "/s", FS: errorfs.Wrap(vfs.NewMem(), f), Logger: testLogger(t), OnFatal: func(err error) {
		stopped <- err
		select {} // the process exits here
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10; i++ {
		appendN(t, s, uint64(i), int64(i), "c", 3)
	}
	f.set(syscall.EIO, func(op errorfs.Op) bool {
		return (op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData) && filepath.Ext(op.Path) == ".log"
	})
	snapErr := make(chan error, 1)
	go func() {
		sn, err := s.Snapshot()
		if err == nil {
			sn.Release()
		}
		snapErr <- err
	}()
	select {
	case err := <-stopped:
		if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
			t.Fatalf("OnFatal got %v, want ErrFailed wrapping EIO", err)
		}
	case err := <-snapErr:
		t.Fatalf("snapshot returned (%v) although the WAL's fsync failed and the store should have stopped", err)
	case <-time.After(time.Minute):
		t.Fatal("no stop within a minute of a failed fsync")
	}
	f.set(0, nil) // the disk "heals": a retried fsync would succeed
	if sn, err := s.Snapshot(); !errors.Is(err, ErrFailed) {
		if err == nil {
			sn.Release()
		}
		t.Fatalf("snapshot after a failed fsync = %v, want ErrFailed", err)
	}
	if err := s.Err(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Err() = %v, want ErrFailed", err)
	}
}
