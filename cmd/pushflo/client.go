package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pushflo/pushflo/client"
)

// clientFlags are shared by the client commands, which all talk to the
// server through the Go client (package client).
type clientFlags struct {
	server string
	key    string
}

func (c *clientFlags) register(fs interface {
	StringVar(*string, string, string, string)
}, keyHelp string) {
	fs.StringVar(&c.server, "server", "http://127.0.0.1:8080", "base URL of a pushflo node; several, comma-separated, are tried in turn")
	fs.StringVar(&c.key, "key", "", keyHelp)
}

// newClientFlagSet makes the flag set of a client command with the client
// flags registered; keyHelp describes --key.
func newClientFlagSet(name, keyHelp string) (*flag.FlagSet, *clientFlags) {
	fs := newFlagSet(name)
	c := &clientFlags{}
	c.register(fs, keyHelp)
	return fs, c
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

// connect resolves the key (pick chooses it from ./data/secrets.json when
// --key is not given) and builds the client.
func (c *clientFlags) connect(pick func(secrets) string) (*client.Client, error) {
	if err := c.resolveKey(pick); err != nil {
		return nil, err
	}
	return c.newClient()
}

// start is connect for a command: it also returns the command's context,
// which ends on Ctrl-C or SIGTERM; call stop when done.
func (c *clientFlags) start(pick func(secrets) string) (cl *client.Client, ctx context.Context, stop context.CancelFunc, err error) {
	if cl, err = c.connect(pick); err != nil {
		return nil, nil, nil, err
	}
	ctx, stop = commandContext()
	return cl, ctx, stop, nil
}

// newClient builds a client for the --server list with the resolved key in
// every role; the server decides what the key may do. Its log lines
// (reconnects, retries) go to stderr.
func (c *clientFlags) newClient() (*client.Client, error) {
	var addrs []string
	for _, a := range strings.Split(c.server, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	cl, err := client.New(client.Config{
		Addrs: addrs, SecretKey: c.key, PublishKey: c.key, MgmtKey: c.key,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return nil, usageError{fmt.Sprintf("--server: %v", err)}
	}
	return cl, nil
}

// commandContext ends on Ctrl-C or SIGTERM.
func commandContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

// printJSON writes v as one line of JSON, or indented.
func printJSON(v any, indent bool) error {
	var b []byte
	var err error
	if indent {
		b, err = json.MarshalIndent(v, "", "  ")
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Println(string(b))
	return err
}

func runPublish(args []string) error {
	fs, c := newClientFlagSet("publish", "secret key sec_… (default: ./data/secrets.json)")
	event := fs.String("event", "message", "event type")
	clientID := fs.String("client-id", "", "client ID to attach")
	idem := fs.String("idempotency-key", "", "makes retries return the first result, and lets the client retry on another node when the outcome is unknown")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageError{`usage: pushflo publish CHANNEL '{"json":"object"}' [--event TYPE]`}
	}
	cl, ctx, stop, err := c.start(func(s secrets) string { return s.Keys.Secret })
	if err != nil {
		return err
	}
	defer stop()
	if !json.Valid([]byte(fs.Arg(1))) {
		return usageError{fmt.Sprintf("the message %q is not JSON; send an object such as '{\"status\":\"shipped\"}'", fs.Arg(1))}
	}
	opts := []client.PublishOption{client.WithEventType(*event)}
	if *clientID != "" {
		opts = append(opts, client.WithClientID(*clientID))
	}
	if *idem != "" {
		opts = append(opts, client.WithIdempotencyKey(*idem))
	}
	res, err := cl.Publish(ctx, fs.Arg(0), json.RawMessage(fs.Arg(1)), opts...)
	if err != nil {
		if !client.NotApplied(err) {
			return fmt.Errorf("%w\n(the message may have been published; check the history%s)", err, idemHint(*idem))
		}
		return err
	}
	return printJSON(res, false)
}

func idemHint(key string) string {
	if key == "" {
		return ", or publish with --idempotency-key so a retry is safe"
	}
	return " or retry with the same --idempotency-key"
}

func runHistory(args []string) error {
	fs, c := newClientFlagSet("history", "secret key sec_… (default: ./data/secrets.json)")
	page := fs.Int("page", 1, "page, 1-based, newest first")
	size := fs.Int("page-size", 25, "messages per page, at most 100")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"usage: pushflo history CHANNEL [--page N] [--page-size N]"}
	}
	cl, ctx, stop, err := c.start(func(s secrets) string { return s.Keys.Secret })
	if err != nil {
		return err
	}
	defer stop()
	res, err := cl.History(ctx, fs.Arg(0), client.HistoryOptions{Page: *page, PageSize: *size})
	if err != nil {
		return err
	}
	return printJSON(res, true)
}

// runSubscribe prints the channels' messages as they arrive, one JSON line
// each; the client reconnects across the --server list and resumes after
// the last message it printed.
func runSubscribe(args []string) error {
	fs, c := newClientFlagSet("subscribe", "publish key pub_… or token (default: ./data/secrets.json)")
	from := fs.String("from", "", "resume after this message ID (replays what followed it)")
	transport := fs.String("transport", "sse", "sse or ws")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return usageError{"usage: pushflo subscribe CHANNEL [CHANNEL…] [--from ID] [--transport sse|ws]"}
	}
	var tr client.Transport
	switch *transport {
	case "sse":
		tr = client.SSE
	case "ws":
		tr = client.WebSocket
	default:
		return usageError{fmt.Sprintf("--transport is %q; use sse or ws", *transport)}
	}
	cl, ctx, stop, err := c.start(func(s secrets) string { return s.Keys.Publish })
	if err != nil {
		return err
	}
	defer stop()
	var subs []*client.Subscription
	defer func() {
		for _, s := range subs {
			s.Close()
		}
	}()
	for _, ch := range fs.Args() {
		s, err := cl.Subscribe(ctx, ch, client.SubscribeOptions{FromID: *from, Transport: tr})
		if err != nil {
			return err
		}
		subs = append(subs, s)
	}
	var (
		mu    sync.Mutex // serialises output lines
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	for _, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range s.Events() {
				mu.Lock()
				switch ev.Kind {
				case client.EventMessage:
					printJSON(ev.Message, false)
				case client.EventGap:
					fmt.Fprintf(os.Stderr, "gap on %s: messages after %s and before %s expired before they could be replayed (%s)\n",
						ev.Gap.Channel, ev.Gap.After, ev.Gap.Before, ev.Gap.Reason)
				}
				mu.Unlock()
			}
			if err := s.Err(); err != nil && !errors.Is(err, context.Canceled) {
				errMu.Lock()
				if first == nil {
					first = err
				}
				errMu.Unlock()
				stop() // one refused channel ends the command
			}
		}()
	}
	wg.Wait()
	return first
}

