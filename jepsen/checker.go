package jepsen

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// CheckName names one of the checker's checks.
type CheckName string

const (
	// CheckNoLostAck: every acknowledged publish is in the final history of
	// every node that was read.
	CheckNoLostAck CheckName = "no-lost-ack"
	// CheckNoDuplicate: no message appears twice in a node's history or a
	// subscription, nothing appears that was never published or whose
	// publish definitely failed, and each value has one ID everywhere.
	CheckNoDuplicate CheckName = "no-duplicate-or-phantom"
	// CheckTotalOrder: per channel, every node's history is the same
	// sequence with increasing IDs, and every subscription receives a
	// subsequence of it in the same order.
	CheckTotalOrder CheckName = "total-order"
	// CheckRealTime: if publish A was acknowledged before publish B was
	// invoked, A comes before B (appends are linearizable).
	CheckRealTime CheckName = "real-time-order"
	// CheckResume: a subscription receives a contiguous run of the
	// channel's order, starting right after the ID it resumed from: no gap,
	// silent or reported, and no duplicate.
	CheckResume CheckName = "resume-no-gap"
	// CheckUnknownOnce: a publish with unknown outcome appears at most once.
	CheckUnknownOnce CheckName = "unknown-at-most-once"
	// CheckConsistentRead: a default read made while the nemesis ran holds
	// every publish acknowledged before it began; any read (stale=true
	// too) holds nothing uncommitted and keeps the channel's order.
	CheckConsistentRead CheckName = "consistent-read"
)

// CheckNames lists the checks in report order.
var CheckNames = []CheckName{CheckNoLostAck, CheckNoDuplicate, CheckTotalOrder, CheckRealTime, CheckResume, CheckUnknownOnce, CheckConsistentRead}

// CheckOptions tunes Check. The zero value is ready to use.
type CheckOptions struct {
	// MaxViolations is how many violations per check keep their excerpt;
	// all are counted. Default 5.
	MaxViolations int
	// PorcupineTimeout bounds the porcupine cross-check of the real-time
	// check per channel. Default 10s; negative skips porcupine.
	PorcupineTimeout time.Duration
	// Retention is how long the servers kept messages in the run; zero
	// means longer than the run (nothing expires, every gap is a
	// failure). With it, a message may be missing from a read or named by
	// a gap only if it could have expired by then (retention.go).
	Retention time.Duration
	// RetentionSlack widens "could have expired" both ways, for
	// compaction's cadence and clock granularity. Default 2s.
	RetentionSlack time.Duration
}

// Violation is one broken promise and the fewest history lines that show it.
type Violation struct {
	Channel string
	Message string
	Excerpt []Op
}

// CheckResult is the verdict of one check.
type CheckResult struct {
	Name  CheckName
	Valid bool
	// Summary counts what the check looked at.
	Summary string
	// Count is the number of violations found; Violations holds the first
	// MaxViolations of them.
	Count      int
	Violations []Violation
}

// Counts summarises a history.
type Counts struct {
	Publishes   int
	PublishOK   int
	PublishFail int
	PublishInfo int
	Reads       int
	// LiveReads counts the reads made while the nemesis ran that
	// completed, LiveReadsFailed those that did not.
	LiveReads       int
	LiveReadsFailed int
	Subscriptions   int
	Received        int
	Gaps            int
	Channels        int
	// Dropped counts messages the SDK discarded because the server sent an
	// ID at or below one it had delivered (recorded on unsubscribes): a
	// server replaying too much, hidden from the other checks.
	Dropped int
	// Reconnects counts the SDK's own reconnections of subscriptions.
	Reconnects int
	// LongestAckGap is the longest stretch between two acknowledged
	// publishes (from the first publish invoke to the last ack):
	// unavailability, which no check judges; AckGapFrom is when it began
	// and AckGapAfter the nemesis steps recorded during it ("during it:
	// …"), or the last one before it ("before it: …").
	LongestAckGap time.Duration
	AckGapFrom    time.Duration
	AckGapAfter   string
	// Faults counts the nemesis's injections by kind ("kill",
	// "partition-leader", "loss", …); NemesisFailed its failed steps.
	Faults        map[string]int
	NemesisFailed int
}

// Report is the checker's verdict over one history.
type Report struct {
	// Valid is true when every check passed and the history is well formed.
	Valid bool
	// Problems are malformed parts of the history (an ending without an
	// invoke, a value published twice); any makes the report invalid.
	Problems []string
	Counts   Counts
	Checks   []CheckResult
}

