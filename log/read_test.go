package log

import (
	"fmt"
	"testing"
)

// TestStore_SinceHidesExpired is the table for the one retention-aware
// read: 0, 1, limit-1, limit and limit+1 expired messages before the fresh
// ones, still on disk (expired but not yet dropped) and dropped. A reader
// from before them must get complete:false and a gap ending at the first
// fresh message, whatever the count; the case of exactly limit expired
// messages once lost the gap.
func TestStore_SinceHidesExpired(t *testing.T) {
	const (
		limit  = 4
		old    = 1000 // Unix ms of the expired messages
		fresh  = 2000 // Unix ms of the retained ones
		cutoff = 1500
		nFresh = limit + 2
	)
	for _, expired := range []int{0, 1, limit - 1, limit, limit + 1} {
		for _, dropped := range []bool{false, true} {
			t.Run(fmt.Sprintf("expired=%d/dropped=%v", expired, dropped), func(t *testing.T) {
				s := openTest(t, Config{Dir: t.TempDir() + "/store"})
				var exp, keep []uint64
				index := uint64(10)
				for i := 0; i < expired; i++ {
					exp = append(exp, appendN(t, s, index, old, "c", 1)[0].Message.Position)
					index++
				}
				for i := 0; i < nFresh; i++ {
					keep = append(keep, appendN(t, s, index, fresh, "c", 1)[0].Message.Position)
					index++
				}
				if dropped && expired > 0 {
					sp, err := s.MeasureSpan("c", exp[len(exp)-1])
					if err != nil {
						t.Fatal(err)
					}
					b := s.NewBatch()
					if n := b.Expire(sp); n != int64(expired) {
						t.Fatalf("expired %d, want %d", n, expired)
					}
					if err := b.Commit(); err != nil {
						t.Fatal(err)
					}
				}
				cu, err := s.Since("c", 0, limit, cutoff)
				if err != nil {
					t.Fatal(err)
				}
				if len(cu.Messages) != limit || cu.Messages[0].Position != keep[0] || cu.Messages[limit-1].Position != keep[limit-1] {
					t.Fatalf("read %d messages starting %v, want the first %d fresh ones", len(cu.Messages), cu.Messages, limit)
				}
				if expired == 0 {
					if !cu.Complete || cu.Gap != nil {
						t.Fatalf("nothing expired: complete=%v gap=%+v, want complete and no gap", cu.Complete, cu.Gap)
					}
					return
				}
				want := Gap{Channel: "c", After: 0, Before: keep[0]}
				if cu.Complete || cu.Gap == nil || *cu.Gap != want {
					t.Fatalf("complete=%v gap=%+v, want incomplete with gap %+v", cu.Complete, cu.Gap, want)
				}
				// A reader already past the expired ones misses nothing.
				after := exp[len(exp)-1]
				cu, err = s.Since("c", after, limit, cutoff)
				if err != nil {
					t.Fatal(err)
				}
				if !cu.Complete || cu.Gap != nil || len(cu.Messages) != limit || cu.Messages[0].Position != keep[0] {
					t.Fatalf("since the last expired: complete=%v gap=%+v, %d messages", cu.Complete, cu.Gap, len(cu.Messages))
				}
				// With every message expired, the gap has no end yet.
				cu, err = s.Since("c", 0, limit, fresh+1)
				if err != nil {
					t.Fatal(err)
				}
				if cu.Complete || len(cu.Messages) != 0 || cu.Gap == nil || cu.Gap.Before != 0 {
					t.Fatalf("all expired: complete=%v gap=%+v, %d messages", cu.Complete, cu.Gap, len(cu.Messages))
				}
			})
		}
	}
}

// TestStore_HistoryCutoff: a history page hides expired messages not yet
// dropped, and its total counts only the retained ones.
func TestStore_HistoryCutoff(t *testing.T) {
	s := openTest(t, Config{Dir: t.TempDir() + "/store"})
	appendN(t, s, 1, 1000, "h", 3)
	appendN(t, s, 2, 2000, "h", 5)
	cases := []struct {
		name  string
		q     HistoryQuery
		items int
		total int
	}{
		{"no cutoff", HistoryQuery{PageSize: 100}, 8, 8},
		{"cutoff", HistoryQuery{PageSize: 100, Cutoff: 1500}, 5, 5},
		{"cutoff, small page", HistoryQuery{PageSize: 2, Cutoff: 1500}, 2, 5},
		{"cutoff, last page", HistoryQuery{Page: 3, PageSize: 2, Cutoff: 1500}, 1, 5},
		{"cutoff, past the end", HistoryQuery{Page: 4, PageSize: 2, Cutoff: 1500}, 0, 5},
		{"cutoff and filter", HistoryQuery{PageSize: 100, Cutoff: 1500, EventType: "e"}, 5, 5},
		{"all expired", HistoryQuery{PageSize: 100, Cutoff: 3000}, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.History("h", tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) != tc.items || p.Total != tc.total {
				t.Fatalf("%d items, total %d; want %d, %d", len(p.Items), p.Total, tc.items, tc.total)
			}
			for _, m := range p.Items {
				if m.Time < tc.q.Cutoff {
					t.Fatalf("served expired message %s (time %d)", m.ID(), m.Time)
				}
			}
		})
	}
}

// TestStore_ReadAfterLastPosition: a cursor at the largest position has
// nothing after it. after+1 used to wrap to 0, so since=ffffffffffffffff
// returned the whole history (issue 11 item 10).
func TestStore_ReadAfterLastPosition(t *testing.T) {
	s := openTest(t, Config{Dir: t.TempDir() + "/store"})
	appendN(t, s, 10, 1000, "c", 3)
	const last = ^uint64(0)
	cu, err := s.Since("c", last, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(cu.Messages) != 0 || !cu.Complete || cu.Gap != nil {
		t.Fatalf("Since(max) = %d messages, complete=%v, gap=%+v; want none, complete, no gap", len(cu.Messages), cu.Complete, cu.Gap)
	}
	msgs, err := s.Read("c", last, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 0 {
		t.Fatalf("Read(max) = %d messages, want none", len(msgs))
	}
}
