//go:build integration

package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client"
	"github.com/pushflo/pushflo/log"
)

// TestCluster_ResumeAheadOfHead is issue 11 item 10's cursor case, end to
// end on three real processes: a lastMessageId in this server's format but
// ahead of everything the cluster has written (a wiped cluster, another
// deployment) is answered on every node, leader and followers, with
// recovered:false, and the subscription then delivers the live messages
// (whose IDs are all below the one sent) instead of waiting silently for
// the log to pass it.
func TestCluster_ResumeAheadOfHead(t *testing.T) {
	nodes := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var addrs []string
	for _, p := range nodes {
		addrs = append(addrs, "http://"+p.httpAddr)
	}
	pubCl, err := client.New(client.Config{Addrs: addrs, SecretKey: secKey, PublishKey: pubKey, RequestTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	head, err := pubCl.Publish(ctx, "ahead", map[string]int{"n": 0})
	if err != nil {
		t.Fatal(err)
	}
	pos, err := log.ParseID(head.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A thousand Raft entries past the head: no node has issued it.
	ahead := log.FormatID(log.Position(log.IndexOf(pos)+1000, 0))
	for _, p := range nodes {
		for _, tr := range []client.Transport{client.WebSocket, client.SSE} {
			name := fmt.Sprintf("%s/%s", p.id, tr)
			// Subscribe through this node only, so the answer is its own.
			cl, err := client.New(client.Config{Addrs: []string{"http://" + p.httpAddr}, PublishKey: pubKey, RequestTimeout: 20 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			sub := subscribeUnrecovered(t, ctx, cl, p.id, "ahead", ahead, tr)
			var want []string
			for i := 0; i < 3; i++ {
				res, err := pubCl.Publish(ctx, "ahead", map[string]string{"node": p.id, "tr": fmt.Sprint(tr)})
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, res.ID)
			}
			for _, id := range want {
				ev, err := sub.Next(ctx)
				if err != nil {
					t.Fatalf("%s: waiting for live message %s: %v (a cursor ahead of the head delivers nothing)", name, id, err)
				}
				if ev.Kind != client.EventMessage || ev.Message.ID != id {
					t.Fatalf("%s: got %+v, want live message %s", name, ev, id)
				}
			}
			sub.Close()
		}
	}
}

// subscribeUnrecovered subscribes cl to ch after the message ID from,
// which no node can resume from, and checks that the first event is the
// connect report and, over WebSocket, says recovered:false. cl talks to
// node only, which labels failures.
func subscribeUnrecovered(t *testing.T, ctx context.Context, cl *client.Client, node, ch, from string, tr client.Transport) *client.Subscription {
	t.Helper()
	name := fmt.Sprintf("%s/%s from %q", node, tr, from)
	sub, err := cl.Subscribe(ctx, ch, client.SubscribeOptions{FromID: from, Transport: tr, ReportConnects: true})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := sub.Next(ctx)
	if err != nil || ev.Kind != client.EventConnected {
		sub.Close()
		t.Fatalf("%s: first event %+v, %v; want connected", name, ev, err)
	}
	if tr == client.WebSocket && (ev.Recovered == nil || *ev.Recovered) {
		got := "absent"
		if ev.Recovered != nil {
			got = fmt.Sprint(*ev.Recovered)
		}
		t.Errorf("%s: recovered = %s, want false", name, got)
	}
	return sub
}
