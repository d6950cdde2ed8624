package frontend

import (
	"time"

	"github.com/pushflo/pushflo/internal/clock"
	"github.com/pushflo/pushflo/log"
)

// retentionOf returns how long a channel keeps messages.
func (s *Server) retentionOf(channel string) time.Duration {
	c, ok := s.store.Channel(channel)
	if !ok {
		c = log.Channel{Slug: channel}
	}
	if s.cfg.Policy != nil {
		return s.cfg.Policy(&c)
	}
	if c.Retention > 0 {
		return c.Retention
	}
	return s.cfg.Retention
}

// retainedFrom returns the oldest message time (Unix ms) still served: older
// messages have expired even if compaction has not dropped them yet.
func (s *Server) retainedFrom(channel string) int64 {
	return clock.Now().Add(-s.retentionOf(channel)).UnixMilli()
}

// catchup reads up to limit messages after a position, hiding expired
// ones: a reader that would have seen them is told it has a gap.
func (s *Server) catchup(channel string, after uint64, limit int) (log.Catchup, error) {
	from := s.retainedFrom(channel)
	cu, err := s.store.Since(channel, after, limit)
	for err == nil {
		i := 0
		for i < len(cu.Messages) && cu.Messages[i].Time < from {
			i++
		}
		if i == 0 {
			break
		}
		hidden := cu.Messages[i-1].Position
		if i < len(cu.Messages) || len(cu.Messages) < limit {
			cu.Messages = cu.Messages[i:]
			cu.Complete = false
			cu.Gap = &log.Gap{Channel: channel, After: after}
			if len(cu.Messages) > 0 {
				cu.Gap.Before = cu.Messages[0].Position
			}
			break
		}
		// A whole page expired: read on past it.
		var next log.Catchup
		next, err = s.store.Since(channel, hidden, limit)
		next.Complete = false
		cu = next
	}
	if cu.Gap != nil {
		cu.Gap.After = after
	}
	return cu, err
}
