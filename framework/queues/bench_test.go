package queues_test

import (
	"testing"

	"chat/framework/ioloop/looptest"
	"chat/framework/queues"
)

// BenchmarkQueue measures a put and a get on the loop: through the buffer
// (the common case) and handed to a waiting getter.
func BenchmarkQueue(b *testing.B) {
	loop := looptest.Start(b)
	b.Run("buffered", func(b *testing.B) {
		looptest.Do(b, loop, func() {
			q := queues.NewQueue[int](loop, 64)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				q.PutNowait(i)
				q.GetNowait()
			}
		})
	})
	b.Run("put-get futures", func(b *testing.B) {
		looptest.Do(b, loop, func() {
			q := queues.NewQueue[int](loop, 64)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				q.Put(i, 0)
				q.Get(0)
			}
		})
	})
	b.Run("handoff to a waiting getter", func(b *testing.B) {
		looptest.Do(b, loop, func() {
			q := queues.NewQueue[int](loop, 64)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				q.Get(0)
				q.PutNowait(i)
			}
		})
	})
}
