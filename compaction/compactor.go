package compaction

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/pushflo/pushflo/internal/clock"
	"github.com/pushflo/pushflo/log"
)

// Node is what compaction needs of the Raft node.
type Node interface {
	IsLeader() bool
	Expire(ctx context.Context, spans []log.Span, timeIndexBefore int64) (int64, error)
}

// Config configures a Compactor. Zero values mean the defaults.
type Config struct {
	Node   Node
	Store  *log.Store
	Policy *Policy
	// Interval is how often the leader looks for messages to expire;
	// default 1s.
	Interval time.Duration
	// Registerer receives the compaction metrics; nil means none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Compactor runs the expiry loop. It proposes only while its node leads.
type Compactor struct {
	cfg     Config
	logger  *slog.Logger
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	expired prometheus.Counter
	oldest  prometheus.Gauge
	runs    prometheus.Counter
}

// Start launches the loop; Close stops it.
func Start(cfg Config) *Compactor {
	c := newCompactor(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.wg.Go(func() { c.loop(ctx) })
	return c
}

// newCompactor builds a compactor without starting its loop.
func newCompactor(cfg Config) *Compactor {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Compactor{cfg: cfg, logger: cfg.Logger.With("component", "compaction")}
	c.expired = prometheus.NewCounter(prometheus.CounterOpts{Name: "pushflo_compaction_messages_expired_total", Help: "Messages dropped by retention (proposed by this node as leader)."})
	c.runs = prometheus.NewCounter(prometheus.CounterOpts{Name: "pushflo_compaction_runs_total", Help: "Expiry commands proposed."})
	c.oldest = prometheus.NewGauge(prometheus.GaugeOpts{Name: "pushflo_compaction_oldest_retained_age_seconds", Help: "Age of the oldest retained message on any channel, as of the last pass."})
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(c.expired, c.runs, c.oldest)
	}
	return c
}

// Close stops the loop and waits for it.
func (c *Compactor) Close() {
	c.cancel()
	c.wg.Wait()
}

func (c *Compactor) loop(ctx context.Context) {
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	backoff := time.Duration(0)
	// The expiry time may not run ahead of elapsed time within one
	// leadership (clock.Guard): a leader whose clock jumps forward would
	// otherwise expire, on every replica, messages still within retention.
	guard := clock.Guard{Tolerance: 5 * time.Second}
	holding := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !c.cfg.Node.IsLeader() {
			guard.Reset()
			continue
		}
		now, held := guard.Now()
		if held && !holding { // once per episode, not every pass
			c.logger.Warn("wall clock ran ahead of elapsed time; expiring as of the elapsed time instead", "wall", clock.Now().UTC().Format(time.RFC3339), "used", now.UTC().Format(time.RFC3339))
		}
		holding = held
		if err := c.Pass(ctx, now); err != nil {
			backoff = min(max(2*backoff, time.Second), time.Minute)
			c.logger.Warn("expiry pass failed", "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
	}
}

// Pass computes what has expired as of now and proposes one expiry command
// for it. Only the leader's proposals succeed.
func (c *Compactor) Pass(ctx context.Context, now time.Time) error {
	store, policy := c.cfg.Store, c.cfg.Policy
	channels := store.AllChannels()
	var spans []log.Span
	throughAt := map[time.Duration]uint64{}
	oldest := time.Duration(0)
	for i := range channels {
		ch := &channels[i]
		if ch.MessageCount == 0 {
			continue
		}
		ret := policy.Retention(ch)
		through, ok := throughAt[ret]
		if !ok {
			var err error
			if through, err = store.ThroughTime(now.Add(-ret).UnixMilli()); err != nil {
				return err
			}
			throughAt[ret] = through
		}
		if capThrough, err := store.ThroughCap(ch.Slug, ch.MaxMessages, ch.MaxBytes); err != nil {
			return err
		} else if capThrough > through {
			through = capThrough
		}
		// Measured here, off the FSM: applying the span is then one range
		// delete on every replica, however many messages it holds.
		sp, err := store.MeasureSpan(ch.Slug, min(through, ch.LastPos))
		if err != nil {
			return err
		}
		if sp.Count > 0 {
			spans = append(spans, sp)
			continue
		}
		if msgs, _ := store.Read(ch.Slug, ch.DroppedPos, 1); len(msgs) == 1 {
			if age := now.Sub(msgs[0].CreatedAt()); age > oldest {
				oldest = age
			}
		}
	}
	c.oldest.Set(oldest.Seconds())
	if len(spans) == 0 {
		return nil
	}
	n, err := c.cfg.Node.Expire(ctx, spans, now.Add(-policy.Longest(channels)).UnixMilli())
	if err != nil {
		return err
	}
	c.runs.Inc()
	c.expired.Add(float64(n))
	c.logger.Info("expired messages", "messages", n, "channels", len(spans))
	return nil
}
