package log

import (
	"fmt"
	"strings"
	"testing"
)

// historyQuery is the query the api sends for a page of history: the
// retention cutoff (nothing here has expired) and the page.
func historyQuery(pageSize int, cutoff int64) HistoryQuery {
	return HistoryQuery{Page: 1, PageSize: pageSize, Cutoff: cutoff}
}

// BenchmarkHistoryPage measures one page of history on a large channel:
// 2,200 messages of 30 KB (issue 11 item 6: pageSize=1 once allocated
// 72 MB, scanning the whole channel to count the total).
func BenchmarkHistoryPage(b *testing.B) {
	s := openTest(b, Config{Dir: b.TempDir() + "/s"})
	content := []byte(`{"pad":"` + strings.Repeat("x", 30<<10) + `"}`)
	const n = 2200
	for i := 0; i < n; i++ {
		bt := s.NewBatch()
		bt.Append(uint64(i+1), 1_000_000+int64(i), []Entry{{Channel: "big", EventType: "e", Content: content}})
		if err := bt.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	const cutoff = 1000 // older than every message: nothing has expired
	for _, size := range []int{1, 100} {
		b.Run(fmt.Sprintf("pageSize=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				p, err := s.History("big", historyQuery(size, cutoff))
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Items) != size || p.Total != n {
					b.Fatalf("%d items, total %d; want %d, %d", len(p.Items), p.Total, size, n)
				}
			}
		})
	}
}
