package jepsen

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pushflo/pushflo/client"
)

// WorkloadConfig describes the load a run puts on the cluster. Zero values
// mean the documented default.
type WorkloadConfig struct {
	// Channels published to and subscribed to. Default jepsen-a, jepsen-b,
	// jepsen-c.
	Channels []string
	// Publishers is the number of concurrent publishing processes, each
	// doing one publish at a time with a unique value. Default 6.
	Publishers int
	// Subscribers is the number of subscribing processes; they alternate
	// WebSocket and SSE and start on different nodes. Default 4.
	Subscribers int
	// ResubscribeEvery is the mean time between a subscriber closing its
	// subscription and resuming from its last ID. Default 2s; negative
	// never.
	ResubscribeEvery time.Duration
	// PublishInterval is the pause between one publisher's operations.
	// Default 20ms.
	PublishInterval time.Duration
	// IdempotencyKeys sends each publish with its value as Idempotency-Key.
	IdempotencyKeys bool
	// Client is the base configuration of every client (keys, timeouts);
	// Addrs is filled in per process.
	Client client.Config
	// Logger receives progress. Default: discard.
	Logger *slog.Logger
}

func (w *WorkloadConfig) defaults() {
	if len(w.Channels) == 0 {
		w.Channels = []string{"jepsen-a", "jepsen-b", "jepsen-c"}
	}
	if w.Publishers <= 0 {
		w.Publishers = 6
	}
	if w.Subscribers < 0 {
		w.Subscribers = 0
	} else if w.Subscribers == 0 {
		w.Subscribers = 4
	}
	if w.ResubscribeEvery == 0 {
		w.ResubscribeEvery = 2 * time.Second
	}
	if w.PublishInterval <= 0 {
		w.PublishInterval = 20 * time.Millisecond
	}
	if w.Logger == nil {
		w.Logger = slog.New(slog.DiscardHandler)
	}
}

// content is the JSON object each publish carries.
type content struct {
	Value string `json:"value"`
}

// valueOf extracts the workload value from a message's content.
func valueOf(m client.Message) string {
	var c content
	_ = json.Unmarshal(m.Content, &c)
	return c.Value
}

// rotate returns urls starting at i, so process i prefers node i.
func rotate(urls []string, i int) []string {
	out := make([]string, 0, len(urls))
	for k := range urls {
		out = append(out, urls[(i+k)%len(urls)])
	}
	return out
}

