package log

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/pushflo/pushflo/internal/testlog"
)

func testLogger(t testing.TB) *slog.Logger { return testlog.New(t, slog.LevelInfo) }

// storeKinds runs the contract suite on disk and on Pebble's in-memory FS.
var storeKinds = []struct {
	name string
	open func(t testing.TB) Config
}{
	{"disk", func(t testing.TB) Config { return Config{Dir: t.TempDir() + "/store"} }},
	{"mem", func(t testing.TB) Config { return Config{Dir: "/store", FS: vfs.NewMem()} }},
}

func openTest(t testing.TB, cfg Config) *Store {
	t.Helper()
	cfg.Logger = testLogger(t)
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func appendN(t testing.TB, s *Store, index uint64, now int64, channel string, n int) []Result {
	t.Helper()
	b := s.NewBatch()
	es := make([]Entry, n)
	for i := range es {
		es[i] = Entry{Channel: channel, EventType: "e", Content: []byte(fmt.Sprintf(`{"n":%d,"i":%d}`, index, i))}
	}
	res := b.Append(index, now, es)
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	return res
}

// snapshotOf returns what a snapshot of s writes, for Restore.
func snapshotOf(t testing.TB, s *Store) []byte {
	t.Helper()
	sn, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Release()
	var buf bytes.Buffer
	if _, err := sn.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestStore_Contract(t *testing.T) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Run("append then read", func(t *testing.T) { testAppendRead(t, openTest(t, k.open(t))) })
			t.Run("history pages", func(t *testing.T) { testHistory(t, openTest(t, k.open(t))) })
			t.Run("idempotency", func(t *testing.T) { testIdempotency(t, openTest(t, k.open(t))) })
			t.Run("channels", func(t *testing.T) { testChannels(t, openTest(t, k.open(t))) })
			t.Run("feed", func(t *testing.T) { testFeed(t, openTest(t, k.open(t))) })
		})
	}
}

