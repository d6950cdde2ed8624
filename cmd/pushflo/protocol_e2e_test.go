//go:build integration

package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pushflo/pushflo/client"
)

// Protocol details from issue 14, checked against the real binary.

// TestE2E_SecretKeyManagesChannels: the hosted SDK creates, updates and
// deletes channels with the sec_ key; mgmt_ works there too; pub_ does not;
// cluster membership stays mgmt_-only.
func TestE2E_SecretKeyManagesChannels(t *testing.T) {
	p := startProc(t, "n1", t.TempDir())
	base := "http://" + p.httpAddr + "/api/v1"
	steps := []struct {
		name, method, path, key, body string
		want                          int
	}{
		{"sec creates", "POST", "/channels", secKey, `{"name":"Orders","slug":"orders-sec"}`, 201},
		{"sec reads", "GET", "/channels/orders-sec", secKey, "", 200},
		{"sec updates with PATCH", "PATCH", "/channels/orders-sec", secKey, `{"description":"by sec"}`, 200},
		{"sec updates with PUT", "PUT", "/channels/orders-sec", secKey, `{"description":"by sec again"}`, 200},
		{"pub may not update", "PATCH", "/channels/orders-sec", pubKey, `{"description":"by pub"}`, 403},
		{"pub may not delete", "DELETE", "/channels/orders-sec", pubKey, "", 403},
		{"sec deletes", "DELETE", "/channels/orders-sec", secKey, "", 204},
		{"pub may not create", "POST", "/channels", pubKey, `{"name":"P","slug":"orders-pub"}`, 403},
		{"mgmt creates", "POST", "/channels", mgmtKey, `{"name":"M","slug":"orders-mgmt"}`, 201},
		{"mgmt updates", "PATCH", "/channels/orders-mgmt", mgmtKey, `{"description":"by mgmt"}`, 200},
		{"mgmt deletes", "DELETE", "/channels/orders-mgmt", mgmtKey, "", 204},
		{"sec may not add members", "POST", "/cluster/members", secKey, `{"nodeId":"n9","raftAddr":"127.0.0.1:1"}`, 403},
		{"sec may not remove members", "DELETE", "/cluster/members/n9", secKey, "", 403},
	}
	for _, st := range steps {
		status, b, err := call(st.method, base+st.path, st.key, st.body, "Content-Type", "application/json")
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if status != st.want {
			t.Errorf("%s: %s %s answered %d %s, want %d", st.name, st.method, st.path, status, b, st.want)
		}
	}
	status, b, _ := call("GET", base+"/channels/orders-sec", secKey, "")
	if status != 404 {
		t.Errorf("deleted channel reads as %d %s", status, b)
	}
}

// TestE2E_PublishBadChannelInPath: a publish to the empty channel name or
// to one holding an escaped slash is a 400 VALIDATION_ERROR that names the
// problem without repeating the request's text.
func TestE2E_PublishBadChannelInPath(t *testing.T) {
	p := startProc(t, "n1", t.TempDir())
	base := "http://" + p.httpAddr + "/api/v1/channels/"
	tests := []struct {
		name, path, want string
	}{
		{"empty", "/messages", "channel name is empty"},
		{"escaped slash", "secretpart%2Fmore/messages", "'/'"},
		{"escaped slash lower case", "secretpart%2fmore/messages", "'/'"},
		{"escaped space", "secretpart%20more/messages", "' '"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range []string{"POST", "GET"} {
				status, b, err := call(method, base+tc.path, secKey, `{"content":{"a":1}}`, "Content-Type", "application/json")
				if err != nil {
					t.Fatal(err)
				}
				var e struct{ Error, Code string }
				_ = json.Unmarshal(b, &e)
				if status != 400 || e.Code != "VALIDATION_ERROR" || !strings.Contains(e.Error, tc.want) {
					t.Errorf("%s %s: %d %s, want 400 VALIDATION_ERROR saying %q", method, tc.path, status, b, tc.want)
				}
				if strings.Contains(string(b), "secretpart") {
					t.Errorf("%s %s: the answer repeats the request: %s", method, tc.path, b)
				}
			}
		})
	}
}

// TestE2E_ForeignLastMessageID: a resume point this cluster never issued
// (an ID an app kept from the hosted service, or one past anything
// written) subscribes anyway: live messages, and over WebSocket
// recovered:false.
func TestE2E_ForeignLastMessageID(t *testing.T) {
	p := startProc(t, "n1", t.TempDir())
	base := "http://" + p.httpAddr
	cl, err := client.New(client.Config{Addrs: []string{base}, SecretKey: secKey, PublishKey: pubKey, RequestTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := cl.Publish(ctx, "foreign", map[string]int{"n": 0}); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{"cm4x7k2p90000abcdxyz", "msg_01HZY3", "ffffffffffffffff"} {
		for _, tr := range []client.Transport{client.WebSocket, client.SSE} {
			sub := subscribeUnrecovered(t, ctx, cl, p.id, "foreign", from, tr)
			res, err := cl.Publish(ctx, "foreign", map[string]string{"from": from})
			if err != nil {
				t.Fatal(err)
			}
			for {
				ev, err := sub.Next(ctx)
				if err != nil {
					t.Fatalf("%s from %q: waiting for the live message: %v", tr, from, err)
				}
				if ev.Kind == client.EventMessage && ev.Message.ID == res.ID {
					break
				}
				if ev.Kind == client.EventMessage {
					t.Errorf("%s from %q: replayed %s before the live message", tr, from, ev.Message.ID)
				}
			}
			sub.Close()
		}
	}
}
