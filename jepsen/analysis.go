package jepsen

import (
	"fmt"
	"iter"
	"sort"
	"strings"
	"time"
)

// publish is one publish operation: its invoke and how it ended.
type publish struct {
	invoke Op
	end    *Op
	// outcome is OK, Fail or Info; an invoke that never ended is Info.
	outcome OpType
}

// id returns the message ID the publish was acknowledged with, if any.
func (p *publish) id() string {
	if p.end != nil && p.outcome == OK {
		return p.end.ID
	}
	return ""
}

// excerpt returns the publish's invoke and end.
func (p *publish) excerpt() []Op {
	if p.end == nil {
		return []Op{p.invoke}
	}
	return []Op{p.invoke, *p.end}
}

// read is one completed read of a channel's history on one node.
type read struct {
	op     Op // the OK, carrying Node, Channel and Messages
	invoke Op // its invoke: when it began
}

// segment is one subscription of one process, from its subscribe invoke to
// its unsubscribe (or the next subscribe, or the end of the history).
type segment struct {
	process int
	sub     Op // the invoke
	from    string
	channel string
	failed  bool
	events  []Op // FRecv and FGap events, in order
	end     *Op
}

// recvs returns the segment's received messages in order.
func (s *segment) recvs() []Op {
	var out []Op
	for _, e := range s.events {
		if e.F == FRecv {
			out = append(out, e)
		}
	}
	return out
}

// canon is a channel's reference order: the longest final read.
type canon struct {
	read    *read
	entries []Entry
	// pos maps a value to its first position in entries.
	pos map[string]int
	// idPos maps an ID to its first position in entries.
	idPos map[string]int
}

// analysis is a history digested for the checks.
type analysis struct {
	// start is the history's start on the machine's clock; retention and
	// slack are CheckOptions.Retention and RetentionSlack (retention.go).
	start            time.Time
	retention, slack time.Duration

	pubs    map[string]*publish // by value
	pubList []*publish          // in invoke order
	reads   map[string][]*read  // final reads by channel, in history order
	// liveReads are the reads made while the nemesis ran (Op.Mode set),
	// in history order; liveFailed counts those that failed.
	liveReads  []*read
	liveFailed int
	segs       []*segment
	channels   []string
	canon      map[string]*canon
	problems   []string
	// faults counts the nemesis's injections by kind (the text of each
	// "kind: detail" part of an injection's note); nemesisFailed counts
	// nemesis steps that failed.
	faults        map[string]int
	nemesisFailed int
	// nemesisNotes are the nemesis's recorded steps in order.
	nemesisNotes []nemesisNote
}

type nemesisNote struct {
	at   time.Duration
	note string
}

func analyse(h History) *analysis {
	a := &analysis{
		start:  h.Header.Start,
		pubs:   map[string]*publish{},
		reads:  map[string][]*read{},
		canon:  map[string]*canon{},
		faults: map[string]int{},
	}
	channels := map[string]bool{}
	open := map[int]*Op{}         // process → open publish/read/subscribe invoke
	pending := map[int]*publish{} // process → open publish
	openSeg := map[int]*segment{} // process → subscription segment
	problem := func(op Op, format string, args ...any) {
		a.problems = append(a.problems, fmt.Sprintf("op %d (process %d): %s", op.Index, op.Process, fmt.Sprintf(format, args...)))
	}
	for _, op := range h.Ops {
		if op.Channel != "" {
			channels[op.Channel] = true
		}
		switch op.Type {
		case Invoke:
			if prev := open[op.Process]; prev != nil && prev.F != FSubscribe {
				problem(op, "invoked %s while its %s (op %d) was still open", op.F, prev.F, prev.Index)
			}
			inv := op
			open[op.Process] = &inv
			switch op.F {
			case FPublish:
				if _, dup := a.pubs[op.Value]; dup {
					problem(op, "value %q was already published by op %d; values must be unique", op.Value, a.pubs[op.Value].invoke.Index)
					delete(open, op.Process)
					continue
				}
				p := &publish{invoke: op, outcome: Info}
				a.pubs[op.Value] = p
				a.pubList = append(a.pubList, p)
				pending[op.Process] = p
			case FSubscribe:
				if s := openSeg[op.Process]; s != nil && s.end == nil {
					s.end = &inv
				}
				s := &segment{process: op.Process, sub: op, from: op.From, channel: op.Channel}
				a.segs = append(a.segs, s)
				openSeg[op.Process] = s
			}
		case OK, Fail, Info:
			inv := open[op.Process]
			if inv == nil || inv.F != op.F {
				problem(op, "%s %s has no open invoke", op.Type, op.F)
				continue
			}
			delete(open, op.Process)
			switch op.F {
			case FPublish:
				p := pending[op.Process]
				delete(pending, op.Process)
				end := op
				p.end = &end
				p.outcome = op.Type
			case FRead:
				if op.Type == OK {
					if op.Channel == "" {
						op.Channel = inv.Channel
					}
					if op.Node == "" {
						op.Node = inv.Node
					}
					if op.Mode == "" {
						op.Mode = inv.Mode
					}
					r := &read{op: op, invoke: *inv}
					if op.Mode != "" {
						a.liveReads = append(a.liveReads, r)
					} else {
						a.reads[op.Channel] = append(a.reads[op.Channel], r)
					}
				} else if inv.Mode != "" {
					a.liveFailed++
				}
			case FSubscribe:
				if s := openSeg[op.Process]; s != nil && op.Type == Fail {
					s.failed = true
					delete(openSeg, op.Process)
				}
			case FNemesis:
				if op.Type == Fail {
					a.nemesisFailed++
				}
				if op.Type == Info && op.Note != "" {
					a.nemesisNotes = append(a.nemesisNotes, nemesisNote{at: op.Time.Duration(), note: op.Note})
				}
				if op.Type == Info && !strings.HasPrefix(inv.Note, "heal") {
					for _, part := range strings.Split(op.Note, " + ") {
						if kind, _, ok := strings.Cut(part, ":"); ok {
							a.faults[strings.TrimSpace(kind)]++
						}
					}
				}
			}
		case Event:
			switch op.F {
			case FRecv, FGap:
				s := openSeg[op.Process]
				if s == nil {
					problem(op, "%s event outside any subscription", op.F)
					continue
				}
				s.events = append(s.events, op)
			case FUnsubscribe:
				if s := openSeg[op.Process]; s != nil {
					end := op
					s.end = &end
					delete(openSeg, op.Process)
				}
				delete(open, op.Process)
			}
		}
	}
	for ch := range channels {
		a.channels = append(a.channels, ch)
	}
	sort.Strings(a.channels)
	for ch, rs := range a.reads {
		var best *read
		for _, r := range rs {
			if best == nil || len(r.op.Messages) > len(best.op.Messages) {
				best = r
			}
		}
		c := &canon{read: best, entries: best.op.Messages, pos: map[string]int{}, idPos: map[string]int{}}
		for i, e := range c.entries {
			if _, ok := c.pos[e.Value]; !ok {
				c.pos[e.Value] = i
			}
			if _, ok := c.idPos[e.ID]; !ok {
				c.idPos[e.ID] = i
			}
		}
		a.canon[ch] = c
	}
	return a
}

