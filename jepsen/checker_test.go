package jepsen

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// builder writes hand-made histories; each op is one microsecond after the
// one before, so the order of calls is the real-time order.
type builder struct{ ops []Op }

func (b *builder) add(op Op) *builder {
	op.Index = len(b.ops)
	op.Time = Nanos((len(b.ops) + 1) * 1000)
	b.ops = append(b.ops, op)
	return b
}

func (b *builder) invoke(p int, ch, v string) *builder {
	return b.add(Op{Type: Invoke, Process: p, F: FPublish, Channel: ch, Value: v})
}

func (b *builder) ok(p int, ch, v, id string) *builder {
	return b.add(Op{Type: OK, Process: p, F: FPublish, Channel: ch, Value: v, ID: id})
}

func (b *builder) end(p int, t OpType, ch, v, err string) *builder {
	return b.add(Op{Type: t, Process: p, F: FPublish, Channel: ch, Value: v, Error: err})
}

// pub is a publish that completes before the next op starts.
func (b *builder) pub(p int, ch, v, id string) *builder { return b.invoke(p, ch, v).ok(p, ch, v, id) }

func (b *builder) read(node, ch string, entries []Entry) *builder {
	p := 1000 + len(b.ops)
	b.add(Op{Type: Invoke, Process: p, F: FRead, Node: node, Channel: ch})
	return b.add(Op{Type: OK, Process: p, F: FRead, Node: node, Channel: ch, Messages: entries})
}

// liveRead is a read made while the nemesis runs, invoked and completed
// before the next op.
func (b *builder) liveRead(node string, mode ReadMode, from string, entries []Entry, more bool) *builder {
	p := 2000 + len(b.ops)
	b.add(Op{Type: Invoke, Process: p, F: FRead, Node: node, Channel: "c", Mode: mode, From: from})
	return b.add(Op{Type: OK, Process: p, F: FRead, Node: node, Channel: "c", Mode: mode, From: from, Messages: entries, More: more})
}

func (b *builder) subscribe(p int, ch, from string) *builder {
	b.add(Op{Type: Invoke, Process: p, F: FSubscribe, Node: "n1", Channel: ch, Transport: "ws", From: from})
	return b.add(Op{Type: OK, Process: p, F: FSubscribe, Node: "n1", Channel: ch, Transport: "ws", From: from})
}

func (b *builder) recv(p int, ch string, e Entry) *builder {
	return b.add(Op{Type: Event, Process: p, F: FRecv, Channel: ch, ID: e.ID, Value: e.Value})
}

func (b *builder) recvAll(p int, ch string, es []Entry) *builder {
	for _, e := range es {
		b.recv(p, ch, e)
	}
	return b
}

func (b *builder) unsubscribe(p int) *builder {
	return b.add(Op{Type: Event, Process: p, F: FUnsubscribe})
}

func (b *builder) history() History { return History{Header: Header{Seed: 1}, Ops: b.ops} }

func e(id, v string) Entry { return Entry{ID: id, Value: v} }

// final is the committed order of channel "c" in the good history.
var final = []Entry{e("0001", "v1"), e("0002", "v2"), e("0003", "v3"), e("0004", "v4"), e("0005", "v5"), e("0006", "v6"), e("0007", "v7")}

// goodParts lets a test swap one part of an otherwise good history.
type goodParts struct {
	reads   map[string][]Entry // node → read of "c"
	sub10   []Entry            // live subscriber
	sub11a  []Entry            // resumes from 0003
	sub11b  []Entry            // resumes from 0005
	extra   func(b *builder)   // appended before the reads
	publish func(b *builder)   // replaces the publishes
}

func defaultParts() goodParts {
	return goodParts{
		reads:  map[string][]Entry{"n1": final, "n2": final, "n3": final},
		sub10:  final,
		sub11a: final[3:],
		sub11b: final[5:],
	}
}

func goodPublishes(b *builder) {
	b.pub(1, "c", "v1", "0001")
	b.pub(2, "c", "v2", "0002")
	// v3 and v4 overlap: either order is fine.
	b.invoke(1, "c", "v3").invoke(2, "c", "v4").ok(2, "c", "v4", "0004").ok(1, "c", "v3", "0003")
	b.pub(3, "c", "v5", "0005")
	b.pub(1, "c", "v6", "0006")
	b.invoke(2, "c", "v7").end(2, Info, "c", "v7", "timeout after send") // applied, unknown
	b.invoke(3, "c", "v8").end(3, Info, "c", "v8", "timeout after send") // never applied
	b.invoke(1, "c", "v9").end(1, Fail, "c", "v9", "400 VALIDATION_ERROR")
}

