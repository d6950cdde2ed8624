package raftnode

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// ErrDiskFailed is returned, wrapped, by every write and read of a node
// whose Raft log or stable store failed a write: the node has stopped and
// must be restarted once the disk is healthy. A publish that hit the
// failure also wraps ErrUnknownOutcome: the entry may have reached the
// disk, and a later leader may commit it.
var ErrDiskFailed = errors.New("raft log write failed; the node stopped: restart it once the disk is healthy")

// failStop sits between Raft and its log and stable stores (raft-wal or
// raft-boltdb, Config.LogStore). The first failed write (an
// append, a truncation, a term or vote update) is final: it is reported to
// the node (diskFailed) before Raft sees it, and every later write returns
// that error without touching the disk. Without it, hashicorp/raft answers
// a failed append on a follower by rejecting the AppendEntries, and the
// leader's retry can succeed on the same disk after the failed fsync lost
// pages (a retried fsync reports success for data the kernel already
// dropped); the follower would then acknowledge entries it may not hold.
// Reads pass through.
type failStop struct {
	log    raft.LogStore
	stable raft.StableStore
	err    atomic.Pointer[error]
	onFail func(err error)
}

var (
	_ raft.LogStore    = (*failStopLog)(nil)
	_ raft.StableStore = (*failStopStable)(nil)
)

// write runs one write unless a write failed before, and turns its failure
// into the final one.
func (f *failStop) write(op string, do func() error) error {
	if e := f.err.Load(); e != nil {
		return *e
	}
	err := do()
	if err == nil {
		return nil
	}
	var e error = &diskError{op: op, err: err}
	if f.err.CompareAndSwap(nil, &e) {
		f.onFail(e)
	}
	return *f.err.Load()
}

// diskError is the error of a failed write to the Raft log or stable
// store. It is ErrDiskFailed, and ErrUnknownOutcome for a publish that hit
// it; its text speaks of the disk only.
type diskError struct {
	op  string
	err error
}

func (e *diskError) Error() string {
	return fmt.Sprintf("%v: %s: %v", ErrDiskFailed, e.op, e.err)
}

func (e *diskError) Is(target error) bool {
	return target == ErrDiskFailed || target == ErrUnknownOutcome
}

func (e *diskError) Unwrap() error { return e.err }

// failed returns the final error, or nil while every write has succeeded.
func (f *failStop) failed() error {
	if e := f.err.Load(); e != nil {
		return *e
	}
	return nil
}

type failStopLog struct{ *failStop }

func (s failStopLog) FirstIndex() (uint64, error)            { return s.log.FirstIndex() }
func (s failStopLog) LastIndex() (uint64, error)             { return s.log.LastIndex() }
func (s failStopLog) GetLog(index uint64, l *raft.Log) error { return s.log.GetLog(index, l) }
func (s failStopLog) StoreLog(l *raft.Log) error {
	return s.write("append", func() error { return s.log.StoreLog(l) })
}
func (s failStopLog) StoreLogs(logs []*raft.Log) error {
	return s.write("append", func() error { return s.log.StoreLogs(logs) })
}
func (s failStopLog) DeleteRange(min, max uint64) error {
	return s.write("truncate", func() error { return s.log.DeleteRange(min, max) })
}

type failStopStable struct{ *failStop }

func (s failStopStable) Get(key []byte) ([]byte, error)       { return s.stable.Get(key) }
func (s failStopStable) GetUint64(key []byte) (uint64, error) { return s.stable.GetUint64(key) }
func (s failStopStable) Set(key, val []byte) error {
	return s.write("set "+string(key), func() error { return s.stable.Set(key, val) })
}
func (s failStopStable) SetUint64(key []byte, val uint64) error {
	return s.write("set "+string(key), func() error { return s.stable.SetUint64(key, val) })
}

// diskFailed stops the node after a failed write to raft.db: it logs why,
// calls Config.OnFatal (the binary exits there), and otherwise has
// watchDisk shut Raft down so the node neither votes, leads nor
// acknowledges again. It runs on Raft's goroutine, which the shutdown waits
// for, so the shutdown runs on watchDisk's.
func (n *Node) diskFailed(err error) {
	n.logger.Error("raft log write failed: this node stops and acknowledges nothing more; restart it once the disk is healthy", "err", err)
	if n.cfg.OnFatal != nil {
		n.cfg.OnFatal(err)
	}
	close(n.diskFailCh)
}

// watchDisk shuts Raft down when the Raft log store fails.
func (n *Node) watchDisk() {
	select {
	case <-n.ctx.Done():
	case <-n.diskFailCh:
		_ = n.raft.Shutdown().Error()
	}
}

// IsMonotonic passes on raft.MonotonicLogStore: raft-wal accepts no gap in
// its indexes, and Raft clears such a log after installing a snapshot only
// when the store says so. Hidden behind this wrapper, a follower that
// installed a snapshot failed its next append ("non-monotonic log
// entries") and stopped.
func (s failStopLog) IsMonotonic() bool {
	m, ok := s.log.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}
