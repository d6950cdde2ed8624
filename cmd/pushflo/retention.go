package main

import (
	"time"

	"github.com/pushflo/pushflo/compaction"
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
