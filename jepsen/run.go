package jepsen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

// RunConfig describes one Jepsen run against a started Cluster. Zero values
// mean the documented default.
type RunConfig struct {
	// Seed drives every random choice of the workload and the nemesis; the
	// report and the history header print it so a run can be repeated.
	Seed uint64
	// Duration is how long the workload runs. Default 30s.
	Duration time.Duration
	// NemesisInterval is how long a fault stays and how long the cluster
	// stays whole between faults. Default 5s.
	NemesisInterval time.Duration
	// Nemeses to choose from at each fault; none runs the workload on a
	// healthy cluster.
	Nemeses  []Nemesis
	Workload WorkloadConfig
	// HistoryPath is the history file to write (JSON lines). Required; the
	// report goes beside it with ".report.txt" appended.
	HistoryPath string
	// Settle bounds the wait for the nodes to agree before the final reads.
	// Default 60s.
	Settle time.Duration
	// CatchUp bounds how long each subscriber, after the final reads, may
	// take to receive its channel's head; one that does not is a failure
	// of the resume-no-gap check. Default 30s.
	CatchUp time.Duration
	Check   CheckOptions
}

// Run drives the workload and the nemesis against c for the configured
// time, heals everything, reads every node's final history, checks the
// recorded history and returns the report. The error is about the harness
// (a node that cannot be restarted, a history that cannot be written), not
// about the verdict.
func Run(ctx context.Context, c *Cluster, cfg RunConfig) (*Report, error) {
	if cfg.HistoryPath == "" {
		return nil, errors.New("run: HistoryPath is required")
	}
	setDefault(&cfg.Duration, 30*time.Second)
	setDefault(&cfg.NemesisInterval, 5*time.Second)
	setDefault(&cfg.Settle, 60*time.Second)
	setDefault(&cfg.CatchUp, 30*time.Second)
	cfg.Workload.defaults()
	f, err := os.Create(cfg.HistoryPath)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	defer f.Close()
	var ids, names []string
	for _, n := range c.Nodes() {
		ids = append(ids, n.ID)
	}
	for _, n := range cfg.Nemeses {
		names = append(names, n.Name())
	}
	rec := NewRecorder(f, Header{Seed: int64(cfg.Seed), Nodes: ids, Note: fmt.Sprintf("duration %s, nemesis interval %s, nemeses %v, network %s",
		cfg.Duration, cfg.NemesisInterval, names, c.NetworkDescription())})
	fail := func(format string, args ...any) error {
		return fmt.Errorf("run (seed %d, history %s): %w", cfg.Seed, cfg.HistoryPath, fmt.Errorf(format, args...))
	}

	w, err := StartWorkload(ctx, c, rec, cfg.Workload, cfg.Seed)
	if err != nil {
		return nil, fail("%w", err)
	}
	wctx, stopNemesis := context.WithTimeout(ctx, cfg.Duration)
	defer stopNemesis()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6e656d65736973))
	nemErr := func() error {
		const proc = -1
		for len(cfg.Nemeses) > 0 {
			if !sleepCtx(wctx, cfg.NemesisInterval) {
				return nil
			}
			nem := cfg.Nemeses[rng.IntN(len(cfg.Nemeses))]
			rec.Record(Op{Type: Invoke, Process: proc, F: FNemesis, Note: nem.Name()})
			desc, err := nem.Inject(ctx, c, rng)
			if err != nil {
				rec.Record(Op{Type: Fail, Process: proc, F: FNemesis, Note: desc, Error: err.Error()})
				return err
			}
			rec.Record(Op{Type: Info, Process: proc, F: FNemesis, Note: desc})
			sleepCtx(wctx, cfg.NemesisInterval)
			rec.Record(Op{Type: Invoke, Process: proc, F: FNemesis, Note: "heal " + nem.Name()})
			desc, err = nem.Heal(ctx, c)
			if err != nil {
				rec.Record(Op{Type: Fail, Process: proc, F: FNemesis, Error: err.Error()})
				return err
			}
			rec.Record(Op{Type: Info, Process: proc, F: FNemesis, Note: desc})
		}
		<-wctx.Done()
		return nil
	}()
	// Whatever happened, leave the cluster whole before reading it: the
	// network first, then paused nodes, then killed ones.
	rec.Record(Op{Type: Invoke, Process: -1, F: FNemesis, Note: "heal all"})
	if nw := c.Network(); nw != nil {
		if err := nw.Update(func(s *LinkState) { *s = LinkState{} }); err != nil && nemErr == nil {
			nemErr = err
		}
	}
	for _, nem := range healOrder(cfg.Nemeses) {
		if _, err := nem.Heal(ctx, c); err != nil && nemErr == nil {
			nemErr = err
		}
	}
	rec.Record(Op{Type: Info, Process: -1, F: FNemesis, Note: "healed"})
	w.StopPublishers()
	if nemErr != nil {
		_ = w.FinishSubscribers(nil, 0)
		return nil, fail("nemesis: %w", nemErr)
	}
	if err := c.WaitReady(ctx); err != nil {
		_ = w.FinishSubscribers(nil, 0)
		return nil, fail("%w", err)
	}
	heads, err := FinalReads(ctx, c, rec, cfg.Workload.Client, cfg.Workload.Channels, cfg.Settle)
	if err != nil {
		_ = w.FinishSubscribers(nil, 0)
		return nil, fail("%w", err)
	}
	workErr := w.FinishSubscribers(heads, cfg.CatchUp)
	if err := rec.Err(); err != nil {
		return nil, fail("%w", err)
	}
	report := Check(rec.History(), cfg.Check)
	if err := os.WriteFile(cfg.HistoryPath+".report.txt", []byte(fmt.Sprintf("seed %d\nhistory %s\nnetwork %s\n%s", cfg.Seed, cfg.HistoryPath, c.NetworkDescription(), report)), 0o644); err != nil {
		return report, fmt.Errorf("run: write report: %w", err)
	}
	if workErr != nil {
		return report, fail("workload: %w", workErr)
	}
	return report, nil
}

// setDefault sets *v to def when *v is zero or less (a string: empty).
func setDefault[T cmp.Ordered](v *T, def T) {
	var zero T
	if *v <= zero {
		*v = def
	}
}

// sleepCtx sleeps d or until ctx ends; it reports whether it slept fully.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
