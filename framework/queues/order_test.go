package queues_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"chat/framework/ioloop/looptest"
	"chat/framework/queues"
)

// TestOrderAgainstAModel interleaves puts and gets at random (seeded) on
// each kind of queue and checks every item against a plain slice model:
// FIFO takes the oldest, LIFO the newest, priority the smallest. It covers
// the ring buffer's wrap-around and growth and the heap's sifting.
func TestOrderAgainstAModel(t *testing.T) {
	loop := looptest.Start(t)
	for _, tc := range []struct {
		name string
		make func() *queues.Queue[int]
		take func(model []int) int // index of the item the queue must give next
	}{
		{"fifo", func() *queues.Queue[int] { return queues.NewQueue[int](loop, 100) }, func([]int) int { return 0 }},
		{"lifo", func() *queues.Queue[int] { return queues.NewLifoQueue[int](loop, 100) }, func(m []int) int { return len(m) - 1 }},
		{"priority", func() *queues.Queue[int] {
			return queues.NewPriorityQueue(loop, 100, func(a, b int) bool { return a < b })
		}, func(m []int) int { return slices.Index(m, slices.Min(m)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// On the loop: report with Errorf and return (Fatalf would end
			// the loop's goroutine, not the test's).
			looptest.Do(t, loop, func() {
				rng := rand.New(rand.NewPCG(1, 2))
				q := tc.make()
				var model []int
				for step := range 5000 {
					if len(model) < 100 && (len(model) == 0 || rng.IntN(3) > 0 == (step%1000 < 500)) {
						v := rng.IntN(50)
						if err := q.PutNowait(v); err != nil {
							t.Errorf("step %d: put with %d items: %v", step, len(model), err)
							return
						}
						model = append(model, v)
						continue
					}
					got, err := q.GetNowait()
					i := tc.take(model)
					if err != nil || got != model[i] {
						t.Errorf("step %d: got %d, %v; want %d", step, got, err, model[i])
						return
					}
					model = slices.Delete(model, i, i+1)
					if q.Len() != len(model) {
						t.Errorf("step %d: Len %d, model %d", step, q.Len(), len(model))
						return
					}
				}
			})
		})
	}
}
