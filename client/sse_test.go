package client

import (
	"testing"

	"github.com/pushflo/pushflo/client/sse"
)

func TestDecodeSSEMessage(t *testing.T) {
	m, err := decodeSSEMessage(sse.Event{ID: "00042", Type: "order", Data: `{"channel":"c","content":{"v":1},"timestamp":5}`})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "00042" || m.EventType != "order" || m.Channel != "c" || string(m.Content) != `{"v":1}` || m.Timestamp != 5 {
		t.Fatalf("message = %+v", m)
	}
	if _, err := decodeSSEMessage(sse.Event{Data: `{"channel":"c"}`}); err == nil {
		t.Fatal("message without any id accepted")
	}
	if _, err := decodeSSEMessage(sse.Event{ID: "1", Data: `not json`}); err == nil {
		t.Fatal("non-JSON data accepted")
	}
}
