package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/raftnode"
)

// fakeNode is a Raft node whose writes fail with a chosen error: the
// process boundary (a leader lost mid-write) cannot be staged on demand
// with a real one. Reads and readiness behave as a healthy leader's.
type fakeNode struct{ err error }

func (f *fakeNode) Publish(context.Context, log.Entry) (log.Result, error) {
	return log.Result{}, f.err
}
func (f *fakeNode) ChannelCommand(context.Context, raftnode.ChannelOp, string, log.Settings) (log.Channel, error) {
	return log.Channel{}, f.err
}
func (f *fakeNode) ReadBarrier(context.Context, raftnode.ReadLevel) error { return nil }
func (f *fakeNode) Ready(context.Context) error                           { return f.err }
func (f *fakeNode) Status(context.Context) ([]raftnode.NodeStatus, error) { return nil, nil }
func (f *fakeNode) AddMember(context.Context, string, string, bool) (string, error) {
	return "", f.err
}
func (f *fakeNode) RemoveMember(context.Context, string) error { return f.err }
func (f *fakeNode) IsLeader() bool                             { return true }
func (f *fakeNode) Leader() (string, string)                   { return "n1", "" }

// TestServer_WriteOutcomes is the error-to-wire table for failed writes,
// through the real HTTP handler: "not applied" and "maybe applied" get
// distinct codes, both 503 with Retry-After, and no reply carries the
// error's own text. (On the old main both were 503 UNAVAILABLE, and a
// failed membership change answered the raw error.)
func TestServer_WriteOutcomes(t *testing.T) {
	const secret = "internal detail 10.0.0.9:7000"
	cases := []struct {
		name   string
		err    error
		status int
		code   string
		retry  string
	}{
		{"no leader: not applied", fmt.Errorf("publish: %w", raftnode.ErrNoLeader), 503, CodeUnavailable, "1"},
		{"leader lost: maybe applied", fmt.Errorf("forward: %w", raftnode.ErrUnknownOutcome), 503, CodeOutcomeUnknown, "1"},
		{"node closed", raftnode.ErrClosed, 503, CodeUnavailable, "1"},
		{"unexpected", errors.New(secret), 500, CodeServerError, ""},
	}
	store, err := log.Open(log.Config{Dir: t.TempDir() + "/store", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	node := &fakeNode{}
	ts := serveAPI(t, node, store, nil)
	writes := []struct {
		method, path, key, body string
	}{
		{"POST", "/api/v1/channels/c/messages", testKeys.Secret, `{"content":{"a":1}}`},
		{"POST", "/api/v1/channels", testKeys.Mgmt, `{"name":"c2"}`},
		{"PATCH", "/api/v1/channels/c", testKeys.Mgmt, `{"isPrivate":true}`},
		{"DELETE", "/api/v1/channels/c", testKeys.Mgmt, ""},
	}
	for _, tc := range cases {
		node.err = tc.err
		for _, w := range writes {
			t.Run(tc.name+"/"+w.method+" "+w.path, func(t *testing.T) {
				r := ts.do(w.method, w.path, w.key, w.body)
				if r.status != tc.status || r.json(t)["code"] != tc.code || r.header.Get("Retry-After") != tc.retry {
					t.Fatalf("%d %s Retry-After %q, want %d %s Retry-After %q", r.status, r.body, r.header.Get("Retry-After"), tc.status, tc.code, tc.retry)
				}
				if strings.Contains(string(r.body), secret) {
					t.Fatalf("reply carries the error's text: %s", r.body)
				}
			})
		}
	}
	// Membership changes and readiness never answer the error's text
	// either; a change that failed for an unknown reason may have been
	// applied.
	node.err = errors.New(secret)
	for _, r := range []response{
		ts.do("POST", "/api/v1/cluster/members", testKeys.Mgmt, `{"nodeId":"n4","raftAddr":"127.0.0.1:1"}`),
		ts.do("DELETE", "/api/v1/cluster/members/n4", testKeys.Mgmt, nil),
	} {
		if r.status != 503 || r.json(t)["code"] != CodeOutcomeUnknown || strings.Contains(string(r.body), secret) {
			t.Fatalf("failed membership change: %d %s", r.status, r.body)
		}
	}
	node.err = fmt.Errorf("catching up: %s", secret)
	if r := ts.do("GET", "/ready", "", nil); r.status != 503 || strings.Contains(string(r.body), secret) {
		t.Fatalf("ready: %d %s", r.status, r.body)
	}
	node.err = raftnode.ErrNotLeaderForAdmin
	if r := ts.do("DELETE", "/api/v1/cluster/members/n4", testKeys.Mgmt, nil); r.status != 503 || r.json(t)["code"] != CodeUnavailable {
		t.Fatalf("membership change on a follower: %d %s", r.status, r.body)
	}
}
