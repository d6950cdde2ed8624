package sse

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestReader_Next(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Event
		wantErr error
	}{
		{
			name: "one event",
			in:   "id: 1\nevent: message\ndata: {\"a\":1}\n\n",
			want: []Event{{ID: "1", Type: "message", Data: `{"a":1}`}},
		},
		{
			name: "crlf and cr line ends",
			in:   "id: 1\r\ndata: x\r\n\r\nid: 2\rdata: y\r\r",
			want: []Event{{ID: "1", Data: "x"}, {ID: "2", Data: "y"}},
		},
		{
			name: "multi-line data joined by lf",
			in:   "data: a\ndata: b\ndata:c\n\n",
			want: []Event{{Data: "a\nb\nc"}},
		},
		{
			name: "comments and retry ignored",
			in:   ": keep-alive\nretry: 1000\n: another\nid: 7\ndata: z\n\n: tail\n",
			want: []Event{{ID: "7", Data: "z"}},
		},
		{
			name: "event without data is not dispatched",
			in:   "id: 9\nevent: nothing\n\ndata: d\n\n",
			want: []Event{{Data: "d"}},
		},
		{
			name: "only one leading space stripped",
			in:   "data:  two\n\n",
			want: []Event{{Data: " two"}},
		},
		{
			name: "field without colon",
			in:   "data\n\n",
			want: []Event{{Data: ""}},
		},
		{
			name: "id with NUL ignored",
			in:   "id: a\x00b\ndata: x\n\n",
			want: []Event{{Data: "x"}},
		},
		{
			name: "gap event",
			in:   "event: gap\ndata: {\"channel\":\"c\",\"after\":\"1\",\"before\":\"5\",\"reason\":\"retention\"}\n\n",
			want: []Event{{Type: "gap", Data: `{"channel":"c","after":"1","before":"5","reason":"retention"}`}},
		},
		{
			name:    "stream cut inside event",
			in:      "id: 1\ndata: x\n\nid: 2\ndata: y",
			want:    []Event{{ID: "1", Data: "x"}},
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
			p := newReaderCounting(strings.NewReader(tc.in), &lines)
			var got []Event
			var err error
			for {
				var ev Event
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

// TestReader_SplitReads feeds the stream one byte at a time, so a CR and
// its LF arrive in different reads.
func TestReader_SplitReads(t *testing.T) {
	in := "id: 1\r\ndata: x\r\n\r\nid: 2\r\ndata: y\r\n\r\n"
	p := NewReader(&oneByteReader{s: in}, 0)
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

func FuzzReader(f *testing.F) {
	f.Add("id: 1\ndata: x\n\n")
	f.Add("data: a\r\ndata: b\r\r\n: c\n")
	f.Add("event: gap\ndata: {}\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		p := NewReader(strings.NewReader(in), 0)
		for i := 0; ; i++ {
			ev, err := p.Next()
			if err != nil {
				return
			}
			if strings.ContainsAny(ev.ID, "\r\n\x00") || strings.ContainsAny(ev.Type, "\r\n") {
				t.Fatalf("event %d has a line break or NUL in a field: %#v", i, ev)
			}
			if i > len(in) {
				t.Fatalf("more events (%d) than input bytes (%d)", i, len(in))
			}
		}
	})
}

func newReaderCounting(r io.Reader, lines *int) *Reader {
	rd := NewReader(r, 0)
	rd.OnLine = func() { *lines++ }
	return rd
}

// TestReader_LineEndings reads one stream written with each of the three
// line endings the standard allows, and with all three mixed, and expects
// the same events from each.
func TestReader_LineEndings(t *testing.T) {
	lines := []string{": hello", "id: 1", "event: order", "data: {\"a\":1}", "data: second", "", "data: x", "", ": bye", ""}
	want := []Event{{ID: "1", Type: "order", Data: "{\"a\":1}\nsecond"}, {Data: "x"}}
	mixed := ""
	for i, l := range lines {
		mixed += l + []string{"\n", "\r", "\r\n"}[i%3]
	}
	for name, in := range map[string]string{
		"LF":    strings.Join(lines, "\n") + "\n",
		"CR":    strings.Join(lines, "\r") + "\r",
		"CRLF":  strings.Join(lines, "\r\n") + "\r\n",
		"mixed": mixed,
	} {
		t.Run(name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(in), &oneByteReader{s: in}} {
				rd := NewReader(r, 0)
				var got []Event
				for {
					ev, err := rd.Next()
					if err != nil {
						if !errors.Is(err, io.EOF) {
							t.Fatalf("Next: %v", err)
						}
						break
					}
					got = append(got, ev)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("events = %#v, want %#v", got, want)
				}
				if rd.LastEventID() != "1" {
					t.Fatalf("LastEventID = %q, want the sticky 1", rd.LastEventID())
				}
			}
		})
	}
}

// TestReader_LineTooLong: a line over the limit ends the stream with an
// error instead of growing the buffer.
func TestReader_LineTooLong(t *testing.T) {
	rd := NewReader(strings.NewReader("data: "+strings.Repeat("x", 100)+"\n\n"), 64)
	if _, err := rd.Next(); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("Next = %v, want a too-long error", err)
	}
}

func TestReader_Comments(t *testing.T) {
	rd := NewReader(strings.NewReader("retry: 1000\n: connected\n\nid: 1\n: inside\ndata: x\n\n:bye\n"), 0)
	rd.Comments = true
	var got []Event
	for {
		ev, err := rd.Next()
		if err != nil {
			break
		}
		got = append(got, ev)
	}
	want := []Event{{Comment: "connected"}, {Comment: "inside"}, {ID: "1", Data: "x"}, {Comment: "bye"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events = %#v, want %#v", got, want)
	}
}
