package log

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/pushflo/pushflo/internal/defaults"
)

// Errors returned by the store.
var (
	// ErrClosed is returned by calls on a closed store.
	ErrClosed = errors.New("store closed")
	// ErrFailed is returned by every call on a store that a disk error left
	// without a usable database (a failed commit, or a snapshot restore that
	// could neither finish nor fall back to the old data). The process
	// should stop; once the disk is healthy, Open recovers the store.
	ErrFailed = errors.New("store failed after a disk error; restart once the disk is healthy")
	// ErrChannelExists is returned when creating a channel that is listed already.
	ErrChannelExists = errors.New("channel exists")
	// ErrChannelNotFound is returned when changing or deleting a channel that
	// is not listed.
	ErrChannelNotFound = errors.New("channel not found")
)

// DefaultFeedBytes is the default Config.FeedBytes: 64 MiB, about two
// thousand of the largest (32 KiB) messages or a few hundred thousand small
// ones.
const DefaultFeedBytes = 64 << 20

// Config configures a Store. Zero values mean the defaults.
type Config struct {
	// Dir is the directory of the Pebble database. Required.
	Dir string
	// FS is the filesystem to use; nil means the operating system's. Tests
	// pass vfs.NewMem() or a crashable one.
	FS vfs.FS
	// FeedBytes is how many bytes of recently applied messages the feed
	// keeps in memory for the tailer (a message costs its content, names
	// and about 100 bytes of bookkeeping); default DefaultFeedBytes. A
	// tailer that falls further behind is told it was lapped and reads from
	// Pebble instead. The feed holds up to a quarter more while an evicted
	// prefix waits to be released, and always keeps the newest message.
	FeedBytes int64
	// OnFatal, when set, is called once when the store cannot go on: the
	// first failed write or sync of any file under Dir (before Pebble
	// learns of it), or an error Pebble itself treats as fatal. It runs on
	// the goroutine that hit the error, often one of Pebble's holding its
	// locks, and should not return: the binary exits there. Pebble answers
	// a failed WAL write by panicking on a later commit, and a retried
	// fsync must never be trusted, so stopping is the only safe answer.
	// When nil, a disk error only fails the store (Failed, Err; every call
	// returns ErrFailed) and a fatal Pebble error exits the process with
	// status 1.
	OnFatal func(err error)
	// Logger receives lifecycle logs; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the configuration a zero (or negative) field falls
// back to. Dir stays empty; the caller must set it.
func DefaultConfig() Config {
	return Config{FS: vfs.Default, FeedBytes: DefaultFeedBytes, Logger: slog.Default()}
}

// Store is the message log. Reads may run on any goroutine; writes go only
// through Batch, one at a time (the Raft FSM is the single writer).
type Store struct {
	cfg    Config
	logger *slog.Logger

	// mu guards the database handle (replaced by Restore) and the state
	// below. Readers hold it shared for the length of a read.
	mu sync.RWMutex
	// db is nil once the store failed.
	db     *pebble.DB
	closed bool // set by Close, and when the store fails
	// failed, when set, wraps ErrFailed with the error behind it.
	failed   error
	applied  uint64
	clock    int64
	channels map[string]*Channel

	feed feed
	// fs is cfg.FS watched for write and sync errors (watchFS); Pebble
	// uses it. diskErr holds the first such error; failedCh is closed
	// then.
	fs        vfs.FS
	diskErr   atomic.Pointer[error]
	failedCh  chan struct{}
	fatalOnce sync.Once
	// reclaimWG tracks background compactions of expired spans.
	reclaimWG sync.WaitGroup
}

// Open opens (creating if needed) the store in cfg.Dir.
func Open(cfg Config) (*Store, error) {
	defaults.Fill(&cfg, DefaultConfig())
	if cfg.Dir == "" {
		return nil, errors.New("open store: Config.Dir is empty")
	}
	s := &Store{cfg: cfg, logger: cfg.Logger.With("component", "log"), failedCh: make(chan struct{})}
	s.fs = &watchFS{FS: cfg.FS, onErr: s.diskFailed}
	if err := recoverSwap(cfg.FS, cfg.Dir); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := s.openDB(); err != nil {
		return nil, err
	}
	s.feed.init(cfg.FeedBytes)
	s.feed.reset(s.headPosition())
	return s, nil
}

// openDB opens Pebble in cfg.Dir and loads the applied index, clock and
// channel records from it. On error s.db is nil and the state is as before.
// Requires mu held exclusively, or exclusive ownership.
func (s *Store) openDB() error {
	db, err := pebble.Open(s.cfg.Dir, &pebble.Options{FS: s.fs, Logger: quietLogger{s.logger, s.pebbleFatal}})
	if err != nil {
		return fmt.Errorf("open pebble: %w", err)
	}
	applied, clock, channels, err := loadState(db)
	if err != nil {
		db.Close()
		return fmt.Errorf("load state: %w", err)
	}
	s.db, s.applied, s.clock, s.channels = db, applied, clock, channels
	return nil
}

func loadState(db *pebble.DB) (applied uint64, clock int64, channels map[string]*Channel, err error) {
	if v, closer, err := db.Get(keyApplied); err == nil {
		applied = binary.BigEndian.Uint64(v)
		closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return 0, 0, nil, err
	}
	if v, closer, err := db.Get(keyClock); err == nil {
		clock = int64(binary.BigEndian.Uint64(v))
		closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return 0, 0, nil, err
	}
	channels = make(map[string]*Channel)
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixChannel}, UpperBound: []byte{prefixChannel + 1}})
	if err != nil {
		return 0, 0, nil, err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		c := new(Channel)
		if err := json.Unmarshal(it.Value(), c); err != nil {
			return 0, 0, nil, fmt.Errorf("channel %q: %w", it.Key()[1:], err)
		}
		channels[c.Slug] = c
	}
	return applied, clock, channels, it.Error()
}

