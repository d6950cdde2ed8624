package log_test

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/pushflo/pushflo/log"
)

// A batch appends messages at a Raft index; Read returns what follows a
// position, which is how a subscriber resumes.
func ExampleStore_Read() {
	s, err := log.Open(log.Config{Dir: "/example", FS: vfs.NewMem()})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	b := s.NewBatch()
	res := b.Append(7, 1700000000000, []log.Entry{
		{Channel: "orders:user-123", EventType: "order-created", Content: []byte(`{"id":1}`)},
		{Channel: "orders:user-123", EventType: "order-shipped", Content: []byte(`{"id":1}`)},
	})
	if err := b.Commit(); err != nil {
		panic(err)
	}
	first := res[0].Message
	msgs, _ := s.Read("orders:user-123", first.Position, 10)
	fmt.Println(first.ID())
	for _, m := range msgs {
		fmt.Println(m.ID(), m.EventType, string(m.Content))
	}
	// Output:
	// 0000000000070001
	// 0000000000070002 order-shipped {"id":1}
}