func build(parts goodParts) History {
	b := &builder{}
	b.add(Op{Type: Invoke, Process: 99, F: FNemesis, Note: "partition n1 | n2 n3"})
	b.subscribe(10, "c", "")
	if parts.publish != nil {
		parts.publish(b)
	} else {
		goodPublishes(b)
	}
	b.add(Op{Type: Info, Process: 99, F: FNemesis, Note: "heal"})
	b.recvAll(10, "c", parts.sub10)
	b.subscribe(11, "c", "0003").recvAll(11, "c", parts.sub11a).unsubscribe(11)
	b.subscribe(11, "c", "0005").recvAll(11, "c", parts.sub11b).unsubscribe(11)
	if parts.extra != nil {
		parts.extra(b)
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		if r, ok := parts.reads[n]; ok {
			b.read(n, "c", r)
		}
	}
	return b.history()
}

func TestCheck_GoodHistory(t *testing.T) {
	r := Check(build(defaultParts()), CheckOptions{})
	if !r.Valid {
		t.Fatalf("good history judged invalid:\n%s", r)
	}
	if len(r.Checks) != len(CheckNames) {
		t.Fatalf("%d checks, want %d", len(r.Checks), len(CheckNames))
	}
	want := Counts{Publishes: 9, PublishOK: 6, PublishFail: 1, PublishInfo: 2, Reads: 3, Subscriptions: 3, Received: 7 + 4 + 2, Channels: 1, Faults: map[string]int{}}
	// Ops are a microsecond apart; the longest wait for an ack is the
	// overlapping v3/v4 pair: from v2's ack (op 6) to v4's (op 9).
	want.LongestAckGap, want.AckGapFrom, want.AckGapAfter = 3*time.Microsecond, 7*time.Microsecond, "before it: none"
	if !reflect.DeepEqual(r.Counts, want) {
		t.Errorf("counts = %+v, want %+v", r.Counts, want)
	}
	if s := r.String(); !strings.HasPrefix(s, "jepsen check: VALID") || !strings.Contains(s, "2 publishes with unknown outcome: 1 appear, 1 do not") {
		t.Errorf("report:\n%s", s)
	}
}

// without returns es minus the entry with value v.
func without(es []Entry, v string) []Entry {
	var out []Entry
	for _, x := range es {
		if x.Value != v {
			out = append(out, x)
		}
	}
	return out
}

func with(es []Entry, at int, x ...Entry) []Entry {
	out := append([]Entry(nil), es[:at]...)
	out = append(out, x...)
	return append(out, es[at:]...)
}