// trimRead returns the read op r with only the messages at positions keep
// (deduplicated, in order) and a note saying how many were left out; it is
// how excerpts stay short.
func trimRead(r Op, keep ...int) Op {
	n := len(r.Messages)
	seen := map[int]bool{}
	var idx []int
	for _, k := range keep {
		if k >= 0 && k < n && !seen[k] {
			seen[k] = true
			idx = append(idx, k)
		}
	}
	sort.Ints(idx)
	msgs := make([]Entry, 0, len(idx))
	var pos []int
	for _, k := range idx {
		msgs = append(msgs, r.Messages[k])
		pos = append(pos, k)
	}
	r.Messages = msgs
	r.Note = fmt.Sprintf("excerpt: positions %v of %d messages", pos, n)
	return r
}

// around returns positions i-1, i, i+1.
func around(i int) []int { return []int{i - 1, i, i + 1} }

// insertionPoint returns where id would sit in the ID-sorted entries.
func insertionPoint(entries []Entry, id string) int {
	return sort.Search(len(entries), func(i int) bool { return entries[i].ID >= id })
}

// longestAckGap finds the longest time between consecutive acknowledged
// publishes, counting from the first publish invoke, and the nemesis steps
// recorded during it (or, if none, the last one before it).
func (a *analysis) longestAckGap() (gap, from time.Duration, after string) {
	if len(a.pubList) == 0 {
		return 0, 0, ""
	}
	var acks []time.Duration
	for _, p := range a.pubList {
		if p.outcome == OK && p.end != nil {
			acks = append(acks, p.end.Time.Duration())
		}
	}
	sort.Slice(acks, func(i, j int) bool { return acks[i] < acks[j] })
	prev := a.pubList[0].invoke.Time.Duration()
	for _, t := range acks {
		if t-prev > gap {
			gap, from = t-prev, prev
		}
		prev = t
	}
	before := "none"
	var during []string
	for _, n := range a.nemesisNotes {
		switch {
		case n.at <= from:
			before = n.note
		case n.at <= from+gap:
			during = append(during, n.note)
		}
	}
	after = "before it: " + before
	if len(during) > 0 {
		after = "during it: " + strings.Join(during, "; ")
	}
	return gap, from, after
}

// pubsWith yields the publishes whose outcome is outcome, in invoke order.
func (a *analysis) pubsWith(outcome OpType) iter.Seq[*publish] {
	return func(yield func(*publish) bool) {
		for _, p := range a.pubList {
			if p.outcome == outcome && !yield(p) {
				return
			}
		}
	}
}

// keepFirst sets m[k1][k2] to v unless it is set already.
func keepFirst[K1, K2 comparable, V any](m map[K1]map[K2]V, k1 K1, k2 K2, v V) {
	inner := m[k1]
	if inner == nil {
		inner = map[K2]V{}
		m[k1] = inner
	}
	if _, ok := inner[k2]; !ok {
		inner[k2] = v
	}
}
