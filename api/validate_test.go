package api

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidChannel(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"orders:user-123", true},
		{"chat:room-42", true},
		{"a", true},
		{"user@example.com", true},
		{"k=v,x.y_z", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"has space", false},
		{"slash/y", false},
		{"ünïcode", false},
		{"nul\x00", false},
		{".", false}, // a path segment that URLs collapse: could be created, never used
		{"..", false},
		{"...", true},
		{"a.", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := validChannel(tc.name); (err == nil) != tc.ok {
				t.Fatalf("validChannel(%q) = %v, want ok=%v", tc.name, err, tc.ok)
			}
		})
	}
}

func TestParsePublish_ReportsAllProblems(t *testing.T) {
	_, err := parsePublish("bad name", []byte(`{"content":[1],"eventType":""}`), strings.Repeat("k", 200))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"channel name", "content must be a JSON object", "eventType", "Idempotency-Key"} {
		if !strings.Contains(err.Message, want) {
			t.Errorf("error %q does not mention %q", err.Message, want)
		}
	}
}

// FuzzParsePublish: whatever the body, parsing never panics, and what it
// accepts is a compact JSON object within the size limit with a valid
// event type.
func FuzzParsePublish(f *testing.F) {
	f.Add(`{"content":{"a":1},"eventType":"x"}`)
	f.Add(`{"content":{"a":[1,2,{"b":null}]},"clientId":"c"}`)
	f.Add(`{"content":"s"}`)
	f.Add(`{"content":{}  ,"eventType":"\u0000"}`)
	f.Add(`not json`)
	f.Fuzz(func(t *testing.T, body string) {
		e, err := parsePublish("c", []byte(body), "")
		if err != nil {
			if err.Code != CodeValidation && err.Code != CodePayloadTooLarge {
				t.Fatalf("code %s", err.Code)
			}
			return
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(e.Content, &obj) != nil || len(e.Content) > MaxMessageBytes {
			t.Fatalf("accepted content %q", e.Content)
		}
		if validEventType(e.EventType) != nil {
			t.Fatalf("accepted eventType %q", e.EventType)
		}
	})
}