// clusterClient builds a client for one member's URL and the management
// key (from --key or ./data/secrets.json).
func clusterClient(server, key string) (*client.Client, error) {
	c := clientFlags{server: server, key: key}
	return c.connect(func(s secrets) string { return s.Keys.Mgmt })
}

// joinCluster asks the member at url to add this node (or the node m
// names), retrying while the cluster has no leader for up to a minute.
// Both `pushflo serve --join` and `pushflo cluster join` use it.
// At a node's start (atStart), a refusal to make it a voter before it has
// caught up leaves it serving as the non-voter it is.
func joinCluster(ctx context.Context, url, mgmtKey string, m client.Member, logger *slog.Logger, atStart bool) error {
	cl, err := clusterClient(url, mgmtKey)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		err := cl.AddMember(ctx, m)
		if err == nil {
			logger.Info("joined cluster", "via", url, "node", m.ID)
			return nil
		}
		var ae *client.APIError
		if errors.As(err, &ae) && ae.Code == "NOT_CAUGHT_UP" && atStart {
			// This node is a non-voter that asked to vote before catching
			// up: it serves as a non-voter; ask again later.
			logger.Warn("joined as a non-voter: the leader refused to make this node a voter before it catches up; run pushflo cluster join again once cluster status shows it caught up", "via", url, "node", m.ID)
			return nil
		}
		if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 {
			if ae.Status == 401 || ae.Status == 403 {
				return fmt.Errorf("join via %s: %w (every node needs the same --mgmt-key)", url, err)
			}
			return fmt.Errorf("join via %s: %w", url, err)
		}
		logger.Warn("join failed; retrying", "via", url, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("join via %s: gave up after a minute: %w", url, err)
		case <-time.After(time.Second):
		}
	}
}