// Result returns the result of the named check.
func (r *Report) Result(name CheckName) *CheckResult {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	return nil
}

// Check runs every check over h. It never modifies h.
func Check(h History, opts CheckOptions) *Report {
	if opts.MaxViolations <= 0 {
		opts.MaxViolations = 5
	}
	if opts.PorcupineTimeout == 0 {
		opts.PorcupineTimeout = 10 * time.Second
	}
	if opts.RetentionSlack <= 0 {
		opts.RetentionSlack = 2 * time.Second
	}
	a := analyse(h)
	if opts.Retention > 0 {
		a.retention, a.slack = opts.Retention, opts.RetentionSlack
		a.mergeCanon()
	}
	r := &Report{Problems: a.problems, Counts: a.counts()}
	for _, fn := range []func(*analysis, *collector){
		checkNoLostAck, checkNoDuplicate, checkTotalOrder,
		func(a *analysis, c *collector) { checkRealTime(a, c, opts.PorcupineTimeout) },
		checkResume, checkUnknownOnce, checkConsistentReads,
	} {
		c := &collector{max: opts.MaxViolations}
		fn(a, c)
		r.Checks = append(r.Checks, c.result)
	}
	for i, name := range CheckNames {
		r.Checks[i].Name = name
	}
	r.Valid = len(r.Problems) == 0
	for _, c := range r.Checks {
		r.Valid = r.Valid && c.Valid
	}
	return r
}

// collector gathers one check's violations.
type collector struct {
	max    int
	result CheckResult
}

func (c *collector) add(channel string, excerpt []Op, format string, args ...any) {
	c.result.Count++
	if len(c.result.Violations) < c.max {
		c.result.Violations = append(c.result.Violations, Violation{Channel: channel, Message: fmt.Sprintf(format, args...), Excerpt: excerpt})
	}
}

func (c *collector) done(format string, args ...any) {
	c.result.Summary = fmt.Sprintf(format, args...)
	c.result.Valid = c.result.Count == 0
}

func (a *analysis) counts() Counts {
	var n Counts
	n.Publishes = len(a.pubList)
	for _, p := range a.pubList {
		switch p.outcome {
		case OK:
			n.PublishOK++
		case Fail:
			n.PublishFail++
		default:
			n.PublishInfo++
		}
	}
	for _, rs := range a.reads {
		n.Reads += len(rs)
	}
	n.LiveReads, n.LiveReadsFailed = len(a.liveReads), a.liveFailed
	for _, s := range a.segs {
		if s.failed {
			continue
		}
		n.Subscriptions++
		for _, e := range s.events {
			if e.F == FRecv {
				n.Received++
			} else {
				n.Gaps++
			}
		}
	}
	n.Channels = len(a.channels)
	n.Faults = a.faults
	n.NemesisFailed = a.nemesisFailed
	n.LongestAckGap, n.AckGapFrom, n.AckGapAfter = a.longestAckGap()
	for _, s := range a.segs {
		if s.end != nil {
			n.Dropped += s.end.Dropped
			n.Reconnects += s.end.Reconnects
		}
	}
	return n
}

// checkNoLostAck: every OK publish is in every final read of its channel.
func checkNoLostAck(a *analysis, c *collector) {
	acked, checked := 0, 0
	for p := range a.pubsWith(OK) {
		acked++
		ch := p.invoke.Channel
		rs := a.reads[ch]
		if len(rs) == 0 {
			c.add(ch, p.excerpt(), "acknowledged publish of %q on channel %q cannot be verified: no node's history of the channel was read", p.invoke.Value, ch)
			continue
		}
		for _, r := range rs {
			checked++
			found := false
			for _, e := range r.op.Messages {
				if e.Value == p.invoke.Value {
					found = true
					break
				}
			}
			if !found && a.mayHaveExpired(p.invoke.Value, a.wall(r.op)) {
				continue
			}
			if !found {
				at := insertionPoint(r.op.Messages, p.id())
				ex := append(p.excerpt(), trimRead(r.op, at-1, at))
				c.add(ch, ex, "acknowledged publish of %q (id %q) is missing from node %s's history of channel %q (%d messages)", p.invoke.Value, p.id(), r.op.Node, ch, len(r.op.Messages))
			}
		}
	}
	c.done("%d acknowledged publishes, %d (publish, node history) pairs checked over %d channels", acked, checked, len(a.reads))
}