// RunWorkload runs publishers and subscribers against c until ctx ends,
// recording every operation in rec. Process numbers: publishers 0…P-1,
// subscribers 100…. It returns when all of them have stopped.
func RunWorkload(ctx context.Context, c *Cluster, rec *Recorder, cfg WorkloadConfig, seed uint64) error {
	cfg.defaults()
	urls := c.URLs()
	var wg sync.WaitGroup
	errs := make(chan error, cfg.Publishers+cfg.Subscribers)
	for p := 0; p < cfg.Publishers; p++ {
		cc := cfg.Client
		cc.Addrs = rotate(urls, p)
		cl, err := client.New(cc)
		if err != nil {
			return fmt.Errorf("workload: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			publisher(ctx, cl, rec, cfg, p, rand.New(rand.NewPCG(seed, uint64(p))))
		}()
	}
	for s := 0; s < cfg.Subscribers; s++ {
		cc := cfg.Client
		cc.Addrs = rotate(urls, s)
		cl, err := client.New(cc)
		if err != nil {
			return fmt.Errorf("workload: %w", err)
		}
		tr := client.WebSocket
		if s%2 == 1 {
			tr = client.SSE
		}
		ch := cfg.Channels[s%len(cfg.Channels)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := subscriber(ctx, cl, rec, cfg, 100+s, ch, tr, rand.New(rand.NewPCG(seed, uint64(1000+s)))); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func publisher(ctx context.Context, cl *client.Client, rec *Recorder, cfg WorkloadConfig, proc int, rng *rand.Rand) {
	for i := 0; ctx.Err() == nil; i++ {
		ch := cfg.Channels[rng.IntN(len(cfg.Channels))]
		v := fmt.Sprintf("p%d-%d", proc, i)
		rec.Record(Op{Type: Invoke, Process: proc, F: FPublish, Channel: ch, Value: v})
		var opts []client.PublishOption
		if cfg.IdempotencyKeys {
			opts = append(opts, client.WithIdempotencyKey(v))
		}
		// The publish gets its own context: a run ending mid-request must
		// not turn into a spurious unknown outcome more than necessary.
		pctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := cl.Publish(pctx, ch, content{Value: v}, opts...)
		cancel()
		switch {
		case err == nil:
			rec.Record(Op{Type: OK, Process: proc, F: FPublish, Channel: ch, Value: v, ID: res.ID})
		case client.NotApplied(err):
			rec.Record(Op{Type: Fail, Process: proc, F: FPublish, Channel: ch, Value: v, Error: err.Error()})
		default:
			rec.Record(Op{Type: Info, Process: proc, F: FPublish, Channel: ch, Value: v, Error: err.Error()})
		}
		select {
		case <-ctx.Done():
		case <-time.After(cfg.PublishInterval):
		}
	}
}

func subscriber(ctx context.Context, cl *client.Client, rec *Recorder, cfg WorkloadConfig, proc int, ch string, tr client.Transport, rng *rand.Rand) error {
	from := ""
	node := cl.Addrs()[0]
	for ctx.Err() == nil {
		rec.Record(Op{Type: Invoke, Process: proc, F: FSubscribe, Channel: ch, Node: node, Transport: tr.String(), From: from})
		sub, err := cl.Subscribe(ctx, ch, client.SubscribeOptions{FromID: from, Transport: tr})
		if err != nil {
			rec.Record(Op{Type: Fail, Process: proc, F: FSubscribe, Channel: ch, Error: err.Error()})
			return fmt.Errorf("subscriber %d: %w", proc, err)
		}
		rec.Record(Op{Type: OK, Process: proc, F: FSubscribe, Channel: ch, Node: node, Transport: tr.String(), From: from})
		var until <-chan time.Time
		if cfg.ResubscribeEvery > 0 {
			d := time.Duration(rng.Int64N(int64(2 * cfg.ResubscribeEvery)))
			until = time.After(d)
		}
	recv:
		for {
			select {
			case ev, ok := <-sub.Events():
				if !ok {
					break recv
				}
				switch ev.Kind {
				case client.EventMessage:
					rec.Record(Op{Type: Event, Process: proc, F: FRecv, Channel: ch, ID: ev.Message.ID, Value: valueOf(ev.Message)})
				case client.EventGap:
					g := ev.Gap
					rec.Record(Op{Type: Event, Process: proc, F: FGap, Channel: ch, Gap: &GapRecord{After: g.After, Before: g.Before, Reason: g.Reason}})
				}
			case <-until:
				break recv
			}
		}
		sub.Close()
		// Drain what was buffered before the close: it was delivered.
		for ev := range sub.Events() {
			if ev.Kind == client.EventMessage {
				rec.Record(Op{Type: Event, Process: proc, F: FRecv, Channel: ch, ID: ev.Message.ID, Value: valueOf(ev.Message)})
			}
		}
		rec.Record(Op{Type: Event, Process: proc, F: FUnsubscribe, Channel: ch})
		if err := sub.Err(); err != nil && ctx.Err() == nil {
			return fmt.Errorf("subscriber %d: %w", proc, err)
		}
		from = sub.LastID()
	}
	return nil
}

// FinalReads reads every channel from every node and records one FRead op
// per (node, channel). It first waits, up to settle, for the nodes to agree
// on each channel's length, so a node still catching up after the heal is
// not mistaken for one that lost data; if they never agree the last reads
// are recorded as they are and the checker judges them.
func FinalReads(ctx context.Context, c *Cluster, rec *Recorder, cfg client.Config, channels []string, settle time.Duration) error {
	clients := map[string]*client.Client{}
	for _, n := range c.Nodes() {
		cc := cfg
		cc.Addrs = []string{n.DirectURL()}
		cl, err := client.New(cc)
		if err != nil {
			return fmt.Errorf("final reads: %w", err)
		}
		clients[n.ID] = cl
	}
	deadline := time.Now().Add(settle)
	for i, ch := range channels {
		proc := 10_000 + i
		for {
			got := map[string][]Entry{}
			agree := true
			var ref []Entry
			for _, n := range c.Nodes() {
				msgs, err := clients[n.ID].ReadAll(ctx, ch, "", 100)
				if err != nil {
					agree = false
					continue
				}
				es := make([]Entry, len(msgs))
				for k, m := range msgs {
					es[k] = Entry{ID: m.ID, Value: valueOf(m)}
				}
				got[n.ID] = es
				if ref == nil {
					ref = es
				} else if len(es) != len(ref) {
					agree = false
				}
			}
			if agree || time.Now().After(deadline) || ctx.Err() != nil {
				for _, n := range c.Nodes() {
					es, ok := got[n.ID]
					rec.Record(Op{Type: Invoke, Process: proc, F: FRead, Node: n.ID, Channel: ch})
					if !ok {
						rec.Record(Op{Type: Fail, Process: proc, F: FRead, Node: n.ID, Channel: ch, Error: "read failed"})
						continue
					}
					rec.Record(Op{Type: OK, Process: proc, F: FRead, Node: n.ID, Channel: ch, Messages: es})
				}
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	return nil
}