func TestCheck_BadHistories(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *goodParts)
		// fail lists checks that must fail; want is a phrase the report
		// must contain.
		fail []CheckName
		want string
	}{
		{
			name: "lost write on one node",
			edit: func(p *goodParts) { p.reads["n2"] = without(final, "v3") },
			fail: []CheckName{CheckNoLostAck},
			want: `acknowledged publish of "v3" (id "0003") is missing from node n2's history`,
		},
		{
			name: "lost write everywhere",
			edit: func(p *goodParts) {
				lost := without(final, "v5")
				p.reads = map[string][]Entry{"n1": lost, "n2": lost, "n3": lost}
				p.sub10 = lost
				p.sub11a = without(final[3:], "v5")
			},
			fail: []CheckName{CheckNoLostAck},
			want: `"v5"`,
		},
		{
			name: "duplicate append on a node",
			edit: func(p *goodParts) { p.reads["n1"] = append(append([]Entry(nil), final...), e("0008", "v4")) },
			fail: []CheckName{CheckNoDuplicate, CheckTotalOrder},
			want: `value "v4" appears twice in node n1's history`,
		},
		{
			name: "duplicate append everywhere",
			edit: func(p *goodParts) {
				dup := append(append([]Entry(nil), final...), e("0008", "v2"))
				p.reads = map[string][]Entry{"n1": dup, "n2": dup, "n3": dup}
			},
			fail: []CheckName{CheckNoDuplicate},
			want: `value "v2" appears under 2 different ids`,
		},
		{
			name: "duplicate delivery to a live subscriber",
			edit: func(p *goodParts) { p.sub10 = with(final, 3, final[2]) },
			fail: []CheckName{CheckNoDuplicate, CheckResume},
			want: `subscription of process 10 received "v3" twice`,
		},
		{
			name: "phantom never published",
			edit: func(p *goodParts) {
				ph := append(append([]Entry(nil), final...), e("0008", "ghost"))
				p.reads = map[string][]Entry{"n1": ph, "n2": ph, "n3": ph}
			},
			fail: []CheckName{CheckNoDuplicate},
			want: `value "ghost" on channel "c" was never published`,
		},
		{
			name: "definitely failed publish appears",
			edit: func(p *goodParts) {
				ph := append(append([]Entry(nil), final...), e("0009", "v9"))
				p.reads = map[string][]Entry{"n1": ph, "n2": ph, "n3": ph}
			},
			fail: []CheckName{CheckNoDuplicate},
			want: `appears although its publish definitely failed`,
		},
		{
			name: "reorder on one node",
			edit: func(p *goodParts) {
				r := append([]Entry(nil), final...)
				r[0], r[1] = e("0001", "v2"), e("0002", "v1")
				p.reads["n3"] = r
			},
			fail: []CheckName{CheckTotalOrder, CheckNoDuplicate},
			want: `disagree on channel "c" at position 0`,
		},
		{
			name: "ids not increasing",
			edit: func(p *goodParts) {
				r := append([]Entry(nil), final...)
				r[4], r[5] = r[5], r[4]
				p.reads = map[string][]Entry{"n1": r, "n2": r, "n3": r}
				p.sub10, p.sub11a = r, r[3:]
				p.sub11b = r[5:]
			},
			fail: []CheckName{CheckTotalOrder},
			want: `ids must increase byte-wise`,
		},
		{
			name: "node history shorter",
			edit: func(p *goodParts) { p.reads["n3"] = final[:6] },
			fail: []CheckName{CheckTotalOrder},
			want: `node n3's history of channel "c" stops after 6 messages`,
		},
		{
			name: "subscriber sees another order",
			edit: func(p *goodParts) {
				s := append([]Entry(nil), final...)
				s[1], s[2] = s[2], s[1]
				p.sub10 = s
			},
			fail: []CheckName{CheckTotalOrder, CheckResume},
			want: `subscription of process 10 received "v2" after "v3"`,
		},
		{
			name: "subscriber receives uncommitted message",
			edit: func(p *goodParts) { p.sub10 = append(append([]Entry(nil), final...), e("0008", "v8")) },
			fail: []CheckName{CheckTotalOrder, CheckResume},
			want: `received "v8" (id "0008"), which is in no final history`,
		},
		{
			name: "real-time order broken",
			edit: func(p *goodParts) {
				// v1 is acknowledged before v2 is invoked, yet v2 sorts first.
				p.publish = func(b *builder) {
					b.pub(1, "c", "v1", "0002")
					b.pub(2, "c", "v2", "0001")
					b.invoke(1, "c", "v3").invoke(2, "c", "v4").ok(2, "c", "v4", "0004").ok(1, "c", "v3", "0003")
					b.pub(3, "c", "v5", "0005")
					b.pub(1, "c", "v6", "0006")
					b.invoke(2, "c", "v7").end(2, Info, "c", "v7", "timeout")
				}
				r := append([]Entry(nil), final...)
				r[0], r[1] = e("0001", "v2"), e("0002", "v1")
				p.reads = map[string][]Entry{"n1": r, "n2": r, "n3": r}
				p.sub10 = r
			},
			fail: []CheckName{CheckRealTime},
			want: `publish of "v1" was acknowledged (op 4) before publish of "v2" was invoked (op 5)`,
		},
		{
			name: "real-time order broken by an unknown-outcome publish",
			edit: func(p *goodParts) {
				p.publish = func(b *builder) {
					b.invoke(2, "c", "v1").end(2, Info, "c", "v1", "timeout") // lands late
					b.pub(1, "c", "v2", "0001")
					b.pub(1, "c", "v3", "0002")
					b.pub(2, "c", "v4", "0003")
					b.pub(3, "c", "v5", "0004")
					b.pub(1, "c", "v6", "0005")
					b.invoke(2, "c", "v7").end(2, Info, "c", "v7", "timeout")
				}
				r := []Entry{e("0001", "v2"), e("0002", "v3"), e("0003", "v4"), e("0004", "v5"), e("0005", "v6"), e("0006", "v1"), e("0007", "v7")}
				p.reads = map[string][]Entry{"n1": r, "n2": r, "n3": r}
				p.sub10 = r
				p.sub11a = r[3:]
				p.sub11b = r[5:]
			},
			// v1's invoke precedes everything, so any place is legal: this
			// must pass. The failure case is below.
		},
		{
			name: "gap after resume",
			edit: func(p *goodParts) { p.sub11a = without(final[3:], "v5") },
			fail: []CheckName{CheckResume},
			want: `subscription of process 11 skipped 1 message(s) after "v4": expected "v5", received "v6"`,
		},
		{
			name: "resume starts late",
			edit: func(p *goodParts) { p.sub11b = final[6:] },
			fail: []CheckName{CheckResume},
			want: `expected "v6", received "v7"`,
		},
		{
			name: "duplicate after resume",
			edit: func(p *goodParts) { p.sub11b = final[4:] },
			fail: []CheckName{CheckResume},
			want: `received "v5" again (or out of order) where "v6" was due`,
		},
		{
			name: "reported gap within retention",
			edit: func(p *goodParts) {
				p.extra = func(b *builder) {
					b.subscribe(12, "c", "0002")
					b.add(Op{Type: Event, Process: 12, F: FGap, Channel: "c", Gap: &GapRecord{After: "0002", Before: "0005", Reason: "retention"}})
					b.recvAll(12, "c", final[4:]).unsubscribe(12)
				}
			},
			fail: []CheckName{CheckResume},
			want: `was told of a gap after "0002" before "0005"`,
		},
		{
			name: "resume from unknown id",
			edit: func(p *goodParts) {
				p.extra = func(b *builder) { b.subscribe(12, "c", "0042").recvAll(12, "c", final[5:]).unsubscribe(12) }
			},
			fail: []CheckName{CheckResume},
			want: `resumed from id "0042", which is in no final history`,
		},
		{
			name: "unknown outcome applied twice",
			edit: func(p *goodParts) {
				twice := append(append([]Entry(nil), final...), e("0008", "v7"))
				p.reads = map[string][]Entry{"n1": twice, "n2": twice, "n3": twice}
			},
			fail: []CheckName{CheckUnknownOnce, CheckNoDuplicate},
			want: `publish of "v7" with unknown outcome appears 2 times in node n1's history`,
		},
		{
			name: "unknown outcome received twice",
			edit: func(p *goodParts) { p.sub10 = append(append([]Entry(nil), final...), final[6]) },
			fail: []CheckName{CheckUnknownOnce, CheckNoDuplicate, CheckResume},
			want: `publish of "v7" with unknown outcome was received 2 times`,
		},
		{
			name: "stale since read",
			edit: func(p *goodParts) {
				p.extra = func(b *builder) { b.liveRead("n2", ModeSince, "0003", final[3:5], false) }
			},
			fail: []CheckName{CheckConsistentRead},
			want: `stale read: since read on node n2 (from "0003", invoked at 42µs) lacks "v6" (id "0006"), acknowledged at 15µs`,
		},
		{
			name: "stale history page",
			edit: func(p *goodParts) {
				p.extra = func(b *builder) { b.liveRead("n1", ModeHistory, "", final[:5], false) }
			},
			fail: []CheckName{CheckConsistentRead},
			want: `stale read: history read on node n1`,
		},
		{
			name: "full history page covers only its window",
			edit: func(p *goodParts) {
				p.extra = func(b *builder) { b.liveRead("n1", ModeHistory, "", final[4:], true) }
			},
		},
		{
			name: "since page with more covers only up to its last message",
			edit: func(p *goodParts) {
				p.extra = func(b *builder) { b.liveRead("n3", ModeSince, "", final[:3], true) }
			},
		},
		{
			name: "stale=true read may lag",
			edit: func(p *goodParts) {
				p.extra = func(b *builder) { b.liveRead("n3", ModeStale, "0003", final[3:5], false) }
			},
		},
		{
			name: "consistent read concurrent with a publish may miss it",
			edit: func(p *goodParts) {
				p.publish = func(b *builder) {
					b.pub(1, "c", "v1", "0001").pub(2, "c", "v2", "0002")
					b.invoke(1, "c", "v3").invoke(2, "c", "v4").ok(2, "c", "v4", "0004").ok(1, "c", "v3", "0003")
					b.pub(3, "c", "v5", "0005")
					b.add(Op{Type: Invoke, Process: 500, F: FRead, Node: "n1", Channel: "c", Mode: ModeSince, From: "0003"})
					b.pub(1, "c", "v6", "0006")
					b.add(Op{Type: OK, Process: 500, F: FRead, Node: "n1", Channel: "c", Mode: ModeSince, From: "0003", Messages: final[3:5]})
					b.invoke(2, "c", "v7").end(2, Info, "c", "v7", "timeout after send")
				}
			},
		},
		{
			name: "stale=true read returns an uncommitted message",
			edit: func(p *goodParts) {
				p.extra = func(b *builder) {
					b.liveRead("n3", ModeStale, "0005", append(append([]Entry(nil), final[5:]...), e("0008", "v8")), false)
				}
			},
			fail: []CheckName{CheckConsistentRead},
			want: `stale read on node n3 returned "v8" (id "0008"), which is in no final history`,
		},
		{
			name: "consistent read returns a failed publish",
			edit: func(p *goodParts) {
				p.extra = func(b *builder) { b.liveRead("n1", ModeSince, "0006", []Entry{final[6], e("0009", "v9")}, false) }
			},
			fail: []CheckName{CheckConsistentRead},
			want: `since read on node n1 returned "v9", whose publish definitely failed`,
		},
		{
			name: "read skips a message",
			edit: func(p *goodParts) {
				p.extra = func(b *builder) { b.liveRead("n2", ModeSince, "0003", []Entry{final[3], final[5], final[6]}, false) }
			},
			fail: []CheckName{CheckConsistentRead},
			want: `has "v6" at its position 1 where the final order has "v5"`,
		},
		{
			name: "no final read",
			edit: func(p *goodParts) { p.reads = nil },
			fail: []CheckName{CheckNoLostAck},
			want: `no node's history of the channel was read`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := defaultParts()
			tc.edit(&p)
			r := Check(build(p), CheckOptions{})
			report := r.String()
			if len(tc.fail) == 0 {
				if !r.Valid {
					t.Fatalf("history judged invalid:\n%s", report)
				}
				return
			}
			if r.Valid {
				t.Fatalf("bad history judged valid:\n%s", report)
			}
			for _, name := range tc.fail {
				if res := r.Result(name); res == nil || res.Valid {
					t.Errorf("check %s passed, want it to fail", name)
				}
			}
			if !strings.Contains(report, tc.want) {
				t.Errorf("report lacks %q:\n%s", tc.want, report)
			}
			for _, c := range r.Checks {
				for _, v := range c.Violations {
					if len(v.Excerpt) > 8 {
						t.Errorf("%s: excerpt of %d ops is not minimal: %s", c.Name, len(v.Excerpt), v.Message)
					}
					for _, op := range v.Excerpt {
						if len(op.Messages) > 4 {
							t.Errorf("%s: excerpt carries a read of %d messages", c.Name, len(op.Messages))
						}
					}
				}
			}
			if testing.Verbose() {
				t.Logf("report:\n%s", report)
			}
		})
	}
}