// checkNoDuplicate: no duplicate within a read or subscription, no phantom,
// one ID per value and one value per ID.
func checkNoDuplicate(a *analysis, c *collector) {
	valueIDs := map[string]map[string]Op{} // value → id → first op showing it
	idValues := map[string]map[string]Op{} // channel\x00id → value → first op
	note := func(ch, value, id string, op Op) {
		if id == "" {
			return
		}
		keepFirst(valueIDs, value, id, op)
		keepFirst(idValues, ch+"\x00"+id, value, op)
	}
	phantom := func(ch, value string, shown Op) {
		p, ok := a.pubs[value]
		switch {
		case !ok:
			c.add(ch, []Op{shown}, "value %q on channel %q was never published", value, ch)
		case p.outcome == Fail:
			c.add(ch, append(p.excerpt(), shown), "value %q on channel %q appears although its publish definitely failed", value, ch)
		case p.invoke.Channel != ch:
			c.add(ch, append(p.excerpt(), shown), "value %q was published to channel %q but appears on channel %q", value, p.invoke.Channel, ch)
		}
	}
	for _, p := range a.pubList {
		if id := p.id(); id != "" {
			note(p.invoke.Channel, p.invoke.Value, id, *p.end)
		}
	}
	seenPhantom := map[string]bool{}
	for _, ch := range a.channels {
		for _, r := range a.reads[ch] {
			firstAt := map[string]int{}
			firstID := map[string]int{}
			for i, e := range r.op.Messages {
				note(ch, e.Value, e.ID, trimRead(r.op, i))
				if j, dup := firstAt[e.Value]; dup {
					ex := append(a.pubExcerpt(e.Value), trimRead(r.op, j, i))
					c.add(ch, ex, "value %q appears twice in node %s's history of channel %q, at positions %d and %d", e.Value, r.op.Node, ch, j, i)
				} else {
					firstAt[e.Value] = i
				}
				if j, dup := firstID[e.ID]; dup && r.op.Messages[j].Value != e.Value {
					c.add(ch, []Op{trimRead(r.op, j, i)}, "id %q appears twice in node %s's history of channel %q, at positions %d and %d", e.ID, r.op.Node, ch, j, i)
				} else if !dup {
					firstID[e.ID] = i
				}
				if !seenPhantom[e.Value] {
					seenPhantom[e.Value] = true
					phantom(ch, e.Value, trimRead(r.op, i))
				}
			}
		}
	}
	for _, s := range a.segs {
		firstAt := map[string]Op{}
		for _, e := range s.recvs() {
			note(s.channel, e.Value, e.ID, e)
			if prev, dup := firstAt[e.Value]; dup {
				c.add(s.channel, []Op{s.sub, prev, e}, "subscription of process %d received %q twice", s.process, e.Value)
			} else {
				firstAt[e.Value] = e
			}
			if !seenPhantom[e.Value] {
				seenPhantom[e.Value] = true
				phantom(s.channel, e.Value, e)
			}
		}
	}
	values := sortedKeys(valueIDs)
	for _, v := range values {
		if ids := valueIDs[v]; len(ids) > 1 {
			var ex []Op
			var list []string
			for _, id := range sortedKeys(ids) {
				ex = append(ex, ids[id])
				list = append(list, fmt.Sprintf("%q", id))
			}
			ch := ""
			if p := a.pubs[v]; p != nil {
				ch = p.invoke.Channel
			}
			c.add(ch, ex, "value %q appears under %d different ids (%s): it was appended more than once", v, len(ids), strings.Join(list, ", "))
		}
	}
	for _, k := range sortedKeys(idValues) {
		if vals := idValues[k]; len(vals) > 1 {
			ch, id, _ := strings.Cut(k, "\x00")
			var ex []Op
			for _, v := range sortedKeys(vals) {
				ex = append(ex, vals[v])
			}
			c.add(ch, ex, "id %q on channel %q carries %d different values", id, ch, len(vals))
		}
	}
	c.done("%d distinct values observed in %d node histories and %d subscriptions", len(valueIDs), a.counts().Reads, a.counts().Subscriptions)
}

