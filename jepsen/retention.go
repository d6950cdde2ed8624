package jepsen

import (
	"math"
	"sort"
	"time"
)

// Retention-aware checking (CheckOptions.Retention): when messages expire
// during a run, a message may be missing from a read, or skipped by a
// reported gap, only if it could have expired by then. A message's time is
// the server's stamp from its publish acknowledgement (Op.Stamp); for a
// publish without one, the time between its invoke and its ending (or the
// end of the history). Retention is measured against the machine's clock,
// which the harness and the nodes share, with CheckOptions.RetentionSlack
// on either side for compaction's cadence and clock granularity.

// wall returns when op was recorded, on the machine's clock.
func (a *analysis) wall(op Op) time.Time { return a.start.Add(op.Time.Duration()) }

// stampBounds returns the earliest and latest time the server may have
// stamped the message carrying value with.
func (a *analysis) stampBounds(value string) (lo, hi time.Time) {
	p, ok := a.pubs[value]
	if !ok {
		return time.Time{}, time.Unix(0, math.MaxInt64)
	}
	if p.outcome == OK && p.end != nil && p.end.Stamp > 0 {
		t := time.UnixMilli(p.end.Stamp)
		return t, t
	}
	lo = a.wall(p.invoke)
	if p.end != nil {
		return lo, a.wall(*p.end)
	}
	return lo, time.Unix(0, math.MaxInt64)
}

// mayHaveExpired reports whether the message carrying value could have
// expired by at.
func (a *analysis) mayHaveExpired(value string, at time.Time) bool {
	if a.retention <= 0 {
		return false
	}
	lo, _ := a.stampBounds(value)
	return lo.Before(at.Add(-a.retention + a.slack))
}

// mustHaveExpired reports whether the message carrying value had surely
// expired by at.
func (a *analysis) mustHaveExpired(value string, at time.Time) bool {
	if a.retention <= 0 {
		return false
	}
	_, hi := a.stampBounds(value)
	return hi.Before(at.Add(-a.retention - a.slack))
}

// mergeCanon makes each channel's reference order the union, by ID, of
// everything seen: final reads, reads during faults, subscriptions and
// acknowledged publishes. With expiry, no single final read holds the
// messages that expired before it, which subscriptions and earlier reads
// did see.
func (a *analysis) mergeCanon() {
	byCh := map[string]map[string]string{} // channel → id → value
	add := func(ch, id, value string) {
		if id == "" {
			return
		}
		keepFirst(byCh, ch, id, value)
	}
	for ch, rs := range a.reads {
		for _, r := range rs {
			for _, e := range r.op.Messages {
				add(ch, e.ID, e.Value)
			}
		}
	}
	for _, r := range a.liveReads {
		for _, e := range r.op.Messages {
			add(r.op.Channel, e.ID, e.Value)
		}
	}
	for _, s := range a.segs {
		for _, e := range s.recvs() {
			add(s.channel, e.ID, e.Value)
		}
	}
	for _, p := range a.pubList {
		add(p.invoke.Channel, p.id(), p.invoke.Value)
	}
	for ch, ids := range byCh {
		if len(a.reads[ch]) == 0 {
			continue // no final read: the checks report that
		}
		var es []Entry
		for id, v := range ids {
			es = append(es, Entry{ID: id, Value: v})
		}
		sort.Slice(es, func(i, j int) bool { return es[i].ID < es[j].ID })
		r := &read{op: Op{Type: OK, F: FRead, Node: "(all sources)", Channel: ch, Messages: es}}
		c := &canon{read: r, entries: es, pos: map[string]int{}, idPos: map[string]int{}}
		for i, e := range es {
			if _, ok := c.pos[e.Value]; !ok {
				c.pos[e.Value] = i
			}
			c.idPos[e.ID] = i
		}
		a.canon[ch] = c
	}
}

// checkGap judges a gap record reported at at: every message strictly
// between After and Before must have been able to expire by then, and
// Before (the first message after the gap) must not have surely expired.
// It returns what is wrong, or "".
func (a *analysis) checkGap(cn *canon, g GapRecord, at time.Time) string {
	lo := 0
	if g.After != "" && g.After != "0" {
		p, ok := cn.idPos[g.After]
		if !ok {
			// After may itself have expired unseen; the gap starts at
			// the first known message past it.
			p = sort.Search(len(cn.entries), func(i int) bool { return cn.entries[i].ID > g.After }) - 1
		}
		lo = p + 1
	}
	hi := len(cn.entries)
	if g.Before != "" {
		p, ok := cn.idPos[g.Before]
		if !ok {
			return "its Before is in no history of the channel"
		}
		hi = p
		if a.mustHaveExpired(cn.entries[p].Value, at) {
			return "its Before had expired already: the gap is too short"
		}
	}
	for i := lo; i < hi; i++ {
		if !a.mayHaveExpired(cn.entries[i].Value, at) {
			return "it names " + quote(cn.entries[i].Value) + " (id " + quote(cn.entries[i].ID) + "), which was still within retention"
		}
	}
	return ""
}

func quote(s string) string { return `"` + s + `"` }
