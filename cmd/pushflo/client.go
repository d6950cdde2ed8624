package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// clientFlags are shared by the client commands.
type clientFlags struct {
	server string
	key    string
}

func (c *clientFlags) register(fs interface {
	StringVar(*string, string, string, string)
}, keyHelp string) {
	fs.StringVar(&c.server, "server", "http://127.0.0.1:8080", "base URL of a pushflo node")
	fs.StringVar(&c.key, "key", "", keyHelp)
}

// resolveKey falls back to the keys kept in ./data/secrets.json, so the
// client commands work next to `make run` without flags.
func (c *clientFlags) resolveKey(pick func(secrets) string) error {
	if c.key != "" {
		return nil
	}
	if s, err := os.ReadFile("data/secrets.json"); err == nil {
		var sec secrets
		if json.Unmarshal(s, &sec) == nil {
			c.key = pick(sec)
		}
	}
	if c.key == "" {
		return usageError{"no key: pass --key or set PUSHFLO_KEY"}
	}
	return nil
}

func (c *clientFlags) do(method, path string, body []byte, hdr map[string]string) ([]byte, int, error) {
	req, err := http.NewRequest(method, strings.TrimSuffix(c.server, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, resp.StatusCode, err
}

func apiErr(b []byte, status int) error {
	var e struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	if json.Unmarshal(b, &e) == nil && e.Code != "" {
		return fmt.Errorf("%d %s: %s", status, e.Code, e.Error)
	}
	return fmt.Errorf("HTTP %d: %s", status, b)
}

func runPublish(args []string) error {
	fs := newFlagSet("publish")
	var c clientFlags
	c.register(fs, "secret key sec_… (default: ./data/secrets.json)")
	event := fs.String("event", "message", "event type")
	clientID := fs.String("client-id", "", "client ID to attach")
	idem := fs.String("idempotency-key", "", "makes retries return the first result")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageError{`usage: pushflo publish CHANNEL '{"json":"object"}' [--event TYPE]`}
	}
	if err := c.resolveKey(func(s secrets) string { return s.Keys.Secret }); err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{"content": json.RawMessage(fs.Arg(1)), "eventType": *event, "clientId": *clientID})
	hdr := map[string]string{}
	if *idem != "" {
		hdr["Idempotency-Key"] = *idem
	}
	b, status, err := c.do("POST", "/api/v1/channels/"+url.PathEscape(fs.Arg(0))+"/messages", body, hdr)
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return apiErr(b, status)
	}
	fmt.Println(string(b))
	return nil
}

func runHistory(args []string) error {
	fs := newFlagSet("history")
	var c clientFlags
	c.register(fs, "secret key sec_… (default: ./data/secrets.json)")
	page := fs.Int("page", 1, "page, 1-based, newest first")
	size := fs.Int("page-size", 25, "messages per page, at most 100")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"usage: pushflo history CHANNEL [--page N] [--page-size N]"}
	}
	if err := c.resolveKey(func(s secrets) string { return s.Keys.Secret }); err != nil {
		return err
	}
	b, status, err := c.do("GET", fmt.Sprintf("/api/v1/channels/%s/messages?page=%d&pageSize=%d", url.PathEscape(fs.Arg(0)), *page, *size), nil, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return apiErr(b, status)
	}
	var out bytes.Buffer
	json.Indent(&out, b, "", "  ")
	fmt.Println(out.String())
	return nil
}

// runSubscribe prints a channel's messages as they arrive, one JSON line
// each, over SSE; it reconnects and resumes from the last ID by itself.
func runSubscribe(args []string) error {
	fs := newFlagSet("subscribe")
	var c clientFlags
	c.register(fs, "publish key pub_… or token (default: ./data/secrets.json)")
	from := fs.String("from", "", "resume after this message ID (replays what followed it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return usageError{"usage: pushflo subscribe CHANNEL [CHANNEL…] [--from ID]"}
	}
	if err := c.resolveKey(func(s secrets) string { return s.Keys.Publish }); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	last := *from
	backoff := 500 * time.Millisecond
	for ctx.Err() == nil {
		q := url.Values{"token": {c.key}}
		for _, ch := range fs.Args() {
			q.Add("channel", ch)
		}
		if last != "" {
			q.Set("lastEventId", last)
		}
		err := streamSSE(ctx, strings.TrimSuffix(c.server, "/")+"/sse?"+q.Encode(), func(id, event, data string) {
			if event == "gap" {
				fmt.Fprintln(os.Stderr, "gap (messages expired before they could be replayed):", data)
				return
			}
			if id != "" {
				last = id
			}
			fmt.Println(data)
		})
		if ctx.Err() != nil {
			return nil
		}
		var fatal fatalError
		if errors.As(err, &fatal) {
			return err
		}
		fmt.Fprintf(os.Stderr, "disconnected (%v); reconnecting in %s from %q\n", err, backoff, last)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
	return nil
}

type fatalError struct{ error }

// streamSSE reads one SSE stream until it ends, calling on for each event.
func streamSSE(ctx context.Context, u string, on func(id, event, data string)) error {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return fatalError{err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode < 500 {
			return fatalError{apiErr(b, resp.StatusCode)}
		}
		return apiErr(b, resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var id, event string
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(data) > 0 {
				on(id, event, strings.Join(data, "\n"))
			}
			id, event, data = "", "", nil
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(line[6:])
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(line[5:], " "))
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.EOF
}
