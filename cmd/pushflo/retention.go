package main

import (
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/pushflo/pushflo/compaction"
	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/raftnode"
)

// parseRetentionRules builds the retention policy the stream and the
// compactor share.
func parseRetentionRules(rules string, def time.Duration) (*compaction.Policy, error) {
	rs, err := compaction.ParseRules(rules)
	if err != nil {
		return nil, err
	}
	return &compaction.Policy{Default: def, Rules: rs}, nil
}

// startCompaction runs the expiry loop; the returned stop is idempotent.
func startCompaction(node *raftnode.Node, store *log.Store, p *compaction.Policy, reg prometheus.Registerer, logger *slog.Logger) func() {
	c := compaction.Start(compaction.Config{Node: node, Store: store, Policy: p, Registerer: reg, Logger: logger})
	var once sync.Once
	return func() { once.Do(c.Close) }
}
