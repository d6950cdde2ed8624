package client

import (
	"context"
	"net/url"
	"strconv"
)

// HistoryOptions selects a page of history. Zero values are left to the
// server's defaults (page 1, 25 per page).
type HistoryOptions struct {
	// Page is 1-based.
	Page int
	// PageSize is at most 100.
	PageSize int
	// EventType keeps only messages of that type.
	EventType string
	// After and Before are exclusive bounds in Unix milliseconds; zero means
	// unbounded.
	After  int64
	Before int64
}

// HistoryPage is one page of history, newest message first.
type HistoryPage struct {
	Items      []Message  `json:"items"`
	Pagination Pagination `json:"pagination"`
}

// History lists a channel's messages newest first. Reads are retried on the
// next node after any failure but a 4xx answer.
func (c *Client) History(ctx context.Context, channel string, opts HistoryOptions) (HistoryPage, error) {
	if err := ValidateChannel(channel); err != nil {
		return HistoryPage{}, &RequestError{Op: "history", NotApplied: true, Err: err}
	}
	q := url.Values{}
	if opts.Page > 0 {
		q.Set("page", strconv.Itoa(opts.Page))
	}
	if opts.PageSize > 0 {
		q.Set("pageSize", strconv.Itoa(opts.PageSize))
	}
	if opts.EventType != "" {
		q.Set("eventType", opts.EventType)
	}
	if opts.After != 0 {
		q.Set("after", strconv.FormatInt(opts.After, 10))
	}
	if opts.Before != 0 {
		q.Set("before", strconv.FormatInt(opts.Before, 10))
	}
	c.staleQuery(q)
	page, env, err := get[HistoryPage](ctx, c, "history", channelPath(channel), q, c.cfg.SecretKey)
	if err != nil {
		return HistoryPage{}, err
	}
	if page.Pagination == (Pagination{}) && env.Pagination != nil {
		page.Pagination = *env.Pagination
	}
	return page, nil
}

// SinceResult is the answer to a catch-up read.
type SinceResult struct {
	// Items are the messages after the given ID, oldest first.
	Items []Message `json:"items"`
	// Complete is false when history after the ID was partly compacted;
	// Gap then says what is missing.
	Complete bool `json:"complete"`
	Gap      *Gap `json:"gap,omitempty"`
	// HasMore is true when messages after the last item were left out
	// (limit reached): read again from its ID.
	HasMore bool `json:"hasMore"`
}

// Since reads up to limit messages of channel after the message ID afterID
// (all from the oldest retained one when afterID is empty), oldest first.
// limit zero leaves the count to the server.
func (c *Client) Since(ctx context.Context, channel, afterID string, limit int) (SinceResult, error) {
	if err := ValidateChannel(channel); err != nil {
		return SinceResult{}, &RequestError{Op: "since", NotApplied: true, Err: err}
	}
	q := url.Values{}
	q.Set("since", afterID)
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	c.staleQuery(q)
	res, _, err := get[SinceResult](ctx, c, "since", channelPath(channel), q, c.cfg.SecretKey)
	return res, err
}

// staleQuery adds stale=true to a read's query under Config.StaleReads.
func (c *Client) staleQuery(q url.Values) {
	if c.cfg.StaleReads {
		q.Set("stale", "true")
	}
}

// ReadAll reads every retained message of channel after afterID, oldest
// first, by repeated Since calls of pageSize messages until one comes back
// empty. Messages published meanwhile may or may not be included.
func (c *Client) ReadAll(ctx context.Context, channel, afterID string, pageSize int) ([]Message, error) {
	if pageSize <= 0 {
		pageSize = 100
	}
	var out []Message
	for {
		res, err := c.Since(ctx, channel, afterID, pageSize)
		if err != nil {
			return out, err
		}
		if len(res.Items) == 0 {
			return out, nil
		}
		out = append(out, res.Items...)
		afterID = res.Items[len(res.Items)-1].ID
	}
}
