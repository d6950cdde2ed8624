package jepsen

import (
	"strings"
	"testing"
	"time"
)

// TestCheck_Retention judges histories of a run with 10 s retention: v1–v4
// were stamped a minute before the history started (expired by the time
// anything was read), v5–v7 at its start (within retention throughout).
func TestCheck_Retention(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	old, fresh := t0.Add(-time.Minute).UnixMilli(), t0.UnixMilli()
	stamped := func(b *builder) {
		for i, e := range final {
			p := 1 + i%3
			stamp := fresh
			if i < 4 {
				stamp = old
			}
			b.invoke(p, "c", e.Value)
			b.add(Op{Type: OK, Process: p, F: FPublish, Channel: "c", Value: e.Value, ID: e.ID, Stamp: stamp})
		}
	}
	gap := func(after, before string) func(b *builder) {
		return func(b *builder) {
			b.subscribe(12, "c", "0001")
			b.add(Op{Type: Event, Process: 12, F: FGap, Channel: "c", Gap: &GapRecord{After: after, Before: before, Reason: "retention"}})
			if before != "" {
				b.recvAll(12, "c", final[idIndex(before):])
			}
			b.unsubscribe(12)
		}
	}
	tests := []struct {
		name string
		edit func(p *goodParts)
		fail []CheckName
		want string
	}{
		{
			name: "expired messages missing from the final reads",
			edit: func(p *goodParts) {
				p.reads = map[string][]Entry{"n1": final[4:], "n2": final[4:], "n3": final[4:]}
			},
		},
		{
			name: "nodes that expired different prefixes",
			edit: func(p *goodParts) {
				p.reads = map[string][]Entry{"n1": final[2:], "n2": final[4:], "n3": final}
			},
		},
		{
			name: "gap naming exactly the expired messages",
			edit: func(p *goodParts) { p.extra = gap("0001", "0005") },
		},
		{
			name: "wrong gap: it names a message within retention",
			edit: func(p *goodParts) { p.extra = gap("0001", "0006") },
			fail: []CheckName{CheckResume},
			want: `names "v5" (id "0005"), which was still within retention`,
		},
		{
			name: "message within retention missing from a node",
			edit: func(p *goodParts) { p.reads["n2"] = final[5:] },
			fail: []CheckName{CheckNoLostAck, CheckTotalOrder},
			want: `acknowledged publish of "v5" (id "0005") is missing from node n2's history`,
		},
		{
			name: "since read with a gap over expired messages",
			edit: func(p *goodParts) {
				p.extra = func(b *builder) {
					b.add(Op{Type: Invoke, Process: 600, F: FRead, Node: "n1", Channel: "c", Mode: ModeSince, From: "0002"})
					b.add(Op{Type: OK, Process: 600, F: FRead, Node: "n1", Channel: "c", Mode: ModeSince, From: "0002", Messages: final[4:], Gap: &GapRecord{After: "0002", Before: "0005"}})
				}
			},
		},
		{
			name: "since read whose gap swallows a message within retention",
			edit: func(p *goodParts) {
				p.extra = func(b *builder) {
					b.add(Op{Type: Invoke, Process: 600, F: FRead, Node: "n1", Channel: "c", Mode: ModeSince, From: "0002"})
					b.add(Op{Type: OK, Process: 600, F: FRead, Node: "n1", Channel: "c", Mode: ModeSince, From: "0002", Messages: final[5:], Gap: &GapRecord{After: "0002", Before: "0006"}})
				}
			},
			fail: []CheckName{CheckConsistentRead},
			want: `reported a gap before "0006": it names "v5"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := defaultParts()
			p.publish = stamped
			tc.edit(&p)
			h := build(p)
			h.Header.Start = t0
			r := Check(h, CheckOptions{Retention: 10 * time.Second})
			report := r.String()
			if len(tc.fail) == 0 {
				if !r.Valid {
					t.Fatalf("history judged invalid:\n%s", report)
				}
				return
			}
			for _, name := range tc.fail {
				if res := r.Result(name); res == nil || res.Valid {
					t.Errorf("check %s passed, want it to fail:\n%s", name, report)
				}
			}
			if !strings.Contains(report, tc.want) {
				t.Errorf("report lacks %q:\n%s", tc.want, report)
			}
		})
	}
}

// idIndex returns the position of id in final.
func idIndex(id string) int {
	for i, e := range final {
		if e.ID == id {
			return i
		}
	}
	return len(final)
}
