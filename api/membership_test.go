package api

import (
	"strings"
	"testing"
	"time"
)

// TestServer_BadJoinLeavesNodeServing is issue 11 item 4 through the
// real handler on a real one-node cluster: POST /api/v1/cluster/members
// {"nodeId":"evil","raftAddr":"127.0.0.1:1"} with the mgmt key. On the old
// main it answered 200 and the node never led again: publishes got 503 and
// the removal "no leader". Now evil joins as a learner, publishes keep
// getting 201, cluster status shows evil a learner, and DELETE removes it.
// Removing the only voter is refused with 409 NO_QUORUM; a malformed join
// is refused without echoing it.
func TestServer_BadJoinLeavesNodeServing(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.do("POST", "/api/v1/cluster/members", testKeys.Mgmt, `{"nodeId":"evil","raftAddr":"127.0.0.1:1"}`)
	if r.status != 200 || r.json(t)["data"].(map[string]any)["role"] != "learner" {
		t.Fatalf("join evil: %d %s; want 200 with role learner", r.status, r.body)
	}
	for deadline := time.Now().Add(4 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ts.publish("after-join", `{"ok":true}`)
	}
	st := ts.do("GET", "/api/v1/cluster", testKeys.Mgmt, nil)
	if st.status != 200 || !strings.Contains(string(st.body), `"id":"evil"`) || !strings.Contains(string(st.body), `"role":"learner"`) || !strings.Contains(string(st.body), `"role":"voter"`) {
		t.Fatalf("cluster status: %d %s; want evil a learner and n1 a voter", st.status, st.body)
	}
	if r := ts.do("DELETE", "/api/v1/cluster/members/evil", testKeys.Mgmt, nil); r.status != 204 {
		t.Fatalf("remove evil: %d %s", r.status, r.body)
	}
	ts.publish("after-join", `{"ok":"removed"}`)
	r = ts.do("DELETE", "/api/v1/cluster/members/n1", testKeys.Mgmt, nil)
	if r.status != 409 || r.json(t)["code"] != CodeNoQuorum {
		t.Fatalf("removing the only voter: %d %s; want 409 %s", r.status, r.body, CodeNoQuorum)
	}
	ts.publish("after-join", `{"ok":"still"}`)
	for _, body := range []string{
		`{"nodeId":"ev\u0001il","raftAddr":"127.0.0.1:1"}`,
		`{"nodeId":"` + strings.Repeat("x", 65) + `","raftAddr":"127.0.0.1:1"}`,
		`{"nodeId":"n9","raftAddr":"no-port-SECRETHOST"}`,
		`not json SECRETHOST`,
	} {
		r := ts.do("POST", "/api/v1/cluster/members", testKeys.Mgmt, body)
		if r.status != 400 || r.json(t)["code"] != CodeValidation || strings.Contains(string(r.body), "SECRETHOST") || strings.Contains(string(r.body), "xxxx") {
			t.Fatalf("join %q: %d %s; want 400 %s that does not echo the request", body, r.status, r.body, CodeValidation)
		}
	}
}
