package api

import (
	"container/list"
	"math"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/time/rate"
)

// Request rate limits (token buckets). Every HTTP request except /health
// and /ready (load balancers' probes) takes a token: one that carries the
// secret or management key in its Authorization header from that key's
// bucket (the key's holder is one party wherever it connects from), any
// other from its client address's bucket (clientAddr; IPv6 addresses are
// counted by /64, which one host usually holds whole). WebSocket and SSE
// handshakes are requests too; frames on an open WebSocket are limited
// per connection (SubscribeRate). A request past its bucket is answered
// 429 RATE_LIMITED with Retry-After and is not read further.
//
// The per-key buckets are fixed, one for each key, so unknown keys cannot
// add any. The per-address table holds at most RateAddrs addresses, least
// recently used first out; an address idle long enough for its bucket to
// refill is forgotten first, which changes nothing for it.

// limitRequest reports whether a request may go on; when not, it has
// answered 429 RATE_LIMITED.
func (s *Server) limitRequest(ctx *fasthttp.RequestCtx, path string) bool {
	if path == "/health" || path == "/ready" {
		return true
	}
	now := time.Now()
	var wait time.Duration
	if b := s.keyBucket(ctx); b != nil {
		wait = reserve(b, now)
	} else {
		wait = s.addrs.take(addrKey(s.clientAddr(ctx)), now)
	}
	if wait <= 0 {
		return true
	}
	secs := int(math.Ceil(wait.Seconds()))
	s.writeError(ctx, &apiError{Code: CodeRateLimited, RetryAfter: max(secs, 1),
		Message: "too many requests from this client; retry after the number of seconds in Retry-After"})
	return false
}

// keyBucket is the bucket of the secret or management key the request's
// Authorization header carries, or nil.
func (s *Server) keyBucket(ctx *fasthttp.RequestCtx) *rate.Limiter {
	cred, ok := bearer(ctx)
	if !ok {
		return nil
	}
	k := strings.TrimSpace(cred)
	switch {
	case eq(k, s.cfg.Keys.Secret):
		return s.keyLimits[0]
	case eq(k, s.cfg.Keys.Mgmt):
		return s.keyLimits[1]
	}
	return nil
}

// reserve takes a token from b at now; when none is left it takes none
// and returns how long until one is.
func reserve(b *rate.Limiter, now time.Time) time.Duration {
	r := b.ReserveN(now, 1)
	if !r.OK() {
		return time.Hour
	}
	d := r.DelayFrom(now)
	if d > 0 {
		r.CancelAt(now)
	}
	return d
}

// addrKey is the unit an address is limited as: itself for IPv4, its /64
// for IPv6.
func addrKey(a netip.Addr) netip.Prefix {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p
	}
	return netip.PrefixFrom(a, a.BitLen())
}

// addrLimiter is the bounded table of per-address token buckets.
type addrLimiter struct {
	limit rate.Limit
	burst int
	max   int
	// refill is how long an idle bucket takes to fill up; an entry idle
	// that long is equivalent to none.
	refill time.Duration

	mu  sync.Mutex
	m   map[netip.Prefix]*list.Element // of *addrBucket
	lru list.List                      // front: most recently used
}

type addrBucket struct {
	key  netip.Prefix
	lim  *rate.Limiter
	last time.Time
}

func newAddrLimiter(perSec float64, burst, maxAddrs int) *addrLimiter {
	l := &addrLimiter{limit: rate.Limit(perSec), burst: burst, max: maxAddrs, m: make(map[netip.Prefix]*list.Element)}
	l.refill = time.Duration(float64(burst) / perSec * float64(time.Second))
	return l
}

// take takes a token for key at now and returns zero, or takes none and
// returns how long until one is available.
func (l *addrLimiter) take(key netip.Prefix, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *addrBucket
	if e, ok := l.m[key]; ok {
		l.lru.MoveToFront(e)
		b = e.Value.(*addrBucket)
	} else {
		l.evict(now)
		b = &addrBucket{key: key, lim: rate.NewLimiter(l.limit, l.burst)}
		l.m[key] = l.lru.PushFront(b)
	}
	b.last = now
	return reserve(b.lim, now)
}

// evict makes room for one entry: it drops entries idle for a full refill
// from the back, and then, while the table is full, the least recently
// used one. Called with mu held.
func (l *addrLimiter) evict(now time.Time) {
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		b := e.Value.(*addrBucket)
		if len(l.m) < l.max && now.Sub(b.last) < l.refill {
			return
		}
		l.lru.Remove(e)
		delete(l.m, b.key)
	}
}
