package compaction

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/pushflo/pushflo/log"
)

// Rule gives channels whose name matches Pattern (path.Match syntax, e.g.
// "chat:*") a retention.
type Rule struct {
	Pattern   string
	Retention time.Duration
}

// Policy decides each channel's retention: the channel's own setting (from
// the channels API) if any, else the first matching rule, else Default.
type Policy struct {
	Default time.Duration
	Rules   []Rule
}

// ParseRules parses "chat:*=72h,game:*=10m".
func ParseRules(s string) ([]Rule, error) {
	var out []Rule
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		pat, dur, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("rule %q is not pattern=duration", part)
		}
		if _, err := path.Match(pat, ""); err != nil {
			return nil, fmt.Errorf("rule %q: bad pattern: %w", part, err)
		}
		d, err := time.ParseDuration(dur)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("rule %q: duration %q must be positive, like 72h or 10m", part, dur)
		}
		out = append(out, Rule{Pattern: pat, Retention: d})
	}
	return out, nil
}

// Retention returns how long the channel keeps messages.
func (p *Policy) Retention(c *log.Channel) time.Duration {
	if c.Retention > 0 {
		return c.Retention
	}
	for _, r := range p.Rules {
		if ok, _ := path.Match(r.Pattern, c.Slug); ok {
			return r.Retention
		}
	}
	return p.Default
}

// Longest returns the longest retention any channel may have now.
func (p *Policy) Longest(channels []log.Channel) time.Duration {
	max := p.Default
	for _, r := range p.Rules {
		if r.Retention > max {
			max = r.Retention
		}
	}
	for i := range channels {
		if channels[i].Retention > max {
			max = channels[i].Retention
		}
	}
	return max
}
