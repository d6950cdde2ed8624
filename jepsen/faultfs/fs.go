//go:build linux

package faultfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// FS is one mounted fault-injecting filesystem. Its methods may be called
// from any goroutine.
type FS struct {
	backing, mountpoint, name string

	mu sync.Mutex // guards the fields below; held across each write and fsync
	// files maps a backing file's inode to what the disk holds of it;
	// a file without an entry is durable as it is.
	files     map[uint64]*shadow
	failSync  bool
	failWrite bool
	// delay is how long each write and fsync waits before it runs.
	delay  time.Duration
	server *fuse.Server
	stats  Stats
}

// Supported returns why faultfs cannot be mounted here (it needs root and
// /dev/fuse), or nil.
func Supported() error {
	if os.Geteuid() != 0 {
		return errors.New("faultfs needs root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("faultfs needs /dev/fuse: %w", err)
	}
	return nil
}

// Mount serves backing at mountpoint (both directories must exist; the
// mountpoint should be empty). name shows in /proc/mounts as the source, so
// that a harness can find and unmount mounts a dead run left behind.
// It needs root and /dev/fuse.
func Mount(backing, mountpoint, name string) (*FS, error) {
	f := &FS{backing: backing, mountpoint: mountpoint, name: name, files: map[uint64]*shadow{}}
	if err := f.mount(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *FS) mount() error {
	var st syscall.Stat_t
	if err := syscall.Stat(f.backing, &st); err != nil {
		return fmt.Errorf("faultfs: stat %s: %w", f.backing, err)
	}
	root := &gofs.LoopbackRoot{Path: f.backing, Dev: uint64(st.Dev)}
	root.NewNode = func(r *gofs.LoopbackRoot, parent *gofs.Inode, name string, st *syscall.Stat_t) gofs.InodeEmbedder {
		return &node{LoopbackNode: &gofs.LoopbackNode{RootData: r}, fsys: f}
	}
	rootNode := root.NewNode(root, nil, "", &st)
	root.RootNode = rootNode
	zero := time.Duration(0)
	srv, err := gofs.Mount(f.mountpoint, rootNode, &gofs.Options{
		MountOptions: fuse.MountOptions{
			DirectMount:       true,
			DirectMountStrict: true,
			FsName:            f.name,
			Name:              "faultfs",
			MaxBackground:     64,
		},
		// No kernel caching of names or attributes: a power cut changes
		// files behind the kernel's back.
		EntryTimeout:    &zero,
		AttrTimeout:     &zero,
		NegativeTimeout: &zero,
	})
	if err != nil {
		return fmt.Errorf("faultfs: mount %s on %s: %w", f.backing, f.mountpoint, err)
	}
	f.server = srv
	return nil
}

// Close detaches the mount (MNT_DETACH) without waiting for the kernel to
// release it: a copy of the mount in another mount namespace (any process
// that unshared its mount namespace while the mount existed) keeps the FUSE
// connection, and so the server's goroutines, alive until that namespace
// ends. The backing directory keeps what the process wrote, synced or
// not.
func (f *FS) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.server == nil {
		return nil
	}
	f.server = nil
	if err := syscall.Unmount(f.mountpoint, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("faultfs: unmount %s: %w", f.mountpoint, err)
	}
	return nil
}

// SetFailSync makes every fsync fail with EIO (losing what it should have
// written, see the package doc) while on.
func (f *FS) SetFailSync(on bool) {
	f.mu.Lock()
	f.failSync = on
	f.mu.Unlock()
}

// SetFailWrite makes every write and fallocate fail with ENOSPC while on.
func (f *FS) SetFailWrite(on bool) {
	f.mu.Lock()
	f.failWrite = on
	f.mu.Unlock()
}

// SetDelay makes every write and fsync wait d before it runs (a slow
// disk); zero removes the delay.
func (f *FS) SetDelay(d time.Duration) {
	f.mu.Lock()
	f.delay = d
	f.mu.Unlock()
}

// wait sleeps the injected delay, if any, without holding f.mu.
func (f *FS) wait() {
	f.mu.Lock()
	d := f.delay
	f.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
}

// Stats returns the counters.
func (f *FS) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Pending returns how many bytes a power cut would revert now.
func (f *FS) Pending() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n int64
	_ = filepath.WalkDir(f.backing, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil {
			if s := f.files[st.Ino]; s != nil {
				n += s.pendingBytes(st.Size)
			}
		}
		return nil
	})
	return n
}

