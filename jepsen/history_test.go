package jepsen

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestNanos_JSON(t *testing.T) {
	tests := []struct {
		name string
		n    Nanos
		text string
	}{
		{"zero", 0, "0.000000000"},
		{"sub-second", 1234, "0.000001234"},
		{"seconds", 12_000_345_678, "12.000345678"},
		{"negative", -1_500_000_000, "-1.500000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.n)
			if err != nil || string(b) != tc.text {
				t.Fatalf("marshal = %s, %v; want %s", b, err, tc.text)
			}
			var got Nanos
			if err := json.Unmarshal(b, &got); err != nil || got != tc.n {
				t.Fatalf("unmarshal = %d, %v; want %d", got, err, tc.n)
			}
		})
	}
	var n Nanos
	if err := json.Unmarshal([]byte("3"), &n); err != nil || n != 3e9 {
		t.Fatalf("whole seconds: %d, %v", n, err)
	}
	if err := json.Unmarshal([]byte(`"x"`), &n); err == nil {
		t.Fatal("string accepted as time")
	}
}

func TestRecorder_RoundTrip(t *testing.T) {
	var buf bytes.Buffer
	rec := NewRecorder(&buf, Header{Seed: 42, Nodes: []string{"n1", "n2", "n3"}, Note: "test"})
	var wg sync.WaitGroup
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				rec.Record(Op{Type: Invoke, Process: p, F: FPublish, Channel: "c", Value: "v"})
			}
		}()
	}
	wg.Wait()
	rec.Record(Op{Type: OK, Process: 9, F: FRead, Node: "n1", Channel: "c", Messages: []Entry{{ID: "1", Value: "a"}}})
	rec.Record(Op{Type: Event, Process: 9, F: FGap, Channel: "c", Gap: &GapRecord{After: "1", Before: "4", Reason: "retention"}})
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	want := rec.History()
	got, err := ReadHistory(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.Seed != 42 || !reflect.DeepEqual(got.Header.Nodes, want.Header.Nodes) || !got.Header.Start.Equal(want.Header.Start) {
		t.Fatalf("header = %+v, want %+v", got.Header, want.Header)
	}
	if !reflect.DeepEqual(got.Ops, want.Ops) {
		t.Fatalf("ops differ after round trip")
	}
	for i, op := range got.Ops {
		if op.Index != i {
			t.Fatalf("op %d has index %d", i, op.Index)
		}
		if i > 0 && op.Time < got.Ops[i-1].Time {
			t.Fatalf("time goes back at op %d", i)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(want.Ops)+1 || !strings.HasPrefix(lines[0], `{"type":"meta"`) {
		t.Fatalf("file has %d lines, first %q", len(lines), lines[0])
	}

	var again bytes.Buffer
	if err := WriteHistory(&again, got); err != nil {
		t.Fatal(err)
	}
	got2, err := ReadHistory(&again)
	if err != nil || !reflect.DeepEqual(got2.Ops, got.Ops) {
		t.Fatalf("WriteHistory round trip: %v", err)
	}
}

func TestReadHistory_Errors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		ops     int
	}{
		{name: "blank lines and no header", in: "\n" + `{"index":0,"time":1.0,"type":"invoke","process":1,"f":"publish"}` + "\n\n", ops: 1},
		{name: "bad json", in: `{"type":"invoke"}` + "\n{oops}\n", wantErr: "history line 2", ops: 1},
		{name: "unknown type", in: `{"type":"maybe"}` + "\n", wantErr: `type "maybe"`},
		{name: "bad time", in: `{"type":"ok","time":"soon"}` + "\n", wantErr: "history line 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ReadHistory(strings.NewReader(tc.in))
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if len(h.Ops) != tc.ops {
				t.Fatalf("%d ops, want %d", len(h.Ops), tc.ops)
			}
		})
	}
	// A run that crashed mid-line leaves a truncated tail.
	h, err := ReadHistory(strings.NewReader(`{"type":"invoke","process":1,"f":"publish"}` + "\n" + `{"type":"ok","proc`))
	if !errors.Is(err, ErrTruncated) || len(h.Ops) != 1 {
		t.Fatalf("err = %v, ops = %d; want ErrTruncated after 1 op", err, len(h.Ops))
	}
}

func TestCheck_FromFile(t *testing.T) {
	// A history survives the file format with its verdict unchanged.
	h := build(defaultParts())
	var buf bytes.Buffer
	if err := WriteHistory(&buf, h); err != nil {
		t.Fatal(err)
	}
	back, err := ReadHistory(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if r := Check(back, CheckOptions{}); !r.Valid {
		t.Fatalf("invalid after round trip:\n%s", r)
	}
}
