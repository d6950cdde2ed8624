package client

import (
	"encoding/json"
	"testing"
)

func TestDecodeFrame(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		check   func(t *testing.T, f frame)
	}{
		{
			name: "message",
			in:   `{"type":"message","channel":"c","messageId":"0001","eventType":"e","clientId":"k","data":{"v":1},"timestamp":12}`,
			check: func(t *testing.T, f frame) {
				m := f.message()
				want := Message{ID: "0001", Channel: "c", EventType: "e", ClientID: "k", Content: json.RawMessage(`{"v":1}`), Timestamp: 12}
				if m.ID != want.ID || m.Channel != want.Channel || m.EventType != want.EventType || m.ClientID != want.ClientID || string(m.Content) != string(want.Content) || m.Timestamp != want.Timestamp {
					t.Errorf("message = %+v, want %+v", m, want)
				}
			},
		},
		{
			name: "subscribed recovered",
			in:   `{"type":"subscribed","channel":"c","recovered":false}`,
			check: func(t *testing.T, f frame) {
				if f.Recovered == nil || *f.Recovered {
					t.Errorf("recovered = %v, want false", f.Recovered)
				}
			},
		},
		{
			name: "subscribed without recovered",
			in:   `{"type":"subscribed","channel":"c"}`,
			check: func(t *testing.T, f frame) {
				if f.Recovered != nil {
					t.Errorf("recovered = %v, want nil", *f.Recovered)
				}
			},
		},
		{
			name: "gap",
			in:   `{"type":"gap","channel":"c","after":"1","before":"9","reason":"retention"}`,
			check: func(t *testing.T, f frame) {
				if g := f.gap(); g != (Gap{Channel: "c", After: "1", Before: "9", Reason: "retention"}) {
					t.Errorf("gap = %+v", g)
				}
			},
		},
		{
			name: "error",
			in:   `{"type":"error","channel":"c","code":"FORBIDDEN","error":"no"}`,
			check: func(t *testing.T, f frame) {
				if f.Code != "FORBIDDEN" || f.Error != "no" || f.Channel != "c" {
					t.Errorf("frame = %+v", f)
				}
			},
		},
		{name: "pong with extra fields", in: `{"type":"pong","timestamp":1,"extra":[1,2]}`},
		{name: "not json", in: `hello`, wantErr: true},
		{name: "no type", in: `{"channel":"c"}`, wantErr: true},
		{name: "message without id", in: `{"type":"message","channel":"c"}`, wantErr: true},
		{name: "wrong field type", in: `{"type":"message","messageId":5}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := decodeFrame([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}
}

func TestSubscribeFrame_OmitsEmptyLastMessageID(t *testing.T) {
	b, _ := json.Marshal(subscribeFrame{Type: "subscribe", Channel: "c"})
	if string(b) != `{"type":"subscribe","channel":"c"}` {
		t.Fatalf("frame = %s", b)
	}
	b, _ = json.Marshal(subscribeFrame{Type: "subscribe", Channel: "c", LastMessageID: "7"})
	if string(b) != `{"type":"subscribe","channel":"c","lastMessageId":"7"}` {
		t.Fatalf("frame = %s", b)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte(`{"type":"message","channel":"c","messageId":"1","data":{}}`))
	f.Add([]byte(`{"type":"gap"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeFrame(b)
		if err == nil && fr.Type == "" {
			t.Fatal("accepted a frame without type")
		}
		if err == nil && fr.Type == "message" && fr.message().ID == "" {
			t.Fatal("accepted a message without ID")
		}
	})
}

func TestNew_Validate(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("empty Addrs accepted")
	}
	if _, err := New(Config{Addrs: []string{"127.0.0.1:8080"}}); err == nil {
		t.Fatal("address without scheme accepted")
	}
	c, err := New(Config{Addrs: []string{"http://127.0.0.1:8080/"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Addrs(); len(got) != 1 || got[0] != "http://127.0.0.1:8080" {
		t.Fatalf("Addrs = %v", got)
	}
}
