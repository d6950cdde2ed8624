package raftnode

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	walfs "github.com/hashicorp/raft-wal/fs"
	"github.com/hashicorp/raft-wal/segment"
	"github.com/hashicorp/raft-wal/types"
	"github.com/pushflo/pushflo/internal/testwait"
)

// logStores runs f once per log store.
func logStores(t *testing.T, f func(t *testing.T, store string)) {
	for _, s := range []string{LogStoreWAL, LogStoreBoltDB} {
		t.Run("store="+s, func(t *testing.T) { f(t, s) })
	}
}

func TestLogStore_NewDirGetsDefault(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, "n1", dir, nil)
	if n.stores.kind != DefaultLogStore {
		t.Fatalf("new data dir got log store %q; want the default %q", n.stores.kind, DefaultLogStore)
	}
}

// TestLogStore_ExistingDirKeepsItsStore: a node restarted without an
// explicit store reopens the one its directory holds, with its entries;
// asking for the other one is refused with a sentence naming both.
func TestLogStore_ExistingDirKeepsItsStore(t *testing.T) {
	logStores(t, func(t *testing.T, store string) {
		dir := t.TempDir()
		n := startNode(t, "n1", dir, func(c *Config) { c.LogStore = store })
		testwait.For(t, "leadership", n.IsLeader)
		for i := range 20 {
			if _, err := n.Publish(context.Background(), entry("c", i)); err != nil {
				t.Fatal(err)
			}
		}
		last, _ := n.stores.log.LastIndex()
		n.stop()

		other := LogStoreWAL
		if store == LogStoreWAL {
			other = LogStoreBoltDB
		}
		_, err := openRaftStores(filepath.Join(dir, "raft"), other, false, 0, newHCLogger(testLogger(t)))
		if err == nil || !strings.Contains(err.Error(), "keeps its log store") {
			t.Fatalf("opening a %s dir as %s: err = %v; want a refusal", store, other, err)
		}

		n = startNode(t, "n1", dir, nil) // no store asked for
		if n.stores.kind != store {
			t.Fatalf("reopened with log store %q; the dir holds %q", n.stores.kind, store)
		}
		if got, _ := n.stores.log.LastIndex(); got < last {
			t.Fatalf("reopened log ends at %d; it ended at %d", got, last)
		}
		testwait.For(t, "leadership", n.IsLeader)
		if _, err := n.Publish(context.Background(), entry("c", 99)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLogStore_UnknownNameRefused(t *testing.T) {
	_, err := openRaftStores(t.TempDir(), "rocksdb", false, 0, newHCLogger(testLogger(t)))
	if err == nil || !strings.Contains(err.Error(), `"rocksdb" is unknown`) {
		t.Fatalf("err = %v; want the unknown store named", err)
	}
}

// countingVFS counts Sync calls on the files it opens.
type countingVFS struct {
	types.VFS
	syncs *atomic.Int64
}

func (v countingVFS) Create(dir, name string, size uint64) (types.WritableFile, error) {
	f, err := v.VFS.Create(dir, name, size)
	return countingFile{f, v.syncs}, err
}

func (v countingVFS) OpenWriter(dir, name string) (types.WritableFile, error) {
	f, err := v.VFS.OpenWriter(dir, name)
	return countingFile{f, v.syncs}, err
}

type countingFile struct {
	types.WritableFile
	syncs *atomic.Int64
}

func (f countingFile) Sync() error { f.syncs.Add(1); return f.WritableFile.Sync() }

// TestLogStore_NoSyncWALSkipsFsync: raft-wal under noSyncVFS appends
// without a single fsync reaching the file system; without it, every
// append syncs.
func TestLogStore_NoSyncWALSkipsFsync(t *testing.T) {
	for _, tc := range []struct {
		name   string
		noSync bool
	}{{"sync", false}, {"nosync", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var syncs atomic.Int64
			var vfs types.VFS = countingVFS{walfs.New(), &syncs}
			if tc.noSync {
				vfs = noSyncVFS{vfs}
			}
			w, err := wal.Open(dir, wal.WithSegmentFiler(segment.NewFiler(dir, vfs)), wal.WithLogger(newHCLogger(testLogger(t))))
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			for i := uint64(1); i <= 10; i++ {
				if err := w.StoreLogs([]*raft.Log{{Index: i, Term: 1, Data: []byte("x")}}); err != nil {
					t.Fatal(err)
				}
			}
			switch n := syncs.Load(); {
			case tc.noSync && n != 0:
				t.Fatalf("%d fsyncs with noSync", n)
			case !tc.noSync && n < 10:
				t.Fatalf("%d fsyncs for 10 appends with sync on", n)
			}
		})
	}
}

// TestLogStore_UnsafeNoSyncReachesStores: Config.UnsafeNoSync turns off
// the boltdb store's sync and puts raft-wal behind noSyncVFS. It looks at
// the stores' unexported fields: neither library reports the setting.
func TestLogStore_UnsafeNoSyncReachesStores(t *testing.T) {
	logStores(t, func(t *testing.T, store string) {
		for _, noSync := range []bool{false, true} {
			s, err := openRaftStores(t.TempDir(), store, noSync, 0, newHCLogger(testLogger(t)))
			if err != nil {
				t.Fatal(err)
			}
			bolt := reflect.ValueOf(s.stable).Elem().FieldByName("conn").Elem()
			if got := bolt.FieldByName("NoSync").Bool(); got != noSync {
				t.Errorf("noSync=%v: bolt NoSync is %v", noSync, got)
			}
			if s.wal != nil {
				filer := reflect.ValueOf(s.wal).Elem().FieldByName("sf").Elem().Elem()
				vfs := filer.FieldByName("vfs").Elem()
				isNoSync := vfs.Type() == reflect.TypeOf(noSyncVFS{})
				if isNoSync != noSync {
					t.Errorf("noSync=%v: raft-wal's file system is %v", noSync, vfs.Type())
				}
			}
			s.Close()
		}
	})
}

// BenchmarkLogStore_StoreLogs appends one 2 KB entry per call, as a lightly
// loaded leader does, with fsync on. Compare the stores in one alternating
// run (see DESIGN.md, "Log stores").
func BenchmarkLogStore_StoreLogs(b *testing.B) {
	for _, store := range []string{LogStoreWAL, LogStoreBoltDB} {
		b.Run("store="+store, func(b *testing.B) {
			s, err := openRaftStores(b.TempDir(), store, false, 0, newHCLogger(testLogger(b)))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			data := make([]byte, 2048)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := s.log.StoreLogs([]*raft.Log{{Index: uint64(i + 1), Term: 1, Data: data}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestLogStore_MonotonicThroughFailStop: Raft sees raft-wal as monotonic
// through the fail-stop wrapper, so it clears the log after installing a
// snapshot (TestCluster_SnapshotInstallAndMembership stopped a follower
// with "non-monotonic log entries" before).
func TestLogStore_MonotonicThroughFailStop(t *testing.T) {
	logStores(t, func(t *testing.T, store string) {
		s, err := openRaftStores(t.TempDir(), store, false, 0, newHCLogger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var ls raft.LogStore = failStopLog{&failStop{log: s.log, stable: s.stable}}
		m, ok := ls.(raft.MonotonicLogStore)
		if got, want := ok && m.IsMonotonic(), store == LogStoreWAL; got != want {
			t.Fatalf("Raft sees the %s store as monotonic: %v; want %v", store, got, want)
		}
	})
}
