package jepsen

import "fmt"

// checkResume: each subscription is a contiguous run of the channel order,
// starting right after From when it resumed; reported gaps count too. A
// subscription held open after the heal to catch up (its unsubscribe names
// the Head read from every node) must have received up to that head, so
// contiguity covers the tail of the channel too.
func checkResume(a *analysis, c *collector) {
	resumed, checked, tails := 0, 0, 0
	for _, s := range a.segs {
		if s.failed {
			continue
		}
		if s.from != "" {
			resumed++
		}
		if s.end != nil && s.end.F == FUnsubscribe && s.end.Head != "" {
			tails++
			last := s.from
			if rs := s.recvs(); len(rs) > 0 {
				last = rs[len(rs)-1].ID
			}
			if last < s.end.Head {
				missing := ""
				if cn := a.canon[s.channel]; cn != nil {
					if p, ok := cn.idPos[s.end.Head]; ok {
						q, ok := cn.idPos[last]
						if !ok {
							q = -1
						}
						missing = fmt.Sprintf(" (%d message(s) short)", p-q)
					}
				}
				c.add(s.channel, []Op{s.sub, *s.end}, "subscription of process %d ended at %q without catching up with the head %q read after the heal%s", s.process, last, s.end.Head, missing)
			}
		}
		cn := a.canon[s.channel]
		for _, e := range s.events {
			if e.F == FGap {
				g := GapRecord{}
				if e.Gap != nil {
					g = *e.Gap
				}
				if a.retention <= 0 {
					c.add(s.channel, []Op{s.sub, e}, "subscription of process %d was told of a gap after %q before %q (%s) within retention", s.process, g.After, g.Before, g.Reason)
				} else if cn != nil {
					if msg := a.checkGap(cn, g, a.wall(e)); msg != "" {
						c.add(s.channel, []Op{s.sub, e}, "subscription of process %d was told of a gap after %q before %q: %s", s.process, g.After, g.Before, msg)
					}
				}
			}
		}
		recvs := s.recvs()
		if cn == nil || len(recvs) == 0 {
			continue
		}
		checked++
		start := 0
		if s.from != "" {
			p, ok := cn.idPos[s.from]
			if !ok {
				c.add(s.channel, []Op{s.sub}, "subscription of process %d resumed from id %q, which is in no final history of channel %q", s.process, s.from, s.channel)
				continue
			}
			start = p + 1
		} else {
			p, ok := cn.pos[recvs[0].Value]
			if !ok {
				continue // reported by the total-order check
			}
			start = p
		}
		// With expiry, a reported gap moves the expected position to the
		// gap's Before (checkGap judged the gap itself).
		gapAt := map[int]int{} // index in recvs → position due from there
		if a.retention > 0 {
			k := 0
			for _, e := range s.events {
				if e.F == FRecv {
					k++
				} else if e.Gap != nil {
					if p, ok := cn.idPos[e.Gap.Before]; ok {
						gapAt[k] = p
					} else if e.Gap.Before == "" {
						gapAt[k] = len(cn.entries)
					}
				}
			}
		}
		for k, e := range recvs {
			if p, ok := gapAt[k]; ok {
				start = p - k
			}
			want := start + k
			if want < len(cn.entries) && cn.entries[want].Value == e.Value {
				continue
			}
			prev := s.sub
			if k > 0 {
				prev = recvs[k-1]
			}
			got, ok := cn.pos[e.Value]
			switch {
			case want >= len(cn.entries):
				c.add(s.channel, []Op{s.sub, prev, e}, "subscription of process %d received %q beyond the end of the final history of channel %q", s.process, e.Value, s.channel)
			case !ok:
				c.add(s.channel, []Op{s.sub, prev, e}, "subscription of process %d received %q where %q was due; %q is in no final history", s.process, e.Value, cn.entries[want].Value, e.Value)
			case got > want:
				c.add(s.channel, []Op{s.sub, prev, e, trimRead(cn.read.op, want-1, want, got-1, got)},
					"subscription of process %d skipped %d message(s) after %q: expected %q, received %q", s.process, got-want, cn.entries[max(want-1, 0)].Value, cn.entries[want].Value, e.Value)
			default:
				c.add(s.channel, []Op{s.sub, prev, e, trimRead(cn.read.op, got, want)},
					"subscription of process %d received %q again (or out of order) where %q was due", s.process, e.Value, cn.entries[want].Value)
			}
			break // one violation per subscription: the first is the story
		}
	}
	c.done("%d subscriptions checked for contiguity, %d of them resumed from an id, %d held to the final head", checked, resumed, tails)
}