// PowerCut loses everything not fsynced, as a power failure would: it
// writes back the bytes the disk still held, truncates each file to its
// durable size and clears injected errors. The process using the
// filesystem must have been killed first (no file of the mount may be open:
// the kernel drops its page cache of a FUSE file when it is opened again,
// and keeps no attributes, see Mount). It returns the number of bytes
// reverted.
func (f *FS) PowerCut() (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var lost int64
	err := filepath.WalkDir(f.backing, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			return nil
		}
		s := f.files[st.Ino]
		if s == nil {
			return nil
		}
		lost += s.pendingBytes(st.Size)
		return revert(p, s)
	})
	f.files = map[uint64]*shadow{}
	f.failSync, f.failWrite, f.delay = false, false, 0
	f.stats.PowerCuts++
	f.stats.LostBytes += lost
	if err != nil {
		return lost, fmt.Errorf("faultfs: power cut: %w", err)
	}
	return lost, nil
}

// revert makes the backing file at p hold what the disk held.
func revert(p string, s *shadow) error {
	file, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer file.Close()
	if err := file.Truncate(s.durableSize); err != nil {
		return err
	}
	for _, e := range s.extents {
		data := e.data
		if e.off >= s.durableSize {
			continue
		}
		if e.end() > s.durableSize {
			data = data[:s.durableSize-e.off]
		}
		if _, err := file.WriteAt(data, e.off); err != nil {
			return err
		}
	}
	return nil
}

// state returns the shadow of the file open as fd, creating it with the
// file's current size as durable. It requires f.mu held.
func (f *FS) state(fd int) (*shadow, int64, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, 0, err
	}
	s := f.files[st.Ino]
	if s == nil {
		s = &shadow{durableSize: st.Size}
		f.files[st.Ino] = s
	}
	return s, st.Size, nil
}

func preader(fd int) func(off int64, n int) ([]byte, error) {
	return func(off int64, n int) ([]byte, error) {
		b := make([]byte, n)
		k, err := syscall.Pread(fd, b, off)
		if err != nil {
			return nil, err
		}
		// Past the end of the backing file the disk reads as zeros.
		for i := max(k, 0); i < n; i++ {
			b[i] = 0
		}
		return b, nil
	}
}

// beforeChange saves what the disk holds of [off, end) of the file open as
// fd. It requires f.mu held.
func (f *FS) beforeChange(fd int, off, end int64) syscall.Errno {
	s, _, err := f.state(fd)
	if err != nil {
		return gofs.ToErrno(err)
	}
	if err := s.touch(off, end, preader(fd)); err != nil {
		return gofs.ToErrno(err)
	}
	return 0
}

func (f *FS) write(fd int, data []byte, off int64) (uint32, syscall.Errno) {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWrite {
		f.stats.FailedWrites++
		return 0, syscall.ENOSPC
	}
	if errno := f.beforeChange(fd, off, off+int64(len(data))); errno != 0 {
		return 0, errno
	}
	n, err := syscall.Pwrite(fd, data, off)
	f.stats.Writes++
	return uint32(max(n, 0)), gofs.ToErrno(err)
}

func (f *FS) truncate(fd int, size int64) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return gofs.ToErrno(err)
	}
	if size < st.Size {
		return f.beforeChange(fd, size, st.Size)
	}
	return 0
}

func (f *FS) sync(fd int) syscall.Errno {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	s, size, err := f.state(fd)
	if err != nil {
		return gofs.ToErrno(err)
	}
	if f.failSync {
		f.stats.FailedSyncs++
		s.syncFailed(size)
		return syscall.EIO
	}
	f.stats.Syncs++
	s.synced(size)
	return 0
}

// handle is an open file: reads go straight to the backing file, writes and
// syncs through the FS's bookkeeping. It deliberately does not offer a
// passthrough descriptor (the kernel would then bypass the FS).
type handle struct {
	lf   *gofs.LoopbackFile
	fd   int
	fsys *FS
}

var (
	_ gofs.FileReader    = (*handle)(nil)
	_ gofs.FileWriter    = (*handle)(nil)
	_ gofs.FileReleaser  = (*handle)(nil)
	_ gofs.FileFlusher   = (*handle)(nil)
	_ gofs.FileFsyncer   = (*handle)(nil)
	_ gofs.FileGetattrer = (*handle)(nil)
	_ gofs.FileSetattrer = (*handle)(nil)
	_ gofs.FileLseeker   = (*handle)(nil)
	_ gofs.FileAllocater = (*handle)(nil)
)

