package api

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/fasthttp/websocket"
)

// TestWS_LeanFrames: a client that connects with ?frames=lean gets message
// frames with the protocol's flat fields only, the same values as the full
// shape's flat fields; without the option (or with frames=full) a frame
// also carries the nested message the hosted SDK ≤ 1.0.4 reads, replayed
// and live alike. An unknown value is refused before the upgrade.
func TestWS_LeanFrames(t *testing.T) {
	ts := startServer(t, nil)
	first := ts.publish("lean", `{"n":1,"s":"é"}`)
	frames := map[string]map[string]any{}
	for _, opt := range []string{"", "&frames=full", "&frames=lean"} {
		c := ts.dialWSWith(websocket.DefaultDialer, testKeys.Publish+opt)
		c.expect("connected")
		c.subscribe("lean", "0000000000000000")
		replayed := c.expect("message")
		ts.publish("lean", `{"n":2}`)
		live := c.expect("message")
		if replayed["messageId"] != first {
			t.Errorf("%q: replayed %v, want the first message %s", opt, replayed, first)
		}
		_, nestedR := replayed["message"]
		_, nestedL := live["message"]
		if want := opt != "&frames=lean"; nestedR != want || nestedL != want {
			t.Errorf("%q: nested message in replayed %v, live %v; want %v", opt, nestedR, nestedL, want)
		}
		frames[opt] = replayed
		ts.publish("other", `{}`) // keep IDs of the next round distinct
	}
	full, lean := frames[""], frames["&frames=lean"]
	delete(full, "message")
	if !reflect.DeepEqual(full, lean) {
		t.Errorf("lean frame %v; want the full frame's flat fields %v", lean, full)
	}
	for _, k := range []string{"type", "channel", "messageId", "eventType", "clientId", "data", "timestamp"} {
		if _, ok := lean[k]; !ok {
			t.Errorf("lean frame has no %q: %v", k, lean)
		}
	}

	resp, err := http.Get(ts.url + "/ws?token=" + testKeys.Publish + "&frames=SECRETVALUE")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var env errorBody
	_ = json.Unmarshal(body, &env)
	if resp.StatusCode != 400 || env.Code != CodeValidation || strings.Contains(string(body), "SECRETVALUE") {
		t.Errorf("frames=SECRETVALUE: %d %s; want 400 VALIDATION_ERROR that does not echo the value", resp.StatusCode, body)
	}
}