// tail adds a subscription of process 12 that resumes from 0005, receives
// es and is closed after the heal, held to the head id.
func tail(es []Entry, head string) func(b *builder) {
	return func(b *builder) {
		b.subscribe(12, "c", "0005").recvAll(12, "c", es)
		b.add(Op{Type: Event, Process: 12, F: FUnsubscribe, Channel: "c", Head: head})
	}
}

func TestCheck_TailCaughtUp(t *testing.T) {
	p := defaultParts()
	p.extra = tail(final[5:], "0007")
	r := Check(build(p), CheckOptions{})
	if !r.Valid {
		t.Fatalf("subscription that reached the head judged invalid:\n%s", r)
	}
	if s := r.Result(CheckResume).Summary; !strings.Contains(s, "1 held to the final head") {
		t.Errorf("resume summary %q does not count the held subscription", s)
	}
}

func TestCheck_TailShortOfHead(t *testing.T) {
	p := defaultParts()
	p.extra = tail(final[5:6], "0007")
	r := Check(build(p), CheckOptions{})
	if res := r.Result(CheckResume); res.Valid {
		t.Fatalf("subscription that stopped short of the head judged valid:\n%s", r)
	}
	if s := r.String(); !strings.Contains(s, `ended at "0006" without catching up with the head "0007" read after the heal (1 message(s) short)`) {
		t.Errorf("report:\n%s", s)
	}
}

