package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Backup asks the nodes in turn, with MgmtKey, for a consistent backup of
// the cluster (GET /api/v1/cluster/backup) and hands the body of the first
// 200 answer to read, which consumes the stream (pushflo backup verifies
// it as it writes it to a file). When a node cannot be reached, answers
// anything but 200, or read fails on its stream, the next node is asked
// and read is called again with that node's stream; when every node
// failed, the error names each node's failure. RequestTimeout bounds the
// wait for an answer's headers; the stream is bounded by ctx alone.
func (c *Client) Backup(ctx context.Context, read func(io.Reader) error) error {
	var errs []error
	var addr string
	n := 0
	for _, base := range c.addrs {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		addr = base.String()
		n++
		err := c.download(ctx, base, "/api/v1/cluster/backup", bearer(c.cfg.MgmtKey), read)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
	}
	return &RequestError{Op: "backup", Addr: addr, Attempts: n, NotApplied: true, Err: errors.Join(errs...)}
}

// download GETs path from base and hands a 200 answer's body to read; any
// other answer is an *APIError.
func (c *Client) download(ctx context.Context, base *url.URL, path string, header http.Header, read func(io.Reader) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.String()+path, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header = header
	headers := time.AfterFunc(c.cfg.RequestTimeout, cancel)
	resp, err := c.http.Do(req)
	if !headers.Stop() {
		if err == nil {
			resp.Body.Close()
		}
		return fmt.Errorf("no answer within %s", c.cfg.RequestTimeout)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return answerError(resp, raw)
	}
	return read(resp.Body)
}