func testAppendRead(t *testing.T, s *Store) {
	r1 := appendN(t, s, 5, 1000, "a", 3)
	appendN(t, s, 6, 1001, "b", 2)
	r3 := appendN(t, s, 7, 999, "a", 2) // clock went back: times must not
	if s.Applied() != 7 {
		t.Fatalf("applied = %d, want 7", s.Applied())
	}
	if r3[0].Message.Time != 1001 {
		t.Fatalf("time = %d, want the clock held at 1001", r3[0].Message.Time)
	}
	all, err := s.Read("a", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("read %d messages of a, want 5", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID() <= all[i-1].ID() {
			t.Fatalf("IDs not increasing: %s then %s", all[i-1].ID(), all[i].ID())
		}
	}
	after, err := s.Read("a", r1[2].Message.Position, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 2 || after[0].Position != Position(7, 1) {
		t.Fatalf("read after %s = %v", r1[2].Message.ID(), after)
	}
	if string(after[1].Content) != `{"n":7,"i":1}` || after[1].EventType != "e" {
		t.Fatalf("content = %s / %s", after[1].Content, after[1].EventType)
	}
	c, ok := s.Channel("a")
	if !ok || c.MessageCount != 5 || c.LastPos != Position(7, 2) {
		t.Fatalf("channel a = %+v", c)
	}
}

func testHistory(t *testing.T, s *Store) {
	for i := 1; i <= 10; i++ {
		b := s.NewBatch()
		ev := "odd"
		if i%2 == 0 {
			ev = "even"
		}
		b.Append(uint64(i), int64(i*100), []Entry{{Channel: "h", EventType: ev, Content: []byte(fmt.Sprintf(`{"i":%d}`, i))}})
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		q     HistoryQuery
		want  []int
		total int
	}{
		{"first page", HistoryQuery{Page: 1, PageSize: 3}, []int{10, 9, 8}, 10},
		{"last page", HistoryQuery{Page: 4, PageSize: 3}, []int{1}, 10},
		{"past the end", HistoryQuery{Page: 5, PageSize: 3}, nil, 10},
		{"event type", HistoryQuery{Page: 1, PageSize: 2, EventType: "even"}, []int{10, 8}, 5},
		{"after", HistoryQuery{Page: 1, PageSize: 25, After: 800}, []int{10, 9}, 2},
		{"before", HistoryQuery{Page: 1, PageSize: 25, Before: 300}, []int{2, 1}, 2},
		{"window", HistoryQuery{Page: 2, PageSize: 1, After: 300, Before: 700, EventType: "odd"}, []int{}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.History("h", tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range p.Items {
				got = append(got, int(IndexOf(m.Position)))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || p.Total != tc.total {
				t.Fatalf("got %v total %d, want %v total %d", got, p.Total, tc.want, tc.total)
			}
		})
	}
}

func testIdempotency(t *testing.T, s *Store) {
	b := s.NewBatch()
	res := b.Append(1, 10, []Entry{
		{Channel: "c", IdempotencyKey: "k1", Content: []byte(`{"a":1}`)},
		{Channel: "c", IdempotencyKey: "k1", Content: []byte(`{"a":2}`)},
		{Channel: "d", IdempotencyKey: "k1", Content: []byte(`{"a":3}`)},
	})
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if res[0].Duplicate || !res[1].Duplicate || res[2].Duplicate {
		t.Fatalf("duplicates = %v %v %v, want false true false", res[0].Duplicate, res[1].Duplicate, res[2].Duplicate)
	}
	if res[1].Message.ID() != res[0].Message.ID() || string(res[1].Message.Content) != `{"a":1}` {
		t.Fatalf("duplicate answered %+v, want the first message", res[1].Message)
	}
	b = s.NewBatch()
	res2 := b.Append(2, 20, []Entry{{Channel: "c", IdempotencyKey: "k1", Content: []byte(`{"a":4}`)}})
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if !res2[0].Duplicate || res2[0].Message.ID() != res[0].Message.ID() {
		t.Fatalf("retry in a later entry = %+v, want duplicate of %s", res2[0], res[0].Message.ID())
	}
	if c, _ := s.Channel("c"); c.MessageCount != 1 {
		t.Fatalf("channel c holds %d messages, want 1", c.MessageCount)
	}
}

func testChannels(t *testing.T, s *Store) {
	name, desc := "Orders", "all orders"
	b := s.NewBatch()
	if _, err := b.CreateChannel(1, 5, "orders", Settings{Name: &name, Description: &desc}); err != nil {
		t.Fatal(err)
	}
	b.Append(2, 6, []Entry{{Channel: "orders", Content: []byte(`{}`)}, {Channel: "implicit", Content: []byte(`{}`)}})
	if _, err := b.CreateChannel(3, 7, "orders", Settings{}); err == nil {
		t.Fatal("creating a listed channel twice succeeded")
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	list := s.Channels()
	if len(list) != 2 || list[0].Slug != "implicit" || list[1].Name != "Orders" || list[1].MessageCount != 1 {
		t.Fatalf("channels = %+v", list)
	}
	b = s.NewBatch()
	if err := b.DeleteChannel(4, 8, "orders"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteChannel(5, 8, "nope"); err == nil {
		t.Fatal("deleting an unknown channel succeeded")
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if msgs, _ := s.Read("orders", 0, 0); len(msgs) != 0 {
		t.Fatalf("deleted channel still holds %d messages", len(msgs))
	}
	cu, err := s.Since("orders", 0, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cu.Complete || cu.Gap == nil {
		t.Fatalf("since 0 after delete = %+v, want incomplete with a gap", cu)
	}
	if len(s.Channels()) != 1 {
		t.Fatalf("deleted channel still listed: %+v", s.Channels())
	}
}

func testFeed(t *testing.T, s *Store) {
	head, changed := s.Head()
	if head != 0 {
		t.Fatalf("head = %d", head)
	}
	appendN(t, s, 1, 1, "x", 2)
	select {
	case <-changed:
	default:
		t.Fatal("head change did not wake the waiter")
	}
	msgs, lapped := s.Feed(0, 0)
	if lapped || len(msgs) != 2 {
		t.Fatalf("feed = %d msgs, lapped %v", len(msgs), lapped)
	}
	msgs, _ = s.Feed(msgs[0].Position, 0)
	if len(msgs) != 1 {
		t.Fatalf("feed after first = %d msgs, want 1", len(msgs))
	}
}

func TestStore_FeedLaps(t *testing.T) {
	// Room for about eight of the messages appendN writes.
	s := openTest(t, Config{Dir: "/s", FS: vfs.NewMem(), FeedBytes: 8 * (messageOverhead + 20)})
	for i := 1; i <= 20; i++ {
		appendN(t, s, uint64(i), 1, "x", 1)
	}
	if _, lapped := s.Feed(0, 0); !lapped {
		t.Fatal("feed from 0 after 20 appends with room for about 8 did not report lapped")
	}
	msgs, lapped := s.Feed(Position(19, 1), 0)
	if lapped || len(msgs) != 1 {
		t.Fatalf("recent feed = %d, lapped %v", len(msgs), lapped)
	}
}

func TestStore_ReopenKeepsState(t *testing.T) {
	dir := t.TempDir() + "/store"
	s, err := Open(Config{Dir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 3, 50, "a", 4)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, Config{Dir: dir})
	if s.Applied() != 3 {
		t.Fatalf("applied after reopen = %d, want 3", s.Applied())
	}
	if head, _ := s.Head(); head != Position(3, 4) {
		t.Fatalf("head after reopen = %x", head)
	}
	r := appendN(t, s, 4, 10, "a", 1)
	if r[0].Message.Time != 50 {
		t.Fatalf("clock not kept across reopen: time %d", r[0].Message.Time)
	}
}

// TestStore_CrashKeepsConsistentPrefix crashes the filesystem at random
// moments, keeping only what was synced, and checks the store reopens holding
// exactly the entries up to its applied index: what raftnode replays from.
func TestStore_CrashKeepsConsistentPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 5; round++ {
		fs := vfs.NewCrashableMem()
		s, err := Open(Config{Dir: "/s", FS: fs, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		n := 20 + rng.IntN(50)
		snapAt := uint64(rng.IntN(n) + 1)
		for i := 1; i <= n; i++ {
			appendN(t, s, uint64(i), int64(i), "c", 1+rng.IntN(3))
			if uint64(i) == snapAt {
				sn, err := s.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				sn.Release()
			}
		}
		crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(100), RNG: rng})
		s.Close()
		s2, err := Open(Config{Dir: "/s", FS: crashed, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		applied := s2.Applied()
		if applied < snapAt {
			t.Fatalf("round %d: applied %d after crash, below the synced snapshot at %d", round, applied, snapAt)
		}
		msgs, err := s2.Read("c", 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		var last uint64
		for _, m := range msgs {
			if IndexOf(m.Position) > applied {
				t.Fatalf("round %d: message at index %d beyond applied %d", round, IndexOf(m.Position), applied)
			}
			last = IndexOf(m.Position)
		}
		if last != applied {
			t.Fatalf("round %d: last message at index %d, applied %d: entries lost below applied", round, last, applied)
		}
		s2.Close()
	}
}

func TestStore_SnapshotRestore(t *testing.T) {
	src := openTest(t, Config{Dir: t.TempDir() + "/a"})
	for i := 1; i <= 30; i++ {
		appendN(t, src, uint64(i), int64(i), fmt.Sprintf("ch%d", i%3), 2)
	}
	snap := snapshotOf(t, src)
	dst := openTest(t, Config{Dir: t.TempDir() + "/b"})
	appendN(t, dst, 1, 1, "stale", 1)
	_, changed := dst.Head()
	if err := dst.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("restore did not wake tailers")
	}
	if _, lapped := dst.Feed(0, 0); !lapped {
		t.Fatal("feed after restore did not report lapped")
	}
	if dst.Applied() != 30 {
		t.Fatalf("applied after restore = %d", dst.Applied())
	}
	for _, ch := range []string{"ch0", "ch1", "ch2", "stale"} {
		a, _ := src.Read(ch, 0, 0)
		b, _ := dst.Read(ch, 0, 0)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("channel %s differs after restore: %d vs %d messages", ch, len(a), len(b))
		}
	}
	// A store already at the snapshot's index skips it.
	if err := src.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if err := dst.Restore(bytes.NewReader([]byte("garbage"))); err == nil {
		t.Fatal("restore of garbage succeeded")
	}
}

func TestParseID(t *testing.T) {
	cases := []struct {
		id  string
		pos uint64
		ok  bool
	}{
		{"0000000000010001", 0x10001, true},
		{"ffffffffffffffff", 1<<64 - 1, true},
		{"000000000001000", 0, false},
		{"000000000001000G", 0, false},
		{"00000000000100AB", 0, false},
		{"", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			pos, err := ParseID(tc.id)
			if (err == nil) != tc.ok || pos != tc.pos {
				t.Fatalf("ParseID(%q) = %x, %v", tc.id, pos, err)
			}
			if tc.ok && FormatID(pos) != tc.id {
				t.Fatalf("FormatID(%x) = %s", pos, FormatID(pos))
			}
		})
	}
}

func FuzzParseID(f *testing.F) {
	f.Add("0000000000010001")
	f.Add("zz")
	f.Fuzz(func(t *testing.T, id string) {
		pos, err := ParseID(id)
		if err == nil && FormatID(pos) != id {
			t.Fatalf("ParseID(%q) = %x but FormatID gives %s", id, pos, FormatID(pos))
		}
	})
}

func TestStore_ExpireDropsIdempotencyKeys(t *testing.T) {
	s := openTest(t, Config{Dir: "/s", FS: vfs.NewMem()})
	b := s.NewBatch()
	r := b.Append(1, 10, []Entry{{Channel: "c", IdempotencyKey: "k", Content: []byte(`{}`)}, {Channel: "c", IdempotencyKey: "k2", Content: []byte(`{}`)}})
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	sp, err := s.MeasureSpan("c", r[0].Message.Position)
	if err != nil || sp.Count != 1 {
		t.Fatalf("span = %+v, %v", sp, err)
	}
	b = s.NewBatch()
	if n := b.Expire(sp); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	// A stale span (measured before that expiry) drops nothing.
	b2 := s.NewBatch()
	if n := b2.Expire(sp); n != 0 {
		t.Fatalf("stale span expired %d", n)
	}
	b2.Discard()
	if _, closer, err := s.db.Get(idemKey("c", "k")); err == nil {
		closer.Close()
		t.Fatal("idempotency key of an expired message survived")
	}
	if _, closer, err := s.db.Get(idemKey("c", "k2")); err != nil {
		t.Fatal("idempotency key of a retained message was dropped")
	} else {
		closer.Close()
	}
	// After expiry the key is free: a publish with it appends anew.
	b = s.NewBatch()
	res := b.Append(2, 20, []Entry{{Channel: "c", IdempotencyKey: "k", Content: []byte(`{}`)}})
	b.Commit()
	if res[0].Duplicate {
		t.Fatal("an expired idempotency key still deduplicated")
	}
}

// TestStore_RecordsTravelInSnapshots: a record set through a batch reads
// back after commit and after a reopen, travels in a snapshot, and a nil
// value deletes it. The caller may reuse the value once SetRecord returns.
func TestStore_RecordsTravelInSnapshots(t *testing.T) {
	dir := t.TempDir() + "/a"
	src, err := Open(Config{Dir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	b := src.NewBatch()
	b.SetRecord(1, "learners", []byte(`["n4"]`))
	other := []byte("x")
	b.SetRecord(2, "other", other)
	other[0] = 'y' // the caller's buffer is its own once SetRecord returns
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	src.Close()
	src = openTest(t, Config{Dir: dir})
	if v, ok, err := src.Record("learners"); err != nil || !ok || string(v) != `["n4"]` {
		t.Fatalf("record after reopen = %q %v %v", v, ok, err)
	}
	if src.Applied() != 2 {
		t.Fatalf("applied = %d, want 2", src.Applied())
	}
	snap := snapshotOf(t, src)
	dst := openTest(t, Config{Dir: t.TempDir() + "/b"})
	if _, ok, _ := dst.Record("learners"); ok {
		t.Fatal("a new store holds a record")
	}
	if err := dst.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := dst.Record("learners"); err != nil || !ok || string(v) != `["n4"]` {
		t.Fatalf("record after restore = %q %v %v", v, ok, err)
	}
	b = dst.NewBatch()
	b.SetRecord(3, "learners", nil)
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := dst.Record("learners"); ok {
		t.Fatal("a deleted record still reads")
	}
	if v, _, _ := dst.Record("other"); string(v) != "x" {
		t.Fatalf("the other record = %q", v)
	}
}
