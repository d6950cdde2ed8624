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
	// ResumeDelay is the mean time a subscriber waits, after closing its
	// subscription, before resuming (uniform from 0 to twice this); with a
	// short retention, longer than the retention makes the server report
	// gaps. Default 0: it resumes at once.
	ResumeDelay time.Duration
	// PublishInterval is the pause between one publisher's operations.
	// Default 20ms.
	PublishInterval time.Duration
	// IdempotencyKeys sends each publish with its value as Idempotency-Key,
	// which lets the SDK retry it on another node after an unknown outcome.
	IdempotencyKeys bool
	// NoKeyPublishers is how many publishers (the first ones) send no key
	// even with IdempotencyKeys: their unknown outcomes are not retried
	// and stay unknown (info), which the unknown-at-most-once check
	// judges. Default 0.
	NoKeyPublishers int
	// BypassProxies makes odd-numbered publishers and the second half of
	// the subscribers dial the nodes directly rather than through their
	// client proxies (ClusterConfig.ClientProxies): a killed node then
	// refuses them, a definite failure, where its proxy accepts and then
	// closes, an unknown outcome. The client-link nemesis does not reach
	// them; a partition's client cut still does under NetworkNetns.
	BypassProxies bool
	// Readers is the number of readers per node: each sends a history,
	// since or stale since read to its node's own address every
	// ReadInterval while the publishers run, without waiting for earlier
	// ones; each read is its own process, from 1,000,000 (reader.go).
	// Default 0.
	Readers int
	// ReadInterval is the time between one reader's reads. Default 100ms.
	ReadInterval time.Duration
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
	setDefault(&w.Publishers, 6)
	if w.Subscribers < 0 {
		w.Subscribers = 0
	} else if w.Subscribers == 0 {
		w.Subscribers = 4
	}
	if w.ResubscribeEvery == 0 {
		w.ResubscribeEvery = 2 * time.Second
	}
	setDefault(&w.ReadInterval, 100*time.Millisecond)
	setDefault(&w.PublishInterval, 20*time.Millisecond)
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

// entries returns the ID and workload value of each message, in order.
func entries(msgs []client.Message) []Entry {
	es := make([]Entry, len(msgs))
	for k, m := range msgs {
		es[k] = Entry{ID: m.ID, Value: valueOf(m)}
	}
	return es
}

