package raftnode

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// rejectLog keeps refused Raft connections from flooding the log: the
// first refusal from a peer (a dialed address, or an inbound host) is
// logged at WARN, later ones only counted, and the count is reported at
// most once per rejectSummaryEvery. A successful connection with a peer
// forgets it, so a peer that breaks again is reported again. At most
// rejectMaxPeers peers are remembered; beyond that refusals are only
// counted.
type rejectLog struct {
	logger *slog.Logger
	// refused counts every refusal, logged or not.
	refused atomic.Int64

	mu          sync.Mutex
	seen        map[string]bool // guarded by mu
	suppressed  int             // refusals not logged since lastSummary; guarded by mu
	lastSummary time.Time       // guarded by mu
}

const (
	rejectMaxPeers     = 256
	rejectSummaryEvery = time.Minute
)

func newRejectLog(logger *slog.Logger) *rejectLog {
	return &rejectLog{logger: logger, seen: map[string]bool{}, lastSummary: time.Now()}
}

// once records a refusal from peer: logged with msg and args if it is the
// first from that peer, counted otherwise.
func (r *rejectLog) once(peer, msg string, args ...any) {
	r.refused.Add(1)
	r.mu.Lock()
	first := !r.seen[peer] && len(r.seen) < rejectMaxPeers
	if first {
		r.seen[peer] = true
	} else {
		r.suppressed++
	}
	var summary int
	if r.suppressed > 0 && time.Since(r.lastSummary) >= rejectSummaryEvery {
		summary, r.suppressed, r.lastSummary = r.suppressed, 0, time.Now()
	}
	r.mu.Unlock()
	if first {
		r.logger.Warn(msg, args...)
	}
	if summary > 0 {
		r.logger.Warn("more raft connections refused (each peer is logged once)", "count", summary, "since", rejectSummaryEvery)
	}
}

// ok forgets peer after a successful connection.
func (r *rejectLog) ok(peer string) {
	r.mu.Lock()
	delete(r.seen, peer)
	r.mu.Unlock()
}
