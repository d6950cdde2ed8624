package client

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestSSEParser_Next(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []sseEvent
		wantErr error
	}{
		{
			name: "one event",
			in:   "id: 1\nevent: message\ndata: {\"a\":1}\n\n",
			want: []sseEvent{{ID: "1", Event: "message", Data: `{"a":1}`}},
		},
		{
			name: "crlf and cr line ends",
			in:   "id: 1\r\ndata: x\r\n\r\nid: 2\rdata: y\r\r",
			want: []sseEvent{{ID: "1", Data: "x"}, {ID: "2", Data: "y"}},
		},
		{
			name: "multi-line data joined by lf",
			in:   "data: a\ndata: b\ndata:c\n\n",
			want: []sseEvent{{Data: "a\nb\nc"}},
		},
		{
			name: "comments and retry ignored",
			in:   ": keep-alive\nretry: 1000\n: another\nid: 7\ndata: z\n\n: tail\n",
			want: []sseEvent{{ID: "7", Data: "z"}},
		},
		{
			name: "event without data is not dispatched",
			in:   "id: 9\nevent: nothing\n\ndata: d\n\n",
			want: []sseEvent{{Data: "d"}},
		},
		{
			name: "only one leading space stripped",
			in:   "data:  two\n\n",
			want: []sseEvent{{Data: " two"}},
		},
		{
			name: "field without colon",
			in:   "data\n\n",
			want: []sseEvent{{Data: ""}},
		},
		{
			name: "id with NUL ignored",
			in:   "id: a\x00b\ndata: x\n\n",
			want: []sseEvent{{Data: "x"}},
		},
		{
			name: "gap event",
			in:   "event: gap\ndata: {\"channel\":\"c\",\"after\":\"1\",\"before\":\"5\",\"reason\":\"retention\"}\n\n",
			want: []sseEvent{{Event: "gap", Data: `{"channel":"c","after":"1","before":"5","reason":"retention"}`}},
		},
		{
			name:    "stream cut inside event",
			in:      "id: 1\ndata: x\n\nid: 2\ndata: y",
			want:    []sseEvent{{ID: "1", Data: "x"}},
			wantErr: io.ErrUnexpectedEOF,
		},
		{
			name: "empty stream",
			in:   "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lines := 0
			p := newSSEParser(strings.NewReader(tc.in), func() { lines++ })
			var got []sseEvent
			var err error
			for {
				var ev sseEvent
				ev, err = p.Next()
				if err != nil {
					break
				}
				got = append(got, ev)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("events = %#v, want %#v", got, tc.want)
			}
			wantErr := tc.wantErr
			if wantErr == nil {
				wantErr = io.EOF
			}
			if !errors.Is(err, wantErr) {
				t.Errorf("final error = %v, want %v", err, wantErr)
			}
			if tc.in != "" && lines == 0 {
				t.Errorf("onLine never called")
			}
		})
	}
}

// TestSSEParser_SplitReads feeds the stream one byte at a time, so a CR and
// its LF arrive in different reads.
func TestSSEParser_SplitReads(t *testing.T) {
	in := "id: 1\r\ndata: x\r\n\r\nid: 2\r\ndata: y\r\n\r\n"
	p := newSSEParser(&oneByteReader{s: in}, nil)
	var ids []string
	for {
		ev, err := p.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("Next: %v", err)
			}
			break
		}
		ids = append(ids, ev.ID)
	}
	if want := []string{"1", "2"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids = %v, want %v", ids, want)
	}
}

type oneByteReader struct {
	s string
	i int
}

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.i >= len(r.s) {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.s[r.i]
	r.i++
	return 1, nil
}

func TestDecodeSSEMessage(t *testing.T) {
	m, err := decodeSSEMessage(sseEvent{ID: "00042", Event: "order", Data: `{"channel":"c","content":{"v":1},"timestamp":5}`})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "00042" || m.EventType != "order" || m.Channel != "c" || string(m.Content) != `{"v":1}` || m.Timestamp != 5 {
		t.Fatalf("message = %+v", m)
	}
	if _, err := decodeSSEMessage(sseEvent{Data: `{"channel":"c"}`}); err == nil {
		t.Fatal("message without any id accepted")
	}
	if _, err := decodeSSEMessage(sseEvent{ID: "1", Data: `not json`}); err == nil {
		t.Fatal("non-JSON data accepted")
	}
}

func FuzzSSEParser(f *testing.F) {
	f.Add("id: 1\ndata: x\n\n")
	f.Add("data: a\r\ndata: b\r\r\n: c\n")
	f.Add("event: gap\ndata: {}\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		p := newSSEParser(strings.NewReader(in), nil)
		for i := 0; ; i++ {
			ev, err := p.Next()
			if err != nil {
				return
			}
			if strings.ContainsAny(ev.ID, "\r\n\x00") || strings.ContainsAny(ev.Event, "\r\n") {
				t.Fatalf("event %d has a line break or NUL in a field: %#v", i, ev)
			}
			if i > len(in) {
				t.Fatalf("more events (%d) than input bytes (%d)", i, len(in))
			}
		}
	})
}
