package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/pushflo/pushflo/log"
	"github.com/pushflo/pushflo/stream"
)

func renderAs(f *stream.Format, m *log.Message) []byte {
	return (&stream.Delivery{Message: *m}).Render(f)
}

// TestPublish_InvalidUTF8Refused: JSON text must be UTF-8 (RFC 8259). A
// publish whose content holds invalid UTF-8 inside a string is refused, so
// it can never reach a browser, which closes a WebSocket on invalid UTF-8
// in a text frame (issue 11 item 9).
func TestPublish_InvalidUTF8Refused(t *testing.T) {
	ts := startServer(t, nil)
	for _, body := range [][]byte{
		[]byte("{\"content\":{\"a\":\"\xff\xfe\"}}"),
		[]byte("{\"content\":{\"\xc3\x28\":1}}"),
		[]byte("{\"content\":{\"a\":1},\"eventType\":\"e\xed\xa0\x80\"}"),
	} {
		r := ts.do("POST", "/api/v1/channels/poison/messages", testKeys.Secret, body)
		if r.status != 400 || !bytes.Contains(r.body, []byte("VALIDATION_ERROR")) {
			t.Errorf("publish %q = %d %s, want 400 VALIDATION_ERROR", body, r.status, r.body)
		}
		if !utf8.Valid(r.body) {
			t.Errorf("error reply is not UTF-8: %q", r.body)
		}
	}
	// The server keeps serving: a valid publish still goes through.
	ts.publish("poison", `{"a":"é"}`)
}

// TestRender_StoredInvalidUTF8Sanitized: a message already stored with
// invalid UTF-8 (written before the check existed) renders as valid UTF-8
// JSON in every format, so it cannot poison a stream.
func TestRender_StoredInvalidUTF8Sanitized(t *testing.T) {
	m := &log.Message{Channel: "c", EventType: "e", Content: []byte("{\"a\":\"\xff\xfe\"}"), Time: 1}
	ws := renderAs(wsFormat, m)
	payload := ws[2:]
	if ws[1] == 126 {
		payload = ws[4:]
	}
	lean := renderAs(wsLeanFormat, m)[2:]
	for name, b := range map[string][]byte{"ws": payload, "ws lean": lean, "sse": renderAs(sseFormat, m)} {
		if !utf8.Valid(b) {
			t.Errorf("%s rendering is not UTF-8: %q", name, b)
		}
	}
	h, _ := json.Marshal(toJSON(m))
	if !utf8.Valid(h) || !json.Valid(h) {
		t.Errorf("history rendering is not valid UTF-8 JSON: %q", h)
	}
}

// FuzzPublish_FramesAreUTF8: whatever body a publish carries, if the server
// accepts it, every frame it renders from it is valid UTF-8 JSON that a
// strict WebSocket client accepts.
func FuzzPublish_FramesAreUTF8(f *testing.F) {
	f.Add([]byte(`{"content":{"a":"b"},"eventType":"x"}`))
	f.Add([]byte("{\"content\":{\"a\":\"\xff\xfe\"}}"))
	f.Add([]byte(`{"content":{"a":"\ud800"}}`))
	f.Add([]byte(`{"content":{"k":[1,2,{"z":null}]},"clientId":"c"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, bad := parsePublish("fuzz", body, "")
		if bad != nil {
			if !utf8.ValidString(bad.Message) {
				t.Fatalf("error message is not UTF-8: %q", bad.Message)
			}
			return
		}
		m := &log.Message{Channel: e.Channel, EventType: e.EventType, ClientID: e.ClientID, Content: e.Content, Time: 1}
		for _, format := range []*stream.Format{wsFormat, wsLeanFormat} {
			frame := renderAs(format, m)
			var payload []byte
			switch frame[1] {
			case 126:
				payload = frame[4:]
			case 127:
				payload = frame[10:]
			default:
				payload = frame[2:]
			}
			if !utf8.Valid(payload) || !json.Valid(payload) {
				t.Fatalf("accepted publish %q renders a WebSocket frame that is not UTF-8 JSON: %q", body, payload)
			}
		}
		if s := renderAs(sseFormat, m); !utf8.Valid(s) {
			t.Fatalf("accepted publish %q renders an SSE event that is not UTF-8: %q", body, s)
		}
	})
}
