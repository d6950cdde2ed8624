package jepsen

import (
	"sort"
)

// checkConsistentReads judges the reads made while the nemesis ran
// (reader.go), each against the channel's final order and the publishes
// acknowledged before it began:
//
//   - every read: each message it returned was published, not definitely
//     failed, and is in the final history (nothing uncommitted or later
//     lost); the messages are a contiguous run of the final order, starting
//     right after From for a since read and at the channel's start for a
//     history page that was not full;
//   - default (consistent) history and since reads also: every publish
//     acknowledged before the read was invoked whose ID falls in what the
//     read covers is in it. A read missing one is a stale read.
//
// stale=true reads are judged by the first rule only.
func checkConsistentReads(a *analysis, c *collector) {
	type ack struct {
		id string
		p  *publish
	}
	acked := map[string][]ack{}
	for _, p := range a.pubList {
		if id := p.id(); id != "" {
			acked[p.invoke.Channel] = append(acked[p.invoke.Channel], ack{id, p})
		}
	}
	for _, l := range acked {
		sort.Slice(l, func(i, j int) bool { return l[i].id < l[j].id })
	}
	consistent, stale, missingChecked := 0, 0, 0
	for _, r := range a.liveReads {
		ch, op := r.op.Channel, r.op
		if op.Mode == ModeStale {
			stale++
		} else {
			consistent++
		}
		cn := a.canon[ch]
		// Nothing uncommitted, failed or unknown.
		bad := false
		for i, e := range op.Messages {
			p, ok := a.pubs[e.Value]
			switch {
			case !ok:
				c.add(ch, []Op{r.invoke, trimRead(op, i)}, "%s read on node %s returned %q, which was never published", op.Mode, op.Node, e.Value)
			case p.outcome == Fail:
				c.add(ch, append(p.excerpt(), r.invoke, trimRead(op, i)), "%s read on node %s returned %q, whose publish definitely failed", op.Mode, op.Node, e.Value)
			case cn == nil || !inCanon(cn, e):
				c.add(ch, append(p.excerpt(), r.invoke, trimRead(op, i)), "%s read on node %s returned %q (id %q), which is in no final history: it was not committed, or was lost later", op.Mode, op.Node, e.Value, e.ID)
			default:
				continue
			}
			bad = true
			break
		}
		if bad || cn == nil {
			continue
		}
		// A contiguous run of the final order.
		start := -1
		switch {
		case op.Mode != ModeHistory && op.Gap != nil && a.retention > 0:
			// The answer says messages after From expired: judge the gap,
			// and go on from its Before.
			if msg := a.checkGap(cn, *op.Gap, a.wall(op)); msg != "" {
				c.add(ch, []Op{r.invoke, trimRead(op, 0)}, "%s read on node %s (from %q) reported a gap before %q: %s", op.Mode, op.Node, op.From, op.Gap.Before, msg)
				continue
			}
			if p, ok := cn.idPos[op.Gap.Before]; ok {
				start = p
			}
		case op.Mode != ModeHistory && op.Gap != nil:
			c.add(ch, []Op{r.invoke, trimRead(op, 0)}, "%s read on node %s (from %q) reported a gap before %q within retention", op.Mode, op.Node, op.From, op.Gap.Before)
			continue
		case op.Mode != ModeHistory && op.From == "":
			start = 0
			if a.retention > 0 && len(op.Messages) > 0 {
				start = a.expiredPrefix(cn, op, c)
			}
		case op.Mode != ModeHistory:
			if p, ok := cn.idPos[op.From]; ok {
				start = p + 1
			} // else: From is lost, which no-lost-ack reports
		case !op.More:
			start = 0
			if a.retention > 0 && len(op.Messages) > 0 {
				start = a.expiredPrefix(cn, op, c)
			}
		case len(op.Messages) > 0:
			start = cn.idPos[op.Messages[0].ID]
		}
		if start == -2 {
			continue
		}
		if start >= 0 {
			for k, e := range op.Messages {
				want := start + k
				if want < len(cn.entries) && cn.entries[want] == e {
					continue
				}
				got := cn.idPos[e.ID]
				excerpt := []Op{r.invoke, trimRead(op, max(k-1, 0), k)}
				if want < len(cn.entries) {
					excerpt = append(excerpt, trimRead(cn.read.op, want-1, want, got))
					c.add(ch, excerpt, "%s read on node %s (from %q) has %q at its position %d where the final order has %q: it skipped or reordered messages", op.Mode, op.Node, op.From, e.Value, k, cn.entries[want].Value)
				} else {
					c.add(ch, excerpt, "%s read on node %s (from %q) runs past the end of the final order", op.Mode, op.Node, op.From)
				}
				bad = true
				break
			}
		}
		if bad || op.Mode == ModeStale {
			continue
		}
		// Every publish acknowledged before the read began, within what the
		// read covers.
		has := make(map[string]bool, len(op.Messages))
		for _, e := range op.Messages {
			has[e.Value] = true
		}
		lo, loInclusive, hi := "", false, ""
		switch {
		case op.Mode == ModeSince:
			lo = op.From
			if op.More && len(op.Messages) > 0 {
				hi = op.Messages[len(op.Messages)-1].ID
			}
		case op.More && len(op.Messages) > 0: // a full history page
			lo, loInclusive = op.Messages[0].ID, true
		}
		l := acked[ch]
		i := sort.Search(len(l), func(i int) bool {
			return l[i].id > lo || (loInclusive && l[i].id == lo)
		})
		for ; i < len(l); i++ {
			if hi != "" && l[i].id > hi {
				break
			}
			p := l[i].p
			if p.end.Time >= r.invoke.Time || a.mayHaveExpired(p.invoke.Value, a.wall(op)) {
				continue
			}
			missingChecked++
			if !has[p.invoke.Value] {
				at := insertionPoint(op.Messages, l[i].id)
				ex := append(p.excerpt(), r.invoke, trimRead(op, at-1, at))
				c.add(ch, ex, "stale read: %s read on node %s (from %q, invoked at %s) lacks %q (id %q), acknowledged at %s, before the read began",
					op.Mode, op.Node, op.From, r.invoke.Time.Duration(), p.invoke.Value, l[i].id, p.end.Time.Duration())
				break
			}
		}
	}
	c.done("%d consistent and %d stale=true reads during faults checked (%d failed reads not judged), %d (acknowledged publish, read) pairs checked for freshness",
		consistent, stale, a.liveFailed, missingChecked)
}

// inCanon reports whether e (value and ID) is in the channel's final order.
func inCanon(cn *canon, e Entry) bool {
	p, ok := cn.idPos[e.ID]
	return ok && cn.entries[p].Value == e.Value
}

// expiredPrefix returns where read op starts in the channel's order when it
// reads from the channel's start: what it lacks before its first message
// must have been able to expire. A violation is added, and -2 returned,
// when something within retention is missing.
func (a *analysis) expiredPrefix(cn *canon, op Op, c *collector) int {
	p, ok := cn.idPos[op.Messages[0].ID]
	if !ok {
		return -1
	}
	for i := 0; i < p; i++ {
		if !a.mayHaveExpired(cn.entries[i].Value, a.wall(op)) {
			c.add(op.Channel, []Op{trimRead(cn.read.op, i), trimRead(op, 0)}, "%s read on node %s starts at %q but lacks %q (id %q), which was within retention", op.Mode, op.Node, op.Messages[0].Value, cn.entries[i].Value, cn.entries[i].ID)
			return -2
		}
	}
	return p
}