// pubExcerpt returns the publish ops of value, if any.
func (a *analysis) pubExcerpt(value string) []Op {
	if p := a.pubs[value]; p != nil {
		return p.excerpt()
	}
	return nil
}

// checkTotalOrder: node histories agree and have increasing IDs;
// subscriptions see the same order.
func checkTotalOrder(a *analysis, c *collector) {
	compared := 0
	for _, ch := range a.channels {
		rs := a.reads[ch]
		for _, r := range rs {
			m := r.op.Messages
			for i := 1; i < len(m); i++ {
				if m[i].ID <= m[i-1].ID {
					c.add(ch, []Op{trimRead(r.op, i-1, i)}, "node %s's history of channel %q has id %q after %q: ids must increase byte-wise", r.op.Node, ch, m[i].ID, m[i-1].ID)
					break
				}
			}
		}
		cn := a.canon[ch]
		if cn != nil {
			for _, r := range rs {
				if r == cn.read {
					continue
				}
				compared++
				m := r.op.Messages
				// With expiry a node's history may start later: what it
				// lacks at the start must have been able to expire.
				k0 := 0
				if a.retention > 0 && len(m) > 0 {
					if p, ok := cn.idPos[m[0].ID]; ok {
						k0 = p
					}
					for i := 0; i < k0; i++ {
						if !a.mayHaveExpired(cn.entries[i].Value, a.wall(r.op)) {
							c.add(ch, []Op{trimRead(cn.read.op, i), trimRead(r.op, 0)},
								"node %s's history of channel %q starts at %q but lacks %q (id %q), which was within retention when it was read", r.op.Node, ch, m[0].Value, cn.entries[i].Value, cn.entries[i].ID)
							break
						}
					}
				}
				entries := cn.entries[k0:]
				k := 0
				for k < len(m) && k < len(entries) && m[k] == entries[k] {
					k++
				}
				switch {
				case k < len(m) && k < len(entries):
					c.add(ch, []Op{trimRead(cn.read.op, around(k0+k)...), trimRead(r.op, around(k)...)},
						"nodes %s and %s disagree on channel %q at position %d: %q (id %q) vs %q (id %q)",
						cn.read.op.Node, r.op.Node, ch, k0+k, entries[k].Value, entries[k].ID, m[k].Value, m[k].ID)
				case k < len(m):
					c.add(ch, []Op{trimRead(cn.read.op, k0+k-1), trimRead(r.op, around(k)...)},
						"node %s's history of channel %q goes on past node %s's, with %q", r.op.Node, ch, cn.read.op.Node, m[k].Value)
				case len(m) < len(entries):
					c.add(ch, []Op{trimRead(cn.read.op, k0+k-1, k0+k), trimRead(r.op, k-1)},
						"node %s's history of channel %q stops after %d messages, node %s's has %d: final histories must be identical",
						r.op.Node, ch, len(m), cn.read.op.Node, len(entries))
				}
			}
		}
	}
	subs := 0
	for _, s := range a.segs {
		cn := a.canon[s.channel]
		var prev *Op
		prevPos := -1
		subs++
		for _, e := range s.recvs() {
			if cn != nil {
				pos, ok := cn.pos[e.Value]
				if !ok {
					c.add(s.channel, []Op{s.sub, e}, "subscription of process %d received %q (id %q), which is in no final history of channel %q", s.process, e.Value, e.ID, s.channel)
					continue
				}
				if prev != nil && pos < prevPos {
					c.add(s.channel, []Op{s.sub, *prev, e, trimRead(cn.read.op, pos, prevPos)},
						"subscription of process %d received %q after %q, but node %s's history has them the other way round", s.process, e.Value, prev.Value, cn.read.op.Node)
				}
				if pos > prevPos {
					prevPos = pos
					ev := e
					prev = &ev
				}
			} else if prev != nil && e.ID < prev.ID {
				c.add(s.channel, []Op{s.sub, *prev, e}, "subscription of process %d received id %q after %q", s.process, e.ID, prev.ID)
			} else {
				ev := e
				prev = &ev
			}
		}
	}
	c.done("%d channels, %d node histories compared with the longest, %d subscriptions checked against it", len(a.channels), compared, subs)
}

// rtItem is one publish placed in a channel's order for the real-time check.
type rtItem struct {
	p       *publish
	id      string
	call    int64
	ret     int64 // math.MaxInt64 when the outcome is unknown
	retOp   *Op
	inCanon bool
}

