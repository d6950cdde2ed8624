package log

import (
	"fmt"
	"os"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// watchFS wraps the store's filesystem and reports the first failed write
// or sync of any file (or directory sync) to onErr. It fails nothing
// itself; the store turns the report into a failure (diskFailed). Reads are
// not watched: a failed read fails that read only.
//
// Why a failed write is fatal and not retried: after a failed fsync the
// kernel may already have dropped the dirty pages, so a retried fsync can
// report success for data that never reached the disk ("fsyncgate"). The
// only safe answer is to stop trusting everything written since the last
// successful sync, which is what a restart does (Pebble replays its WAL,
// Raft re-applies every entry after the store's applied index).
type watchFS struct {
	vfs.FS
	onErr func(op, path string, err error)
}

func (w *watchFS) Unwrap() vfs.FS { return w.FS }

func (w *watchFS) wrap(f vfs.File, path string, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return &watchFile{File: f, path: path, w: w}, nil
}

func (w *watchFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := w.FS.Create(name, category)
	return w.wrap(f, name, err)
}

func (w *watchFS) OpenReadWrite(name string, category vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := w.FS.OpenReadWrite(name, category, opts...)
	return w.wrap(f, name, err)
}

func (w *watchFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := w.FS.ReuseForWrite(oldname, newname, category)
	return w.wrap(f, newname, err)
}

func (w *watchFS) OpenDir(name string) (vfs.File, error) {
	f, err := w.FS.OpenDir(name)
	return w.wrap(f, name, err)
}

type watchFile struct {
	vfs.File
	path string
	w    *watchFS
}

func (f *watchFile) check(op string, err error) error {
	if err != nil {
		f.w.onErr(op, f.path, err)
	}
	return err
}

func (f *watchFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	return n, f.check("write", err)
}

func (f *watchFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	return n, f.check("write", err)
}

func (f *watchFile) Preallocate(off, n int64) error {
	return f.check("preallocate", f.File.Preallocate(off, n))
}

func (f *watchFile) Sync() error { return f.check("fsync", f.File.Sync()) }

func (f *watchFile) SyncData() error { return f.check("fsync", f.File.SyncData()) }

func (f *watchFile) SyncTo(length int64) (bool, error) {
	full, err := f.File.SyncTo(length)
	return full, f.check("fsync", err)
}

// diskFailed records the first disk write or sync error under the store.
// It runs on whichever goroutine hit the error (often one of Pebble's, with
// Pebble's locks and possibly s.mu held), so it takes no lock of the store:
// the error goes into an atomic that every call checks (usableLocked).
func (s *Store) diskFailed(op, path string, err error) {
	e := fmt.Errorf("%s %s: %w", op, path, err)
	if !s.diskErr.CompareAndSwap(nil, &e) {
		return
	}
	s.logger.Error("disk write failed under the log store: it refuses every read and write from now on; restart the node once the disk is healthy",
		"op", op, "path", path, "err", err)
	close(s.failedCh)
	s.callOnFatal(fmt.Errorf("%w: %w", ErrFailed, e))
}

// callOnFatal runs Config.OnFatal, once.
func (s *Store) callOnFatal(err error) {
	s.fatalOnce.Do(func() {
		if s.cfg.OnFatal != nil {
			s.cfg.OnFatal(err)
		}
	})
}

// pebbleFatal handles an error Pebble cannot go on from (its Fatalf): the
// store fails, OnFatal runs, and the process exits, since Pebble expects
// Fatalf not to return.
func (s *Store) pebbleFatal(err error) {
	e := fmt.Errorf("pebble: %w", err)
	if s.diskErr.CompareAndSwap(nil, &e) {
		close(s.failedCh)
	}
	s.logger.Error("pebble stopped after an unrecoverable error; the process exits", "err", err)
	s.callOnFatal(fmt.Errorf("%w: %w", ErrFailed, e))
	os.Exit(1)
}

// Failed returns a channel that is closed when the store fails after a
// disk error (Err then says why). The owner should stop the process: the
// store refuses every call from then on, and only a restart on a healthy
// disk recovers it.
func (s *Store) Failed() <-chan struct{} { return s.failedCh }

// Err returns why the store failed (wrapping ErrFailed), or nil while it is
// healthy. A closed store that did not fail returns nil. Readiness checks
// call it.
func (s *Store) Err() error {
	if e := s.diskErr.Load(); e != nil {
		return fmt.Errorf("%w: %w", ErrFailed, *e)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.failed
}
