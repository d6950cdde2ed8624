package log

import (
	"archive/tar"
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// snapshotMagic opens every snapshot stream, followed by the applied index.
const snapshotMagic = "PUSHFLO-SNAP-1\n"

// Snapshot is a point-in-time copy of the store: a Pebble checkpoint in a
// directory beside the store. Release it when written.
type Snapshot struct {
	fs  vfs.FS
	dir string
	// Applied is the Raft index the snapshot includes.
	Applied uint64
}

// Snapshot syncs the store and checkpoints it. It must not run concurrently
// with a batch commit; the Raft FSM calls it between applies. After it
// returns, the store's applied index is durable at or beyond Applied, so the
// Raft log may be truncated up to it.
func (s *Store) Snapshot() (*Snapshot, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.usableLocked(); err != nil {
		return nil, err
	}
	dir := fmt.Sprintf("%s.snap-%d", s.cfg.Dir, s.applied)
	_ = s.cfg.FS.RemoveAll(dir)
	if err := s.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		_ = s.cfg.FS.RemoveAll(dir)
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return &Snapshot{fs: s.cfg.FS, dir: dir, Applied: s.applied}, nil
}

// WriteTo streams the snapshot: a header with the applied index, then the
// checkpoint's files as a tar archive.
func (sn *Snapshot) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 1<<20)
	bw.WriteString(snapshotMagic)
	binary.Write(bw, binary.BigEndian, sn.Applied)
	tw := tar.NewWriter(bw)
	names, err := sn.fs.List(sn.dir)
	if err != nil {
		return cw.n, fmt.Errorf("write snapshot: %w", err)
	}
	for _, name := range names {
		if err := sn.addFile(tw, name); err != nil {
			return cw.n, fmt.Errorf("write snapshot: %s: %w", name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return cw.n, fmt.Errorf("write snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("write snapshot: %w", err)
	}
	return cw.n, nil
}

func (sn *Snapshot) addFile(tw *tar.Writer, name string) error {
	path := sn.fs.PathJoin(sn.dir, name)
	st, err := sn.fs.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return errors.New("unexpected directory in checkpoint")
	}
	f, err := sn.fs.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: st.Size(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

// Release removes the snapshot's checkpoint directory.
func (sn *Snapshot) Release() { _ = sn.fs.RemoveAll(sn.dir) }

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// SnapshotIndex reads the applied index from the head of a snapshot stream.
func readSnapshotHeader(r io.Reader) (uint64, error) {
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(r, magic); err != nil {
		return 0, err
	}
	if string(magic) != snapshotMagic {
		return 0, errors.New("not a pushflo snapshot")
	}
	var applied uint64
	err := binary.Read(r, binary.BigEndian, &applied)
	return applied, err
}

// Restore replaces the store's contents with a snapshot stream written by
// Snapshot.WriteTo, unless the store already holds the snapshot's index (a
// restart restores the latest snapshot over a store that is ahead of it).
// It must not run concurrently with a batch. Tailers are told, through the
// feed, that every position up to the new head was lost.
func (s *Store) Restore(r io.Reader) error {
	br := bufio.NewReaderSize(r, 1<<20)
	applied, err := readSnapshotHeader(br)
	if err != nil {
		return fmt.Errorf("restore: header: %w", err)
	}
	s.mu.RLock()
	err = s.usableLocked()
	cur := s.applied
	s.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if cur >= applied {
		s.logger.Info("snapshot restore skipped: store is ahead", "applied", cur, "snapshot", applied)
		return nil
	}
	// Extraction uses the unwatched filesystem: running out of space here
	// fails this restore only; the store stays on its old data.
	fs := s.cfg.FS
	tmp := s.cfg.Dir + ".restore"
	_ = fs.RemoveAll(tmp)
	if err := fs.MkdirAll(tmp, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tr := tar.NewReader(br)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("restore: read archive: %w", err)
		}
		if strings.ContainsAny(h.Name, `/\`) || h.Name == ".." || h.Name == "." {
			return fmt.Errorf("restore: bad file name %q in snapshot", h.Name)
		}
		if err := writeFile(fs, fs.PathJoin(tmp, h.Name), tr); err != nil {
			return fmt.Errorf("restore: %s: %w", h.Name, err)
		}
	}
	if err := syncDir(fs, tmp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}

	s.reclaimWG.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := s.swapLocked(tmp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	s.feed.reset(s.headPosition())
	s.logger.Info("restored snapshot", "applied", s.applied)
	return nil
}

// swapLocked closes the database, puts the extracted snapshot in tmp in its
// place and opens it. It ends in one of three states: restored (nil error);
// back on the old data, open and usable (an error saying what failed); or
// failed (an error wrapping ErrFailed, every later call refused), when
// neither the new nor the old data could be opened. A crash at any point is
// finished or undone by recoverSwap on the next Open. Requires mu held
// exclusively.
func (s *Store) swapLocked(tmp string) error {
	fs, dir, old := s.cfg.FS, s.cfg.Dir, s.cfg.Dir+".old"
	// backOnOld reopens the old data after a failure in the swap; the
	// store stays usable unless that fails too.
	backOnOld := func(cause error) error {
		if err := s.openDB(); err != nil {
			return s.failLocked(fmt.Errorf("%w; reopening the old data: %w", cause, err))
		}
		s.logger.Warn("snapshot restore failed; the store is back on its old data", "err", cause)
		return cause
	}
	closeErr := s.db.Close()
	s.db = nil
	if closeErr != nil {
		return backOnOld(fmt.Errorf("close pebble: %w", closeErr))
	}
	_ = fs.RemoveAll(old)
	if err := fs.Rename(dir, old); err != nil {
		return backOnOld(fmt.Errorf("move the old data aside: %w", err))
	}
	if err := fs.Rename(tmp, dir); err != nil {
		if err2 := fs.Rename(old, dir); err2 != nil {
			// Open's recoverSwap moves it back once the disk allows.
			return s.failLocked(fmt.Errorf("move the snapshot into place: %w; move the old data back: %w", err, err2))
		}
		return backOnOld(fmt.Errorf("move the snapshot into place: %w", err))
	}
	err := syncDir(fs, filepath.Dir(dir))
	if err == nil {
		err = s.openDB()
	}
	if err != nil {
		// Undo: the snapshot goes back to tmp (removed by the next
		// restore or Open), the old data back into place.
		if err2 := fs.Rename(dir, tmp); err2 != nil {
			return s.failLocked(fmt.Errorf("open the restored data: %w; move it aside: %w", err, err2))
		}
		if err2 := fs.Rename(old, dir); err2 != nil {
			return s.failLocked(fmt.Errorf("open the restored data: %w; move the old data back: %w", err, err2))
		}
		return backOnOld(fmt.Errorf("open the restored data: %w", err))
	}
	_ = fs.RemoveAll(old)
	return nil
}

func writeFile(fs vfs.FS, path string, r io.Reader) error {
	f, err := fs.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(fs vfs.FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// recoverSwap finishes or undoes a Restore that a crash interrupted, and
// removes leftover snapshot directories.
func recoverSwap(fs vfs.FS, dir string) error {
	old := dir + ".old"
	if _, err := fs.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if _, err := fs.Stat(old); err == nil {
			if err := fs.Rename(old, dir); err != nil {
				return err
			}
		}
	}
	_ = fs.RemoveAll(old)
	_ = fs.RemoveAll(dir + ".restore")
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	if names, err := fs.List(parent); err == nil {
		for _, n := range names {
			if strings.HasPrefix(n, base+".snap-") {
				_ = fs.RemoveAll(fs.PathJoin(parent, n))
			}
		}
	}
	return nil
}