func (f *FS) wrap(fh gofs.FileHandle) (gofs.FileHandle, syscall.Errno) {
	lf, ok := fh.(*gofs.LoopbackFile)
	if !ok {
		return nil, syscall.EIO
	}
	fd, ok := lf.PassthroughFd()
	if !ok {
		return nil, syscall.EBADF
	}
	return &handle{lf: lf, fd: fd, fsys: f}, 0
}

func (h *handle) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return h.lf.Read(ctx, buf, off)
}

func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	return h.fsys.write(h.fd, data, off)
}

func (h *handle) Release(ctx context.Context) syscall.Errno { return h.lf.Release(ctx) }
func (h *handle) Flush(ctx context.Context) syscall.Errno   { return h.lf.Flush(ctx) }

func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno { return h.fsys.sync(h.fd) }

func (h *handle) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	return h.lf.Getattr(ctx, out)
}

func (h *handle) Setattr(ctx context.Context, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok {
		if errno := h.fsys.truncate(h.fd, int64(size)); errno != 0 {
			return errno
		}
	}
	return h.lf.Setattr(ctx, in, out)
}

func (h *handle) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	return h.lf.Lseek(ctx, off, whence)
}

// Fallocate modes that change bytes in place.
const (
	fallocPunchHole = 0x02
	fallocCollapse  = 0x08
	fallocZeroRange = 0x10
	fallocInsert    = 0x20
)

func (h *handle) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	f := h.fsys
	if mode&(fallocCollapse|fallocInsert) != 0 {
		return syscall.EOPNOTSUPP
	}
	f.mu.Lock()
	if f.failWrite {
		f.stats.FailedWrites++
		f.mu.Unlock()
		return syscall.ENOSPC
	}
	if mode&(fallocPunchHole|fallocZeroRange) != 0 {
		if errno := f.beforeChange(h.fd, int64(off), int64(off+size)); errno != 0 {
			f.mu.Unlock()
			return errno
		}
	}
	f.mu.Unlock()
	return h.lf.Allocate(ctx, off, size, mode)
}

// node is a loopback node whose files are handles and whose truncations
// and O_TRUNC opens are recorded.
type node struct {
	*gofs.LoopbackNode
	fsys *FS
}

var (
	_ gofs.NodeOpener    = (*node)(nil)
	_ gofs.NodeCreater   = (*node)(nil)
	_ gofs.NodeSetattrer = (*node)(nil)
)

func (n *node) backingPath() string {
	return filepath.Join(n.RootData.Path, n.Path(n.Root()))
}

// truncatePath records a truncation of the file at the node's path.
func (n *node) truncatePath(size int64) syscall.Errno {
	file, err := os.OpenFile(n.backingPath(), os.O_RDONLY, 0)
	if err != nil {
		return gofs.ToErrno(err)
	}
	defer file.Close()
	return n.fsys.truncate(int(file.Fd()), size)
}

func (n *node) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_TRUNC != 0 {
		if errno := n.truncatePath(0); errno != 0 {
			return nil, 0, errno
		}
	}
	fh, fl, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	h, errno := n.fsys.wrap(fh)
	return h, fl, errno
}

func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	ino, fh, fl, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	h, errno := n.fsys.wrap(fh)
	return ino, h, fl, errno
}

func (n *node) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if _, ok := f.(*handle); !ok {
		if size, ok := in.GetSize(); ok {
			if errno := n.truncatePath(int64(size)); errno != 0 {
				return errno
			}
		}
	}
	return n.LoopbackNode.Setattr(ctx, f, in, out)
}

// CopyFileRange is refused so the kernel falls back to reads and writes,
// which the FS sees.
func (n *node) CopyFileRange(ctx context.Context, fhIn gofs.FileHandle, offIn uint64, out *gofs.Inode, fhOut gofs.FileHandle, offOut uint64, len uint64, flags uint64) (uint32, syscall.Errno) {
	return 0, syscall.EOPNOTSUPP
}

// Tmpfile is refused: an O_TMPFILE file would bypass the handles.
func (n *node) Tmpfile(ctx context.Context, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EOPNOTSUPP
}