// gapRecord is a gap as the history records it.
func gapRecord(g client.Gap) *GapRecord {
	return &GapRecord{After: g.After, Before: g.Before, Reason: g.Reason}
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
// subscribers 100…. It returns when all of them have stopped. Run uses
// StartWorkload instead, to let subscribers catch up after the heal.
func RunWorkload(ctx context.Context, c *Cluster, rec *Recorder, cfg WorkloadConfig, seed uint64) error {
	w, err := StartWorkload(context.WithoutCancel(ctx), c, rec, cfg, seed)
	if err != nil {
		return err
	}
	<-ctx.Done()
	w.StopPublishers()
	return w.FinishSubscribers(nil, 0)
}

// Workload is a running set of publishers and subscribers (StartWorkload).
// Its methods are called by the goroutine that started it.
type Workload struct {
	stopPub context.CancelFunc
	pubs    sync.WaitGroup
	subs    sync.WaitGroup
	stopSub context.CancelFunc
	// finish is closed when the subscribers should catch up with heads and
	// stop; heads and catchUp are written before and read after.
	finish  chan struct{}
	heads   map[string]string
	catchUp time.Duration
	errs    chan error
}

// StartWorkload starts publishers and subscribers against c, recording
// every operation in rec. Process numbers: publishers 0…P-1, subscribers
// 100…. Publishers run until StopPublishers, subscribers (disconnecting
// and resuming at random) until FinishSubscribers; ctx ending stops both.
func StartWorkload(ctx context.Context, c *Cluster, rec *Recorder, cfg WorkloadConfig, seed uint64) (*Workload, error) {
	cfg.defaults()
	proxied, direct := c.URLs(), c.directURLs()
	urlsFor := func(bypass bool) []string {
		if bypass && cfg.BypassProxies {
			return direct
		}
		return proxied
	}
	pctx, stopPub := context.WithCancel(ctx)
	sctx, stopSub := context.WithCancel(ctx)
	w := &Workload{stopPub: stopPub, stopSub: stopSub, finish: make(chan struct{}), errs: make(chan error, cfg.Subscribers)}
	var clients []*client.Client
	for p := 0; p < cfg.Publishers; p++ {
		cc := cfg.Client
		cc.Addrs = rotate(urlsFor(p%2 == 1), p)
		cl, err := client.New(cc)
		if err != nil {
			stopPub()
			stopSub()
			return nil, fmt.Errorf("workload: %w", err)
		}
		clients = append(clients, cl)
	}
	acks := &ackRing{}
	for p := 0; p < cfg.Publishers; p++ {
		w.pubs.Add(1)
		go func() {
			defer w.pubs.Done()
			publisher(pctx, clients[p], rec, cfg, p, acks, rand.New(rand.NewPCG(seed, uint64(p))))
		}()
	}
	for i, n := range c.Nodes() {
		rc := cfg.Client
		rc.SecretKey = c.Config().SecretKey
		for r := 0; r < cfg.Readers; r++ {
			fresh, stale, err := readClients(rc, n)
			if err != nil {
				stopPub()
				stopSub()
				return nil, fmt.Errorf("workload: %w", err)
			}
			stream := uint64(200 + i*cfg.Readers + r)
			w.pubs.Add(1)
			go func() {
				defer w.pubs.Done()
				reader(pctx, n, fresh, stale, rec, cfg, acks, rand.New(rand.NewPCG(seed, stream)))
			}()
		}
	}
	for s := 0; s < cfg.Subscribers; s++ {
		cc := cfg.Client
		cc.Addrs = rotate(urlsFor(s >= cfg.Subscribers/2), s)
		cl, err := client.New(cc)
		if err != nil {
			stopPub()
			stopSub()
			return nil, fmt.Errorf("workload: %w", err)
		}
		tr := client.WebSocket
		if s%2 == 1 {
			tr = client.SSE
		}
		ch := cfg.Channels[s%len(cfg.Channels)]
		w.subs.Add(1)
		go func() {
			defer w.subs.Done()
			if err := w.subscriber(sctx, cl, rec, cfg, 100+s, ch, tr, rand.New(rand.NewPCG(seed, uint64(1000+s)))); err != nil {
				w.errs <- err
			}
		}()
	}
	return w, nil
}

// StopPublishers stops every publisher and reader and waits for them: a
// publish in flight finishes (bounded by its own timeout) and is recorded.
func (w *Workload) StopPublishers() {
	w.stopPub()
	w.pubs.Wait()
}

// FinishSubscribers tells every subscriber to stop resubscribing, stay
// with its current node until it has received its channel's head from
// heads (a message ID; a channel without one needs nothing) or catchUp has
// passed, then close; it waits for them and returns the first error a
// subscriber ended with. With nil heads subscribers stop at once.
func (w *Workload) FinishSubscribers(heads map[string]string, catchUp time.Duration) error {
	w.heads, w.catchUp = heads, catchUp
	close(w.finish)
	done := make(chan struct{})
	go func() { w.subs.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(catchUp + 30*time.Second):
		w.stopSub() // a subscriber that cannot even notice the deadline
		<-done
	}
	w.stopSub()
	close(w.errs)
	return <-w.errs
}

func publisher(ctx context.Context, cl *client.Client, rec *Recorder, cfg WorkloadConfig, proc int, acks *ackRing, rng *rand.Rand) {
	for i := 0; ctx.Err() == nil; i++ {
		ch := cfg.Channels[rng.IntN(len(cfg.Channels))]
		v := fmt.Sprintf("p%d-%d", proc, i)
		rec.Record(Op{Type: Invoke, Process: proc, F: FPublish, Channel: ch, Value: v})
		var opts []client.PublishOption
		if cfg.IdempotencyKeys && proc >= cfg.NoKeyPublishers {
			opts = append(opts, client.WithIdempotencyKey(v))
		}
		// The publish gets its own context: a run ending mid-request must
		// not turn into a spurious unknown outcome more than necessary.
		pctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := cl.Publish(pctx, ch, content{Value: v}, opts...)
		cancel()
		switch {
		case err == nil:
			var stamp int64
			if t := res.CreatedTime(); !t.IsZero() {
				stamp = t.UnixMilli()
			}
			rec.Record(Op{Type: OK, Process: proc, F: FPublish, Channel: ch, Value: v, ID: res.ID, Stamp: stamp})
			acks.add(ch, res.ID)
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

// subscriber subscribes, receives for a random while, closes and resumes
// from the last ID it received, on the next node of its list, until
// finish; then it catches up with its channel's head and stops.
func (w *Workload) subscriber(ctx context.Context, cl *client.Client, rec *Recorder, cfg WorkloadConfig, proc int, ch string, tr client.Transport, rng *rand.Rand) error {
	from := ""
	addrs := cl.Addrs()
	finishing := false
	var head string
	var deadline <-chan time.Time
	for seg := 0; ctx.Err() == nil; seg++ {
		node := addrs[seg%len(addrs)]
		// One node per segment, so that resuming moves between nodes.
		cc := cfg.Client
		cc.Addrs = rotate(addrs, seg%len(addrs))
		scl, err := client.New(cc)
		if err != nil {
			return fmt.Errorf("subscriber %d: %w", proc, err)
		}
		rec.Record(Op{Type: Invoke, Process: proc, F: FSubscribe, Channel: ch, Node: node, Transport: tr.String(), From: from})
		sub, err := scl.Subscribe(ctx, ch, client.SubscribeOptions{FromID: from, Transport: tr})
		if err != nil {
			rec.Record(Op{Type: Fail, Process: proc, F: FSubscribe, Channel: ch, Error: err.Error()})
			return fmt.Errorf("subscriber %d: %w", proc, err)
		}
		rec.Record(Op{Type: OK, Process: proc, F: FSubscribe, Channel: ch, Node: node, Transport: tr.String(), From: from})
		var until <-chan time.Time
		if cfg.ResubscribeEvery > 0 && !finishing {
			d := time.Duration(rng.Int64N(int64(2 * cfg.ResubscribeEvery)))
			until = time.After(d)
		}
		finish := w.finish
		if finishing {
			finish = nil
		}
		caughtUp := func() bool { return finishing && (head == "" || sub.LastID() >= head) }
	recv:
		for !caughtUp() {
			select {
			case ev, ok := <-sub.Events():
				if !ok {
					break recv
				}
				switch ev.Kind {
				case client.EventMessage:
					rec.Record(Op{Type: Event, Process: proc, F: FRecv, Channel: ch, ID: ev.Message.ID, Value: valueOf(ev.Message)})
				case client.EventGap:
					rec.Record(Op{Type: Event, Process: proc, F: FGap, Channel: ch, Gap: gapRecord(ev.Gap)})
				}
			case <-until:
				break recv
			case <-finish:
				finishing, finish, until = true, nil, nil
				head = w.heads[ch]
				deadline = time.After(w.catchUp)
			case <-deadline:
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
		st := sub.Stats()
		end := Op{Type: Event, Process: proc, F: FUnsubscribe, Channel: ch, Dropped: st.Dropped, Reconnects: max(st.Connects-1, 0)}
		if finishing {
			end.Head = head
		}
		rec.Record(end)
		if err := sub.Err(); err != nil && ctx.Err() == nil {
			return fmt.Errorf("subscriber %d: %w", proc, err)
		}
		from = sub.LastID()
		if finishing {
			return nil
		}
		if cfg.ResumeDelay > 0 {
			select {
			case <-ctx.Done():
			case <-w.finish:
			case <-time.After(time.Duration(rng.Int64N(int64(2 * cfg.ResumeDelay)))):
			}
		}
	}
	return nil
}

// FinalReads reads every channel from every running member and records one
// FRead op per (node, channel). It first waits, up to settle, for the nodes
// to agree on each channel's last message, so a node still catching up after the heal is
// not mistaken for one that lost data; if they never agree the last reads
// are recorded as they are and the checker judges them. It returns each
// channel's head: the last ID of the longest history read.
func FinalReads(ctx context.Context, c *Cluster, rec *Recorder, cfg client.Config, channels []string, settle time.Duration) (map[string]string, error) {
	heads := map[string]string{}
	clients := map[string]*client.Client{}
	var members []*Node
	for _, n := range c.Members() {
		if n.Running() {
			members = append(members, n)
		}
	}
	for _, n := range members {
		cc := cfg
		cc.Addrs = []string{n.DirectURL()}
		cl, err := client.New(cc)
		if err != nil {
			return nil, fmt.Errorf("final reads: %w", err)
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
			for _, n := range members {
				msgs, err := clients[n.ID].ReadAll(ctx, ch, "", 100)
				if err != nil {
					agree = false
					continue
				}
				es := entries(msgs)
				got[n.ID] = es
				// Agreement is on the last ID, not the length: with a
				// short retention nodes expire the oldest messages at
				// slightly different moments.
				last := func(es []Entry) string {
					if len(es) == 0 {
						return ""
					}
					return es[len(es)-1].ID
				}
				if ref == nil {
					ref = es
				} else if last(es) != last(ref) {
					agree = false
				}
			}
			if agree || time.Now().After(deadline) || ctx.Err() != nil {
				for _, n := range members {
					es, ok := got[n.ID]
					rec.Record(Op{Type: Invoke, Process: proc, F: FRead, Node: n.ID, Channel: ch})
					if !ok {
						rec.Record(Op{Type: Fail, Process: proc, F: FRead, Node: n.ID, Channel: ch, Error: "read failed"})
						continue
					}
					rec.Record(Op{Type: OK, Process: proc, F: FRead, Node: n.ID, Channel: ch, Messages: es})
					if len(es) > 0 && es[len(es)-1].ID > heads[ch] {
						heads[ch] = es[len(es)-1].ID
					}
				}
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	return heads, nil
}