func TestCheck_CountsFaultsByKind(t *testing.T) {
	b := &builder{}
	b.add(Op{Type: Invoke, Process: -1, F: FNemesis, Note: "combo"})
	b.add(Op{Type: Info, Process: -1, F: FNemesis, Note: "kill: n1 + partition-leader: [n2] | [n1 n3] [n1-n2 n2-n3]"})
	b.add(Op{Type: Invoke, Process: -1, F: FNemesis, Note: "heal combo"})
	b.add(Op{Type: Info, Process: -1, F: FNemesis, Note: "partition heal; restart: [n1]"})
	b.add(Op{Type: Invoke, Process: -1, F: FNemesis, Note: "link"})
	b.add(Op{Type: Info, Process: -1, F: FNemesis, Note: "loss: 10% of packets between nodes"})
	b.add(Op{Type: Invoke, Process: -1, F: FNemesis, Note: "pause"})
	b.add(Op{Type: Fail, Process: -1, F: FNemesis, Error: "pause: n2: not running"})
	r := Check(b.history(), CheckOptions{})
	want := map[string]int{"kill": 1, "partition-leader": 1, "loss": 1}
	if !reflect.DeepEqual(r.Counts.Faults, want) || r.Counts.NemesisFailed != 1 {
		t.Fatalf("faults %v, %d failed; want %v, 1 failed", r.Counts.Faults, r.Counts.NemesisFailed, want)
	}
	if s := r.String(); !strings.Contains(s, "faults: 3 injected (kill 1, loss 1, partition-leader 1), 1 nemesis steps failed") {
		t.Errorf("report:\n%s", s)
	}
}