// headPosition returns the highest position in the store. Requires mu or
// exclusive ownership.
func (s *Store) headPosition() uint64 {
	var head uint64
	for _, c := range s.channels {
		if c.LastPos > head {
			head = c.LastPos
		}
	}
	return head
}

// Close flushes and closes the store. It is safe to call more than once.
func (s *Store) Close() error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if !closed {
		s.reclaimWG.Wait()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil && !errors.Is(err, ErrClosed) {
		// A failed store is not flushed: its Pebble, if still open, holds
		// the directory's lock until the process exits.
		s.closed = true
		return err
	}
	if s.closed {
		return nil
	}
	s.closed = true
	s.feed.close()
	if err := s.db.Flush(); err != nil {
		s.db.Close()
		return fmt.Errorf("close store: flush: %w", err)
	}
	return s.db.Close()
}

// usableLocked returns why the store cannot be used (failed or closed), or
// nil. Requires mu held.
func (s *Store) usableLocked() error {
	if e := s.diskErr.Load(); e != nil {
		return fmt.Errorf("%w: %w", ErrFailed, *e)
	}
	if s.failed != nil {
		return s.failed
	}
	if s.closed {
		return ErrClosed
	}
	return nil
}

// failLocked marks the store failed: every call from now on returns an
// error wrapping ErrFailed and cause, and Config.OnFatal runs. Pebble, if
// open, is left alone (after a disk error closing it may itself fail or
// panic); the process is expected to stop. Tailers are not woken: the head never moves again.
// Requires mu held exclusively.
func (s *Store) failLocked(cause error) error {
	s.failed = fmt.Errorf("%w: %w", ErrFailed, cause)
	s.closed = true
	s.logger.Error("log store failed: it refuses every read and write until the node restarts on a healthy disk", "err", cause)
	s.callOnFatal(s.failed)
	return s.failed
}

// Applied returns the index of the last Raft entry applied to the store.
func (s *Store) Applied() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.applied
}

// Record returns a copy of the record stored under name by
// Batch.SetRecord; ok is false when there is none.
func (s *Store) Record(name string) (value []byte, ok bool, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.usableLocked(); err != nil {
		return nil, false, fmt.Errorf("read record: %w", err)
	}
	v, closer, err := s.db.Get(recordKey(name))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read record: %w", err)
	}
	defer closer.Close()
	return append([]byte(nil), v...), true, nil
}

// Channel returns a copy of the channel's record. ok is false when the store
// holds no record of it.
func (s *Store) Channel(slug string) (c Channel, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if ch := s.channels[slug]; ch != nil {
		return *ch, true
	}
	return Channel{}, false
}

// Listed reports whether a channel record is shown in listings: created
// through the API, or holding messages.
func (c *Channel) Listed() bool { return c.Explicit || c.MessageCount > 0 }

// Channels returns copies of the listed channels, sorted by slug.
func (s *Store) Channels() []Channel { return s.channelsWhere((*Channel).Listed) }

// AllChannels returns copies of every channel record, listed or not, sorted
// by slug. Retention uses it.
func (s *Store) AllChannels() []Channel { return s.channelsWhere(nil) }

// channelsWhere copies the records that keep says to keep (all if nil),
// sorted by slug.
func (s *Store) channelsWhere(keep func(*Channel) bool) []Channel {
	s.mu.RLock()
	out := make([]Channel, 0, len(s.channels))
	for _, c := range s.channels {
		if keep == nil || keep(c) {
			out = append(out, *c)
		}
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Slug < out[j].Slug })
	return out
}

// DiskBytes returns the bytes the store's files occupy on disk.
func (s *Store) DiskBytes() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0
	}
	return int64(s.db.Metrics().DiskSpaceUsage())
}

// quietLogger sends Pebble's own logs to slog at debug level, errors at
// error, and fatal errors to the store's fatal handler.
type quietLogger struct {
	l     *slog.Logger
	fatal func(err error)
}

func (q quietLogger) Infof(format string, args ...any) { q.l.Debug(fmt.Sprintf(format, args...)) }
func (q quietLogger) Errorf(format string, args ...any) {
	q.l.Error(fmt.Sprintf(format, args...))
}
func (q quietLogger) Fatalf(format string, args ...any) {
	q.fatal(fmt.Errorf(format, args...))
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.cfg.Dir }

// Flush writes the memtable to sstables and syncs: for tests and
// measurements that want the data in its on-disk form.
func (s *Store) Flush() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.usableLocked(); err != nil {
		return err
	}
	return s.db.Flush()
}