// checkRealTime: no publish acknowledged before another was invoked comes
// after it. Cross-checked with porcupine.
func checkRealTime(a *analysis, c *collector, porcupineTimeout time.Duration) {
	byChannel := map[string][]rtItem{}
	for _, p := range a.pubList {
		ch := p.invoke.Channel
		it := rtItem{p: p, call: int64(p.invoke.Time), ret: math.MaxInt64}
		cn := a.canon[ch]
		switch p.outcome {
		case OK:
			it.id = p.id()
			it.ret = int64(p.end.Time)
			it.retOp = p.end
		case Info:
			if cn == nil {
				continue
			}
			pos, ok := cn.pos[p.invoke.Value]
			if !ok {
				continue // never took effect: no constraint
			}
			it.id = cn.entries[pos].ID
		default:
			continue
		}
		if it.id == "" && cn != nil {
			if pos, ok := cn.pos[p.invoke.Value]; ok {
				it.id = cn.entries[pos].ID
			}
		}
		if it.id == "" {
			continue
		}
		byChannel[ch] = append(byChannel[ch], it)
	}
	checked := 0
	var porcupineNotes []string
	for _, ch := range sortedKeys(byChannel) {
		items := byChannel[ch]
		sort.SliceStable(items, func(i, j int) bool { return items[i].id < items[j].id })
		checked += len(items)
		// minAfter[i] is the index of the item after i with the earliest
		// acknowledgement.
		n := len(items)
		minAfter := make([]int, n+1)
		minAfter[n] = -1
		for i := n - 1; i >= 0; i-- {
			minAfter[i] = minAfter[i+1]
			if minAfter[i] < 0 || items[i].ret < items[minAfter[i]].ret {
				minAfter[i] = i
			}
		}
		own := 0
		for i := 0; i < n; i++ {
			j := minAfter[i+1]
			if j < 0 || items[j].ret >= items[i].call {
				continue
			}
			own++
			b, later := items[i], items[j]
			ex := append(later.p.excerpt(), b.p.excerpt()...)
			sort.SliceStable(ex, func(x, y int) bool { return ex[x].Index < ex[y].Index })
			c.add(ch, ex, "publish of %q was acknowledged (op %d) before publish of %q was invoked (op %d), yet it got the later id (%q > %q)",
				later.p.invoke.Value, later.retOp.Index, b.p.invoke.Value, b.p.invoke.Index, later.id, b.id)
		}
		if porcupineTimeout > 0 {
			res := porcupineCheck(items, porcupineTimeout)
			switch {
			case res == porcupine.Illegal && own == 0:
				c.add(ch, nil, "porcupine finds the publishes on channel %q not linearizable, though no single pair shows it", ch)
			case res == porcupine.Ok && own > 0:
				porcupineNotes = append(porcupineNotes, fmt.Sprintf("porcupine disagrees on %q", ch))
			case res == porcupine.Unknown:
				porcupineNotes = append(porcupineNotes, fmt.Sprintf("porcupine timed out on %q", ch))
			}
		}
	}
	summary := fmt.Sprintf("%d publishes with a known place in %d channels checked", checked, len(byChannel))
	if porcupineTimeout > 0 {
		summary += "; porcupine cross-check"
		if len(porcupineNotes) > 0 {
			summary += ": " + strings.Join(porcupineNotes, "; ")
		} else {
			summary += " agrees"
		}
	}
	c.done("%s", summary)
}

// porcupineCheck models a channel as a counter of appended messages: the
// publish with rank r (its place among items in ID order) is legal only when
// exactly r messages precede it.
func porcupineCheck(items []rtItem, timeout time.Duration) porcupine.CheckResult {
	ops := make([]porcupine.Operation, len(items))
	for i, it := range items {
		ops[i] = porcupine.Operation{ClientId: it.p.invoke.Process, Input: it.p.invoke.Value, Call: it.call, Output: i, Return: it.ret}
	}
	model := porcupine.Model{
		Init: func() any { return 0 },
		Step: func(state, input, output any) (bool, any) {
			n := state.(int)
			return output.(int) == n, n + 1
		},
		DescribeOperation: func(input, output any) string { return fmt.Sprintf("publish(%v) → #%v", input, output) },
	}
	return porcupine.CheckOperationsTimeout(model, ops, timeout)
}

