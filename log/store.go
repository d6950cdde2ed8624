package log

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Errors returned by the store.
var (
	// ErrClosed is returned by calls on a closed store.
	ErrClosed = errors.New("store closed")
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
	// Logger receives lifecycle logs; nil means slog.Default().
	Logger *slog.Logger
}

func (c *Config) ensureDefaults() {
	if c.FS == nil {
		c.FS = vfs.Default
	}
	if c.FeedBytes <= 0 {
		c.FeedBytes = DefaultFeedBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Store is the message log. Reads may run on any goroutine; writes go only
// through Batch, one at a time (the Raft FSM is the single writer).
type Store struct {
	cfg    Config
	logger *slog.Logger

	// mu guards the database handle (replaced by Restore) and the state
	// below. Readers hold it shared for the length of a read.
	mu       sync.RWMutex
	db       *pebble.DB
	closed   bool
	applied  uint64
	clock    int64
	channels map[string]*Channel

	feed feed
	// reclaimWG tracks background compactions of expired spans.
	reclaimWG sync.WaitGroup
}

// Open opens (creating if needed) the store in cfg.Dir.
func Open(cfg Config) (*Store, error) {
	cfg.ensureDefaults()
	if cfg.Dir == "" {
		return nil, errors.New("open store: Config.Dir is empty")
	}
	s := &Store{cfg: cfg, logger: cfg.Logger.With("component", "log")}
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

func (s *Store) openDB() error {
	db, err := pebble.Open(s.cfg.Dir, &pebble.Options{FS: s.cfg.FS, Logger: quietLogger{s.logger}})
	if err != nil {
		return fmt.Errorf("open pebble: %w", err)
	}
	s.db = db
	if err := s.loadState(); err != nil {
		db.Close()
		return fmt.Errorf("load state: %w", err)
	}
	return nil
}

func (s *Store) loadState() error {
	s.applied, s.clock = 0, 0
	if v, closer, err := s.db.Get(keyApplied); err == nil {
		s.applied = binary.BigEndian.Uint64(v)
		closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return err
	}
	if v, closer, err := s.db.Get(keyClock); err == nil {
		s.clock = int64(binary.BigEndian.Uint64(v))
		closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return err
	}
	s.channels = make(map[string]*Channel)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixChannel}, UpperBound: []byte{prefixChannel + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		c := new(Channel)
		if err := json.Unmarshal(it.Value(), c); err != nil {
			return fmt.Errorf("channel %q: %w", it.Key()[1:], err)
		}
		s.channels[c.Slug] = c
	}
	return it.Error()
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

// Applied returns the index of the last Raft entry applied to the store.
func (s *Store) Applied() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.applied
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

// quietLogger sends Pebble's own logs to slog at debug level, errors at error.
type quietLogger struct{ l *slog.Logger }

func (q quietLogger) Infof(format string, args ...any) { q.l.Debug(fmt.Sprintf(format, args...)) }
func (q quietLogger) Errorf(format string, args ...any) {
	q.l.Error(fmt.Sprintf(format, args...))
}
func (q quietLogger) Fatalf(format string, args ...any) {
	q.l.Error(fmt.Sprintf(format, args...))
	os.Exit(1)
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.cfg.Dir }

// Flush writes the memtable to sstables and syncs: for tests and
// measurements that want the data in its on-disk form.
func (s *Store) Flush() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return s.db.Flush()
}