func TestCheck_RealTimeUnknownLandsTooEarly(t *testing.T) {
	// v2 is acknowledged before v1 (unknown outcome) is invoked, so v1 may
	// not come first.
	b := &builder{}
	b.pub(1, "c", "v2", "0002")
	b.invoke(2, "c", "v1").end(2, Info, "c", "v1", "timeout")
	r := []Entry{e("0001", "v1"), e("0002", "v2")}
	b.read("n1", "c", r)
	rep := Check(b.history(), CheckOptions{})
	if res := rep.Result(CheckRealTime); res.Valid {
		t.Fatalf("real-time check passed:\n%s", rep)
	}
}

func TestCheck_MalformedHistory(t *testing.T) {
	b := &builder{}
	b.ok(1, "c", "v1", "0001")                  // no invoke
	b.invoke(2, "c", "v2").invoke(2, "c", "v3") // overlapping ops of one process
	b.invoke(3, "c", "v2")                      // value reused
	b.add(Op{Type: Event, Process: 7, F: FRecv, Channel: "c", ID: "1", Value: "v2"})
	rep := Check(b.history(), CheckOptions{})
	if rep.Valid || len(rep.Problems) != 4 {
		t.Fatalf("problems = %q, want 4:\n%s", rep.Problems, rep)
	}
}

func TestCheck_ManyChannelsScale(t *testing.T) {
	// A few thousand operations over concurrent publishers must check
	// quickly, porcupine included.
	b := &builder{}
	var entries = map[string][]Entry{}
	for i := 0; i < 3000; i++ {
		ch := fmt.Sprintf("c%d", i%3)
		v := fmt.Sprintf("v%d", i)
		p := i % 7
		b.invoke(p, ch, v)
		id := fmt.Sprintf("%08d", i)
		b.ok(p, ch, v, id)
		entries[ch] = append(entries[ch], e(id, v))
	}
	for ch, es := range entries {
		for _, n := range []string{"n1", "n2", "n3"} {
			b.read(n, ch, es)
		}
	}
	rep := Check(b.history(), CheckOptions{})
	if !rep.Valid {
		t.Fatalf("invalid:\n%s", rep)
	}
	if !strings.Contains(rep.Result(CheckRealTime).Summary, "porcupine cross-check agrees") {
		t.Fatalf("summary: %s", rep.Result(CheckRealTime).Summary)
	}
}
