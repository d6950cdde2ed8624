package jepsen

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushflo/pushflo/client"
)

// Readers: while the nemesis runs, one reader per node (or more,
// WorkloadConfig.Readers) sends single requests to that node's own address,
// never retried elsewhere, so each completed read is what that one node
// said at that moment. A read is recorded as an FRead with a Mode; the
// consistent-read check judges it against the publishes acknowledged
// before it began.

// readPageSize is how many messages a history read asks for; since reads
// ask for up to sinceLimit and start from a recently acknowledged ID, so
// that a read covers the channel's newest messages (where stale reads
// show) and its line in the history stays small.
const (
	readPageSize = 50
	sinceLimit   = 500
	recentAcks   = 48
)

// ackRing remembers the IDs of the last recentAcks acknowledged publishes
// per channel, for since reads to start from. It is safe for concurrent
// use.
type ackRing struct {
	mu    sync.Mutex // guards ids and first
	ids   map[string][]string
	first map[string]string // channel → first ID acknowledged in the run
}

func (r *ackRing) add(ch, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids, r.first = map[string][]string{}, map[string]string{}
	}
	if _, ok := r.first[ch]; !ok {
		r.first[ch] = id
	}
	l := append(r.ids[ch], id)
	if len(l) > recentAcks {
		l = l[len(l)-recentAcks:]
	}
	r.ids[ch] = l
}

// pick returns one of the remembered IDs of ch, "" when none; one time in
// four the first ID acknowledged in the run, so that with a short
// retention since reads start before what expired and must report a gap.
func (r *ackRing) pick(ch string, rng *rand.Rand) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rng.IntN(4) == 0 && r.first[ch] != "" {
		return r.first[ch]
	}
	l := r.ids[ch]
	if len(l) == 0 {
		return ""
	}
	return l[rng.IntN(len(l))]
}

// readProcs numbers reads during faults: each read is its own process
// (from 1,000,000), so that reads can overlap.
var readProcs atomic.Int64

// maxReadsInFlight bounds one reader's concurrent reads.
const maxReadsInFlight = 32

// reader starts a read of one node every cfg.ReadInterval until ctx ends,
// without waiting for earlier ones (up to maxReadsInFlight): history,
// since and stale since reads in turn, on a random channel. Reads do not
// wait for each other so that reads keep being sent to a paused node, and
// those sent late in the pause (after another leader acknowledged writes)
// are answered the moment it wakes. fresh and stale are clients of that
// node alone (readClients).
func reader(ctx context.Context, node *Node, fresh, stale *client.Client, rec *Recorder, cfg WorkloadConfig, acks *ackRing, rng *rand.Rand) {
	modes := []ReadMode{ModeHistory, ModeSince, ModeStale}
	var wg sync.WaitGroup
	defer wg.Wait()
	inflight := make(chan struct{}, maxReadsInFlight)
	for i := 0; ctx.Err() == nil; i++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(cfg.ReadInterval):
		}
		select {
		case inflight <- struct{}{}:
		default:
			continue // enough reads wait already
		}
		ch := cfg.Channels[rng.IntN(len(cfg.Channels))]
		mode := modes[i%len(modes)]
		from := ""
		if mode != ModeHistory {
			from = acks.pick(ch, rng)
		}
		cl := fresh
		if mode == ModeStale {
			cl = stale
		}
		proc := int(1_000_000 + readProcs.Add(1))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inflight }()
			rec.Record(Op{Type: Invoke, Process: proc, F: FRead, Node: node.ID, Channel: ch, Mode: mode, From: from})
			es, more, gap, err := readOnce(context.WithoutCancel(ctx), cl, ch, from, mode)
			if err != nil {
				rec.Record(Op{Type: Fail, Process: proc, F: FRead, Node: node.ID, Channel: ch, Mode: mode, From: from, Error: err.Error()})
			} else {
				rec.Record(Op{Type: OK, Process: proc, F: FRead, Node: node.ID, Channel: ch, Mode: mode, From: from, Messages: es, More: more, Gap: gap})
			}
		}()
	}
}

// readClients returns the clients one reader of node uses: base with the
// node's own address as its only one, so that no read is retried
// elsewhere, and a 15 s request timeout, longer than a nemesis interval:
// a read sent to a paused leader waits for it, and is answered the moment
// it resumes, before it learns it was deposed, which is when a leader that
// does not confirm its leadership serves a stale read. The second client
// sends stale=true.
func readClients(base client.Config, node *Node) (fresh, stale *client.Client, err error) {
	base.Addrs = []string{node.DirectURL()}
	base.RequestTimeout = 15 * time.Second
	if fresh, err = client.New(base); err != nil {
		return nil, nil, err
	}
	base.StaleReads = true
	stale, err = client.New(base)
	return fresh, stale, err
}

// readOnce makes one read request (a history page of readPageSize, or up
// to sinceLimit messages after from) and returns its messages oldest first
// and whether the answer was cut short (hasMore, or a full history page),
// and the gap a since answer reported. Reads have no effect, so any error
// is recorded as a failed read.
func readOnce(ctx context.Context, cl *client.Client, ch, from string, mode ReadMode) ([]Entry, bool, *GapRecord, error) {
	if mode == ModeHistory {
		page, err := cl.History(ctx, ch, client.HistoryOptions{PageSize: readPageSize})
		if err != nil {
			return nil, false, nil, err
		}
		// Newest first on the wire; oldest first in the history.
		es := entries(page.Items)
		slices.Reverse(es)
		return es, len(es) >= readPageSize, nil, nil
	}
	res, err := cl.Since(ctx, ch, from, sinceLimit)
	if err != nil {
		return nil, false, nil, err
	}
	var gap *GapRecord
	if res.Gap != nil {
		gap = gapRecord(*res.Gap)
	}
	return entries(res.Items), res.HasMore, gap, nil
}
