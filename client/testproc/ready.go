//go:build !windows

package testproc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// WaitReady polls GET base+"/ready" until it answers 200. It fails when
// ctx ends, or at once when p (if not nil) exits, quoting its log's tail.
func WaitReady(ctx context.Context, p *Proc, base string) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	last := "no answer yet"
	for {
		if p != nil {
			if exited := p.Exited(); exited != nil {
				select {
				case <-exited:
					return fmt.Errorf("%s: %w before it was ready; its log ends:\n%s", p.Name, errExited, p.LogTail(2000))
				default:
				}
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/ready", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			name := base
			if p != nil {
				name = p.Name
			}
			return fmt.Errorf("%s not ready (last: %s): %w", name, last, ctx.Err())
		case <-t.C:
		}
	}
}

// Warmup makes a fresh cluster ready: it reports itself catching up until
// its first write is applied, so WaitAllReady publishes one message to
// Channel with SecretKey as soon as it finds a node not ready, and again
// every Every while one is not; between publishes it keeps polling the
// nodes. A zero Warmup publishes nothing.
type Warmup struct {
	Channel, SecretKey string
	// Every defaults to 3s.
	Every time.Duration
}

// Target is a server WaitAllReady waits for: its base URL and, when the
// harness runs it, its process.
type Target struct {
	URL  string
	Proc *Proc
}

// Targets returns the nodes as targets.
func Targets(nodes []*Node) []Target {
	out := make([]Target, len(nodes))
	for i, n := range nodes {
		out[i] = Target{URL: n.URL(), Proc: n.Proc}
	}
	return out
}

// WaitAllReady waits until every target answers /ready. A target whose
// process is not running is skipped; one that exits fails the wait.
func WaitAllReady(ctx context.Context, targets []Target, w Warmup) error {
	if w.Every <= 0 {
		w.Every = 3 * time.Second
	}
	running := func(t Target) bool { return t.Proc == nil || t.Proc.Running() }
	var warmed time.Time // the last warm-up publish
	for {
		var notReady []string
		for _, t := range targets {
			if !running(t) {
				continue
			}
			short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			err := WaitReady(short, t.Proc, t.URL)
			cancel()
			if err != nil {
				if !running(t) {
					return err
				}
				notReady = append(notReady, t.URL)
			}
		}
		if len(notReady) == 0 {
			return nil
		}
		if w.Channel != "" && time.Since(warmed) >= w.Every {
			warmed = time.Now()
			for _, t := range targets {
				if running(t) && Publish(ctx, t.URL, w.SecretKey, w.Channel, `{"warmup":true}`) == nil {
					break
				}
			}
		}
		// Each target not ready took up to half a second above: a short
		// pause is enough between rounds.
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w", strings.Join(notReady, ", "), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Publish publishes content (JSON) to channel through base; a status other
// than 201 is an error.
func Publish(ctx context.Context, base, secretKey, channel, content string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/channels/"+channel+"/messages",
		strings.NewReader(`{"content":`+content+`}`))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+secretKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("publish to %s: %s", base, resp.Status)
	}
	return nil
}

// Member is one entry of GET /api/v1/cluster.
type Member struct {
	ID       string `json:"id"`
	HTTPAddr string `json:"httpAddr"`
	RaftAddr string `json:"raftAddr"`
	State    string `json:"state"`
	Applied  uint64 `json:"applied"`
	Error    string `json:"error"`
}

// ClusterStatus is GET /api/v1/cluster's answer.
type ClusterStatus struct {
	Leader  string   `json:"leader"`
	Members []Member `json:"members"`
}

// Status asks base for the cluster's status with the management key; the
// server bounds its answer at 3s.
func Status(ctx context.Context, base, mgmtKey string) (ClusterStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/cluster", nil)
	if err != nil {
		return ClusterStatus{}, err
	}
	req.Header.Set("Authorization", "Bearer "+mgmtKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ClusterStatus{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return ClusterStatus{}, fmt.Errorf("GET %s/api/v1/cluster: %s: %.200s", base, resp.Status, b)
	}
	var env struct{ Data ClusterStatus }
	if err := json.Unmarshal(b, &env); err != nil {
		return ClusterStatus{}, fmt.Errorf("GET %s/api/v1/cluster: %w", base, err)
	}
	return env.Data, nil
}

// Leader asks the running, unpaused nodes in turn which node leads, until
// one names a leader that is among nodes and running, or ctx ends.
func Leader(ctx context.Context, nodes []*Node, mgmtKey string) (*Node, error) {
	var lastErr error = fmt.Errorf("no node named a leader")
	for {
		for _, n := range nodes {
			if !n.Running() || n.Paused() {
				continue
			}
			s, err := Status(ctx, n.URL(), mgmtKey)
			if err != nil {
				lastErr = err
				continue
			}
			for _, m := range nodes {
				if m.ID == s.Leader && s.Leader != "" && m.Running() {
					return m, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("find the leader: %w (last: %v)", ctx.Err(), lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
