package jepsen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
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

// readAnswer is the part of a history or since answer a reader needs.
type readAnswer struct {
	Data struct {
		Items []struct {
			ID      string          `json:"id"`
			Content json.RawMessage `json:"content"`
		} `json:"items"`
		HasMore bool       `json:"hasMore"`
		Gap     *GapRecord `json:"gap"`
	} `json:"data"`
	Code string `json:"code"`
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
// are answered the moment it wakes.
func reader(ctx context.Context, node *Node, secret string, rec *Recorder, cfg WorkloadConfig, acks *ackRing, rng *rand.Rand) {
	// Longer than a nemesis interval: a read sent to a paused leader
	// waits for it, and is answered the moment it resumes, before it
	// learns it was deposed, which is when a leader that does not
	// confirm its leadership serves a stale read.
	hc := &http.Client{Timeout: 15 * time.Second}
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
		q := url.Values{}
		from := ""
		if mode == ModeHistory {
			q.Set("pageSize", strconv.Itoa(readPageSize))
		} else {
			from = acks.pick(ch, rng)
			q.Set("since", from)
			q.Set("limit", strconv.Itoa(sinceLimit))
			if mode == ModeStale {
				q.Set("stale", "true")
			}
		}
		proc := int(1_000_000 + readProcs.Add(1))
		u := node.DirectURL() + "/api/v1/channels/" + url.PathEscape(ch) + "/messages?" + q.Encode()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inflight }()
			rec.Record(Op{Type: Invoke, Process: proc, F: FRead, Node: node.ID, Channel: ch, Mode: mode, From: from})
			es, more, gap, err := readOnce(context.WithoutCancel(ctx), hc, u, secret, mode)
			if err != nil {
				rec.Record(Op{Type: Fail, Process: proc, F: FRead, Node: node.ID, Channel: ch, Mode: mode, From: from, Error: err.Error()})
			} else {
				rec.Record(Op{Type: OK, Process: proc, F: FRead, Node: node.ID, Channel: ch, Mode: mode, From: from, Messages: es, More: more, Gap: gap})
			}
		}()
	}
}

// readOnce makes one read request and returns its messages oldest first
// and whether the answer was cut short (hasMore, or a full history page),
// and the gap a since answer reported. Reads have no effect, so any error
// is recorded as a failed read.
func readOnce(ctx context.Context, hc *http.Client, u, secret string, mode ReadMode) ([]Entry, bool, *GapRecord, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, false, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, false, nil, err
	}
	var a readAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, false, nil, fmt.Errorf("%s: decode: %w", resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, false, nil, fmt.Errorf("%s %s", resp.Status, a.Code)
	}
	es := make([]Entry, len(a.Data.Items))
	for k, it := range a.Data.Items {
		var c content
		_ = json.Unmarshal(it.Content, &c)
		es[k] = Entry{ID: it.ID, Value: c.Value}
	}
	more := a.Data.HasMore
	if mode == ModeHistory {
		// Newest first on the wire; oldest first in the history.
		for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
			es[i], es[j] = es[j], es[i]
		}
		more = len(es) >= readPageSize
	}
	return es, more, a.Data.Gap, nil
}