// checkUnknownOnce: a publish of unknown outcome appears at most once in
// every node history and subscription, under one ID.
func checkUnknownOnce(a *analysis, c *collector) {
	unknown, appeared := 0, 0
	for p := range a.pubsWith(Info) {
		unknown++
		v, ch := p.invoke.Value, p.invoke.Channel
		ids := map[string]bool{}
		seen := false
		for _, r := range a.reads[ch] {
			var at []int
			for i, e := range r.op.Messages {
				if e.Value == v {
					at = append(at, i)
					ids[e.ID] = true
				}
			}
			if len(at) > 0 {
				seen = true
			}
			if len(at) > 1 {
				c.add(ch, append(p.excerpt(), trimRead(r.op, at...)), "publish of %q with unknown outcome appears %d times in node %s's history", v, len(at), r.op.Node)
			}
		}
		for _, s := range a.segs {
			if s.channel != ch {
				continue
			}
			var got []Op
			for _, e := range s.recvs() {
				if e.Value == v {
					got = append(got, e)
					ids[e.ID] = true
				}
			}
			if len(got) > 1 {
				c.add(ch, append(append(p.excerpt(), s.sub), got...), "publish of %q with unknown outcome was received %d times by the subscription of process %d", v, len(got), s.process)
			}
		}
		if len(ids) > 1 {
			c.add(ch, p.excerpt(), "publish of %q with unknown outcome appears under %d ids: %v", v, len(ids), sortedKeys(ids))
		}
		if seen {
			appeared++
		}
	}
	c.done("%d publishes with unknown outcome: %d appear, %d do not", unknown, appeared, unknown-appeared)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// WriteTo writes the report for a person: the verdict, the counts, one line
// per check, and each kept violation with its excerpt as history lines.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	failed := 0
	for _, c := range r.Checks {
		if !c.Valid {
			failed++
		}
	}
	verdict := "VALID"
	if !r.Valid {
		verdict = "INVALID"
	}
	fmt.Fprintf(&b, "jepsen check: %s (%d of %d checks failed, %d history problems)\n", verdict, failed, len(r.Checks), len(r.Problems))
	n := r.Counts
	fmt.Fprintf(&b, "counts: publishes %d (ok %d, fail %d, info %d), reads %d final + %d during faults (%d more failed), subscriptions %d (received %d, gaps %d, reconnects %d), channels %d\n",
		n.Publishes, n.PublishOK, n.PublishFail, n.PublishInfo, n.Reads, n.LiveReads, n.LiveReadsFailed, n.Subscriptions, n.Received, n.Gaps, n.Reconnects, n.Channels)
	var faults []string
	total := 0
	for _, k := range sortedKeys(n.Faults) {
		faults = append(faults, fmt.Sprintf("%s %d", k, n.Faults[k]))
		total += n.Faults[k]
	}
	fmt.Fprintf(&b, "faults: %d injected (%s), %d nemesis steps failed\n", total, strings.Join(faults, ", "), n.NemesisFailed)
	if n.LongestAckGap > 0 {
		fmt.Fprintf(&b, "availability: longest stretch without an acknowledged publish %s, from t=%s (nemesis %s)\n",
			n.LongestAckGap.Round(time.Millisecond), n.AckGapFrom.Round(time.Millisecond), n.AckGapAfter)
	}
	if n.Dropped > 0 {
		fmt.Fprintf(&b, "note: the SDK dropped %d message(s) the server sent again at or below an ID already delivered\n", n.Dropped)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "history problem: %s\n", p)
	}
	for _, c := range r.Checks {
		mark := "PASS"
		if !c.Valid {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "[%s] %s: %s", mark, c.Name, c.Summary)
		if c.Count > 0 {
			fmt.Fprintf(&b, "; %d violation(s)", c.Count)
		}
		b.WriteString("\n")
		for _, v := range c.Violations {
			fmt.Fprintf(&b, "  - %s\n", v.Message)
			for _, op := range v.Excerpt {
				fmt.Fprintf(&b, "      %s\n", op)
			}
		}
		if c.Count > len(c.Violations) {
			fmt.Fprintf(&b, "  … %d more\n", c.Count-len(c.Violations))
		}
	}
	k, err := io.WriteString(w, b.String())
	return int64(k), err
}

// String returns the report as WriteTo writes it.
func (r *Report) String() string {
	var b strings.Builder
	_, _ = r.WriteTo(&b)
	return b.String()
}
