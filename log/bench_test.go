package log

import (
	"fmt"
	"testing"
)

// BenchmarkAppend measures committing batches of 200-byte messages to a
// store on disk, by batch size (messages per Raft entry).
func BenchmarkAppend(b *testing.B) {
	content := []byte(`{"order":12345,"status":"shipped","items":[1,2,3],"note":"` + string(make([]byte, 0)) + `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`)
	for _, size := range []int{1, 64, 512} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s := openTest(b, Config{Dir: b.TempDir() + "/s"})
			es := make([]Entry, size)
			for i := range es {
				es[i] = Entry{Channel: fmt.Sprintf("ch-%d", i%16), EventType: "e", Content: content}
			}
			b.ReportAllocs()
			b.SetBytes(int64(size * len(content)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				bt := s.NewBatch()
				bt.Append(uint64(i+1), int64(i), es)
				if err := bt.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkRead measures replay: reading a channel forward from a cursor.
func BenchmarkRead(b *testing.B) {
	s := openTest(b, Config{Dir: b.TempDir() + "/s"})
	content := []byte(`{"order":12345,"status":"shipped"}`)
	for i := 0; i < 200; i++ {
		bt := s.NewBatch()
		es := make([]Entry, 500)
		for j := range es {
			es[j] = Entry{Channel: "replay", EventType: "e", Content: content}
		}
		bt.Append(uint64(i+1), int64(i), es)
		if err := bt.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		var after uint64
		for {
			msgs, err := s.Read("replay", after, 1000)
			if err != nil {
				b.Fatal(err)
			}
			if len(msgs) == 0 {
				break
			}
			n += len(msgs)
			after = msgs[len(msgs)-1].Position
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}
